-- What Atlas stores about organizations and projects beyond their names:
-- the alert flags, project tags, the project settings document and the
-- project limits that were changed. Same conventions as 00001_initial.sql.

-- +goose Up

ALTER TABLE organizations ADD COLUMN skip_default_alerts_settings boolean NOT NULL DEFAULT false;
-- Atlas's default is true, and every project before this migration
-- answered true.
ALTER TABLE projects ADD COLUMN with_default_alerts_settings boolean NOT NULL DEFAULT true;
-- An array of {"key","value"} in the order given.
ALTER TABLE projects ADD COLUMN tags jsonb NOT NULL DEFAULT '[]';
-- Objects of the settings (name to boolean) and limits (name to integer)
-- that were set; the others have their defaults.
ALTER TABLE projects ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN limits jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE projects DROP COLUMN limits;
ALTER TABLE projects DROP COLUMN settings;
ALTER TABLE projects DROP COLUMN tags;
ALTER TABLE projects DROP COLUMN with_default_alerts_settings;
ALTER TABLE organizations DROP COLUMN skip_default_alerts_settings;
