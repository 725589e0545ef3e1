-- PostgreSQL translation of src/store/migrations/013-roster-removed.sql (issue 17): people
-- dropped from the 人员 sheet by a confirmed re-import keep their row, marked removed_at.
ALTER TABLE wf_people ADD COLUMN removed_at bigint;
CREATE INDEX wf_people_removed ON wf_people (id) WHERE removed_at IS NOT NULL;
