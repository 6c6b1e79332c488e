-- The sweep of the expired certificate records of deleted users
-- (DeleteDeletedUsersCertificates) reads only those. Same conventions as
-- 00001_initial.sql.

-- +goose Up
CREATE INDEX certificates_deleted_users ON certificates (not_after) WHERE user_deleted = 1;

-- +goose Down
DROP INDEX certificates_deleted_users;
