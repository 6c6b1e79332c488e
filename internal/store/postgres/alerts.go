package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

const alertConfigColumns = `id, group_id, event_type_name, enabled, threshold, severity_override,
	notifications, created, updated`

func scanAlertConfig(r scanner) (atlasx509.AlertConfig, error) {
	var c atlasx509.AlertConfig
	err := r.Scan(&c.ID, &c.GroupID, &c.EventTypeName, &c.Enabled, &c.Threshold, &c.SeverityOverride,
		jsonScan{&c.Notifications}, &c.Created, &c.Updated)
	c.Notifications = emptyNil(c.Notifications)
	return c, err
}

// InsertAlertConfig implements store.Tx.
func (t *tx) InsertAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error {
	notifications, err := jsonArray(c.Notifications)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "insert alert config",
		`INSERT INTO alert_configs (`+alertConfigColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.GroupID, c.EventTypeName, c.Enabled, c.Threshold, c.SeverityOverride,
		notifications, ts(c.Created), ts(c.Updated))
	return err
}

// GetAlertConfig implements store.Tx.
func (t *tx) GetAlertConfig(ctx context.Context, groupID, id string) (atlasx509.AlertConfig, error) {
	return get(ctx, t, "get alert config", scanAlertConfig,
		`SELECT `+alertConfigColumns+` FROM alert_configs WHERE group_id = $1 AND id = $2`, groupID, id)
}

// ListAlertConfigs implements store.Tx.
func (t *tx) ListAlertConfigs(ctx context.Context, groupID string, page store.Page) ([]atlasx509.AlertConfig, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list alert configs", scanAlertConfig,
		`SELECT `+alertConfigColumns+` FROM alert_configs WHERE ($1 = '' OR group_id = $2)
		ORDER BY created, id LIMIT $3 OFFSET $4`, groupID, groupID, limit, offset)
}

// CountAlertConfigs implements store.Tx.
func (t *tx) CountAlertConfigs(ctx context.Context, groupID string) (int, error) {
	return t.count(ctx, "count alert configs",
		`SELECT count(*) FROM alert_configs WHERE ($1 = '' OR group_id = $2)`, groupID, groupID)
}

// UpdateAlertConfig implements store.Tx.
func (t *tx) UpdateAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error {
	notifications, err := jsonArray(c.Notifications)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "update alert config",
		`UPDATE alert_configs SET event_type_name = $1, enabled = $2, threshold = $3, severity_override = $4,
			notifications = $5, updated = $6
		WHERE group_id = $7 AND id = $8`,
		c.EventTypeName, c.Enabled, c.Threshold, c.SeverityOverride,
		notifications, ts(c.Updated), c.GroupID, c.ID)
}

// DeleteAlertConfig implements store.Tx.
func (t *tx) DeleteAlertConfig(ctx context.Context, groupID, id string) error {
	return t.execOne(ctx, "delete alert config",
		`DELETE FROM alert_configs WHERE group_id = $1 AND id = $2`, groupID, id)
}

const alertColumns = `id, group_id, alert_config_id, event_type_name, target, subject, not_after, status,
	created, updated, last_notified, notified, resolved, acknowledged_until, acknowledgement_comment,
	acknowledging_username`

func scanAlert(r scanner) (atlasx509.Alert, error) {
	var a atlasx509.Alert
	err := r.Scan(&a.ID, &a.GroupID, &a.AlertConfigID, &a.EventTypeName, &a.Target, &a.Subject,
		&a.NotAfter, &a.Status, &a.Created, &a.Updated,
		&a.LastNotified, jsonScan{&a.Notified}, &a.Resolved,
		&a.AcknowledgedUntil, &a.AcknowledgementComment, &a.AcknowledgingUsername)
	a.Notified = emptyNilMap(a.Notified)
	return a, err
}

// InsertAlert implements store.Tx.
func (t *tx) InsertAlert(ctx context.Context, a atlasx509.Alert) error {
	notified, err := jsonObject(a.Notified)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "insert alert",
		`INSERT INTO alerts (`+alertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		a.ID, a.GroupID, a.AlertConfigID, a.EventTypeName, a.Target, a.Subject,
		ts(a.NotAfter), a.Status, ts(a.Created), ts(a.Updated),
		nullTS(a.LastNotified), notified, nullTS(a.Resolved),
		nullTS(a.AcknowledgedUntil), a.AcknowledgementComment, a.AcknowledgingUsername)
	return err
}

// GetAlert implements store.Tx.
func (t *tx) GetAlert(ctx context.Context, groupID, id string) (atlasx509.Alert, error) {
	return get(ctx, t, "get alert", scanAlert,
		`SELECT `+alertColumns+` FROM alerts WHERE group_id = $1 AND id = $2`, groupID, id)
}

const alertFilterWhere = `($1 = '' OR group_id = $2) AND ($3 = '' OR alert_config_id = $4) AND ($5 = '' OR status = $6) AND ($7 = '' OR target = $8)`

func alertFilterArgs(f store.AlertFilter) []any {
	return []any{f.GroupID, f.GroupID, f.AlertConfigID, f.AlertConfigID, f.Status, f.Status, f.Target, f.Target}
}

