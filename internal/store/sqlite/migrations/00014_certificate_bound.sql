-- The per-user limit of unexpired certificates without a count on every
-- issuance (issue 15). Counting walked every unexpired certificate of the
-- user in the write transaction, the one that holds the writer: a user with
-- hundreds of certificates made each issuance read hundreds of index
-- entries. certs_bound is an upper bound of the user's unexpired
-- certificates: every certificate inserted for the user adds one (a
-- trigger, so that no write path can forget it), and nothing else lowers
-- the true count but time, so it stays a bound. While it is below the limit
-- an issuance needs no count; at the limit it counts and sets the bound to
-- the count (Tx.SetCertificateBound). A user created again starts at 0: the
-- certificates of the one deleted are not counted. Same conventions as
-- 00001_initial.sql.

-- +goose Up
ALTER TABLE database_users ADD COLUMN certs_bound INTEGER NOT NULL DEFAULT 0;

UPDATE database_users SET certs_bound = (
    SELECT count(*) FROM certificates c
    WHERE c.group_id = database_users.group_id AND c.username = database_users.username AND c.user_deleted = 0);

-- +goose StatementBegin
CREATE TRIGGER certificates_bound AFTER INSERT ON certificates
BEGIN
    UPDATE database_users SET certs_bound = certs_bound + 1
    WHERE group_id = NEW.group_id AND username = NEW.username;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER certificates_bound;
ALTER TABLE database_users DROP COLUMN certs_bound;
