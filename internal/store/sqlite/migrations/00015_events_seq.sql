-- One page fewer written by every commit that records an event (issue 15:
-- each issuance records one, and a commit of one issuance wrote 10 to 15 WAL
-- pages). Same conventions as 00001_initial.sql.
--
-- seq without AUTOINCREMENT: AUTOINCREMENT kept the largest seq in
-- sqlite_sequence, one more row (and page) written per event. Without it a
-- new event takes the largest seq plus one, as before unless the newest
-- event has been deleted, which only the retention purge does, and only
-- when it deletes every event; then seq starts over, after every event it
-- ordered is gone.

-- +goose Up
CREATE TABLE events_new (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    doc        TEXT NOT NULL DEFAULT '{}'
) STRICT;
INSERT INTO events_new (seq, id, created, event_type, group_id, org_id, doc)
    SELECT seq, id, created, event_type, group_id, org_id, doc FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_group_created ON events (group_id, created DESC, seq DESC);
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC) WHERE org_id <> '';
CREATE INDEX events_created ON events (created);

-- +goose Down
-- The table as 00009 created it (its text too: a renamed table's would
-- differ), with the indexes of 00009 and 00013.
ALTER TABLE events RENAME TO events_seq;
DROP INDEX events_group_created;
DROP INDEX events_org_created;
DROP INDEX events_created;
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    doc        TEXT NOT NULL DEFAULT '{}'
) STRICT;
INSERT INTO events (seq, id, created, event_type, group_id, org_id, doc)
    SELECT seq, id, created, event_type, group_id, org_id, doc FROM events_seq;
DROP TABLE events_seq;
CREATE INDEX events_group_created ON events (group_id, created DESC, seq DESC);
CREATE INDEX events_created ON events (created);
CREATE INDEX events_org_created ON events (org_id, created DESC, seq DESC) WHERE org_id <> '';
