-- Two changes of the issuance path (issue 15).
--
-- 1. The credentials generation: one number that every change to what
-- authenticates or authorizes a credential makes larger, in the change's own
-- transaction (row triggers, so that no write path can forget it). A server
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
    id integer NOT NULL PRIMARY KEY CHECK (id = 1),
    n  bigint  NOT NULL
);

INSERT INTO auth_generation (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_auth_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER auth_generation_oauth_tokens AFTER UPDATE OR DELETE ON oauth_tokens
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER auth_generation_service_accounts AFTER UPDATE OR DELETE ON service_accounts
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER auth_generation_secrets AFTER UPDATE OR DELETE ON service_account_secrets
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER auth_generation_api_keys AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER auth_generation_roles AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();
CREATE TRIGGER auth_generation_access_list AFTER INSERT OR DELETE OR UPDATE OF principal_id, cidr ON access_list_entries
    FOR EACH ROW EXECUTE FUNCTION bump_auth_generation();

-- +goose Down
DROP INDEX events_org_created;
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC);
CREATE INDEX events_type ON events (event_type, created);
DROP TRIGGER auth_generation_access_list ON access_list_entries;
DROP TRIGGER auth_generation_roles ON role_assignments;
DROP TRIGGER auth_generation_api_keys ON api_keys;
DROP TRIGGER auth_generation_secrets ON service_account_secrets;
DROP TRIGGER auth_generation_service_accounts ON service_accounts;
DROP TRIGGER auth_generation_oauth_tokens ON oauth_tokens;
DROP FUNCTION bump_auth_generation();
DROP TABLE auth_generation;
