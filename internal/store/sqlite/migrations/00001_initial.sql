-- Initial schema of the atlasx509 store.
--
-- Conventions:
--   * times are TEXT in UTC, fixed width with nanoseconds
--     ('2006-01-02T15:04:05.000000000Z'), so that text order is time order;
--   * role, scope and label lists of database users are JSON arrays ('[]' when empty);
--   * tables are STRICT so that a value of the wrong type is refused.

-- +goose Up
CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE organizations (
    id      TEXT NOT NULL PRIMARY KEY,
    name    TEXT NOT NULL,
    created TEXT NOT NULL
) STRICT;

CREATE TABLE projects (
    id      TEXT NOT NULL PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES organizations (id),
    name    TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

CREATE INDEX projects_org_created ON projects (org_id, created, id);

-- A username is unique within a project whatever its authentication database.
CREATE TABLE database_users (
    group_id          TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    username          TEXT NOT NULL,
    database_name     TEXT NOT NULL,
    roles             TEXT NOT NULL DEFAULT '[]',
    scopes            TEXT NOT NULL DEFAULT '[]',
    labels            TEXT NOT NULL DEFAULT '[]',
    x509_type         TEXT NOT NULL,
    aws_iam_type      TEXT NOT NULL,
    ldap_auth_type    TEXT NOT NULL,
    oidc_auth_type    TEXT NOT NULL,
    description       TEXT NOT NULL,
    delete_after_date TEXT,
    scram_credential  TEXT NOT NULL,
    created           TEXT NOT NULL,
    updated           TEXT NOT NULL,
    PRIMARY KEY (group_id, username)
) STRICT;

CREATE TABLE project_cas (
    group_id   TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    cert_der   BLOB    NOT NULL,
    sealed_key BLOB    NOT NULL,
    not_before TEXT    NOT NULL,
    not_after  TEXT    NOT NULL,
    created    TEXT    NOT NULL,
    PRIMARY KEY (group_id, generation)
) STRICT;

-- Certificate records go with their user. A CA is never deleted on its own
-- (only with its project, whose users and so certificates go too), hence no
-- cascade from project_cas.
CREATE TABLE certificates (
    group_id           TEXT    NOT NULL,
    serial             INTEGER NOT NULL,
    username           TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    ca_generation      INTEGER NOT NULL,
    not_before         TEXT    NOT NULL,
    not_after          TEXT    NOT NULL,
    fingerprint_sha256 TEXT    NOT NULL,
    created            TEXT    NOT NULL,
    PRIMARY KEY (group_id, serial),
    FOREIGN KEY (group_id, username) REFERENCES database_users (group_id, username) ON DELETE CASCADE,
    FOREIGN KEY (group_id, ca_generation) REFERENCES project_cas (group_id, generation)
) STRICT;

CREATE INDEX certificates_user_not_after ON certificates (group_id, username, not_after);
CREATE INDEX certificates_ca ON certificates (group_id, ca_generation);

CREATE TABLE api_keys (
    id                TEXT NOT NULL PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    public_key        TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL,
    sealed_ha1_md5    BLOB NOT NULL,
    sealed_ha1_sha256 BLOB NOT NULL,
    created           TEXT NOT NULL
) STRICT;

CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE service_accounts (
    client_id   TEXT NOT NULL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created     TEXT NOT NULL
) STRICT;

CREATE INDEX service_accounts_org ON service_accounts (org_id);

CREATE TABLE service_account_secrets (
    id         TEXT NOT NULL PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    expires_at TEXT NOT NULL,
    created    TEXT NOT NULL
) STRICT;

CREATE INDEX service_account_secrets_client ON service_account_secrets (client_id, created);

-- group_id is '' for an organization role. Project rows have no foreign key
-- (the empty string is not a project): DeleteProject deletes them.
CREATE TABLE role_assignments (
    principal_id TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    group_id     TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL,
    PRIMARY KEY (principal_id, org_id, group_id, role)
) STRICT;

CREATE INDEX role_assignments_group ON role_assignments (group_id) WHERE group_id <> '';

CREATE TABLE oauth_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    expires_at TEXT    NOT NULL,
    created    TEXT    NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

CREATE INDEX oauth_tokens_expires_at ON oauth_tokens (expires_at);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);

-- +goose Down
DROP TABLE oauth_tokens;
DROP TABLE role_assignments;
DROP TABLE service_account_secrets;
DROP TABLE service_accounts;
DROP TABLE api_keys;
DROP TABLE certificates;
DROP TABLE project_cas;
DROP TABLE database_users;
DROP TABLE projects;
DROP TABLE organizations;
DROP TABLE settings;
