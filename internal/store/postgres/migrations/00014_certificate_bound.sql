-- The per-user limit of unexpired certificates without a count on every
-- issuance: see the SQLite migration of the same number. Same conventions as
-- 00001_initial.sql.

-- +goose Up
ALTER TABLE database_users ADD COLUMN certs_bound bigint NOT NULL DEFAULT 0;

UPDATE database_users u SET certs_bound = (
    SELECT count(*) FROM certificates c
    WHERE c.group_id = u.group_id AND c.username = u.username AND NOT c.user_deleted);

-- +goose StatementBegin
CREATE FUNCTION bump_certificate_bound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE database_users SET certs_bound = certs_bound + 1
    WHERE group_id = NEW.group_id AND username = NEW.username;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER certificates_bound AFTER INSERT ON certificates
    FOR EACH ROW EXECUTE FUNCTION bump_certificate_bound();

-- +goose Down
DROP TRIGGER certificates_bound ON certificates;
DROP FUNCTION bump_certificate_bound();
ALTER TABLE database_users DROP COLUMN certs_bound;
