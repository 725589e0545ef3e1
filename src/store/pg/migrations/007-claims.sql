-- PostgreSQL translation of src/store/migrations/007-claims.sql (issue 7).
-- claimed_by: the instance key (src/store/instance.ts) of the process that claimed the outbox row
-- ('sending') or the inbox event ('pending', being handled). An instance holds a session advisory
-- lock on its key for its lifetime, so "is the claimer alive" is a look at pg_locks, not a timeout.
ALTER TABLE outbox ADD COLUMN claimed_by bigint;
ALTER TABLE received_events ADD COLUMN claimed_by bigint;
-- The claim looks at a receiver's oldest unsent row; the shared send budget counts recent sends.
CREATE INDEX outbox_receiver ON outbox (rate_key, status, id);
CREATE INDEX outbox_sent_at ON outbox (sent_at);
