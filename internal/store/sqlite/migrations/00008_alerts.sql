-- Alert configurations, alerts, the outbox of their notifications and the
-- leases that let one replica at a time evaluate and deliver them. Same
-- conventions as 00001_initial.sql.

-- +goose Up
CREATE TABLE alert_configs (
    id                TEXT    NOT NULL PRIMARY KEY,
    group_id          TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_type_name   TEXT    NOT NULL,
    enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    threshold         INTEGER NOT NULL,
    severity_override TEXT    NOT NULL,
    -- A JSON array of notifications (webhook secrets sealed).
    notifications     TEXT    NOT NULL,
    created           TEXT    NOT NULL,
    updated           TEXT    NOT NULL
) STRICT;

CREATE INDEX alert_configs_group ON alert_configs (group_id, created, id);

-- An alert outlives its configuration (Atlas keeps the history), not its project.
CREATE TABLE alerts (
    id                      TEXT NOT NULL PRIMARY KEY,
    group_id                TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alert_config_id         TEXT NOT NULL,
    event_type_name         TEXT NOT NULL,
    target                  TEXT NOT NULL,
    subject                 TEXT NOT NULL,
    not_after               TEXT NOT NULL,
    status                  TEXT NOT NULL,
    created                 TEXT NOT NULL,
    updated                 TEXT NOT NULL,
    last_notified           TEXT,
    -- A JSON object: notifier id to the time it was last notified.
    notified                TEXT NOT NULL DEFAULT '{}',
    resolved                TEXT,
    acknowledged_until      TEXT,
    acknowledgement_comment TEXT NOT NULL DEFAULT '',
    acknowledging_username  TEXT NOT NULL DEFAULT '',
    UNIQUE (alert_config_id, target)
) STRICT;

CREATE INDEX alerts_group ON alerts (group_id, created, id);
CREATE INDEX alerts_status ON alerts (status, alert_config_id);

CREATE TABLE alert_outbox (
    id            TEXT    NOT NULL PRIMARY KEY,
    group_id      TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alert_id      TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    destination   TEXT    NOT NULL,
    sealed_secret BLOB    NOT NULL,
    event         TEXT    NOT NULL,
    body          BLOB    NOT NULL,
    status        TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    next_attempt  TEXT    NOT NULL,
    last_error    TEXT    NOT NULL,
    created       TEXT    NOT NULL,
    updated       TEXT    NOT NULL
) STRICT;

CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt, id);
CREATE INDEX alert_outbox_alert ON alert_outbox (alert_id, created, id);

CREATE TABLE leases (
    name    TEXT NOT NULL PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE leases;
DROP TABLE alert_outbox;
DROP TABLE alerts;
DROP TABLE alert_configs;
