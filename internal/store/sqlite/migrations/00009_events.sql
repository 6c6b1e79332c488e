-- Events as Atlas records them (GET /groups/{groupId}/events,
-- /orgs/{orgId}/events): one row per change, written in the change's
-- transaction. Same conventions as 00001_initial.sql.
--
-- group_id and org_id are '' when the event is not listed under a project
-- or an organization. seq orders events of the same time by insertion. No
-- foreign key: an event outlives what it is about (GROUP_DELETED). doc holds
-- the caller and the targets as a JSON object.

-- +goose Up
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    doc        TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX events_group_created ON events (group_id, created DESC, seq DESC);
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC);
CREATE INDEX events_type ON events (event_type, created);
CREATE INDEX events_created ON events (created);

-- +goose Down
DROP TABLE events;
