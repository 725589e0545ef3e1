-- PostgreSQL translation of src/store/migrations/008-people-contacts.sql (issue 14): people by
-- phone or email; open_id optional. PostgreSQL drops the NOT NULL in place; the new columns
-- come last, in the same order as SQLite's rebuilt table.
ALTER TABLE wf_people ALTER COLUMN open_id DROP NOT NULL;
ALTER TABLE wf_people ADD COLUMN phone text UNIQUE CHECK (phone IS NULL OR phone ~ '^1[0-9]{10}$');
ALTER TABLE wf_people ADD COLUMN email text UNIQUE CHECK (email IS NULL OR (email = lower(email) AND email LIKE '%_@_%'));
ALTER TABLE wf_people ADD COLUMN lookup_status text CHECK (lookup_status IS NULL OR lookup_status IN ('not_found'));
ALTER TABLE wf_people ADD COLUMN lookup_at bigint;
ALTER TABLE wf_people ADD CONSTRAINT wf_people_contact CHECK (open_id IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL);
CREATE INDEX wf_people_unbound ON wf_people (id) WHERE open_id IS NULL;
