-- The per-user limit of unexpired certificates is counted in the write
-- transaction of every issuance. Its filter (group, user, not deleted, not
-- expired, revoked or not) is now wholly in one index, so the count reads
-- index entries only, never the table rows (up to 1000 per user).

-- +goose Up
DROP INDEX certificates_user_not_after;
CREATE INDEX certificates_user_live ON certificates (group_id, username, user_deleted, not_after, revoked_at);

-- +goose Down
DROP INDEX certificates_user_live;
CREATE INDEX certificates_user_not_after ON certificates (group_id, username, not_after);
