package postgres

import (
	"context"
	"strconv"
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
		`INSERT INTO events (`+eventColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, ts(e.Created), e.TypeName, e.GroupID, e.OrgID, string(doc))
	return err
}

func scanEvent(r scanner) (atlasx509.Event, error) {
	var e atlasx509.Event
	var doc []byte
	if err := r.Scan(&e.ID, &e.Created, &e.TypeName, &e.GroupID, &e.OrgID, &doc); err != nil {
		return e, err
	}
	e.Created = e.Created.UTC()
	return e, store.DecodeEventDoc(doc, &e)
}

// GetEvent implements store.Tx.
func (t *tx) GetEvent(ctx context.Context, groupID, orgID, id string) (atlasx509.Event, error) {
	if groupID != "" {
		return get(ctx, t, "get event", scanEvent,
			`SELECT `+eventColumns+` FROM events WHERE id = $1 AND group_id = $2`, id, groupID)
	}
	return get(ctx, t, "get event", scanEvent,
		`SELECT `+eventColumns+` FROM events WHERE id = $1 AND org_id = $2 AND org_id <> ''`, id, orgID)
}

// eventWhere renders f as a WHERE condition and its arguments.
func eventWhere(f store.EventFilter) (string, []any) {
	cond, args := `group_id = $1`, []any{f.GroupID}
	if f.GroupID == "" {
		cond, args = `org_id = $1 AND org_id <> ''`, []any{f.OrgID}
	}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.Types) > 0 {
		cond += ` AND event_type = ANY(` + arg(f.Types) + `)`
	}
	if len(f.ExcludedTypes) > 0 {
		cond += ` AND NOT (event_type = ANY(` + arg(f.ExcludedTypes) + `))`
	}
	if !f.MinDate.IsZero() {
		cond += ` AND created >= ` + arg(tsCeil(f.MinDate))
	}
	if !f.MaxDate.IsZero() {
		cond += ` AND created < ` + arg(tsCeil(f.MaxDate))
	}
	return cond, args
}

// ListEvents implements store.Tx, newest first.
func (t *tx) ListEvents(ctx context.Context, f store.EventFilter, page store.Page) ([]atlasx509.Event, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	cond, args := eventWhere(f)
	n := len(args)
	return list(ctx, t, "list events", scanEvent,
		`SELECT `+eventColumns+` FROM events WHERE `+cond+`
		ORDER BY created DESC, seq DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, limit, offset)...)
}

// CountEvents implements store.Tx.
func (t *tx) CountEvents(ctx context.Context, f store.EventFilter) (int, error) {
	cond, args := eventWhere(f)
	return t.count(ctx, "count events", `SELECT count(*) FROM events WHERE `+cond, args...)
}

// DeleteEventsBefore implements store.Tx.
func (t *tx) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	return t.exec(ctx, "delete events", `DELETE FROM events WHERE created < $1`, tsCeil(before))
}
