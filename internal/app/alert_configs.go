package app

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Bounds and defaults of alert configurations, as Atlas has them.
const (
	defaultAlertThresholdDays = 30
	defaultAlertIntervalMin   = 1440 // the defaults repeat every 24 h
	minAlertIntervalMin       = 5
	maxNotifications          = 25
	maxAlertThresholdDays     = 3650
	maxAckComment             = 200
)

// SecretMask is what a stored webhook secret reads back as; sent back
// unchanged with the notification's notifierId, it keeps the stored secret.
const SecretMask = "******"

// AlertConfigInput is an alert configuration as a client sends it (POST and
// PUT); a nil field was absent.
type AlertConfigInput struct {
	EventTypeName    *string
	Enabled          *bool
	Threshold        *ThresholdInput
	SeverityOverride *string
	// HasMatchers and HasMetricThreshold say that the client sent
	// non-empty matchers or a metricThreshold, which X.509 alerts have not.
	HasMatchers        bool
	HasMetricThreshold bool
	Notifications      []NotificationInput
}

// ThresholdInput is an alert configuration's threshold.
type ThresholdInput struct {
	Operator  *string
	Threshold *int
	Units     *string
}

// NotificationInput is one notification of an alert configuration.
type NotificationInput struct {
	TypeName      *string
	NotifierID    *string
	IntervalMin   *int
	DelayMin      *int
	WebhookURL    *string
	WebhookSecret *string
	EmailAddress  *string
	EmailEnabled  *bool
	SMSEnabled    *bool
	Roles         []string
}

// alertableEvents are the event types atlasx509 alerts on.
var alertableEvents = []string{
	atlasx509.EventManagedCertsExpiration, atlasx509.EventCustomerCAExpiration, atlasx509.EventCustomerCRLExpiration,
}

// otherNotificationTypes are Atlas's notification types that atlasx509
// does not send.
var otherNotificationTypes = []string{
	"DATADOG", "HIP_CHAT", "MICROSOFT_TEAMS", "OPS_GENIE", "PAGER_DUTY", "SLACK", "SMS", "TEAM", "USER", "VICTOR_OPS",
}

var severities = []string{"INFO", "WARNING", "ERROR", "CRITICAL"}

// ListAlertConfigs lists a project's alert configurations (Atlas listAlertConfigs).
func (a *App) ListAlertConfigs(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]atlasx509.AlertConfig, int, error) {
	var configs []atlasx509.AlertConfig
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		var err error
		if configs, err = tx.ListAlertConfigs(ctx, groupID, opts.page()); err != nil {
			return internal("list alert configs", err)
		}
		if total, err = tx.CountAlertConfigs(ctx, groupID); err != nil {
			return internal("count alert configs", err)
		}
		return nil
	})
	return configs, total, err
}

// GetAlertConfig returns one alert configuration (Atlas getAlertConfig).
func (a *App) GetAlertConfig(ctx context.Context, p atlasx509.Principal, groupID, id string) (atlasx509.AlertConfig, error) {
	var c atlasx509.AlertConfig
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = loadAlertConfig(ctx, tx, p, groupID, id, authz.ProjectRead)
		return err
	})
	return c, err
}

// GetAlertConfigs lists the configurations that fired an alert (Atlas
// getAlertConfigs): the one that opened it, none once that configuration
// was deleted.
func (a *App) GetAlertConfigs(ctx context.Context, p atlasx509.Principal, groupID, alertID string, opts ListOptions) ([]atlasx509.AlertConfig, int, error) {
	var configs []atlasx509.AlertConfig
	err := a.store.View(ctx, func(tx store.Tx) error {
		al, err := loadAlert(ctx, tx, p, groupID, alertID, authz.ProjectRead)
		if err != nil {
			return err
		}
		c, err := tx.GetAlertConfig(ctx, groupID, al.AlertConfigID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return internal("get alert config", err)
		}
		configs = []atlasx509.AlertConfig{c}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	total := len(configs)
	if pg := opts.page(); pg.Offset >= total {
		configs = nil
	}
	return configs, total, nil
}

func loadAlertConfig(ctx context.Context, tx store.Tx, p atlasx509.Principal, groupID, id string, perm authz.Permission) (atlasx509.AlertConfig, error) {
	if _, err := loadProject(ctx, tx, p, groupID, perm); err != nil {
		return atlasx509.AlertConfig{}, err
	}
	if !atlasx509.ValidID(id) {
		return atlasx509.AlertConfig{}, errInvalidAlertConfigID(id)
	}
	c, err := tx.GetAlertConfig(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errAlertConfigNotFound(id)
	}
	if err != nil {
		return c, internal("get alert config", err)
	}
	return c, nil
}

// CreateAlertConfig creates an alert configuration (Atlas createAlertConfig).
func (a *App) CreateAlertConfig(ctx context.Context, p atlasx509.Principal, groupID string, in AlertConfigInput) (atlasx509.AlertConfig, error) {
	now := a.now().UTC()
	c, err := a.buildAlertConfig(ctx, groupID, in, nil, now)
	if err != nil {
		return c, err
	}
	c.ID, c.Created = atlasx509.NewID(now), now
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.AlertWrite); err != nil {
			return err
		}
		if err := tx.InsertAlertConfig(ctx, c); err != nil {
			return internal("insert alert config", err)
		}
		return a.recordEvent(ctx, tx, alertConfigEvent(p, EventAlertConfigAdded, c))
	})
	return c, err
}

