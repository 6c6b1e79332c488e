-- Alert configurations, alerts, the outbox of their notifications and the
-- leases that let one replica at a time evaluate and deliver them. Same
-- conventions as 00001_initial.sql.

-- +goose Up
CREATE TABLE alert_configs (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    group_id          text COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_type_name   text             NOT NULL,
    enabled           boolean          NOT NULL,
    threshold         integer          NOT NULL,
    severity_override text             NOT NULL,
    -- An array of notifications (webhook secrets sealed).
    notifications     jsonb            NOT NULL,
    created           timestamptz      NOT NULL,
    updated           timestamptz      NOT NULL
);

CREATE INDEX alert_configs_group ON alert_configs (group_id, created, id);

-- An alert outlives its configuration (Atlas keeps the history), not its project.
CREATE TABLE alerts (
    id                      text COLLATE "C" NOT NULL PRIMARY KEY,
    group_id                text COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alert_config_id         text COLLATE "C" NOT NULL,
    event_type_name         text             NOT NULL,
    target                  text COLLATE "C" NOT NULL,
    subject                 text             NOT NULL,
    not_after               timestamptz      NOT NULL,
    status                  text             NOT NULL,
    created                 timestamptz      NOT NULL,
    updated                 timestamptz      NOT NULL,
    last_notified           timestamptz,
    -- An object: notifier id to the time it was last notified.
    notified                jsonb            NOT NULL DEFAULT '{}',
    resolved                timestamptz,
    acknowledged_until      timestamptz,
    acknowledgement_comment text             NOT NULL DEFAULT '',
    acknowledging_username  text             NOT NULL DEFAULT '',
    UNIQUE (alert_config_id, target)
);

CREATE INDEX alerts_group ON alerts (group_id, created, id);
CREATE INDEX alerts_status ON alerts (status, alert_config_id);

CREATE TABLE alert_outbox (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    group_id      text COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alert_id      text COLLATE "C" NOT NULL,
    kind          text             NOT NULL,
    destination   text             NOT NULL,
    sealed_secret bytea            NOT NULL,
    event         text             NOT NULL,
    body          bytea            NOT NULL,
    status        text             NOT NULL,
    attempts      integer          NOT NULL,
    next_attempt  timestamptz      NOT NULL,
    last_error    text             NOT NULL,
    created       timestamptz      NOT NULL,
    updated       timestamptz      NOT NULL
);

CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt, id);
CREATE INDEX alert_outbox_alert ON alert_outbox (alert_id, created, id);

CREATE TABLE leases (
    name    text COLLATE "C" NOT NULL PRIMARY KEY,
    holder  text             NOT NULL,
    expires timestamptz      NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE alert_outbox;
DROP TABLE alerts;
DROP TABLE alert_configs;
