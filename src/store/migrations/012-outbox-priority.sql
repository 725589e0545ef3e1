-- Replies come first (issue 17): at the daily reminder burst a cadre's reply must not queue behind
-- thousands of reminders. priority 0 = interactive (the reply to an event, written with the event's
-- completion), 1 = bulk (reminders, digests, anything a scheduled job or the CLI sends). The sender
-- takes interactive rows first and keeps a share of Lark's per-app limits for them
-- (src/bot/outbox-worker.ts). Rows written before this migration are bulk.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1 CHECK (priority IN (0, 1));
CREATE INDEX outbox_priority_due ON outbox (status, priority, next_attempt_at);
