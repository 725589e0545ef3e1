-- Sign-in to the trial console once real data is imported (issue 14). Only SHA-256 hashes of the
-- tokens are stored: a copy of the database does not sign anyone in. Both tables live in the
-- database (not in the process) so a link made by the CLI works in the running service, across
-- restarts and across instances.
-- A one-time link from `npm run cli -- console link`: consumed by setting used_at in one
-- conditional UPDATE, so two openings of the same link cannot both succeed.
CREATE TABLE console_login_links (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL,
  used_at     INTEGER,
  used_from   TEXT
);
CREATE INDEX console_login_links_expiry ON console_login_links (expires_at);
-- A browser's session (the cookie's value, hashed), made when a link is used.
CREATE TABLE console_sessions (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  link_id     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
