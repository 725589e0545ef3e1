-- Which deadlines have been escalated to the leaders (issue 14). An item is escalated when it
-- is overdue ESCALATE_AFTER_DAYS (2) days or more and this table has no row for it: on day 2
-- as before, and once, late (补充督办), for an item that was already that far overdue when it
-- was imported or whose day 2 fell in downtime. The row is written in the same transaction as
-- the first escalation delivery and outbox message listing the item, so a crash, a restart or a
-- second instance can neither lose it nor send it twice.
-- Keyed by item and deadline: a deadline moved by a later import and missed again is news to
-- the leaders and is escalated once more; the same deadline never twice.
-- county_id: the slot scan loads one county's rows at a time (bounded memory, one index range).
CREATE TABLE reminder_escalations (
  item_key     TEXT NOT NULL,
  due          TEXT NOT NULL,
  county_id    INTEGER NOT NULL,
  escalated_on TEXT NOT NULL,
  overdue_days INTEGER NOT NULL,
  catch_up     INTEGER NOT NULL CHECK (catch_up IN (0, 1)),
  planned_at   INTEGER NOT NULL,
  PRIMARY KEY (item_key, due)
);
CREATE INDEX reminder_escalations_county ON reminder_escalations (county_id, escalated_on);

-- What was escalated before this table existed: the queued (sent) escalation deliveries, so an
-- upgrade in mid-campaign does not escalate everything again. Missed ones (downtime) are left
-- out on purpose: nobody was told, and the next slot catches them up.
INSERT OR IGNORE INTO reminder_escalations (item_key, due, county_id, escalated_on, overdue_days, catch_up, planned_at)
SELECT x.item_key, x.due,
       CASE r.kind WHEN 'county' THEN r.id WHEN 'township' THEN r.parent_id
         ELSE (SELECT t.parent_id FROM wf_regions t WHERE t.id = r.parent_id) END,
       x.slot_date, x.overdue_days, 0, x.planned_at
FROM (
  SELECT json_extract(j.value, '$.key') AS item_key, json_extract(j.value, '$.due') AS due,
         json_extract(j.value, '$.overdue_days') AS overdue_days, d.slot_date, d.planned_at,
         CASE WHEN json_extract(j.value, '$.key') LIKE 'talk:%'
           THEN (SELECT w.region_id FROM wf_talks w WHERE w.id = CAST(substr(json_extract(j.value, '$.key'), 6) AS INTEGER))
           ELSE CAST(substr(json_extract(j.value, '$.key'), 7, instr(substr(json_extract(j.value, '$.key'), 7), ':') - 1) AS INTEGER)
         END AS region_id
  FROM reminder_deliveries d, json_each(d.items) j
  WHERE d.kind = 'escalation' AND d.status = 'queued'
) x
JOIN wf_regions r ON r.id = x.region_id
ORDER BY x.slot_date;
