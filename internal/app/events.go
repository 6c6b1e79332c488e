package app

import (
	"context"
	"errors"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// DefaultEventRetention is how long events are kept unless configured:
// 90 days.
const DefaultEventRetention = 90 * 24 * time.Hour

// EventQuery selects the events of a list (Atlas listGroupEvents,
// listOrgEvents). Zero dates are unbounded; MinDate is inclusive, MaxDate
// exclusive.
type EventQuery struct {
	Types         []string
	ExcludedTypes []string
	MinDate       time.Time
	MaxDate       time.Time
	ListOptions
}

// newEvent returns an event of type typ caused by p, to be completed with
// its scope and targets and given to recordEvent.
func newEvent(p atlasx509.Principal, typ string) atlasx509.Event {
	ev := atlasx509.Event{TypeName: typ}
	switch p.Kind {
	case atlasx509.PrincipalAPIKey:
		ev.APIKeyID, ev.PublicKey = p.ID, p.PublicKey
	case atlasx509.PrincipalServiceAccount:
		ev.ServiceAccountID = p.ID
	}
	if p.RemoteAddress.IsValid() {
		ev.RemoteAddress = p.RemoteAddress.Unmap().String()
	}
	return ev
}

// groupEvent returns an event of type typ of the project groupID caused by p.
func groupEvent(p atlasx509.Principal, typ, groupID string) atlasx509.Event {
	ev := newEvent(p, typ)
	ev.GroupID = groupID
	return ev
}

// orgEvent returns an event of type typ of the organization orgID caused by p.
func orgEvent(p atlasx509.Principal, typ, orgID string) atlasx509.Event {
	ev := newEvent(p, typ)
	ev.OrgID = orgID
	return ev
}

// recordEvent writes ev in tx, the transaction of the change it records,
// giving it an id and the time of now when it has none. It is called
// inside a store.Update fn, which may run again: it has no other effect.
func (a *App) recordEvent(ctx context.Context, tx store.Tx, ev atlasx509.Event) error {
	if ev.Created.IsZero() {
		ev.Created = a.now().UTC()
	}
	if ev.ID == "" {
		ev.ID = atlasx509.NewSequentialID(ev.Created)
	}
	if err := tx.InsertEvent(ctx, ev); err != nil {
		return internal("record event "+ev.TypeName, err)
	}
	return nil
}

// ListGroupEvents lists a project's events, newest first (Atlas
// listGroupEvents, Project Read Only).
func (a *App) ListGroupEvents(ctx context.Context, p atlasx509.Principal, groupID string, q EventQuery) ([]atlasx509.Event, int, error) {
	return a.listEvents(ctx, q, store.EventFilter{GroupID: groupID}, func(tx store.Tx) error {
		_, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		return err
	})
}

// ListOrgEvents lists an organization's events, newest first (Atlas
// listOrgEvents, Organization Member).
func (a *App) ListOrgEvents(ctx context.Context, p atlasx509.Principal, orgID string, q EventQuery) ([]atlasx509.Event, int, error) {
	q.ExcludedTypes = nil // a project parameter only
	return a.listEvents(ctx, q, store.EventFilter{OrgID: orgID}, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgRead)
		return err
	})
}

func (a *App) listEvents(ctx context.Context, q EventQuery, f store.EventFilter, check func(store.Tx) error) ([]atlasx509.Event, int, error) {
	if err := checkEventTypes("eventType", q.Types); err != nil {
		return nil, 0, err
	}
	if err := checkEventTypes("excludedEventType", q.ExcludedTypes); err != nil {
		return nil, 0, err
	}
	f.Types, f.ExcludedTypes, f.MinDate, f.MaxDate = q.Types, q.ExcludedTypes, q.MinDate, q.MaxDate
	var evs []atlasx509.Event
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		var err error
		if evs, err = tx.ListEvents(ctx, f, q.page()); err != nil {
			return err
		}
		total, err = tx.CountEvents(ctx, f)
		return err
	})
	return evs, total, eventStoreError("list events", err)
}

// checkEventTypes refuses a type name that is not in the catalog.
func checkEventTypes(param string, types []string) error {
	for _, t := range types {
		if _, ok := eventTypeByName[t]; !ok {
			return ErrInvalidQueryParameter(param, errors.New("unknown event type "+t))
		}
	}
	return nil
}

// GetGroupEvent returns one event of a project (Atlas getGroupEvent).
func (a *App) GetGroupEvent(ctx context.Context, p atlasx509.Principal, groupID, eventID, path string) (atlasx509.Event, error) {
	return a.getEvent(ctx, groupID, "", eventID, path, func(tx store.Tx) error {
		_, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		return err
	})
}

// GetOrgEvent returns one event of an organization (Atlas getOrgEvent).
func (a *App) GetOrgEvent(ctx context.Context, p atlasx509.Principal, orgID, eventID, path string) (atlasx509.Event, error) {
	return a.getEvent(ctx, "", orgID, eventID, path, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgRead)
		return err
	})
}

// getEvent reads one event; a malformed or unknown id is a 404 for path.
func (a *App) getEvent(ctx context.Context, groupID, orgID, eventID, path string, check func(store.Tx) error) (atlasx509.Event, error) {
	var ev atlasx509.Event
	err := a.store.View(ctx, func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		if !atlasx509.ValidID(eventID) {
			return ErrResourceNotFound(path)
		}
		var err error
		ev, err = tx.GetEvent(ctx, groupID, orgID, eventID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrResourceNotFound(path)
		}
		return err
	})
	return ev, eventStoreError("get event", err)
}

// eventStoreError passes an *atlasx509.Error through and wraps anything
// else as internal.
func eventStoreError(op string, err error) error {
	var ae *atlasx509.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return internal(op, err)
}

// PurgeEvents deletes the events older than retention and returns how many.
func (a *App) PurgeEvents(ctx context.Context, retention time.Duration) (int, error) {
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	cutoff := a.now().Add(-retention)
	var n int
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteEventsBefore(ctx, cutoff)
		return err
	})
	return n, err
}

// alertConfigEvent is an ALERT_CONFIG_*_AUDIT event about the alert
// configuration c, with its alertConfigId as Atlas records it.
func alertConfigEvent(p atlasx509.Principal, typ string, c atlasx509.AlertConfig) atlasx509.Event {
	ev := groupEvent(p, typ, c.GroupID)
	ev.AlertConfigID = c.ID
	return ev
}