// UpdateAlertConfig replaces an alert configuration (Atlas updateAlertConfig).
func (a *App) UpdateAlertConfig(ctx context.Context, p atlasx509.Principal, groupID, id string, in AlertConfigInput) (atlasx509.AlertConfig, error) {
	var old atlasx509.AlertConfig
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		old, err = loadAlertConfig(ctx, tx, p, groupID, id, authz.AlertWrite)
		return err
	})
	if err != nil {
		return old, err
	}
	now := a.now().UTC()
	c, err := a.buildAlertConfig(ctx, groupID, in, old.Notifications, now)
	if err != nil {
		return c, err
	}
	c.ID, c.Created = id, old.Created
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadAlertConfig(ctx, tx, p, groupID, id, authz.AlertWrite); err != nil {
			return err
		}
		if err := tx.UpdateAlertConfig(ctx, c); err != nil {
			return internal("update alert config", err)
		}
		if err := a.recordEvent(ctx, tx, alertConfigEvent(p, EventAlertConfigChanged, c)); err != nil {
			return err
		}
		if !c.Enabled {
			return cancelAlerts(ctx, tx, id, now)
		}
		return nil
	})
	return c, err
}

// ToggleAlertConfig enables or disables an alert configuration (Atlas
// toggleAlertConfig, PATCH with {"enabled": …}).
func (a *App) ToggleAlertConfig(ctx context.Context, p atlasx509.Principal, groupID, id string, enabled *bool) (atlasx509.AlertConfig, error) {
	if enabled == nil {
		return atlasx509.AlertConfig{}, errMissing("enabled")
	}
	now := a.now().UTC()
	var c atlasx509.AlertConfig
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if c, err = loadAlertConfig(ctx, tx, p, groupID, id, authz.AlertWrite); err != nil {
			return err
		}
		c.Enabled, c.Updated = *enabled, now
		if err := tx.UpdateAlertConfig(ctx, c); err != nil {
			return internal("toggle alert config", err)
		}
		typ := EventAlertConfigDisabled
		if c.Enabled {
			typ = EventAlertConfigEnabled
		}
		if err := a.recordEvent(ctx, tx, alertConfigEvent(p, typ, c)); err != nil {
			return err
		}
		if !c.Enabled {
			return cancelAlerts(ctx, tx, id, now)
		}
		return nil
	})
	return c, err
}

// DeleteAlertConfig deletes an alert configuration and cancels its open
// alerts (Atlas deleteAlertConfig).
func (a *App) DeleteAlertConfig(ctx context.Context, p atlasx509.Principal, groupID, id string) error {
	now := a.now().UTC()
	return a.store.Update(ctx, func(tx store.Tx) error {
		c, err := loadAlertConfig(ctx, tx, p, groupID, id, authz.AlertWrite)
		if err != nil {
			return err
		}
		if err := tx.DeleteAlertConfig(ctx, groupID, id); err != nil {
			return internal("delete alert config", err)
		}
		if err := a.recordEvent(ctx, tx, alertConfigEvent(p, EventAlertConfigDeleted, c)); err != nil {
			return err
		}
		return cancelAlerts(ctx, tx, id, now)
	})
}

// cancelAlerts cancels the open alerts of a configuration that was
// disabled or deleted, as Atlas does.
func cancelAlerts(ctx context.Context, tx store.Tx, configID string, now time.Time) error {
	open, err := tx.ListAlerts(ctx, store.AlertFilter{AlertConfigID: configID, Status: atlasx509.AlertOpen}, store.Page{})
	if err != nil {
		return internal("list open alerts", err)
	}
	for _, al := range open {
		al.Status, al.Updated, al.Resolved = atlasx509.AlertCancelled, now, &now
		if err := tx.UpdateAlert(ctx, al); err != nil {
			return internal("cancel alert", err)
		}
	}
	return nil
}

