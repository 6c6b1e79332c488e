package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Delivery bounds.
const (
	alertLeaseName      = "alerts"
	maxDeliveryAttempts = 8
	firstRetryDelay     = time.Minute
	maxRetryDelay       = time.Hour
	deliveryBatch       = 100
	webhookTimeout      = 10 * time.Second
)

// errUndeliverable marks a notification that no retry can deliver.
var errUndeliverable = errors.New("undeliverable")

// AlertRunner evaluates alert configurations and delivers their
// notifications in the background. Of several replicas on one store, only
// the one holding the store's "alerts" lease works in a round, so that an
// alert is evaluated, and a notification sent, by one replica at a time.
type AlertRunner struct {
	App *App
	// Holder names this replica in the lease; it must differ between replicas.
	Holder   string
	Interval time.Duration
	// HTTP delivers webhooks; nil means notify.NewClient with the App's
	// AllowPrivateWebhooks.
	HTTP *http.Client
	// SMTP sends EMAIL notifications; nil records them as undelivered.
	SMTP   *notify.SMTP
	Logger *slog.Logger

	clientOnce sync.Once
	client     *http.Client
}

// Run works a round every Interval until ctx ends.
func (r *AlertRunner) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log().Warn("alerts", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *AlertRunner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return r.App.log
}

// Tick works one round when it can take the lease: evaluates the alerts,
// then sends the notifications due. It reports whether it held the lease.
func (r *AlertRunner) Tick(ctx context.Context) (bool, error) {
	now := r.App.now().UTC()
	ttl := max(3*r.Interval, 30*time.Second)
	var held bool
	err := r.App.store.Update(ctx, func(tx store.Tx) error {
		var err error
		held, err = tx.AcquireLease(ctx, alertLeaseName, r.Holder, now, now.Add(ttl))
		return err
	})
	if err != nil || !held {
		return false, err
	}
	return true, errors.Join(r.App.EvaluateAlerts(ctx), r.Deliver(ctx))
}

// Deliver sends the outbox messages due now, each once: a failure is
// retried with a doubling delay (1 min to 1 h), up to 8 attempts.
func (r *AlertRunner) Deliver(ctx context.Context) error {
	now := r.App.now().UTC()
	var due []atlasx509.OutboxMessage
	err := r.App.store.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.ListDueOutboxMessages(ctx, now, deliveryBatch)
		return err
	})
	if err != nil {
		return fmt.Errorf("list due notifications: %w", err)
	}
	var errs []error
	for _, m := range due {
		sendErr := r.send(ctx, m)
		m.Attempts++
		m.Updated = r.App.now().UTC()
		switch {
		case sendErr == nil:
			m.Status, m.LastError = atlasx509.OutboxDelivered, ""
		case errors.Is(sendErr, errUndeliverable) || m.Attempts >= maxDeliveryAttempts:
			m.Status, m.LastError = atlasx509.OutboxUndelivered, sendErr.Error()
		default:
			delay := min(firstRetryDelay<<(m.Attempts-1), maxRetryDelay)
			m.NextAttempt, m.LastError = now.Add(delay), sendErr.Error()
		}
		if sendErr != nil {
			r.log().Info("alert notification not delivered", "id", m.ID, "kind", m.Kind, "attempts", m.Attempts, "error", sendErr)
		}
		if err := r.App.store.Update(ctx, func(tx store.Tx) error { return r.App.recordDelivery(ctx, tx, m) }); err != nil {
			errs = append(errs, fmt.Errorf("record delivery %s: %w", m.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (r *AlertRunner) send(ctx context.Context, m atlasx509.OutboxMessage) error {
	switch m.Kind {
	case atlasx509.NotifyWebhook:
		return r.sendWebhook(ctx, m)
	case atlasx509.NotifyEmail, atlasx509.NotifyGroup, atlasx509.NotifyOrg:
		// GROUP and ORG messages were given the addresses of their roles
		// (--alert-role-emails) when queued, one message per address; a
		// message queued with several (comma-separated) by an older version
		// is sent to all of them at once.
		if r.SMTP == nil {
			return fmt.Errorf("%w: no SMTP server is configured (--smtp-url)", errUndeliverable)
		}
		if m.Destination == "" {
			return fmt.Errorf("%w: no address", errUndeliverable)
		}
		var v atlasapi.Alert
		if err := json.Unmarshal(m.Body, &v); err != nil {
			return fmt.Errorf("%w: %v", errUndeliverable, err)
		}
		subject := fmt.Sprintf("Alert %s: %s", v.Status, v.EventTypeName)
		err := r.SMTP.Send(strings.Split(m.Destination, ","), subject, v.HumanReadable+"\n\n"+string(m.Body))
		if notify.RecipientRefused(err) {
			return fmt.Errorf("%w: %v", errUndeliverable, err) // an unknown mailbox stays unknown
		}
		return err
	default:
		return fmt.Errorf("%w: atlasx509 does not send %s notifications", errUndeliverable, m.Kind)
	}
}

// recordDelivery saves the outcome of a delivery attempt of m; one given
// up is also recorded as an ALERT_NOTIFICATION_UNDELIVERED event of the
// project, in the same transaction.
func (a *App) recordDelivery(ctx context.Context, tx store.Tx, m atlasx509.OutboxMessage) error {
	if err := tx.UpdateOutboxMessage(ctx, m); err != nil || m.Status != atlasx509.OutboxUndelivered {
		return err
	}
	al, err := tx.GetAlert(ctx, m.GroupID, m.AlertID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // its project is gone
	}
	if err != nil {
		return err
	}
	return a.recordEvent(ctx, tx, undeliveredEvent(m, al.AlertConfigID, m.Updated))
}

func (r *AlertRunner) sendWebhook(ctx context.Context, m atlasx509.OutboxMessage) error {
	r.clientOnce.Do(func() {
		r.client = r.HTTP
		if r.client == nil {
			r.client = notify.NewClient(r.App.allowPrivateWebhooks, webhookTimeout)
		}
	})
	client := r.client
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Destination, bytes.NewReader(m.Body))
	if err != nil {
		return fmt.Errorf("%w: %v", errUndeliverable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-MMS-Event", m.Event)
	if len(m.SealedSecret) > 0 {
		secret, err := r.App.keyring.Open(m.SealedSecret, webhookSecretAAD(m.GroupID))
		if err != nil {
			return fmt.Errorf("%w: open webhook secret: %v", errUndeliverable, err)
		}
		req.Header.Set("X-MMS-Signature", notify.Sign(m.Body, secret))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
