-- Scheduled jobs (daily reminders, daily digests): each slot is planned once.
-- The row is written in the same transaction as the slot's outbox messages,
-- so a crash or a second instance can never plan a slot twice.
CREATE TABLE sched_slots (
  job        TEXT NOT NULL CHECK (job IN ('reminders', 'digest')),
  slot_date  TEXT NOT NULL,
  slot_at    INTEGER NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('sent', 'missed')),
  planned_at INTEGER NOT NULL,
  messages   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job, slot_date)
);

-- What each person was (or, for a slot missed during downtime, would have been) told.
CREATE TABLE reminder_deliveries (
  slot_date   TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'escalation')),
  open_id     TEXT NOT NULL,
  person_name TEXT NOT NULL,
  items       TEXT NOT NULL,
  item_count  INTEGER NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'missed')),
  outbox_uuid TEXT,
  planned_at  INTEGER NOT NULL,
  PRIMARY KEY (slot_date, kind, open_id)
);
CREATE INDEX reminder_deliveries_missed ON reminder_deliveries (status, slot_date);

-- 延后: no reminders of this item for this person before until_date.
CREATE TABLE reminder_snoozes (
  open_id    TEXT NOT NULL,
  item_key   TEXT NOT NULL,
  until_date TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  source_id  TEXT NOT NULL UNIQUE,
  PRIMARY KEY (open_id, item_key)
);

-- One digest per leader per day.
CREATE TABLE digest_deliveries (
  slot_date   TEXT NOT NULL,
  open_id     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'missed')),
  outbox_uuid TEXT,
  planned_at  INTEGER NOT NULL,
  PRIMARY KEY (slot_date, open_id)
);
