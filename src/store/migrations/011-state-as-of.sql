-- When each "latest state" row was true (issue 17): the instant of the message that set it
-- (Lark's message.create_time; a card action's receipt time), ms since epoch. Lark redelivers
-- for hours and a long connection redelivers after a reconnect, so a message can arrive after a
-- newer one: a check-in older than as_of does not overwrite the row (src/workflow/ordering.ts).
-- updated_at stays the time it was written. Rows written before this column existed: as of
-- when they were written.
ALTER TABLE wf_stage_progress ADD COLUMN as_of INTEGER;
UPDATE wf_stage_progress SET as_of = updated_at;
ALTER TABLE wf_talks ADD COLUMN as_of INTEGER;
UPDATE wf_talks SET as_of = updated_at;
ALTER TABLE wf_structures ADD COLUMN as_of INTEGER;
UPDATE wf_structures SET as_of = updated_at;
