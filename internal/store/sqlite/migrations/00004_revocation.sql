-- Revocation of managed certificates and the CRLs that publish it. Same
-- conventions as 00001_initial.sql.
--
-- Certificate records no longer go with their user: deleting a user revokes
-- its unexpired certificates, which must stay listed in the CRL of their CA
-- until they expire. A record whose user was deleted is marked user_deleted,
-- so that a new user of the same name neither lists nor counts it. Records
-- now go with their CA, which goes with its project.

-- +goose Up
CREATE TABLE certificates_new (
    group_id           TEXT    NOT NULL,
    serial             INTEGER NOT NULL,
    username           TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    ca_generation      INTEGER NOT NULL,
    not_before         TEXT    NOT NULL,
    not_after          TEXT    NOT NULL,
    fingerprint_sha256 TEXT    NOT NULL,
    created            TEXT    NOT NULL,
    -- NULL while the certificate is not revoked.
    revoked_at         TEXT,
    -- RFC 5280 CRLReason code; 0 (unspecified) while not revoked.
    revocation_reason  INTEGER NOT NULL DEFAULT 0,
    user_deleted       INTEGER NOT NULL DEFAULT 0 CHECK (user_deleted IN (0, 1)),
    PRIMARY KEY (group_id, serial),
    FOREIGN KEY (group_id, ca_generation) REFERENCES project_cas (group_id, generation) ON DELETE CASCADE
) STRICT;

INSERT INTO certificates_new (group_id, serial, username, subject, ca_generation,
    not_before, not_after, fingerprint_sha256, created)
SELECT group_id, serial, username, subject, ca_generation,
    not_before, not_after, fingerprint_sha256, created
FROM certificates;

DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;

CREATE INDEX certificates_user_not_after ON certificates (group_id, username, not_after);
CREATE INDEX certificates_ca ON certificates (group_id, ca_generation);
-- The CRL of a CA lists its revoked certificates.
CREATE INDEX certificates_ca_revoked ON certificates (group_id, ca_generation, serial)
    WHERE revoked_at IS NOT NULL;

-- revocation_seq grows with every change of the CA's revoked certificates;
-- crl_number is the last CRL number allocated for the CA.
ALTER TABLE project_cas ADD COLUMN revocation_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE project_cas ADD COLUMN crl_number INTEGER NOT NULL DEFAULT 0;

-- The latest CRL signed by each CA and the revocation_seq it covers.
CREATE TABLE crls (
    group_id       TEXT    NOT NULL,
    generation     INTEGER NOT NULL,
    number         INTEGER NOT NULL,
    this_update    TEXT    NOT NULL,
    next_update    TEXT    NOT NULL,
    revocation_seq INTEGER NOT NULL,
    der            BLOB    NOT NULL,
    PRIMARY KEY (group_id, generation),
    FOREIGN KEY (group_id, generation) REFERENCES project_cas (group_id, generation) ON DELETE CASCADE
) STRICT;

-- +goose Down
DROP TABLE crls;
ALTER TABLE project_cas DROP COLUMN crl_number;
ALTER TABLE project_cas DROP COLUMN revocation_seq;

-- Records of deleted users cannot go back under a foreign key to their user.
DELETE FROM certificates WHERE user_deleted = 1;

-- The table is re-created under its name, so that the schema reads as
-- 00001_initial.sql wrote it.
ALTER TABLE certificates RENAME TO certificates_revocation;
DROP INDEX certificates_user_not_after;
DROP INDEX certificates_ca;
DROP INDEX certificates_ca_revoked;

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

INSERT INTO certificates (group_id, serial, username, subject, ca_generation,
    not_before, not_after, fingerprint_sha256, created)
SELECT group_id, serial, username, subject, ca_generation,
    not_before, not_after, fingerprint_sha256, created
FROM certificates_revocation;

DROP TABLE certificates_revocation;

CREATE INDEX certificates_user_not_after ON certificates (group_id, username, not_after);
CREATE INDEX certificates_ca ON certificates (group_id, ca_generation);
