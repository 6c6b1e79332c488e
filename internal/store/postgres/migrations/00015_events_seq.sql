-- The SQLite migration of this number rebuilds its events table without
-- AUTOINCREMENT, which wrote one more page per event. PostgreSQL's seq is a
-- sequence, which writes no row per event: nothing to change here; the
-- number keeps the two drivers' migrations in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
