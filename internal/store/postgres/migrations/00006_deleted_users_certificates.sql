-- The sweep of the expired certificate records of deleted users
-- (DeleteDeletedUsersCertificates) reads only those. It mirrors
-- internal/store/sqlite/migrations/00006_deleted_users_certificates.sql.

-- +goose Up
CREATE INDEX certificates_deleted_users ON certificates (not_after) WHERE user_deleted;

-- +goose Down
DROP INDEX certificates_deleted_users;
