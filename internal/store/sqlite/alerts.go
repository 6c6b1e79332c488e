package sqlite

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
		jsonScan{&c.Notifications}, timeScan{&c.Created}, timeScan{&c.Updated})
	c.Notifications = emptyNil(c.Notifications)
	return c, err
}

// InsertAlertConfig implements store.Tx.
func (t *tx) InsertAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error {
	_, err := t.exec(ctx, "insert alert config",
		`INSERT INTO alert_configs (`+alertConfigColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.GroupID, c.EventTypeName, boolArg(c.Enabled), c.Threshold, c.SeverityOverride,
		jsonArg{nonNil(c.Notifications)}, timeArg(c.Created), timeArg(c.Updated))
	return err
}

// GetAlertConfig implements store.Tx.
func (t *tx) GetAlertConfig(ctx context.Context, groupID, id string) (atlasx509.AlertConfig, error) {
	return get(ctx, t, "get alert config", scanAlertConfig,
		`SELECT `+alertConfigColumns+` FROM alert_configs WHERE group_id = ? AND id = ?`, groupID, id)
}

// ListAlertConfigs implements store.Tx.
func (t *tx) ListAlertConfigs(ctx context.Context, groupID string, page store.Page) ([]atlasx509.AlertConfig, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list alert configs", scanAlertConfig,
		`SELECT `+alertConfigColumns+` FROM alert_configs WHERE (? = '' OR group_id = ?)
		ORDER BY created, id LIMIT ? OFFSET ?`, groupID, groupID, limit, offset)
}

// CountAlertConfigs implements store.Tx.
func (t *tx) CountAlertConfigs(ctx context.Context, groupID string) (int, error) {
	return t.count(ctx, "count alert configs",
		`SELECT count(*) FROM alert_configs WHERE (? = '' OR group_id = ?)`, groupID, groupID)
}

// UpdateAlertConfig implements store.Tx.
func (t *tx) UpdateAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error {
	return t.execOne(ctx, "update alert config",
		`UPDATE alert_configs SET event_type_name = ?, enabled = ?, threshold = ?, severity_override = ?,
			notifications = ?, updated = ?
		WHERE group_id = ? AND id = ?`,
		c.EventTypeName, boolArg(c.Enabled), c.Threshold, c.SeverityOverride,
		jsonArg{nonNil(c.Notifications)}, timeArg(c.Updated), c.GroupID, c.ID)
}

// DeleteAlertConfig implements store.Tx.
func (t *tx) DeleteAlertConfig(ctx context.Context, groupID, id string) error {
	return t.execOne(ctx, "delete alert config",
		`DELETE FROM alert_configs WHERE group_id = ? AND id = ?`, groupID, id)
}

const alertColumns = `id, group_id, alert_config_id, event_type_name, target, subject, not_after, status,
	created, updated, last_notified, notified, resolved, acknowledged_until, acknowledgement_comment,
	acknowledging_username`

func scanAlert(r scanner) (atlasx509.Alert, error) {
	var a atlasx509.Alert
	err := r.Scan(&a.ID, &a.GroupID, &a.AlertConfigID, &a.EventTypeName, &a.Target, &a.Subject,
		timeScan{&a.NotAfter}, &a.Status, timeScan{&a.Created}, timeScan{&a.Updated},
		nullTimeScan{&a.LastNotified}, jsonScan{&a.Notified}, nullTimeScan{&a.Resolved},
		nullTimeScan{&a.AcknowledgedUntil}, &a.AcknowledgementComment, &a.AcknowledgingUsername)
	a.Notified = emptyNilMap(a.Notified)
	return a, err
}

// InsertAlert implements store.Tx.
func (t *tx) InsertAlert(ctx context.Context, a atlasx509.Alert) error {
	_, err := t.exec(ctx, "insert alert",
		`INSERT INTO alerts (`+alertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.GroupID, a.AlertConfigID, a.EventTypeName, a.Target, a.Subject,
		timeArg(a.NotAfter), a.Status, timeArg(a.Created), timeArg(a.Updated),
		nullTimeArg{a.LastNotified}, jsonArg{nonNilMap(a.Notified)}, nullTimeArg{a.Resolved},
		nullTimeArg{a.AcknowledgedUntil}, a.AcknowledgementComment, a.AcknowledgingUsername)
	return err
}

// GetAlert implements store.Tx.
func (t *tx) GetAlert(ctx context.Context, groupID, id string) (atlasx509.Alert, error) {
	return get(ctx, t, "get alert", scanAlert,
		`SELECT `+alertColumns+` FROM alerts WHERE group_id = ? AND id = ?`, groupID, id)
}

