-- Two changes of the issuance path (issue 15).
--
-- 1. The credentials generation: one number that every change to what
-- authenticates or authorizes a credential makes larger, in the change's own
-- transaction (triggers, so that no write path can forget it). A server
-- keeps the credentials it verified in memory with the generation they were
-- read at, and reads this one row on each request instead of the token, the
-- account, the secrets, the roles and the access list: a revocation committed
-- through any replica changes the number, and every replica's next request
-- reads the credential again. Same conventions as 00001_initial.sql.
--
-- What counts: token revocation and deletion; deleted or changed secrets,
-- service accounts and API keys; any change to role assignments; an access
-- list entry added, removed or re-addressed (not its use counts, which
-- RecordAccessListUse updates in batches).
--
-- 2. Every issuance inserts an event in its write transaction, and each
-- index of events is one more b-tree to write. events_type served no query
-- (every one names the project or the organization, whose indexes give the
-- order), and events_org_created held an entry for every project event under
-- org_id '' that no query reads (the organization's queries say
-- org_id <> ''): the first goes, the second becomes partial.

-- +goose Up
DROP INDEX events_type;
DROP INDEX events_org_created;
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC) WHERE org_id <> '';

CREATE TABLE auth_generation (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO auth_generation (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER auth_generation_oauth_tokens_update AFTER UPDATE ON oauth_tokens
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_oauth_tokens_delete AFTER DELETE ON oauth_tokens
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_service_accounts_update AFTER UPDATE ON service_accounts
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_service_accounts_delete AFTER DELETE ON service_accounts
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_secrets_update AFTER UPDATE ON service_account_secrets
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_secrets_delete AFTER DELETE ON service_account_secrets
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_api_keys_update AFTER UPDATE ON api_keys
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_api_keys_delete AFTER DELETE ON api_keys
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_roles_insert AFTER INSERT ON role_assignments
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_roles_update AFTER UPDATE ON role_assignments
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_roles_delete AFTER DELETE ON role_assignments
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_access_list_insert AFTER INSERT ON access_list_entries
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_access_list_update AFTER UPDATE OF principal_id, cidr ON access_list_entries
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_generation_access_list_delete AFTER DELETE ON access_list_entries
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP INDEX events_org_created;
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC);
CREATE INDEX events_type ON events (event_type, created);
DROP TRIGGER auth_generation_access_list_delete;
DROP TRIGGER auth_generation_access_list_update;
DROP TRIGGER auth_generation_access_list_insert;
DROP TRIGGER auth_generation_roles_delete;
DROP TRIGGER auth_generation_roles_update;
DROP TRIGGER auth_generation_roles_insert;
DROP TRIGGER auth_generation_api_keys_delete;
DROP TRIGGER auth_generation_api_keys_update;
DROP TRIGGER auth_generation_secrets_delete;
DROP TRIGGER auth_generation_secrets_update;
DROP TRIGGER auth_generation_service_accounts_delete;
DROP TRIGGER auth_generation_service_accounts_update;
DROP TRIGGER auth_generation_oauth_tokens_delete;
DROP TRIGGER auth_generation_oauth_tokens_update;
DROP TABLE auth_generation;
