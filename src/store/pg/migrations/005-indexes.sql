-- PostgreSQL translation of src/store/migrations/005-indexes.sql (issue 7).
-- Digests read a county's talks; without this each digest scans every talk of the province.
CREATE INDEX IF NOT EXISTS wf_talks_region ON wf_talks (region_id);
