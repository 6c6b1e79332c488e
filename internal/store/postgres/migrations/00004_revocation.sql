-- Revocation of managed certificates and the CRLs that publish it. It
-- mirrors internal/store/sqlite/migrations/00004_revocation.sql; same
-- conventions as 00001_initial.sql.
--
-- Certificate records no longer go with their user: deleting a user revokes
-- its unexpired certificates, which must stay listed in the CRL of their CA
-- until they expire. A record whose user was deleted is marked user_deleted,
-- so that a new user of the same name neither lists nor counts it. Records
-- now go with their CA, which goes with its project.

-- +goose Up
ALTER TABLE certificates DROP CONSTRAINT certificates_group_id_username_fkey;
ALTER TABLE certificates DROP CONSTRAINT certificates_group_id_ca_generation_fkey;
ALTER TABLE certificates ADD CONSTRAINT certificates_group_id_ca_generation_fkey
    FOREIGN KEY (group_id, ca_generation) REFERENCES project_cas (group_id, generation) ON DELETE CASCADE;

-- revoked_at is NULL while the certificate is not revoked;
-- revocation_reason is an RFC 5280 CRLReason code, 0 (unspecified) while
-- not revoked.
ALTER TABLE certificates ADD COLUMN revoked_at timestamptz;
ALTER TABLE certificates ADD COLUMN revocation_reason integer NOT NULL DEFAULT 0;
ALTER TABLE certificates ADD COLUMN user_deleted boolean NOT NULL DEFAULT false;

-- The CRL of a CA lists its revoked certificates.
CREATE INDEX certificates_ca_revoked ON certificates (group_id, ca_generation, serial)
    WHERE revoked_at IS NOT NULL;

-- revocation_seq grows with every change of the CA's revoked certificates;
-- crl_number is the last CRL number allocated for the CA.
ALTER TABLE project_cas ADD COLUMN revocation_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE project_cas ADD COLUMN crl_number bigint NOT NULL DEFAULT 0;

-- The latest CRL signed by each CA and the revocation_seq it covers.
CREATE TABLE crls (
    group_id       text COLLATE "C" NOT NULL,
    generation     bigint           NOT NULL,
    number         bigint           NOT NULL,
    this_update    timestamptz      NOT NULL,
    next_update    timestamptz      NOT NULL,
    revocation_seq bigint           NOT NULL,
    der            bytea            NOT NULL,
    PRIMARY KEY (group_id, generation),
    FOREIGN KEY (group_id, generation) REFERENCES project_cas (group_id, generation) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE project_cas DROP COLUMN crl_number;
ALTER TABLE project_cas DROP COLUMN revocation_seq;
DROP INDEX certificates_ca_revoked;
-- Records of deleted users cannot go back under a foreign key to their user.
DELETE FROM certificates WHERE user_deleted;
ALTER TABLE certificates DROP COLUMN user_deleted;
ALTER TABLE certificates DROP COLUMN revocation_reason;
ALTER TABLE certificates DROP COLUMN revoked_at;
ALTER TABLE certificates DROP CONSTRAINT certificates_group_id_ca_generation_fkey;
ALTER TABLE certificates ADD CONSTRAINT certificates_group_id_ca_generation_fkey
    FOREIGN KEY (group_id, ca_generation) REFERENCES project_cas (group_id, generation);
ALTER TABLE certificates ADD CONSTRAINT certificates_group_id_username_fkey
    FOREIGN KEY (group_id, username) REFERENCES database_users (group_id, username) ON DELETE CASCADE;
