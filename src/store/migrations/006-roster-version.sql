-- A counter that moves with every change to the regions (villages, townships, counties),
-- whoever makes it (service, CLI import, another process): readers that keep a parsed copy
-- of the village list (name lookup for check-ins) check it instead of re-reading 30,000 rows.
CREATE TABLE wf_regions_version (v INTEGER NOT NULL);
INSERT INTO wf_regions_version (v) VALUES (0);
CREATE TRIGGER wf_regions_version_ins AFTER INSERT ON wf_regions BEGIN UPDATE wf_regions_version SET v = v + 1; END;
CREATE TRIGGER wf_regions_version_upd AFTER UPDATE ON wf_regions BEGIN UPDATE wf_regions_version SET v = v + 1; END;
CREATE TRIGGER wf_regions_version_del AFTER DELETE ON wf_regions BEGIN UPDATE wf_regions_version SET v = v + 1; END;
