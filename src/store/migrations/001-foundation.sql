-- Inbox: every accepted Lark event, kept (with its decrypted payload) so that
-- duplicates are refused for at least 8 hours and an event acknowledged just
-- before a crash is handled after the restart.
CREATE TABLE received_events (
  event_id    TEXT PRIMARY KEY,
  message_id  TEXT UNIQUE,
  event_type  TEXT NOT NULL,
  payload     TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  error       TEXT,
  received_at INTEGER NOT NULL,
  handled_at  INTEGER
);
CREATE INDEX received_events_pending ON received_events (status, received_at);
CREATE INDEX received_events_age ON received_events (received_at);

-- Outbox: every message the bot sends, written before it is sent. uuid is
-- derived from the intent, so a retry or a second writer of the same intent
-- lands on the same row and Lark's own uuid dedupe backs it up.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  uuid            TEXT NOT NULL UNIQUE,
  intent          TEXT NOT NULL,
  receive_id_type TEXT NOT NULL CHECK (receive_id_type IN ('open_id', 'chat_id', 'user_id', 'union_id', 'email')),
  receive_id      TEXT NOT NULL,
  reply_to        TEXT,
  rate_key        TEXT NOT NULL,
  msg_type        TEXT NOT NULL,
  content         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'offline')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_at      INTEGER,
  error_code      INTEGER,
  last_error      TEXT,
  lark_message_id TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Audit log: who changed what, when, with the state before and after (全程记实).
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT,
  before  TEXT,
  after   TEXT,
  detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