// ListAlerts implements store.Tx.
func (t *tx) ListAlerts(ctx context.Context, f store.AlertFilter, page store.Page) ([]atlasx509.Alert, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	args := append(alertFilterArgs(f), limit, offset)
	return list(ctx, t, "list alerts", scanAlert,
		`SELECT `+alertColumns+` FROM alerts WHERE `+alertFilterWhere+`
		ORDER BY created DESC, id DESC LIMIT $9 OFFSET $10`, args...)
}

// CountAlerts implements store.Tx.
func (t *tx) CountAlerts(ctx context.Context, f store.AlertFilter) (int, error) {
	return t.count(ctx, "count alerts", `SELECT count(*) FROM alerts WHERE `+alertFilterWhere, alertFilterArgs(f)...)
}

// UpdateAlert implements store.Tx.
func (t *tx) UpdateAlert(ctx context.Context, a atlasx509.Alert) error {
	notified, err := jsonObject(a.Notified)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "update alert",
		`UPDATE alerts SET status = $1, updated = $2, last_notified = $3, notified = $4, resolved = $5,
			acknowledged_until = $6, acknowledgement_comment = $7, acknowledging_username = $8
		WHERE id = $9`,
		a.Status, ts(a.Updated), nullTS(a.LastNotified), notified,
		nullTS(a.Resolved), nullTS(a.AcknowledgedUntil), a.AcknowledgementComment,
		a.AcknowledgingUsername, a.ID)
}

const outboxColumns = `id, group_id, alert_id, kind, destination, sealed_secret, event, body, status,
	attempts, next_attempt, last_error, created, updated`

func scanOutbox(r scanner) (atlasx509.OutboxMessage, error) {
	var m atlasx509.OutboxMessage
	err := r.Scan(&m.ID, &m.GroupID, &m.AlertID, &m.Kind, &m.Destination, &m.SealedSecret,
		&m.Event, &m.Body, &m.Status, &m.Attempts, &m.NextAttempt, &m.LastError,
		&m.Created, &m.Updated)
	m.SealedSecret, m.Body = bytea(m.SealedSecret), bytea(m.Body)
	return m, err
}

// InsertOutboxMessage implements store.Tx.
func (t *tx) InsertOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error {
	_, err := t.exec(ctx, "insert outbox message",
		`INSERT INTO alert_outbox (`+outboxColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		m.ID, m.GroupID, m.AlertID, m.Kind, m.Destination, bytea(m.SealedSecret), m.Event,
		bytea(m.Body), m.Status, m.Attempts, ts(m.NextAttempt), m.LastError,
		ts(m.Created), ts(m.Updated))
	return err
}

// ListDueOutboxMessages implements store.Tx.
func (t *tx) ListDueOutboxMessages(ctx context.Context, now time.Time, limit int) ([]atlasx509.OutboxMessage, error) {
	return list(ctx, t, "list due outbox messages", scanOutbox,
		`SELECT `+outboxColumns+` FROM alert_outbox WHERE status = $1 AND next_attempt <= $2
		ORDER BY next_attempt, id LIMIT $3`, atlasx509.OutboxPending, ts(now), limit)
}

// ListOutboxMessages implements store.Tx.
func (t *tx) ListOutboxMessages(ctx context.Context, alertID string) ([]atlasx509.OutboxMessage, error) {
	return list(ctx, t, "list outbox messages", scanOutbox,
		`SELECT `+outboxColumns+` FROM alert_outbox WHERE alert_id = $1 ORDER BY created, id`, alertID)
}

// UpdateOutboxMessage implements store.Tx.
func (t *tx) UpdateOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error {
	return t.execOne(ctx, "update outbox message",
		`UPDATE alert_outbox SET status = $1, attempts = $2, next_attempt = $3, last_error = $4, updated = $5
		WHERE id = $6`,
		m.Status, m.Attempts, ts(m.NextAttempt), m.LastError, ts(m.Updated), m.ID)
}

// AcquireLease implements store.Tx.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	n, err := t.exec(ctx, "acquire lease",
		`INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= $4`,
		name, holder, ts(until), ts(now))
	return n == 1, err
}

// ListExpiringCertificates implements store.Tx: the project's rows of the
// certificates_user_not_after index, each checked against its user's
// later ones in the same index.
func (t *tx) ListExpiringCertificates(ctx context.Context, groupID string, validAt, before time.Time) ([]atlasx509.Certificate, error) {
	return list(ctx, t, "list expiring certificates", scanCertificate,
		`SELECT `+prefixed("c.", certificateColumns)+`
		FROM certificates c JOIN database_users u ON u.group_id = c.group_id AND u.username = c.username
		WHERE c.group_id = $1 AND NOT c.user_deleted AND c.revoked_at IS NULL AND c.not_after > $2 AND c.not_after < $3
			AND u.x509_type = $4
			AND NOT EXISTS (SELECT 1 FROM certificates d
				WHERE d.group_id = c.group_id AND d.username = c.username AND NOT d.user_deleted
					AND d.not_after >= c.not_after AND d.revoked_at IS NULL
					AND (d.not_after > c.not_after OR d.serial > c.serial))
		ORDER BY c.username`, groupID, ts(validAt), ts(before), atlasx509.X509Managed)
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
