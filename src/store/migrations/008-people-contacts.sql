-- People by phone or email (issue 14): a county office knows its cadres' 姓名 and 手机号,
-- not their Lark open_ids. open_id becomes optional; a person needs at least one of
-- open_id, phone, email. Phones are stored as 11 digits, emails lower-case (src/workflow/contacts.ts).
-- lookup_status / lookup_at record the last attempt to resolve the phone or email through
-- Lark's contact API: NULL (not tried or bound), 'not_found' (no such user, or outside the
-- app's visibility: Lark does not say which), so the admin can be told why someone is unbound.
--
-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt. The runner turns foreign
-- keys off around migrations (DROP TABLE would otherwise cascade into assignments and talk
-- interviewers) and checks them before it commits.
CREATE TABLE wf_people_new (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  open_id       TEXT UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('管理员', '领导', '干部', '工作组')),
  scope_id      INTEGER REFERENCES wf_regions (id),
  phone         TEXT UNIQUE CHECK (phone IS NULL OR phone GLOB '1[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
  email         TEXT UNIQUE CHECK (email IS NULL OR (email = lower(email) AND email LIKE '%_@_%')),
  lookup_status TEXT CHECK (lookup_status IS NULL OR lookup_status IN ('not_found')),
  lookup_at     INTEGER,
  CHECK (open_id IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL)
);
INSERT INTO wf_people_new (id, name, open_id, role, scope_id) SELECT id, name, open_id, role, scope_id FROM wf_people;
DROP TABLE wf_people;
ALTER TABLE wf_people_new RENAME TO wf_people;
CREATE INDEX wf_people_name ON wf_people (name);
-- The unbound, for the admin's list and the resolver's batches.
CREATE INDEX wf_people_unbound ON wf_people (id) WHERE open_id IS NULL;
