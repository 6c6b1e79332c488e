-- Credential management, access lists, self-managed X.509, leaf key types
-- and temporary users. It mirrors
-- internal/store/sqlite/migrations/00002_access_control.sql; same
-- conventions as 00001_initial.sql.

-- +goose Up

-- Self-managed X.509 CA certificates (PEM) and the key type of managed
-- certificates; '' when unused / the default.
ALTER TABLE projects ADD COLUMN customer_x509_cas text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN leaf_key_type text COLLATE "C" NOT NULL DEFAULT '';

-- principal_id is an API key id or a service account client id: no foreign
-- key can point at both tables, so DeleteAPIKey and DeleteServiceAccount
-- delete the entries themselves.
CREATE TABLE access_list_entries (
    principal_id text COLLATE "C" NOT NULL,
    cidr         text COLLATE "C" NOT NULL,
    comment      text COLLATE "C" NOT NULL,
    created      timestamptz      NOT NULL,
    PRIMARY KEY (principal_id, cidr)
);

-- DeleteExpiredDatabaseUsers: only temporary users are indexed.
CREATE INDEX database_users_delete_after_date ON database_users (delete_after_date)
    WHERE delete_after_date IS NOT NULL;

-- ListProjectRoleAssignments (by group_id, ordered by principal_id, role) and
-- DeleteProject. It replaces role_assignments_group of 00001, on (group_id)
-- alone, of which it is an extension.
DROP INDEX role_assignments_group;
CREATE INDEX role_assignments_group_principal ON role_assignments (group_id, principal_id, role)
    WHERE group_id <> '';

-- +goose Down
DROP INDEX role_assignments_group_principal;
CREATE INDEX role_assignments_group ON role_assignments (group_id) WHERE group_id <> '';
DROP INDEX database_users_delete_after_date;
DROP TABLE access_list_entries;
ALTER TABLE projects DROP COLUMN leaf_key_type;
ALTER TABLE projects DROP COLUMN customer_x509_cas;