// defaultAlertConfig is the configuration Atlas creates with a project: a
// managed certificate expiring within 30 days is mailed to the project
// owners every 24 hours.
func defaultAlertConfig(groupID string, now time.Time) atlasx509.AlertConfig {
	return defaultAlertConfigOf(groupID, atlasx509.EventManagedCertsExpiration, now)
}

// defaultAlertConfigOf is a default configuration of the event type
// eventType: within 30 days, to the project owners, every 24 hours.
func defaultAlertConfigOf(groupID, eventType string, now time.Time) atlasx509.AlertConfig {
	return atlasx509.AlertConfig{
		ID: atlasx509.NewID(now), GroupID: groupID, EventTypeName: eventType,
		Enabled: true, Threshold: defaultAlertThresholdDays,
		Notifications: []atlasx509.Notification{{
			TypeName: atlasx509.NotifyGroup, NotifierID: atlasx509.NewID(now), IntervalMin: defaultAlertIntervalMin,
			EmailEnabled: true, Roles: []string{string(atlasx509.RoleGroupOwner)},
		}},
		Created: now, Updated: now,
	}
}

// ensureCustomerCAAlertConfig gives a project whose self-managed X.509 was
// just enabled the configuration Atlas creates when a CA is uploaded: a CA
// expiring within 30 days is mailed to the project owners every 24 hours.
// A project created without default alert settings, or that already has a
// configuration of that type, is left as it is.
func ensureCustomerCAAlertConfig(ctx context.Context, tx store.Tx, project atlasx509.Project, now time.Time) error {
	if !project.WithDefaultAlertsSettings {
		return nil
	}
	configs, err := tx.ListAlertConfigs(ctx, project.ID, store.Page{})
	if err != nil {
		return err
	}
	for _, c := range configs {
		if c.EventTypeName == atlasx509.EventCustomerCAExpiration {
			return nil
		}
	}
	return tx.InsertAlertConfig(ctx, defaultAlertConfigOf(project.ID, atlasx509.EventCustomerCAExpiration, now))
}

// buildAlertConfig validates in; old holds the notifications being
// replaced (PUT), whose secrets a notification may keep by its notifierId.
func (a *App) buildAlertConfig(ctx context.Context, groupID string, in AlertConfigInput, old []atlasx509.Notification, now time.Time) (atlasx509.AlertConfig, error) {
	c := atlasx509.AlertConfig{GroupID: groupID, Threshold: defaultAlertThresholdDays, Updated: now}
	if in.EventTypeName == nil {
		return c, errMissing("eventTypeName")
	}
	if !slices.Contains(alertableEvents, *in.EventTypeName) {
		return c, errUnsupportedAlertEventType(*in.EventTypeName)
	}
	c.EventTypeName = *in.EventTypeName
	if in.HasMetricThreshold {
		return c, errInvalidAttr("metricThreshold")
	}
	if in.HasMatchers {
		return c, errInvalidAttr("matchers")
	}
	c.Enabled = in.Enabled != nil && *in.Enabled
	if in.SeverityOverride != nil {
		if !slices.Contains(severities, *in.SeverityOverride) {
			return c, errInvalidEnum(*in.SeverityOverride)
		}
		c.SeverityOverride = *in.SeverityOverride
	}
	if th := in.Threshold; th != nil {
		if th.Operator != nil && *th.Operator != "LESS_THAN" {
			return c, errInvalidEnum(*th.Operator)
		}
		if th.Units != nil && *th.Units != "DAYS" {
			return c, errInvalidEnum(*th.Units)
		}
		if th.Threshold != nil {
			if *th.Threshold <= 0 {
				return c, errAttributeNegativeOrZero("threshold.threshold")
			}
			if *th.Threshold > maxAlertThresholdDays {
				return c, errValidationField("threshold.threshold", "must be at most 3650 days")
			}
			c.Threshold = *th.Threshold
		}
	}
	if len(in.Notifications) == 0 {
		return c, errMissing("notifications")
	}
	if len(in.Notifications) > maxNotifications {
		return c, errValidationField("notifications", "must hold at most 25 notifications")
	}
	for _, n := range in.Notifications {
		built, err := a.buildNotification(ctx, groupID, n, old, now)
		if err != nil {
			return c, err
		}
		c.Notifications = append(c.Notifications, built)
	}
	return c, nil
}

