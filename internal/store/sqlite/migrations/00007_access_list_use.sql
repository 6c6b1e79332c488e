-- The use of each access list entry: how many requests it let through, and
-- the time and source address of the last one (written in batches by the
-- application, see RecordAccessListUse). Same conventions as 00001_initial.sql.

-- +goose Up
ALTER TABLE access_list_entries ADD COLUMN use_count INTEGER NOT NULL DEFAULT 0;
-- NULL until the entry is first used.
ALTER TABLE access_list_entries ADD COLUMN last_used TEXT;
ALTER TABLE access_list_entries ADD COLUMN last_used_address TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE access_list_entries DROP COLUMN last_used_address;
ALTER TABLE access_list_entries DROP COLUMN last_used;
ALTER TABLE access_list_entries DROP COLUMN use_count;
