-- PostgreSQL translation of src/store/migrations/004-schedule.sql (issue 7).
-- Scheduled jobs (daily reminders, daily digests): each slot is planned once.
-- The row is written in the same transaction as the slot's outbox messages,
-- so a crash or a second instance can never plan a slot twice.
CREATE TABLE sched_slots (
  job        text NOT NULL CHECK (job IN ('reminders', 'digest')),
  slot_date  text NOT NULL,
  slot_at    bigint NOT NULL,
  status     text NOT NULL CHECK (status IN ('sent', 'missed')),
  planned_at bigint NOT NULL,
  messages   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (job, slot_date)
);

-- What each person was (or, for a slot missed during downtime, would have been) told.
CREATE TABLE reminder_deliveries (
  slot_date   text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('reminder', 'escalation')),
  open_id     text NOT NULL,
  person_name text NOT NULL,
  items       text NOT NULL,
  item_count  bigint NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'missed')),
  outbox_uuid text,
  planned_at  bigint NOT NULL,
  PRIMARY KEY (slot_date, kind, open_id)
);
CREATE INDEX reminder_deliveries_missed ON reminder_deliveries (status, slot_date);

-- 延后: no reminders of this item for this person before until_date.
CREATE TABLE reminder_snoozes (
  open_id    text NOT NULL,
  item_key   text NOT NULL,
  until_date text NOT NULL,
  created_at bigint NOT NULL,
  source_id  text NOT NULL UNIQUE,
  PRIMARY KEY (open_id, item_key)
);

-- One digest per leader per day.
CREATE TABLE digest_deliveries (
  slot_date   text NOT NULL,
  open_id     text NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'missed')),
  outbox_uuid text,
  planned_at  bigint NOT NULL,
  PRIMARY KEY (slot_date, open_id)
);
