-- Events as Atlas records them (GET /groups/{groupId}/events,
-- /orgs/{orgId}/events): one row per change, written in the change's
-- transaction. Same conventions as 00001_initial.sql.
--
-- group_id and org_id are '' when the event is not listed under a project
-- or an organization. seq orders events of the same time by insertion. No
-- foreign key: an event outlives what it is about (GROUP_DELETED). doc holds
-- the caller and the targets.

-- +goose Up
CREATE TABLE events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text COLLATE "C" NOT NULL UNIQUE,
    created    timestamptz      NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    group_id   text COLLATE "C" NOT NULL,
    org_id     text COLLATE "C" NOT NULL,
    doc        jsonb            NOT NULL DEFAULT '{}'
);

CREATE INDEX events_group_created ON events (group_id, created DESC, seq DESC);
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC);
CREATE INDEX events_type ON events (event_type, created);
CREATE INDEX events_created ON events (created);

-- +goose Down
DROP TABLE events;
