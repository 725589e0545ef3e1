-- PostgreSQL translation of src/store/migrations/010-escalations.sql (issue 14).
-- Which deadlines have been escalated to the leaders: one row per item and deadline, written in
-- the same transaction as the first escalation delivery and outbox message listing it, so a
-- crash, a restart or a second instance can neither lose it nor send it twice. An item overdue
-- 2 days or more without a row is escalated (on day 2, or late as 补充督办 when it was imported
-- already overdue or its day 2 fell in downtime). A deadline moved and missed again: a new row.
CREATE TABLE reminder_escalations (
  item_key     text NOT NULL,
  due          text NOT NULL,
  county_id    bigint NOT NULL,
  escalated_on text NOT NULL,
  overdue_days bigint NOT NULL,
  catch_up     bigint NOT NULL CHECK (catch_up IN (0, 1)),
  planned_at   bigint NOT NULL,
  PRIMARY KEY (item_key, due)
);
CREATE INDEX reminder_escalations_county ON reminder_escalations (county_id, escalated_on);

-- What was escalated before this table existed (the queued escalation deliveries), so an upgrade
-- in mid-campaign does not escalate everything again; missed ones are caught up by the next slot.
INSERT INTO reminder_escalations (item_key, due, county_id, escalated_on, overdue_days, catch_up, planned_at)
SELECT x.item_key, x.due,
       CASE r.kind WHEN 'county' THEN r.id WHEN 'township' THEN r.parent_id
         ELSE (SELECT t.parent_id FROM wf_regions t WHERE t.id = r.parent_id) END,
       x.slot_date, x.overdue_days, 0, x.planned_at
FROM (
  SELECT j.value ->> 'key' AS item_key, j.value ->> 'due' AS due, (j.value ->> 'overdue_days')::bigint AS overdue_days,
         d.slot_date, d.planned_at,
         CASE WHEN j.value ->> 'key' LIKE 'talk:%'
           THEN (SELECT w.region_id FROM wf_talks w WHERE w.id = substr(j.value ->> 'key', 6)::bigint)
           ELSE split_part(j.value ->> 'key', ':', 2)::bigint
         END AS region_id
  FROM reminder_deliveries d CROSS JOIN LATERAL jsonb_array_elements(d.items::jsonb) j
  WHERE d.kind = 'escalation' AND d.status = 'queued'
) x
JOIN wf_regions r ON r.id = x.region_id
ORDER BY x.slot_date
ON CONFLICT DO NOTHING;
