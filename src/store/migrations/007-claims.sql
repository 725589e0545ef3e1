-- Several instances on one PostgreSQL (issue 7): who holds an outbox row in 'sending' and who is
-- handling a pending inbox event, so a live instance's work is never taken over and a dead
-- one's is (see src/store/instance.ts). The columns exist in SQLite too, to keep the two schemas
-- alike (the copy to PostgreSQL maps columns one to one); the single SQLite process leaves them NULL.
ALTER TABLE outbox ADD COLUMN claimed_by INTEGER;
ALTER TABLE received_events ADD COLUMN claimed_by INTEGER;
-- The claim looks at a receiver's oldest unsent row; the shared send budget counts recent sends.
CREATE INDEX outbox_receiver ON outbox (rate_key, status, id);
CREATE INDEX outbox_sent_at ON outbox (sent_at);
