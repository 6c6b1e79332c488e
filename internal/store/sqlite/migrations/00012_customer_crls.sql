-- The CRLs of self-managed X.509 (PEM, canonical; '' when none): the
-- customerX509.crls extension, read by the CRL expiration alerts. Same
-- conventions as 00001_initial.sql.

-- +goose Up
ALTER TABLE projects ADD COLUMN customer_x509_crls TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE projects DROP COLUMN customer_x509_crls;
