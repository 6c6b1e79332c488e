-- Sessions of the web console (/console/): one row per signed-in browser,
-- found by the SHA-256 of its cookie's token (the token itself is never
-- stored). Same conventions as 00001_initial.sql. No foreign key to the
-- credential: a session whose credential is gone is refused when read and
-- deleted.
--
-- The number 00010 was reserved for this table while 00011 and 00012
-- landed first; the drivers apply a missing lower migration out of order.

-- +goose Up
CREATE TABLE console_sessions (
    token_hash     text COLLATE "C" NOT NULL PRIMARY KEY,
    principal_id   text COLLATE "C" NOT NULL,
    principal_kind text COLLATE "C" NOT NULL,
    secret_id      text COLLATE "C" NOT NULL DEFAULT '',
    created        timestamptz      NOT NULL,
    last_seen      timestamptz      NOT NULL,
    expires_at     timestamptz      NOT NULL
);

CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
