-- PostgreSQL translation of src/store/migrations/011-outbox-priority.sql (issue 17).
-- priority 0 = interactive (replies to an event), 1 = bulk (reminders, digests, scheduled and CLI
-- sends): interactive rows are claimed first and keep a share of Lark's per-app limits.
ALTER TABLE outbox ADD COLUMN priority bigint NOT NULL DEFAULT 1 CHECK (priority IN (0, 1));
CREATE INDEX outbox_priority_due ON outbox (status, priority, next_attempt_at);
