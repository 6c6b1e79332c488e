-- Initial schema of the atlasx509 store, PostgreSQL dialect. It mirrors
-- internal/store/sqlite/migrations/00001_initial.sql table for table and
-- column for column.
--
-- Conventions:
--   * times are timestamptz (microsecond precision; the driver stores and
--     compares them as UTC instants);
--   * role, scope and label lists of database users are jsonb arrays ('[]'
--     when empty);
--   * every text column has COLLATE "C", so that comparisons and ORDER BY
--     are byte-wise, as SQLite's BINARY collation, whatever the database's
--     default collation;
--   * integers are bigint (SQLite's INTEGER is 64-bit), byte strings bytea.

-- +goose Up
CREATE TABLE settings (
    name  text COLLATE "C" NOT NULL PRIMARY KEY,
    value bytea            NOT NULL
);

CREATE TABLE organizations (
    id      text COLLATE "C" NOT NULL PRIMARY KEY,
    name    text COLLATE "C" NOT NULL,
    created timestamptz      NOT NULL
);

CREATE TABLE projects (
    id      text COLLATE "C" NOT NULL PRIMARY KEY,
    org_id  text COLLATE "C" NOT NULL REFERENCES organizations (id),
    name    text COLLATE "C" NOT NULL,
    created timestamptz      NOT NULL,
    UNIQUE (org_id, name)
);

CREATE INDEX projects_org_created ON projects (org_id, created, id);

-- A username is unique within a project whatever its authentication database.
CREATE TABLE database_users (
    group_id          text COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    username          text COLLATE "C" NOT NULL,
    database_name     text COLLATE "C" NOT NULL,
    roles             jsonb            NOT NULL DEFAULT '[]',
    scopes            jsonb            NOT NULL DEFAULT '[]',
    labels            jsonb            NOT NULL DEFAULT '[]',
    x509_type         text COLLATE "C" NOT NULL,
    aws_iam_type      text COLLATE "C" NOT NULL,
    ldap_auth_type    text COLLATE "C" NOT NULL,
    oidc_auth_type    text COLLATE "C" NOT NULL,
    description       text COLLATE "C" NOT NULL,
    delete_after_date timestamptz,
    scram_credential  text COLLATE "C" NOT NULL,
    created           timestamptz      NOT NULL,
    updated           timestamptz      NOT NULL,
    PRIMARY KEY (group_id, username)
);

CREATE TABLE project_cas (
    group_id   text COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    generation bigint           NOT NULL,
    cert_der   bytea            NOT NULL,
    sealed_key bytea            NOT NULL,
    not_before timestamptz      NOT NULL,
    not_after  timestamptz      NOT NULL,
    created    timestamptz      NOT NULL,
    PRIMARY KEY (group_id, generation)
);

-- Certificate records go with their user. A CA is never deleted on its own
-- (only with its project, whose users and so certificates go too), hence no
-- cascade from project_cas: the NO ACTION check runs at the end of the
-- DELETE statement, after the cascades.
CREATE TABLE certificates (
    group_id           text COLLATE "C" NOT NULL,
    serial             bigint           NOT NULL,
    username           text COLLATE "C" NOT NULL,
    subject            text COLLATE "C" NOT NULL,
    ca_generation      bigint           NOT NULL,
    not_before         timestamptz      NOT NULL,
    not_after          timestamptz      NOT NULL,
    fingerprint_sha256 text COLLATE "C" NOT NULL,
    created            timestamptz      NOT NULL,
    PRIMARY KEY (group_id, serial),
    FOREIGN KEY (group_id, username) REFERENCES database_users (group_id, username) ON DELETE CASCADE,
    FOREIGN KEY (group_id, ca_generation) REFERENCES project_cas (group_id, generation)
);

CREATE INDEX certificates_user_not_after ON certificates (group_id, username, not_after);
CREATE INDEX certificates_ca ON certificates (group_id, ca_generation);

CREATE TABLE api_keys (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    org_id            text COLLATE "C" NOT NULL REFERENCES organizations (id),
    public_key        text COLLATE "C" NOT NULL UNIQUE,
    description       text COLLATE "C" NOT NULL,
    sealed_ha1_md5    bytea            NOT NULL,
    sealed_ha1_sha256 bytea            NOT NULL,
    created           timestamptz      NOT NULL
);

CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE service_accounts (
    client_id   text COLLATE "C" NOT NULL PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL REFERENCES organizations (id),
    name        text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    created     timestamptz      NOT NULL
);

CREATE INDEX service_accounts_org ON service_accounts (org_id);

CREATE TABLE service_account_secrets (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    client_id  text COLLATE "C" NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    hash       bytea            NOT NULL,
    expires_at timestamptz      NOT NULL,
    created    timestamptz      NOT NULL
);

CREATE INDEX service_account_secrets_client ON service_account_secrets (client_id, created);

-- group_id is '' for an organization role. Project rows have no foreign key
-- (the empty string is not a project): DeleteProject deletes them.
CREATE TABLE role_assignments (
    principal_id text COLLATE "C" NOT NULL,
    org_id       text COLLATE "C" NOT NULL REFERENCES organizations (id),
    group_id     text COLLATE "C" NOT NULL DEFAULT '',
    role         text COLLATE "C" NOT NULL,
    PRIMARY KEY (principal_id, org_id, group_id, role)
);

CREATE INDEX role_assignments_group ON role_assignments (group_id) WHERE group_id <> '';

CREATE TABLE oauth_tokens (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    client_id  text COLLATE "C" NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    expires_at timestamptz      NOT NULL,
    created    timestamptz      NOT NULL,
    revoked    boolean          NOT NULL DEFAULT false
);

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
