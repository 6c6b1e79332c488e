-- The kind of credential of each role assignment, so that a project's API
-- keys or service accounts are listed (and paged) in SQL rather than by
-- looking every principal up in one table and then the other. Same
-- conventions as 00001_initial.sql.

-- +goose Up

-- 'apiKey' or 'serviceAccount' (atlasx509.PrincipalKind.String). The
-- default only lets the column be added to existing rows; the driver
-- always writes a kind.
ALTER TABLE role_assignments ADD COLUMN principal_kind TEXT NOT NULL DEFAULT '';

-- Backfill from the credential tables. An assignment whose principal is in
-- neither (none is left by a delete since 00001) grants nothing: it goes.
UPDATE role_assignments SET principal_kind = 'apiKey'
    WHERE principal_id IN (SELECT id FROM api_keys);
UPDATE role_assignments SET principal_kind = 'serviceAccount'
    WHERE principal_id IN (SELECT client_id FROM service_accounts);
DELETE FROM role_assignments WHERE principal_kind = '';

-- ListProjectPrincipals and CountProjectPrincipals (by group_id and kind,
-- ordered by principal_id) and DeleteProject (by group_id). It replaces
-- role_assignments_group_principal of 00002. Queries must say
-- group_id <> '' for SQLite to use this partial index.
DROP INDEX role_assignments_group_principal;
CREATE INDEX role_assignments_group_kind ON role_assignments (group_id, principal_kind, principal_id)
    WHERE group_id <> '';

-- +goose Down
DROP INDEX role_assignments_group_kind;
CREATE INDEX role_assignments_group_principal ON role_assignments (group_id, principal_id, role)
    WHERE group_id <> '';
ALTER TABLE role_assignments DROP COLUMN principal_kind;
