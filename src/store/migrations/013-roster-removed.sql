-- People dropped from the 人员 sheet by a re-import (issue 17): the roster is authoritative,
-- so they lose every right at once, but their row stays (audit, who recorded what, talks held
-- are history). removed_at is when the confirmed import dropped them (ms since epoch); NULL =
-- in the roster. A later import that lists them again restores them.
ALTER TABLE wf_people ADD COLUMN removed_at INTEGER;
CREATE INDEX wf_people_removed ON wf_people (id) WHERE removed_at IS NOT NULL;
