-- Election plan, roster and check-ins (issue 4).
--
-- Regions form a tree: county → township (乡镇/街道) → village (村/社区). Names
-- are unique among siblings; a village carries its type and election day, from
-- which the stage deadlines are counted back (倒排工期, src/workflow/plan.ts).
CREATE TABLE wf_regions (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('county', 'township', 'village')),
  name         TEXT NOT NULL,
  parent_id    INTEGER REFERENCES wf_regions (id),
  village_type TEXT CHECK (village_type IN ('村', '社区')),
  election_day TEXT CHECK (election_day IS NULL OR election_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  CHECK ((kind = 'county') = (parent_id IS NULL)),
  CHECK ((kind = 'village') = (village_type IS NOT NULL))
);
CREATE UNIQUE INDEX wf_regions_sibling_name ON wf_regions (kind, IFNULL(parent_id, 0), name);
CREATE INDEX wf_regions_parent ON wf_regions (parent_id);

-- People of the roster. scope_id is the county or township they act for
-- (a leader of a county sees every township in it).
CREATE TABLE wf_people (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  open_id  TEXT NOT NULL UNIQUE,
  role     TEXT NOT NULL CHECK (role IN ('管理员', '领导', '干部', '工作组')),
  scope_id INTEGER REFERENCES wf_regions (id)
);
CREATE INDEX wf_people_name ON wf_people (name);

-- Who follows which village (包村 / 工作组).
CREATE TABLE wf_assignments (
  person_id  INTEGER NOT NULL REFERENCES wf_people (id) ON DELETE CASCADE,
  village_id INTEGER NOT NULL REFERENCES wf_regions (id),
  PRIMARY KEY (person_id, village_id)
);
CREATE INDEX wf_assignments_village ON wf_assignments (village_id);

-- Per-village deadline overrides of the stage template (sheet 节点).
CREATE TABLE wf_stage_overrides (
  village_id INTEGER NOT NULL REFERENCES wf_regions (id),
  stage_key  TEXT NOT NULL,
  deadline   TEXT NOT NULL,
  PRIMARY KEY (village_id, stage_key)
);

-- The current status of each stage of each village; no row = 未开始.
CREATE TABLE wf_stage_progress (
  village_id   INTEGER NOT NULL REFERENCES wf_regions (id),
  stage_key    TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('未开始', '进行中', '已完成', '受阻')),
  completed_on TEXT,
  note         TEXT,
  updated_by   TEXT NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (village_id, stage_key)
);

-- Talk sessions (谈心谈话). region_id is a village, or a township for talks
-- held at that level (五必谈: 乡镇党委书记).
CREATE TABLE wf_talks (
  id                INTEGER PRIMARY KEY,
  category          TEXT NOT NULL,
  subject           TEXT NOT NULL,
  region_id         INTEGER NOT NULL REFERENCES wf_regions (id),
  due_date          TEXT,
  status            TEXT NOT NULL DEFAULT '待谈' CHECK (status IN ('待谈', '已谈')),
  held_on           TEXT,
  commitment_signed INTEGER CHECK (commitment_signed IN (0, 1)),
  note              TEXT,
  updated_by        TEXT,
  updated_at        INTEGER,
  UNIQUE (category, subject, region_id)
);
CREATE TABLE wf_talk_interviewers (
  talk_id   INTEGER NOT NULL REFERENCES wf_talks (id) ON DELETE CASCADE,
  person_id INTEGER NOT NULL REFERENCES wf_people (id) ON DELETE CASCADE,
  PRIMARY KEY (talk_id, person_id)
);
CREATE INDEX wf_talk_interviewers_person ON wf_talk_interviewers (person_id);

-- Risk register (问题清单/台账). must_check = one of the 四必查 applies:
-- such an item cannot be closed without a follow-up record.
CREATE TABLE wf_risks (
  id          INTEGER PRIMARY KEY,
  village_id  INTEGER NOT NULL REFERENCES wf_regions (id),
  category    TEXT NOT NULL,
  severity    TEXT NOT NULL CHECK (severity IN ('一般', '较重', '严重')),
  description TEXT NOT NULL,
  must_check  INTEGER NOT NULL DEFAULT 0 CHECK (must_check IN (0, 1)),
  must_reasons TEXT,
  status      TEXT NOT NULL DEFAULT '未结' CHECK (status IN ('未结', '已结')),
  opened_by   TEXT NOT NULL,
  opened_at   INTEGER NOT NULL,
  closed_by   TEXT,
  closed_at   INTEGER
);
CREATE INDEX wf_risks_village ON wf_risks (village_id, status);
CREATE TABLE wf_risk_followups (
  id      INTEGER PRIMARY KEY,
  risk_id INTEGER NOT NULL REFERENCES wf_risks (id) ON DELETE CASCADE,
  note    TEXT NOT NULL,
  by      TEXT NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX wf_risk_followups_risk ON wf_risk_followups (risk_id);

-- The new committee's structure, one row per village (结构).
CREATE TABLE wf_structures (
  village_id   INTEGER PRIMARY KEY REFERENCES wf_regions (id),
  one_shoulder INTEGER CHECK (one_shoulder IN (0, 1)),
  graduates    INTEGER CHECK (graduates >= 0),
  under35      INTEGER CHECK (under35 >= 0),
  women        INTEGER CHECK (women >= 0),
  party_ratio  REAL CHECK (party_ratio >= 0 AND party_ratio <= 1),
  updated_by   TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
);

-- Every change made from chat or a card, keyed by the message / card event
-- that caused it (source_id UNIQUE: a redelivered message never records
-- twice). before/after are row snapshots ([{entity, key, row}]) so that
-- 撤销 can put back exactly what was there.
CREATE TABLE wf_changes (
  id        INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL UNIQUE,
  actor     TEXT NOT NULL,
  at        INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  target    TEXT NOT NULL,
  before    TEXT NOT NULL,
  after     TEXT NOT NULL,
  summary   TEXT NOT NULL,
  undoes    INTEGER REFERENCES wf_changes (id),
  undone_by INTEGER REFERENCES wf_changes (id)
);
CREATE INDEX wf_changes_actor ON wf_changes (actor, id);

-- Imports of the roster workbook; source_id is the chat message (or a CLI run id).
CREATE TABLE wf_imports (
  id        INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL UNIQUE,
  actor     TEXT NOT NULL,
  at        INTEGER NOT NULL,
  file_name TEXT NOT NULL,
  ok        INTEGER NOT NULL CHECK (ok IN (0, 1)),
  result    TEXT NOT NULL
);

-- Campaign settings (e.g. structure targets), JSON values.
CREATE TABLE wf_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
