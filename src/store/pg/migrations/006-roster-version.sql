-- PostgreSQL translation of src/store/migrations/006-roster-version.sql (issue 7).
-- A counter that moves with every change to the regions (villages, townships, counties),
-- whoever makes it (service, CLI import, another process): readers that keep a parsed copy
-- of the village list (name lookup for check-ins) check it instead of re-reading 30,000 rows.
CREATE TABLE wf_regions_version (v bigint NOT NULL);
INSERT INTO wf_regions_version (v) VALUES (0);

-- SQLite has three row triggers (insert, update, delete) whose body is one UPDATE; here one
-- plpgsql function serves them. SET search_path FROM CURRENT pins the schema it was created
-- in, so the trigger finds wf_regions_version whatever the writing session's search_path.
CREATE FUNCTION wf_regions_version_bump() RETURNS trigger
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE wf_regions_version SET v = v + 1;
  RETURN NULL;
END;
$$;
CREATE TRIGGER wf_regions_version_ins AFTER INSERT ON wf_regions FOR EACH ROW EXECUTE FUNCTION wf_regions_version_bump();
CREATE TRIGGER wf_regions_version_upd AFTER UPDATE ON wf_regions FOR EACH ROW EXECUTE FUNCTION wf_regions_version_bump();
CREATE TRIGGER wf_regions_version_del AFTER DELETE ON wf_regions FOR EACH ROW EXECUTE FUNCTION wf_regions_version_bump();
