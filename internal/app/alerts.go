package app

import (
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// alertStatuses are the values of the status query parameter of listAlerts.
var alertStatuses = []string{atlasx509.AlertOpen, "TRACKING", atlasx509.AlertClosed, atlasx509.AlertCancelled}

// ListAlerts lists a project's alerts, newest first, those of status when
// it is not "" (Atlas listAlerts).
func (a *App) ListAlerts(ctx context.Context, p atlasx509.Principal, groupID, status string, opts ListOptions) ([]atlasx509.Alert, int, error) {
	if status != "" && !slices.Contains(alertStatuses, status) {
		return nil, 0, ErrInvalidQueryParameter("status", nil)
	}
	return a.listAlerts(ctx, p, groupID, store.AlertFilter{GroupID: groupID, Status: status}, "", opts)
}

// ListAlertConfigAlerts lists the open alerts of one configuration (Atlas
// getAlertConfigAlerts).
func (a *App) ListAlertConfigAlerts(ctx context.Context, p atlasx509.Principal, groupID, configID string, opts ListOptions) ([]atlasx509.Alert, int, error) {
	f := store.AlertFilter{GroupID: groupID, AlertConfigID: configID, Status: atlasx509.AlertOpen}
	return a.listAlerts(ctx, p, groupID, f, configID, opts)
}

func (a *App) listAlerts(ctx context.Context, p atlasx509.Principal, groupID string, f store.AlertFilter, configID string, opts ListOptions) ([]atlasx509.Alert, int, error) {
	var alerts []atlasx509.Alert
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if configID != "" {
			if _, err := loadAlertConfig(ctx, tx, p, groupID, configID, authz.ProjectRead); err != nil {
				return err
			}
		} else if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		var err error
		if alerts, err = tx.ListAlerts(ctx, f, opts.page()); err != nil {
			return internal("list alerts", err)
		}
		if total, err = tx.CountAlerts(ctx, f); err != nil {
			return internal("count alerts", err)
		}
		return nil
	})
	return alerts, total, err
}

// GetAlert returns one alert (Atlas getAlert).
func (a *App) GetAlert(ctx context.Context, p atlasx509.Principal, groupID, id string) (atlasx509.Alert, error) {
	var al atlasx509.Alert
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		al, err = loadAlert(ctx, tx, p, groupID, id, authz.ProjectRead)
		return err
	})
	return al, err
}

func loadAlert(ctx context.Context, tx store.Tx, p atlasx509.Principal, groupID, id string, perm authz.Permission) (atlasx509.Alert, error) {
	if _, err := loadProject(ctx, tx, p, groupID, perm); err != nil {
		return atlasx509.Alert{}, err
	}
	if !atlasx509.ValidID(id) {
		return atlasx509.Alert{}, errInvalidAlertID(id)
	}
	al, err := tx.GetAlert(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) {
		return al, errAlertNotFound(id)
	}
	if err != nil {
		return al, internal("get alert", err)
	}
	return al, nil
}

// AckInput acknowledges an alert until a time, or unacknowledges it.
type AckInput struct {
	Until   *time.Time
	Comment *string
	Unack   bool
}

// AcknowledgeAlert acknowledges or unacknowledges an alert (Atlas
// acknowledgeAlert): notifications stop until Until. Acknowledging a closed
// alert succeeds, as in Atlas.
func (a *App) AcknowledgeAlert(ctx context.Context, p atlasx509.Principal, groupID, id string, in AckInput) (atlasx509.Alert, error) {
	if in.Comment != nil && utf8.RuneCountInString(*in.Comment) > maxAckComment {
		return atlasx509.Alert{}, errAckCommentTooLong()
	}
	if !in.Unack && in.Until == nil {
		return atlasx509.Alert{}, errMissing("acknowledgedUntil")
	}
	now := a.now().UTC()
	var al atlasx509.Alert
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if al, err = loadAlert(ctx, tx, p, groupID, id, authz.AlertWrite); err != nil {
			return err
		}
		al.Updated = now
		if in.Unack {
			al.AcknowledgedUntil, al.AcknowledgementComment, al.AcknowledgingUsername = nil, "", ""
		} else {
			until := in.Until.UTC()
			al.AcknowledgedUntil = &until
			if in.Comment != nil {
				al.AcknowledgementComment = *in.Comment
			}
			if al.AcknowledgingUsername, err = callerName(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := tx.UpdateAlert(ctx, al); err != nil {
			return internal("acknowledge alert", err)
		}
		typ := EventAlertAcknowledged
		if in.Unack {
			typ = EventAlertUnacknowledged
		}
		ev := groupEvent(p, typ, groupID)
		ev.AlertID, ev.AlertConfigID = al.ID, al.AlertConfigID
		return a.recordEvent(ctx, tx, ev)
	})
	return al, err
}

// callerName is how Atlas names the caller in acknowledgingUsername: an
// API key's public key, here also a service account's client id.
func callerName(ctx context.Context, tx store.Tx, p atlasx509.Principal) (string, error) {
	if p.Kind != atlasx509.PrincipalAPIKey {
		return p.ID, nil
	}
	k, err := tx.GetAPIKey(ctx, p.ID)
	if err != nil {
		return "", internal("get API key", err)
	}
	return k.PublicKey, nil
}
