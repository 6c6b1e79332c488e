package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// tx implements store.Tx on one pgx transaction.
type tx struct {
	tx pgx.Tx
	// retry records that a statement failed with a serialization failure
	// or a deadlock: the transaction is aborted, and Update runs fn again
	// whatever fn made of the error.
	retry bool
}

var _ store.Tx = (*tx)(nil)

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// fail maps a statement's error and records whether it calls for a retry.
func (t *tx) fail(op string, err error) error {
	if err != nil && isRetryable(err) {
		t.retry = true
	}
	return mapErr(op, err)
}

// exec runs a statement and returns how many rows it affected (not
// counting rows deleted by a foreign key cascade).
func (t *tx) exec(ctx context.Context, op, query string, args ...any) (int, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, t.fail(op, err)
	}
	return int(tag.RowsAffected()), nil
}

// execOne runs a statement that must affect a row: none is ErrNotFound.
func (t *tx) execOne(ctx context.Context, op, query string, args ...any) error {
	n, err := t.exec(ctx, op, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// count runs a SELECT count(*).
func (t *tx) count(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int64
	if err := t.tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, t.fail(op, err)
	}
	return int(n), nil
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, t *tx, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, t.fail(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.fail(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(op, err)
	}
	return out, nil
}

// get runs a query returning at most one row; none is ErrNotFound.
func get[T any](ctx context.Context, t *tx, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(t.tx.QueryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, t.fail(op, err)
	}
	return v, nil
}

// limitOffset turns a page into LIMIT and OFFSET arguments (a nil LIMIT
// means no limit).
func limitOffset(p store.Page) (limit any, offset int, err error) {
	if p.Limit < 0 || p.Offset < 0 {
		return nil, 0, fmt.Errorf("postgres: invalid page %+v", p)
	}
	if p.Limit == 0 {
		return nil, p.Offset, nil
	}
	return p.Limit, p.Offset, nil
}

// ts is a time argument as stored: UTC, truncated to the microsecond
// (PostgreSQL's precision), so that what pgx sends is what is stored.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTS is a nullable time argument.
func nullTS(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// tsCeil is t rounded up to the microsecond, for "column < t": a stored
// microsecond value s is before t exactly when s < tsCeil(t). (For
// "column > t" and "column <= t", ts(t) is exact.)
func tsCeil(t time.Time) time.Time {
	f := ts(t)
	if f.Before(t) {
		f = f.Add(time.Microsecond)
	}
	return f
}

// bytea is a []byte argument that is never NULL: pgx sends a nil slice as
// NULL, which NOT NULL columns refuse.
func bytea(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nonNil returns s, or an empty non-nil slice when s is nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// jsonArray encodes a list as a jsonb argument; nil is "[]".
func jsonArray[T any](s []T) (string, error) {
	b, err := json.Marshal(nonNil(s))
	return string(b), err
}

// jsonObject encodes m as a JSON object ({} for a nil map).
func jsonObject[K comparable, V any](m map[K]V) (string, error) {
	if m == nil {
		m = map[K]V{}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// emptyNil returns nil for an empty slice: what was stored from a nil one.
func emptyNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// emptyNilMap returns nil for an empty map: what was stored from a nil one.
func emptyNilMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// jsonScan decodes a scanned jsonb value into dst, a pointer to a slice.
type jsonScan struct{ dst any }

// Scan implements sql.Scanner (pgx passes jsonb as text or []byte).
func (s jsonScan) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("unexpected stored value of type %T for jsonb", src)
	}
	if err := json.Unmarshal(b, s.dst); err != nil {
		return fmt.Errorf("stored JSON %q: %w", b, err)
	}
	return nil
}

// GetSetting implements store.Tx.
func (t *tx) GetSetting(ctx context.Context, name string) ([]byte, error) {
	return get(ctx, t, "get setting", func(r scanner) ([]byte, error) {
		var v []byte
		err := r.Scan(&v)
		return bytea(v), err
	}, `SELECT value FROM settings WHERE name = $1`, name)
}

// InsertSetting implements store.Tx.
func (t *tx) InsertSetting(ctx context.Context, name string, value []byte) error {
	_, err := t.exec(ctx, "insert setting",
		`INSERT INTO settings (name, value) VALUES ($1, $2)`, name, bytea(value))
	return err
}

// InsertOrganization implements store.Tx.
func (t *tx) InsertOrganization(ctx context.Context, o atlasx509.Organization) error {
	_, err := t.exec(ctx, "insert organization",
		`INSERT INTO organizations (id, name, created, skip_default_alerts_settings) VALUES ($1, $2, $3, $4)`,
		o.ID, o.Name, ts(o.Created), o.SkipDefaultAlertsSettings)
	return err
}

// UpdateOrganization implements store.Tx.
func (t *tx) UpdateOrganization(ctx context.Context, o atlasx509.Organization) error {
	return t.execOne(ctx, "update organization",
		`UPDATE organizations SET name = $1, skip_default_alerts_settings = $2 WHERE id = $3`,
		o.Name, o.SkipDefaultAlertsSettings, o.ID)
}

// GetOrganization implements store.Tx.
func (t *tx) GetOrganization(ctx context.Context, id string) (atlasx509.Organization, error) {
	return get(ctx, t, "get organization", func(r scanner) (atlasx509.Organization, error) {
		var o atlasx509.Organization
		err := r.Scan(&o.ID, &o.Name, &o.Created, &o.SkipDefaultAlertsSettings)
		return o, err
	}, `SELECT id, name, created, skip_default_alerts_settings FROM organizations WHERE id = $1`, id)
}

const projectColumns = `id, org_id, name, created, customer_x509_cas, leaf_key_type,
	with_default_alerts_settings, tags, settings, limits, customer_x509_crls`

func scanProject(r scanner) (atlasx509.Project, error) {
	var p atlasx509.Project
	err := r.Scan(&p.ID, &p.OrgID, &p.Name, &p.Created, &p.CustomerX509CAs, &p.LeafKeyType,
		&p.WithDefaultAlertsSettings, jsonScan{&p.Tags}, jsonScan{&p.Settings}, jsonScan{&p.Limits}, &p.CustomerX509CRLs)
	p.Tags, p.Settings, p.Limits = emptyNil(p.Tags), emptyNilMap(p.Settings), emptyNilMap(p.Limits)
	return p, err
}

// projectDocs encodes the jsonb columns of p.
func projectDocs(p atlasx509.Project) (tags, settings, limits string, err error) {
	if tags, err = jsonArray(p.Tags); err != nil {
		return "", "", "", err
	}
	if settings, err = jsonObject(p.Settings); err != nil {
		return "", "", "", err
	}
	limits, err = jsonObject(p.Limits)
	return tags, settings, limits, err
}

// InsertProject implements store.Tx.
func (t *tx) InsertProject(ctx context.Context, p atlasx509.Project) error {
	tags, settings, limits, err := projectDocs(p)
	if err != nil {
		return fmt.Errorf("postgres: insert project: %w", err)
	}
	_, err = t.exec(ctx, "insert project",
		`INSERT INTO projects (`+projectColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.ID, p.OrgID, p.Name, ts(p.Created), p.CustomerX509CAs, p.LeafKeyType,
		p.WithDefaultAlertsSettings, tags, settings, limits, p.CustomerX509CRLs)
	return err
}

// GetProject implements store.Tx.
func (t *tx) GetProject(ctx context.Context, id string) (atlasx509.Project, error) {
	return get(ctx, t, "get project", scanProject,
		`SELECT `+projectColumns+` FROM projects WHERE id = $1`, id)
}

// projectFilterWhere is the WHERE clause of a store.ProjectFilter, on the
// arguments $1 (OrgIDs) and $2 (GroupIDs), text arrays. A nil slice is
// sent as NULL, and "= ANY (NULL)" selects nothing.
const projectFilterWhere = `WHERE org_id = ANY ($1::text[]) OR id = ANY ($2::text[])`

// ListProjects implements store.Tx, oldest first (by Created, then ID).
func (t *tx) ListProjects(ctx context.Context, f store.ProjectFilter, page store.Page) ([]atlasx509.Project, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list projects", scanProject,
		`SELECT `+projectColumns+` FROM projects `+projectFilterWhere+`
		ORDER BY created, id LIMIT $3 OFFSET $4`, f.OrgIDs, f.GroupIDs, limit, offset)
}

// CountProjects implements store.Tx.
func (t *tx) CountProjects(ctx context.Context, f store.ProjectFilter) (int, error) {
	return t.count(ctx, "count projects",
		`SELECT count(*) FROM projects `+projectFilterWhere, f.OrgIDs, f.GroupIDs)
}

// UpdateProject implements store.Tx.
func (t *tx) UpdateProject(ctx context.Context, p atlasx509.Project) error {
	tags, settings, limits, err := projectDocs(p)
	if err != nil {
		return fmt.Errorf("postgres: update project: %w", err)
	}
	return t.execOne(ctx, "update project",
		`UPDATE projects SET name = $1, customer_x509_cas = $2, leaf_key_type = $3,
		with_default_alerts_settings = $4, tags = $5, settings = $6, limits = $7, customer_x509_crls = $8 WHERE id = $9`,
		p.Name, p.CustomerX509CAs, p.LeafKeyType,
		p.WithDefaultAlertsSettings, tags, settings, limits, p.CustomerX509CRLs, p.ID)
}

// DeleteProject implements store.Tx. Users, CAs, certificate records and
// CRLs go by foreign key cascade; project role assignments are deleted here.
func (t *tx) DeleteProject(ctx context.Context, id string) error {
	if err := t.execOne(ctx, "delete project", `DELETE FROM projects WHERE id = $1`, id); err != nil {
		return err
	}
	_, err := t.exec(ctx, "delete project role assignments",
		`DELETE FROM role_assignments WHERE group_id = $1 AND group_id <> ''`, id)
	return err
}

const userColumns = `group_id, username, database_name, roles, scopes, labels,
	x509_type, aws_iam_type, ldap_auth_type, oidc_auth_type, description,
	delete_after_date, scram_credential, created, updated`

func scanUser(r scanner) (atlasx509.DatabaseUser, error) {
	var u atlasx509.DatabaseUser
	err := r.Scan(&u.GroupID, &u.Username, &u.DatabaseName,
		jsonScan{&u.Roles}, jsonScan{&u.Scopes}, jsonScan{&u.Labels},
		&u.X509Type, &u.AWSIAMType, &u.LDAPAuthType, &u.OIDCAuthType, &u.Description,
		&u.DeleteAfterDate, &u.SCRAMCredential, &u.Created, &u.Updated)
	u.Roles, u.Scopes, u.Labels = nonNil(u.Roles), nonNil(u.Scopes), nonNil(u.Labels)
	return u, err
}

// userLists encodes the lists of u as jsonb arguments.
func userLists(u atlasx509.DatabaseUser) (roles, scopes, labels string, err error) {
	if roles, err = jsonArray(u.Roles); err != nil {
		return
	}
	if scopes, err = jsonArray(u.Scopes); err != nil {
		return
	}
	labels, err = jsonArray(u.Labels)
	return
}

// InsertDatabaseUser implements store.Tx.
func (t *tx) InsertDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error {
	roles, scopes, labels, err := userLists(u)
	if err != nil {
		return fmt.Errorf("postgres: insert database user: %w", err)
	}
	_, err = t.exec(ctx, "insert database user",
		`INSERT INTO database_users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.GroupID, u.Username, u.DatabaseName, roles, scopes, labels,
		u.X509Type, u.AWSIAMType, u.LDAPAuthType, u.OIDCAuthType, u.Description,
		nullTS(u.DeleteAfterDate), u.SCRAMCredential, ts(u.Created), ts(u.Updated))
	return err
}

// GetDatabaseUser implements store.Tx.
func (t *tx) GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (atlasx509.DatabaseUser, error) {
	return get(ctx, t, "get database user", scanUser,
		`SELECT `+userColumns+` FROM database_users
		WHERE group_id = $1 AND username = $2 AND database_name = $3`,
		groupID, username, databaseName)
}

// FindDatabaseUser implements store.Tx.
func (t *tx) FindDatabaseUser(ctx context.Context, groupID, username string) (atlasx509.DatabaseUser, error) {
	return get(ctx, t, "find database user", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE group_id = $1 AND username = $2`,
		groupID, username)
}

// ListDatabaseUsers implements store.Tx, by username (byte order).
func (t *tx) ListDatabaseUsers(ctx context.Context, groupID string, page store.Page) ([]atlasx509.DatabaseUser, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list database users", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE group_id = $1
		ORDER BY username LIMIT $2 OFFSET $3`, groupID, limit, offset)
}

// CountDatabaseUsers implements store.Tx.
func (t *tx) CountDatabaseUsers(ctx context.Context, groupID string) (int, error) {
	return t.count(ctx, "count database users",
		`SELECT count(*) FROM database_users WHERE group_id = $1`, groupID)
}

// UpdateDatabaseUser implements store.Tx. Every column but the key is
// replaced, Created included.
func (t *tx) UpdateDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error {
	roles, scopes, labels, err := userLists(u)
	if err != nil {
		return fmt.Errorf("postgres: update database user: %w", err)
	}
	return t.execOne(ctx, "update database user",
		`UPDATE database_users SET roles = $1, scopes = $2, labels = $3,
			x509_type = $4, aws_iam_type = $5, ldap_auth_type = $6, oidc_auth_type = $7,
			description = $8, delete_after_date = $9, scram_credential = $10,
			created = $11, updated = $12
		WHERE group_id = $13 AND username = $14 AND database_name = $15`,
		roles, scopes, labels,
		u.X509Type, u.AWSIAMType, u.LDAPAuthType, u.OIDCAuthType,
		u.Description, nullTS(u.DeleteAfterDate), u.SCRAMCredential,
		ts(u.Created), ts(u.Updated),
		u.GroupID, u.Username, u.DatabaseName)
}

// InsertAPIKey implements store.Tx.
func (t *tx) InsertAPIKey(ctx context.Context, k atlasx509.APIKey) error {
	_, err := t.exec(ctx, "insert API key",
		`INSERT INTO api_keys (id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.OrgID, k.PublicKey, k.Description,
		bytea(k.SealedHA1MD5), bytea(k.SealedHA1SHA256), ts(k.Created))
	return err
}

const apiKeyColumns = `id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created`

func scanAPIKey(r scanner) (atlasx509.APIKey, error) {
	var k atlasx509.APIKey
	err := r.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.Description,
		&k.SealedHA1MD5, &k.SealedHA1SHA256, &k.Created)
	k.SealedHA1MD5, k.SealedHA1SHA256 = bytea(k.SealedHA1MD5), bytea(k.SealedHA1SHA256)
	return k, err
}

// GetAPIKey implements store.Tx.
func (t *tx) GetAPIKey(ctx context.Context, id string) (atlasx509.APIKey, error) {
	return get(ctx, t, "get API key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id)
}

// GetAPIKeyByPublicKey implements store.Tx.
func (t *tx) GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (atlasx509.APIKey, error) {
	return get(ctx, t, "get API key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE public_key = $1`, publicKey)
}

// ListAPIKeys implements store.Tx, oldest first (by Created, then ID).
func (t *tx) ListAPIKeys(ctx context.Context, orgID string, page store.Page) ([]atlasx509.APIKey, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list API keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1
		ORDER BY created, id LIMIT $2 OFFSET $3`, orgID, limit, offset)
}

// CountAPIKeys implements store.Tx.
func (t *tx) CountAPIKeys(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, "count API keys",
		`SELECT count(*) FROM api_keys WHERE org_id = $1`, orgID)
}

// UpdateAPIKey implements store.Tx: only the description is written.
func (t *tx) UpdateAPIKey(ctx context.Context, k atlasx509.APIKey) error {
	return t.execOne(ctx, "update API key",
		`UPDATE api_keys SET description = $1 WHERE id = $2`, k.Description, k.ID)
}

// DeleteAPIKey implements store.Tx: the key's row only.
func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete API key", `DELETE FROM api_keys WHERE id = $1`, id)
}

// InsertServiceAccount implements store.Tx.
func (t *tx) InsertServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error {
	_, err := t.exec(ctx, "insert service account",
		`INSERT INTO service_accounts (client_id, org_id, name, description, created)
		VALUES ($1, $2, $3, $4, $5)`,
		sa.ClientID, sa.OrgID, sa.Name, sa.Description, ts(sa.Created))
	return err
}

const serviceAccountColumns = `client_id, org_id, name, description, created`

func scanServiceAccount(r scanner) (atlasx509.ServiceAccount, error) {
	var sa atlasx509.ServiceAccount
	err := r.Scan(&sa.ClientID, &sa.OrgID, &sa.Name, &sa.Description, &sa.Created)
	return sa, err
}

// GetServiceAccount implements store.Tx.
func (t *tx) GetServiceAccount(ctx context.Context, clientID string) (atlasx509.ServiceAccount, error) {
	return get(ctx, t, "get service account", scanServiceAccount,
		`SELECT `+serviceAccountColumns+` FROM service_accounts WHERE client_id = $1`, clientID)
}

// ListServiceAccounts implements store.Tx, oldest first (by Created, then
// ClientID).
func (t *tx) ListServiceAccounts(ctx context.Context, orgID string, page store.Page) ([]atlasx509.ServiceAccount, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list service accounts", scanServiceAccount,
		`SELECT `+serviceAccountColumns+` FROM service_accounts WHERE org_id = $1
		ORDER BY created, client_id LIMIT $2 OFFSET $3`, orgID, limit, offset)
}

// CountServiceAccounts implements store.Tx.
func (t *tx) CountServiceAccounts(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, "count service accounts",
		`SELECT count(*) FROM service_accounts WHERE org_id = $1`, orgID)
}

// UpdateServiceAccount implements store.Tx: only the name and description
// are written.
func (t *tx) UpdateServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error {
	return t.execOne(ctx, "update service account",
		`UPDATE service_accounts SET name = $1, description = $2 WHERE client_id = $3`,
		sa.Name, sa.Description, sa.ClientID)
}

// DeleteServiceAccount implements store.Tx: the account's row only. The
// foreign keys of secrets and token records still cascade, as a safety
// net; app deletes them first.
func (t *tx) DeleteServiceAccount(ctx context.Context, clientID string) error {
	return t.execOne(ctx, "delete service account",
		`DELETE FROM service_accounts WHERE client_id = $1`, clientID)
}

// InsertServiceAccountSecret implements store.Tx.
func (t *tx) InsertServiceAccountSecret(ctx context.Context, s atlasx509.ServiceAccountSecret) error {
	_, err := t.exec(ctx, "insert service account secret",
		`INSERT INTO service_account_secrets (id, client_id, hash, expires_at, created)
		VALUES ($1, $2, $3, $4, $5)`,
		s.ID, s.ClientID, bytea(s.Hash), ts(s.ExpiresAt), ts(s.Created))
	return err
}

// ListServiceAccountSecrets implements store.Tx, oldest first (by Created,
// then ID).
func (t *tx) ListServiceAccountSecrets(ctx context.Context, clientID string) ([]atlasx509.ServiceAccountSecret, error) {
	return list(ctx, t, "list service account secrets", func(r scanner) (atlasx509.ServiceAccountSecret, error) {
		var s atlasx509.ServiceAccountSecret
		err := r.Scan(&s.ID, &s.ClientID, &s.Hash, &s.ExpiresAt, &s.Created)
		s.Hash = bytea(s.Hash)
		return s, err
	}, `SELECT id, client_id, hash, expires_at, created
		FROM service_account_secrets WHERE client_id = $1 ORDER BY created, id`, clientID)
}

// DeleteServiceAccountSecret implements store.Tx; ErrNotFound unless the
// secret exists and belongs to clientID.
func (t *tx) DeleteServiceAccountSecret(ctx context.Context, clientID, secretID string) error {
	return t.execOne(ctx, "delete service account secret",
		`DELETE FROM service_account_secrets WHERE id = $1 AND client_id = $2`, secretID, clientID)
}

// DeleteServiceAccountSecrets implements store.Tx.
func (t *tx) DeleteServiceAccountSecrets(ctx context.Context, clientID string) (int, error) {
	return t.exec(ctx, "delete service account secrets",
		`DELETE FROM service_account_secrets WHERE client_id = $1`, clientID)
}

// InsertRoleAssignment implements store.Tx; ErrConflict if the principal
// already holds that role there.
func (t *tx) InsertRoleAssignment(ctx context.Context, ra atlasx509.RoleAssignment) error {
	kind := ra.PrincipalKind.String()
	if kind == "" {
		return fmt.Errorf("insert role assignment: unknown principal kind %d", ra.PrincipalKind)
	}
	_, err := t.exec(ctx, "insert role assignment",
		`INSERT INTO role_assignments (principal_id, principal_kind, org_id, group_id, role) VALUES ($1, $2, $3, $4, $5)`,
		ra.PrincipalID, kind, ra.OrgID, ra.GroupID, string(ra.Role))
	return err
}

func scanRoleAssignment(r scanner) (atlasx509.RoleAssignment, error) {
	var ra atlasx509.RoleAssignment
	var role, kind string
	err := r.Scan(&ra.PrincipalID, &kind, &ra.OrgID, &ra.GroupID, &role)
	ra.Role = atlasx509.Role(role)
	if err == nil {
		var ok bool
		if ra.PrincipalKind, ok = atlasx509.ParsePrincipalKind(kind); !ok {
			err = fmt.Errorf("role assignment of %s: unknown principal kind %q", ra.PrincipalID, kind)
		}
	}
	return ra, err
}

// ListRoleAssignments implements store.Tx, ordered by organization, project
// ("" first) and role.
func (t *tx) ListRoleAssignments(ctx context.Context, principalID string) ([]atlasx509.RoleAssignment, error) {
	return list(ctx, t, "list role assignments", scanRoleAssignment,
		`SELECT principal_id, principal_kind, org_id, group_id, role FROM role_assignments
		WHERE principal_id = $1 ORDER BY org_id, group_id, role`, principalID)
}

func scanString(r scanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// ListProjectPrincipals implements store.Tx. An empty groupID finds
// nothing: organization roles are over no project.
func (t *tx) ListProjectPrincipals(ctx context.Context, groupID string, kind atlasx509.PrincipalKind, page store.Page) ([]string, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list project principals", scanString,
		`SELECT DISTINCT principal_id FROM role_assignments
		WHERE group_id = $1 AND group_id <> '' AND principal_kind = $2
		ORDER BY principal_id LIMIT $3 OFFSET $4`, groupID, kind.String(), limit, offset)
}

// CountProjectPrincipals implements store.Tx.
func (t *tx) CountProjectPrincipals(ctx context.Context, groupID string, kind atlasx509.PrincipalKind) (int, error) {
	return t.count(ctx, "count project principals",
		`SELECT count(DISTINCT principal_id) FROM role_assignments
		WHERE group_id = $1 AND group_id <> '' AND principal_kind = $2`, groupID, kind.String())
}

// ListPrincipalProjects implements store.Tx.
func (t *tx) ListPrincipalProjects(ctx context.Context, principalID, orgID string, page store.Page) ([]string, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list principal projects", scanString,
		`SELECT DISTINCT group_id FROM role_assignments
		WHERE principal_id = $1 AND org_id = $2 AND group_id <> ''
		ORDER BY group_id LIMIT $3 OFFSET $4`, principalID, orgID, limit, offset)
}

// CountPrincipalProjects implements store.Tx.
func (t *tx) CountPrincipalProjects(ctx context.Context, principalID, orgID string) (int, error) {
	return t.count(ctx, "count principal projects",
		`SELECT count(DISTINCT group_id) FROM role_assignments
		WHERE principal_id = $1 AND org_id = $2 AND group_id <> ''`, principalID, orgID)
}

// DeleteRoleAssignments implements store.Tx.
func (t *tx) DeleteRoleAssignments(ctx context.Context, principalID, orgID, groupID string) (int, error) {
	return t.exec(ctx, "delete role assignments",
		`DELETE FROM role_assignments WHERE principal_id = $1 AND org_id = $2 AND group_id = $3`,
		principalID, orgID, groupID)
}

// DeletePrincipalRoleAssignments implements store.Tx.
func (t *tx) DeletePrincipalRoleAssignments(ctx context.Context, principalID string) (int, error) {
	return t.exec(ctx, "delete principal role assignments",
		`DELETE FROM role_assignments WHERE principal_id = $1`, principalID)
}

// InsertAccessListEntry implements store.Tx.
func (t *tx) InsertAccessListEntry(ctx context.Context, e atlasx509.AccessListEntry) error {
	_, err := t.exec(ctx, "insert access list entry",
		`INSERT INTO access_list_entries (principal_id, cidr, comment, created) VALUES ($1, $2, $3, $4)`,
		e.PrincipalID, e.CIDR, e.Comment, ts(e.Created))
	return err
}

// ListAccessListEntries implements store.Tx, oldest first (by Created, then
// CIDR).
func (t *tx) ListAccessListEntries(ctx context.Context, principalID string) ([]atlasx509.AccessListEntry, error) {
	return list(ctx, t, "list access list entries", func(r scanner) (atlasx509.AccessListEntry, error) {
		var e atlasx509.AccessListEntry
		err := r.Scan(&e.PrincipalID, &e.CIDR, &e.Comment, &e.Created, &e.UseCount, &e.LastUsed, &e.LastUsedAddress)
		return e, err
	}, `SELECT principal_id, cidr, comment, created, use_count, last_used, last_used_address
		FROM access_list_entries WHERE principal_id = $1 ORDER BY created, cidr`, principalID)
}

// RecordAccessListUse implements store.Tx. SET expressions see the row as
// it was before the update.
func (t *tx) RecordAccessListUse(ctx context.Context, principalID, cidr string, count int64, at time.Time, address string) error {
	return t.execOne(ctx, "record access list use",
		`UPDATE access_list_entries SET use_count = use_count + $1,
		last_used_address = CASE WHEN last_used IS NULL OR last_used < $2 THEN $3 ELSE last_used_address END,
		last_used = CASE WHEN last_used IS NULL OR last_used < $2 THEN $2 ELSE last_used END
		WHERE principal_id = $4 AND cidr = $5`,
		count, ts(at), address, principalID, cidr)
}

// DeleteAccessListEntry implements store.Tx.
func (t *tx) DeleteAccessListEntry(ctx context.Context, principalID, cidr string) error {
	return t.execOne(ctx, "delete access list entry",
		`DELETE FROM access_list_entries WHERE principal_id = $1 AND cidr = $2`, principalID, cidr)
}

// DeleteAccessList implements store.Tx.
func (t *tx) DeleteAccessList(ctx context.Context, principalID string) (int, error) {
	return t.exec(ctx, "delete access list",
		`DELETE FROM access_list_entries WHERE principal_id = $1`, principalID)
}

// InsertOAuthToken implements store.Tx.
func (t *tx) InsertOAuthToken(ctx context.Context, o atlasx509.OAuthToken) error {
	_, err := t.exec(ctx, "insert OAuth token",
		`INSERT INTO oauth_tokens (id, client_id, expires_at, created, revoked) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.ClientID, ts(o.ExpiresAt), ts(o.Created), o.Revoked)
	return err
}

// GetOAuthToken implements store.Tx.
func (t *tx) GetOAuthToken(ctx context.Context, id string) (atlasx509.OAuthToken, error) {
	return get(ctx, t, "get OAuth token", func(r scanner) (atlasx509.OAuthToken, error) {
		var o atlasx509.OAuthToken
		err := r.Scan(&o.ID, &o.ClientID, &o.ExpiresAt, &o.Created, &o.Revoked)
		return o, err
	}, `SELECT id, client_id, expires_at, created, revoked FROM oauth_tokens WHERE id = $1`, id)
}

// AuthGeneration implements store.Tx: the migration 00013 triggers keep it.
func (t *tx) AuthGeneration(ctx context.Context) (int64, error) {
	return get(ctx, t, "read the credentials generation", func(r scanner) (int64, error) {
		var n int64
		err := r.Scan(&n)
		return n, err
	}, `SELECT n FROM auth_generation WHERE id = 1`)
}

// RevokeOAuthToken implements store.Tx. Revoking a revoked token succeeds.
func (t *tx) RevokeOAuthToken(ctx context.Context, id string) error {
	return t.execOne(ctx, "revoke OAuth token",
		`UPDATE oauth_tokens SET revoked = true WHERE id = $1`, id)
}

// DeleteOAuthTokensExpiredBefore implements store.Tx: it deletes the
// records whose ExpiresAt is strictly before before.
func (t *tx) DeleteOAuthTokensExpiredBefore(ctx context.Context, before time.Time) (int, error) {
	return t.exec(ctx, "delete expired OAuth tokens",
		`DELETE FROM oauth_tokens WHERE expires_at < $1`, tsCeil(before))
}

// CountOAuthTokens implements store.Tx.
func (t *tx) CountOAuthTokens(ctx context.Context, clientID string, after time.Time) (int, error) {
	return t.count(ctx, "count OAuth tokens",
		`SELECT count(*) FROM oauth_tokens WHERE client_id = $1 AND expires_at > $2`, clientID, ts(after))
}

// DeleteOAuthTokens implements store.Tx.
func (t *tx) DeleteOAuthTokens(ctx context.Context, clientID string) (int, error) {
	return t.exec(ctx, "delete OAuth tokens",
		`DELETE FROM oauth_tokens WHERE client_id = $1`, clientID)
}