func (a *App) buildNotification(ctx context.Context, groupID string, in NotificationInput, old []atlasx509.Notification, now time.Time) (atlasx509.Notification, error) {
	n := atlasx509.Notification{IntervalMin: defaultAlertIntervalMin}
	if in.TypeName == nil {
		return n, errMissing("notifications.typeName")
	}
	n.TypeName = *in.TypeName
	var prev *atlasx509.Notification
	if in.NotifierID != nil {
		for i := range old {
			if old[i].NotifierID == *in.NotifierID && old[i].TypeName == n.TypeName {
				prev = &old[i]
			}
		}
	}
	if prev != nil {
		n.NotifierID = prev.NotifierID
	} else {
		n.NotifierID = atlasx509.NewID(now)
	}
	if in.IntervalMin != nil {
		if *in.IntervalMin < minAlertIntervalMin {
			return n, errValidationField("notifications.intervalMin", "must be at least 5")
		}
		n.IntervalMin = *in.IntervalMin
	}
	if in.DelayMin != nil {
		if *in.DelayMin < 0 {
			return n, errValidationField("notifications.delayMin", "must not be negative")
		}
		n.DelayMin = *in.DelayMin
	}
	switch n.TypeName {
	case atlasx509.NotifyWebhook:
		return a.buildWebhook(ctx, groupID, n, in, prev)
	case atlasx509.NotifyEmail:
		if in.EmailAddress == nil {
			return n, errMissing("notifications.emailAddress")
		}
		addr, err := mail.ParseAddress(*in.EmailAddress)
		if err != nil || addr.Name != "" {
			return n, errValidationField("notifications.emailAddress", "must be an e-mail address")
		}
		n.EmailAddress = addr.Address
	case atlasx509.NotifyGroup, atlasx509.NotifyOrg:
		n.EmailEnabled = in.EmailEnabled == nil || *in.EmailEnabled
		n.SMSEnabled = in.SMSEnabled != nil && *in.SMSEnabled
		for _, r := range in.Roles {
			role := atlasx509.Role(r)
			if n.TypeName == atlasx509.NotifyGroup && !role.IsProjectRole() {
				return n, errInvalidRoleForGroup(r, groupID)
			}
			if n.TypeName == atlasx509.NotifyOrg && !role.IsOrgRole() {
				return n, errInvalidEnum(r)
			}
			n.Roles = append(n.Roles, r)
		}
	default:
		if slices.Contains(otherNotificationTypes, n.TypeName) {
			return n, errUnsupportedNotificationType(n.TypeName)
		}
		return n, errInvalidEnum(n.TypeName)
	}
	return n, nil
}

// buildWebhook validates a WEBHOOK notification. A masked URL or secret
// sent back with the notification's notifierId keeps the stored one.
func (a *App) buildWebhook(ctx context.Context, groupID string, n atlasx509.Notification, in NotificationInput, prev *atlasx509.Notification) (atlasx509.Notification, error) {
	switch {
	case in.WebhookURL == nil && prev != nil, in.WebhookURL != nil && prev != nil && *in.WebhookURL == MaskURL(prev.WebhookURL):
		n.WebhookURL = prev.WebhookURL
	case in.WebhookURL == nil:
		return n, errMissing("notifications.webhookUrl")
	default:
		if err := notify.CheckURL(ctx, *in.WebhookURL, a.allowPrivateWebhooks, a.resolver); err != nil {
			return n, errInvalidWebhookURL(*in.WebhookURL, err)
		}
		n.WebhookURL = *in.WebhookURL
	}
	switch {
	case (in.WebhookSecret == nil || *in.WebhookSecret == SecretMask) && prev != nil:
		n.SealedWebhookSecret = prev.SealedWebhookSecret
	case in.WebhookSecret != nil && *in.WebhookSecret != "":
		sealed, err := a.keyring.Seal([]byte(*in.WebhookSecret), webhookSecretAAD(groupID))
		if err != nil {
			return n, internal("seal webhook secret", err)
		}
		n.SealedWebhookSecret = sealed
	}
	return n, nil
}

// webhookSecretAAD binds a sealed webhook secret to its project.
func webhookSecretAAD(groupID string) []byte { return []byte("webhook-secret|" + groupID) }

// MaskURL is how a stored webhook URL reads back: its scheme and host,
// the rest (which may carry a token) hidden, as Atlas shows
// "https://webhook.com/****".
func MaskURL(raw string) string {
	u, err := notify.ParseURL(raw)
	if err != nil {
		return "****"
	}
	return u.Scheme + "://" + u.Host + "/****"
}
