package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Webhook events (X-MMS-Event) of alert notifications, as Atlas names them.
const (
	eventAlertOpen   = "alert.open"
	eventAlertUpdate = "alert.update"
	eventAlertClose  = "alert.close"
)

// alertTarget is one thing inside an alert configuration's threshold now.
type alertTarget struct {
	key      string // Alert.Target
	subject  string
	notAfter time.Time
}

// EvaluateAlerts runs one evaluation of every enabled alert configuration
// at now: it opens an alert for each target newly inside its threshold,
// closes those whose target left it (renewed, revoked or expired), and
// queues the notifications that are due in the outbox. Each configuration
// is evaluated in its own transaction, so an alert and its notifications
// commit together; the unique (configuration, target) of alerts keeps a
// second evaluator (or a restart) from opening the same alert twice.
func (a *App) EvaluateAlerts(ctx context.Context) error {
	var configs []atlasx509.AlertConfig
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		configs, err = tx.ListAlertConfigs(ctx, "", store.Page{})
		return err
	})
	if err != nil {
		return fmt.Errorf("list alert configs: %w", err)
	}
	var errs []error
	for _, c := range configs {
		if !c.Enabled {
			continue
		}
		now := a.now().UTC()
		err := a.store.Update(ctx, func(tx store.Tx) error { return a.evaluateConfig(ctx, tx, c.GroupID, c.ID, now) })
		if err != nil {
			errs = append(errs, fmt.Errorf("alert config %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// evaluateConfig evaluates one configuration, read again in tx.
func (a *App) evaluateConfig(ctx context.Context, tx store.Tx, groupID, configID string, now time.Time) error {
	c, err := tx.GetAlertConfig(ctx, groupID, configID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil || !c.Enabled {
		return err
	}
	project, err := tx.GetProject(ctx, groupID)
	if err != nil {
		return err
	}
	targets, err := alertTargets(ctx, tx, c, project, now)
	if err != nil {
		return err
	}
	open, err := tx.ListAlerts(ctx, store.AlertFilter{AlertConfigID: c.ID, Status: atlasx509.AlertOpen}, store.Page{})
	if err != nil {
		return err
	}
	org, err := tx.GetOrganization(ctx, project.OrgID)
	if err != nil {
		return err
	}
	place := alertPlace{project: project, org: org}
	isOpen := make(map[string]bool, len(open))
	for _, al := range open {
		isOpen[al.Target] = true
		if _, still := targets[al.Target]; still {
			if err := a.notifyDue(ctx, tx, c, &al, place, now, false); err != nil {
				return err
			}
			continue
		}
		al.Status, al.Updated, al.Resolved = atlasx509.AlertClosed, now, &now
		if err := a.notifyDue(ctx, tx, c, &al, place, now, true); err != nil {
			return err
		}
		if err := a.recordEvent(ctx, tx, alertEvent(resolvedEvents[c.EventTypeName], al, now)); err != nil {
			return err
		}
	}
	for key, tg := range targets {
		if isOpen[key] {
			continue
		}
		known, err := tx.CountAlerts(ctx, store.AlertFilter{AlertConfigID: c.ID, Target: key})
		if err != nil {
			return err
		}
		if known > 0 {
			continue // open, or closed for good: a target alerts once
		}
		al := atlasx509.Alert{ID: atlasx509.NewID(now), GroupID: groupID, AlertConfigID: c.ID, EventTypeName: c.EventTypeName,
			Target: key, Subject: tg.subject, NotAfter: tg.notAfter, Status: atlasx509.AlertOpen, Created: now, Updated: now}
		if err := tx.InsertAlert(ctx, al); err != nil {
			return err
		}
		if err := a.recordEvent(ctx, tx, alertEvent(c.EventTypeName, al, now)); err != nil {
			return err
		}
		if err := a.notifyDue(ctx, tx, c, &al, place, now, false); err != nil {
			return err
		}
	}
	return nil
}

// resolvedEvents names the event recorded when an alert of each type closes.
var resolvedEvents = map[string]string{
	EventManagedCertsExpiring: EventManagedCertsResolved,
	EventCustomerCAExpiring:   EventCustomerCAResolved,
	EventCustomerCRLExpiring:  EventCustomerCRLResolved,
}

// alertEvent is the event of the server itself (no caller) recording that
// al opened (typ the configuration's event type) or closed.
func alertEvent(typ string, al atlasx509.Alert, now time.Time) atlasx509.Event {
	return atlasx509.Event{TypeName: typ, GroupID: al.GroupID, AlertID: al.ID, AlertConfigID: al.AlertConfigID, Created: now}
}

// alertTargets lists what is inside c's threshold at now, by target key.
func alertTargets(ctx context.Context, tx store.Tx, c atlasx509.AlertConfig, p atlasx509.Project, now time.Time) (map[string]alertTarget, error) {
	limit := now.Add(time.Duration(c.Threshold) * 24 * time.Hour)
	out := map[string]alertTarget{}
	switch c.EventTypeName {
	case atlasx509.EventManagedCertsExpiration:
		// One query for the project: the managed users whose latest
		// certificate expires within the threshold.
		expiring, err := tx.ListExpiringCertificates(ctx, p.ID, now, limit)
		if err != nil {
			return nil, err
		}
		for _, c := range expiring {
			key := "cert:" + strconv.FormatInt(c.Serial, 10)
			out[key] = alertTarget{key: key, subject: c.Username, notAfter: c.NotAfter}
		}
	case atlasx509.EventCustomerCAExpiration:
		for _, cert := range parseCertificates(p.CustomerX509CAs) {
			if !cert.NotAfter.After(now) || !cert.NotAfter.Before(limit) {
				continue
			}
			sum := sha256.Sum256(cert.Raw)
			key := "ca:" + hex.EncodeToString(sum[:])
			out[key] = alertTarget{key: key, subject: cert.Subject.String(), notAfter: cert.NotAfter}
		}
	case atlasx509.EventCustomerCRLExpiration:
		// The CRLs given with customerX509.crls: one whose nextUpdate is
		// inside the threshold, or past (mongod then refuses every
		// certificate of its CA), until a newer one replaces it.
		for _, crl := range parseCRLs(p.CustomerX509CRLs) {
			if crl.NextUpdate.IsZero() || !crl.NextUpdate.Before(limit) {
				continue
			}
			sum := sha256.Sum256(crl.Raw)
			key := "crl:" + hex.EncodeToString(sum[:])
			out[key] = alertTarget{key: key, subject: crl.Issuer.String(), notAfter: crl.NextUpdate}
		}
	}
	return out, nil
}

// notifyDue queues the notifications of al that are due at now and saves
// al. A closing alert notifies every recipient once; an open one notifies
// a recipient after its delay, then every IntervalMin, unless acknowledged.
func (a *App) notifyDue(ctx context.Context, tx store.Tx, c atlasx509.AlertConfig, al *atlasx509.Alert, place alertPlace, now time.Time, closing bool) error {
	acked := al.AcknowledgedUntil != nil && al.AcknowledgedUntil.After(now)
	if al.Notified == nil {
		al.Notified = map[string]time.Time{}
	}
	for _, n := range c.Notifications {
		last, notified := al.Notified[n.NotifierID]
		event := eventAlertUpdate
		switch {
		case closing && !notified:
			continue // never told it opened
		case closing:
			event = eventAlertClose
		case acked:
			continue
		case !notified && now.Before(al.Created.Add(time.Duration(n.DelayMin)*time.Minute)):
			continue
		case !notified:
			event = eventAlertOpen
		case now.Before(last.Add(time.Duration(n.IntervalMin) * time.Minute)):
			continue
		}
		al.Notified[n.NotifierID] = now
		al.LastNotified = &now
		if err := a.queueNotification(ctx, tx, n, *al, place, event, now); err != nil {
			return err
		}
	}
	al.Updated = now
	return tx.UpdateAlert(ctx, *al)
}

// alertPlace is the project of an alert and its organization.
type alertPlace struct {
	project atlasx509.Project
	org     atlasx509.Organization
}

// queueNotification puts one notification in the outbox. A GROUP or ORG
// notification goes to the addresses --alert-role-emails gives its roles,
// one message per address, so that each recipient is delivered (and
// retried) on its own: one refusing the mail neither holds back the others
// nor makes them get it twice. With no address, or with emailEnabled
// false, it is recorded as undelivered at once, with the reason, and an
// ALERT_NOTIFICATION_UNDELIVERED event.
func (a *App) queueNotification(ctx context.Context, tx store.Tx, n atlasx509.Notification, al atlasx509.Alert, place alertPlace, event string, now time.Time) error {
	body, err := json.Marshal(webhookBody(al, place))
	if err != nil {
		return err
	}
	m := atlasx509.OutboxMessage{
		ID: atlasx509.NewID(now), GroupID: al.GroupID, AlertID: al.ID, Kind: n.TypeName, Destination: n.WebhookURL,
		SealedSecret: n.SealedWebhookSecret, Event: event, Body: body, Status: atlasx509.OutboxPending,
		NextAttempt: now, Created: now, Updated: now,
	}
	switch n.TypeName {
	case atlasx509.NotifyEmail:
		m.Destination = n.EmailAddress
	case atlasx509.NotifyGroup, atlasx509.NotifyOrg:
		m.Destination = ""
		addrs, reason := a.roleRecipients(n, place)
		if reason != "" {
			m.Status, m.LastError = atlasx509.OutboxUndelivered, reason
			if err := tx.InsertOutboxMessage(ctx, m); err != nil {
				return err
			}
			return a.recordEvent(ctx, tx, undeliveredEvent(m, al.AlertConfigID, now))
		}
		for i, addr := range addrs {
			m.Destination = addr
			if i > 0 {
				m.ID = atlasx509.NewID(now)
			}
			if err := tx.InsertOutboxMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	return tx.InsertOutboxMessage(ctx, m)
}

// roleRecipients returns the addresses of the roles of a GROUP or ORG
// notification, or why it has none.
func (a *App) roleRecipients(n atlasx509.Notification, place alertPlace) (addrs []string, reason string) {
	roles := "any role"
	if len(n.Roles) > 0 {
		roles = strings.Join(n.Roles, ", ")
	}
	if !n.EmailEnabled {
		return nil, "emailEnabled is false, and atlasx509 sends no SMS: nothing to send"
	}
	scope, project := place.org.ID, n.TypeName == atlasx509.NotifyGroup
	if project {
		scope = place.project.ID
	}
	addrs = a.roleEmails.Addresses(scope, project, n.Roles)
	if len(addrs) == 0 {
		return nil, "no address for " + roles + " in --alert-role-emails (atlasx509 has no console users whose addresses it could use)"
	}
	return addrs, ""
}

// undeliveredEvent records that the notification m was given up, in the
// project's events (Atlas shows failed notifications in the activity
// feed), with the reason and the notification type in raw.
func undeliveredEvent(m atlasx509.OutboxMessage, alertConfigID string, now time.Time) atlasx509.Event {
	reason := m.LastError
	if m.Kind == atlasx509.NotifyWebhook && m.Destination != "" {
		reason = strings.ReplaceAll(reason, m.Destination, MaskURL(m.Destination)) // the path may hold a token
	}
	return atlasx509.Event{TypeName: EventAlertNotificationUndelivered, GroupID: m.GroupID, AlertID: m.AlertID,
		AlertConfigID: alertConfigID, Created: now,
		Details: map[string]string{"notificationTypeName": m.Kind, "reason": reason, "attempts": strconv.Itoa(m.Attempts)}}
}

// webhookBody is what a webhook receives: the alert as the Alerts resource
// shows it, plus humanReadable.
func webhookBody(al atlasx509.Alert, place alertPlace) atlasapi.Alert {
	v := AlertView(al)
	what := "The X.509 certificate of database user " + al.Subject
	switch al.EventTypeName {
	case atlasx509.EventCustomerCAExpiration:
		what = "The self-managed X.509 CA " + al.Subject
	case atlasx509.EventCustomerCRLExpiration:
		what = "The self-managed X.509 CRL of " + al.Subject
	}
	v.HumanReadable = fmt.Sprintf("%s expires at %s.\nProject: %s Organization: %s",
		what, al.NotAfter.UTC().Format(time.RFC3339), place.project.Name, place.org.Name)
	if al.Status == atlasx509.AlertClosed {
		why := "renewed, revoked or expired"
		if al.EventTypeName == atlasx509.EventCustomerCRLExpiration {
			why = "replaced or removed"
		}
		v.HumanReadable = fmt.Sprintf("%s no longer expires soon (%s).\nProject: %s Organization: %s",
			what, why, place.project.Name, place.org.Name)
	}
	return v
}

// AlertView is an alert in Atlas's shape, without links.
func AlertView(al atlasx509.Alert) atlasapi.Alert {
	const layout = "2006-01-02T15:04:05Z"
	format := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(layout)
	}
	return atlasapi.Alert{
		AcknowledgedUntil: format(al.AcknowledgedUntil), AcknowledgementComment: al.AcknowledgementComment,
		AcknowledgingUsername: al.AcknowledgingUsername, AlertConfigID: al.AlertConfigID,
		Created: al.Created.UTC().Format(layout), EventTypeName: al.EventTypeName, GroupID: al.GroupID, ID: al.ID,
		LastNotified: format(al.LastNotified), Resolved: format(al.Resolved), Status: al.Status,
		Updated: al.Updated.UTC().Format(layout),
	}
}
