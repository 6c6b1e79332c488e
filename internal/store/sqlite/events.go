package sqlite

import (
	"context"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

const eventColumns = `id, created, event_type, group_id, org_id, doc`

// InsertEvent implements store.Tx.
func (t *tx) InsertEvent(ctx context.Context, e atlasx509.Event) error {
	doc, err := store.EncodeEventDoc(e)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "insert event",
		`INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		e.ID, timeArg(e.Created), e.TypeName, e.GroupID, e.OrgID, string(doc))
	return err
}

func scanEvent(r scanner) (atlasx509.Event, error) {
	var e atlasx509.Event
	var created, doc string
	if err := r.Scan(&e.ID, &created, &e.TypeName, &e.GroupID, &e.OrgID, &doc); err != nil {
		return e, err
	}
	var err error
	if e.Created, err = parseTime(created); err != nil {
		return e, err
	}
	return e, store.DecodeEventDoc([]byte(doc), &e)
}

// GetEvent implements store.Tx.
func (t *tx) GetEvent(ctx context.Context, groupID, orgID, id string) (atlasx509.Event, error) {
	if groupID != "" {
		return get(ctx, t, "get event", scanEvent,
			`SELECT `+eventColumns+` FROM events WHERE id = ? AND group_id = ?`, id, groupID)
	}
	return get(ctx, t, "get event", scanEvent,
		`SELECT `+eventColumns+` FROM events WHERE id = ? AND org_id = ? AND org_id <> ''`, id, orgID)
}

// eventWhere renders f as a WHERE condition and its arguments.
func eventWhere(f store.EventFilter) (string, []any, error) {
	cond, args := `group_id = ?`, []any{f.GroupID}
	if f.GroupID == "" {
		cond, args = `org_id = ? AND org_id <> ''`, []any{f.OrgID}
	}
	if len(f.Types) > 0 {
		types, err := jsonStrings(f.Types)
		if err != nil {
			return "", nil, err
		}
		cond += ` AND event_type IN (SELECT value FROM json_each(?))`
		args = append(args, types)
	}
	if len(f.ExcludedTypes) > 0 {
		types, err := jsonStrings(f.ExcludedTypes)
		if err != nil {
			return "", nil, err
		}
		cond += ` AND event_type NOT IN (SELECT value FROM json_each(?))`
		args = append(args, types)
	}
	if !f.MinDate.IsZero() {
		cond += ` AND created >= ?`
		args = append(args, timeArg(f.MinDate))
	}
	if !f.MaxDate.IsZero() {
		cond += ` AND created < ?`
		args = append(args, timeArg(f.MaxDate))
	}
	return cond, args, nil
}

// ListEvents implements store.Tx, newest first.
func (t *tx) ListEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]atlasx509.Event, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	cond, args, err := eventWhere(f)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list events", scanEvent,
		`SELECT `+eventColumns+` FROM events WHERE `+cond+`
		ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
}

// CountEvents implements store.Tx.
func (t *tx) CountEvents(ctx context.Context, f store.EventFilter) (int, error) {
	cond, args, err := eventWhere(f)
	if err != nil {
		return 0, err
	}
	return t.count(ctx, "count events", `SELECT count(*) FROM events WHERE `+cond, args...)
}

// DeleteEventsBefore implements store.Tx.
func (t *tx) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	return t.execCount(ctx, "delete events", `DELETE FROM events WHERE created < ?`, timeArg(before))
}
