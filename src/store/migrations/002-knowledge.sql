-- Policy Q&A knowledge base (issue 3). Documents are identified by their path;
-- a changed file replaces its chunks in one transaction, an unchanged one is
-- skipped by hash. Documents sharing a title family are versions of each other:
-- the older ones stay indexed but carry superseded_by and are ranked out.
CREATE TABLE kb_documents (
  id            INTEGER PRIMARY KEY,
  path          TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  title         TEXT NOT NULL,
  family        TEXT NOT NULL,
  issuer        TEXT,
  version       TEXT,
  version_date  TEXT,
  source        TEXT,
  format        TEXT NOT NULL,
  encoding      TEXT,
  shape         TEXT NOT NULL,
  -- 'primary' (laws, regulations, official documents) or 'guide' (explanations that cite them)
  authority     TEXT NOT NULL DEFAULT 'primary' CHECK (authority IN ('primary', 'guide')),
  hash          TEXT NOT NULL,
  chunk_count   INTEGER NOT NULL,
  title_tokens  TEXT NOT NULL DEFAULT '',
  superseded_by INTEGER REFERENCES kb_documents (id) ON DELETE SET NULL,
  ingested_at   INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX kb_documents_family ON kb_documents (family);
CREATE INDEX kb_documents_name ON kb_documents (name);

-- One row per chunk: an article, a list item, a speech point or paragraph.
-- heading_path is a JSON array; prev_id/next_id link neighbours in reading order.
CREATE TABLE kb_chunks (
  id           INTEGER PRIMARY KEY,
  doc_id       INTEGER NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
  ordinal      INTEGER NOT NULL,
  locator      TEXT NOT NULL,
  part         INTEGER NOT NULL DEFAULT 0,
  heading_path TEXT NOT NULL DEFAULT '[]',
  lead         TEXT,
  kind         TEXT NOT NULL,
  text         TEXT NOT NULL,
  tokens       TEXT NOT NULL,
  head_tokens  TEXT NOT NULL DEFAULT '',
  prev_id      INTEGER,
  next_id      INTEGER,
  UNIQUE (doc_id, ordinal)
);

-- Word channel: jieba cutForSearch tokens, space-joined (unicode61 would treat a run
-- of Han characters as one token). Contentless: the text lives in kb_chunks.
CREATE VIRTUAL TABLE kb_fts USING fts5 (
  title, locator, body,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE kb_fts_vocab USING fts5vocab (kb_fts, 'row');

-- Character-bigram channel: finds passages when a typo or an unusual segmentation
-- defeats the word channel.
CREATE VIRTUAL TABLE kb_grams USING fts5 (
  grams,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

-- Settings of the index itself, e.g. the tokenizer signature: when the domain
-- dictionary changes, stored chunks are re-segmented.
CREATE TABLE kb_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Optional dense vectors (EMBEDDING_BASE_URL), little-endian float32.
CREATE TABLE kb_embeddings (
  chunk_id INTEGER PRIMARY KEY REFERENCES kb_chunks (id) ON DELETE CASCADE,
  model    TEXT NOT NULL,
  dim      INTEGER NOT NULL,
  vector   BLOB NOT NULL
);

-- Every question asked, with what was answered; abstained ones are the admins' to-do list.
CREATE TABLE kb_questions (
  id            INTEGER PRIMARY KEY,
  asked_at      INTEGER NOT NULL,
  asker_open_id TEXT,
  channel       TEXT NOT NULL,
  question      TEXT NOT NULL,
  answer        TEXT NOT NULL,
  citations     TEXT NOT NULL DEFAULT '[]',
  abstained     INTEGER NOT NULL CHECK (abstained IN (0, 1)),
  top_score     REAL,
  mode          TEXT NOT NULL
);
CREATE INDEX kb_questions_at ON kb_questions (asked_at);
CREATE INDEX kb_questions_abstained ON kb_questions (abstained, asked_at);

-- 👍/👎 on an answer card; one vote per person per question, the latest wins.
CREATE TABLE kb_feedback (
  question_id   INTEGER NOT NULL REFERENCES kb_questions (id) ON DELETE CASCADE,
  voter_open_id TEXT NOT NULL,
  vote          TEXT NOT NULL CHECK (vote IN ('up', 'down')),
  voted_at      INTEGER NOT NULL,
  PRIMARY KEY (question_id, voter_open_id)
);