const alertFilterWhere = `(? = '' OR group_id = ?) AND (? = '' OR alert_config_id = ?) AND (? = '' OR status = ?) AND (? = '' OR target = ?)`

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
		ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`, args...)
}

// CountAlerts implements store.Tx.
func (t *tx) CountAlerts(ctx context.Context, f store.AlertFilter) (int, error) {
	return t.count(ctx, "count alerts", `SELECT count(*) FROM alerts WHERE `+alertFilterWhere, alertFilterArgs(f)...)
}

// UpdateAlert implements store.Tx.
func (t *tx) UpdateAlert(ctx context.Context, a atlasx509.Alert) error {
	return t.execOne(ctx, "update alert",
		`UPDATE alerts SET status = ?, updated = ?, last_notified = ?, notified = ?, resolved = ?,
			acknowledged_until = ?, acknowledgement_comment = ?, acknowledging_username = ?
		WHERE id = ?`,
		a.Status, timeArg(a.Updated), nullTimeArg{a.LastNotified}, jsonArg{nonNilMap(a.Notified)},
		nullTimeArg{a.Resolved}, nullTimeArg{a.AcknowledgedUntil}, a.AcknowledgementComment,
		a.AcknowledgingUsername, a.ID)
}

const outboxColumns = `id, group_id, alert_id, kind, destination, sealed_secret, event, body, status,
	attempts, next_attempt, last_error, created, updated`

func scanOutbox(r scanner) (atlasx509.OutboxMessage, error) {
	var m atlasx509.OutboxMessage
	err := r.Scan(&m.ID, &m.GroupID, &m.AlertID, &m.Kind, &m.Destination, blobScan{&m.SealedSecret},
		&m.Event, blobScan{&m.Body}, &m.Status, &m.Attempts, timeScan{&m.NextAttempt}, &m.LastError,
		timeScan{&m.Created}, timeScan{&m.Updated})
	return m, err
}

// InsertOutboxMessage implements store.Tx.
func (t *tx) InsertOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error {
	_, err := t.exec(ctx, "insert outbox message",
		`INSERT INTO alert_outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.GroupID, m.AlertID, m.Kind, m.Destination, blobArg(m.SealedSecret), m.Event,
		blobArg(m.Body), m.Status, m.Attempts, timeArg(m.NextAttempt), m.LastError,
		timeArg(m.Created), timeArg(m.Updated))
	return err
}

// ListDueOutboxMessages implements store.Tx.
func (t *tx) ListDueOutboxMessages(ctx context.Context, now time.Time, limit int) ([]atlasx509.OutboxMessage, error) {
	return list(ctx, t, "list due outbox messages", scanOutbox,
		`SELECT `+outboxColumns+` FROM alert_outbox WHERE status = ? AND next_attempt <= ?
		ORDER BY next_attempt, id LIMIT ?`, atlasx509.OutboxPending, timeArg(now), limit)
}

// ListOutboxMessages implements store.Tx.
func (t *tx) ListOutboxMessages(ctx context.Context, alertID string) ([]atlasx509.OutboxMessage, error) {
	return list(ctx, t, "list outbox messages", scanOutbox,
		`SELECT `+outboxColumns+` FROM alert_outbox WHERE alert_id = ? ORDER BY created, id`, alertID)
}

// UpdateOutboxMessage implements store.Tx.
func (t *tx) UpdateOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error {
	return t.execOne(ctx, "update outbox message",
		`UPDATE alert_outbox SET status = ?, attempts = ?, next_attempt = ?, last_error = ?, updated = ?
		WHERE id = ?`,
		m.Status, m.Attempts, timeArg(m.NextAttempt), m.LastError, timeArg(m.Updated), m.ID)
}

// AcquireLease implements store.Tx.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	n, err := t.execCount(ctx, "acquire lease",
		`INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= ?`,
		name, holder, timeArg(until), timeArg(now))
	return n == 1, err
}

// ListExpiringCertificates implements store.Tx: the project's rows of the
// certificates_user_not_after index, each checked against its user's
// later ones in the same index.
func (t *tx) ListExpiringCertificates(ctx context.Context, groupID string, validAt, before time.Time) ([]atlasx509.Certificate, error) {
	return list(ctx, t, "list expiring certificates", scanCertificate,
		`SELECT `+prefixed("c.", certificateColumns)+`
		FROM certificates c JOIN database_users u ON u.group_id = c.group_id AND u.username = c.username
		WHERE c.group_id = ? AND c.user_deleted = 0 AND c.revoked_at IS NULL AND c.not_after > ? AND c.not_after < ?
			AND u.x509_type = ?
			AND NOT EXISTS (SELECT 1 FROM certificates d
				WHERE d.group_id = c.group_id AND d.username = c.username AND d.user_deleted = 0
					AND d.not_after >= c.not_after AND d.revoked_at IS NULL
					AND (d.not_after > c.not_after OR d.serial > c.serial))
		ORDER BY c.username`, groupID, timeArg(validAt), timeArg(before), atlasx509.X509Managed)
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
