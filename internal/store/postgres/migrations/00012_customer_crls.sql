-- The CRLs of self-managed X.509 (PEM, canonical; '' when none): the
-- customerX509.crls extension, read by the CRL expiration alerts. Mirrors
-- the SQLite migration of the same number.

-- +goose Up
ALTER TABLE projects ADD COLUMN customer_x509_crls text COLLATE "C" NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE projects DROP COLUMN customer_x509_crls;
