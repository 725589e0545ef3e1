-- PostgreSQL translation of src/store/migrations/011-state-as-of.sql (issue 17).
-- When each "latest state" row was true: the instant of the message that set it (Lark's
-- message.create_time; a card action's receipt time), ms since epoch. A check-in older than
-- as_of does not overwrite the row (src/workflow/ordering.ts). Existing rows: as of updated_at.
ALTER TABLE wf_stage_progress ADD COLUMN as_of bigint;
UPDATE wf_stage_progress SET as_of = updated_at;
ALTER TABLE wf_talks ADD COLUMN as_of bigint;
UPDATE wf_talks SET as_of = updated_at;
ALTER TABLE wf_structures ADD COLUMN as_of bigint;
UPDATE wf_structures SET as_of = updated_at;
