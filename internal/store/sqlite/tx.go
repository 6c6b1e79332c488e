package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// tx implements store.Tx on one database/sql transaction.
type tx struct {
	tx *sql.Tx
	// update marks the Tx that Update hands to an fn, in a transaction
	// that other Updates share (see commit.go); done is set once fn has
	// returned.
	update bool
	done   atomic.Bool
}

// errTxDone is the error of a statement through an Update's Tx after its fn
// has returned.
var errTxDone = fmt.Errorf("used after its update function returned: %w", sql.ErrTxDone)

// stmtCtx returns the context to run a statement with, given the one fn
// passed, or the error that refuses the statement. In an Update, a
// statement must not be interrupted once it runs (SQLite would roll back
// the whole transaction, which other Updates share): ctx is checked first,
// and the statement runs under a context that does not end.
func (t *tx) stmtCtx(ctx context.Context) (context.Context, error) {
	if !t.update {
		return ctx, nil
	}
	if t.done.Load() {
		return nil, errTxDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

var _ store.Tx = (*tx)(nil)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// exec runs a statement and maps its error.
func (t *tx) exec(ctx context.Context, op, query string, args ...any) (sql.Result, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, mapErr(op, err)
	}
	res, err := t.tx.ExecContext(ctx, query, args...)
	return res, mapErr(op, err)
}

// execOne runs a statement that must affect exactly one row: none is
// ErrNotFound.
func (t *tx) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := t.exec(ctx, op, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// execCount runs a statement and returns how many rows it affected (rows
// deleted by a foreign key cascade not included).
func (t *tx) execCount(ctx context.Context, op, query string, args ...any) (int, error) {
	res, err := t.exec(ctx, op, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(op, err)
	}
	return int(n), nil
}

// count runs a SELECT count(*).
func (t *tx) count(ctx context.Context, op, query string, args ...any) (int, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return 0, mapErr(op, err)
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, mapErr(op, err)
	}
	return n, nil
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, t *tx, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, mapErr(op, err)
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}

// get runs a query returning at most one row; none is ErrNotFound.
func get[T any](ctx context.Context, t *tx, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var zero T
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return zero, mapErr(op, err)
	}
	v, err := scan(t.tx.QueryRowContext(ctx, query, args...))
	if err != nil {
		return zero, mapErr(op, err)
	}
	return v, nil
}

// limitOffset turns a page into LIMIT and OFFSET values (-1: no limit).
func limitOffset(p store.Page) (limit, offset int, err error) {
	if p.Limit < 0 || p.Offset < 0 {
		return 0, 0, fmt.Errorf("sqlite: invalid page %+v", p)
	}
	if p.Limit == 0 {
		return -1, p.Offset, nil
	}
	return p.Limit, p.Offset, nil
}

// jsonStrings is a list of strings as a JSON array query argument, for
// "IN (SELECT value FROM json_each(?))".
func jsonStrings(s []string) (string, error) {
	b, err := json.Marshal(nonNil(s))
	return string(b), err
}

// GetSetting implements store.Tx.
func (t *tx) GetSetting(ctx context.Context, name string) ([]byte, error) {
	return get(ctx, t, "get setting", func(r scanner) ([]byte, error) {
		var v []byte
		err := r.Scan(blobScan{&v})
		return v, err
	}, `SELECT value FROM settings WHERE name = ?`, name)
}

// InsertSetting implements store.Tx.
func (t *tx) InsertSetting(ctx context.Context, name string, value []byte) error {
	_, err := t.exec(ctx, "insert setting",
		`INSERT INTO settings (name, value) VALUES (?, ?)`, name, blobArg(value))
	return err
}

// InsertOrganization implements store.Tx.
func (t *tx) InsertOrganization(ctx context.Context, o atlasx509.Organization) error {
	_, err := t.exec(ctx, "insert organization",
		`INSERT INTO organizations (id, name, created, skip_default_alerts_settings) VALUES (?, ?, ?, ?)`,
		o.ID, o.Name, timeArg(o.Created), boolArg(o.SkipDefaultAlertsSettings))
	return err
}

// UpdateOrganization implements store.Tx.
func (t *tx) UpdateOrganization(ctx context.Context, o atlasx509.Organization) error {
	return t.execOne(ctx, "update organization",
		`UPDATE organizations SET name = ?, skip_default_alerts_settings = ? WHERE id = ?`,
		o.Name, boolArg(o.SkipDefaultAlertsSettings), o.ID)
}

// GetOrganization implements store.Tx.
func (t *tx) GetOrganization(ctx context.Context, id string) (atlasx509.Organization, error) {
	return get(ctx, t, "get organization", func(r scanner) (atlasx509.Organization, error) {
		var o atlasx509.Organization
		var skip int64
		err := r.Scan(&o.ID, &o.Name, timeScan{&o.Created}, &skip)
		o.SkipDefaultAlertsSettings = skip != 0
		return o, err
	}, `SELECT id, name, created, skip_default_alerts_settings FROM organizations WHERE id = ?`, id)
}

const projectColumns = `id, org_id, name, created, customer_x509_cas, leaf_key_type,
	with_default_alerts_settings, tags, settings, limits, customer_x509_crls`

func scanProject(r scanner) (atlasx509.Project, error) {
	var p atlasx509.Project
	var alerts int64
	err := r.Scan(&p.ID, &p.OrgID, &p.Name, timeScan{&p.Created}, &p.CustomerX509CAs, &p.LeafKeyType,
		&alerts, jsonScan{&p.Tags}, jsonScan{&p.Settings}, jsonScan{&p.Limits}, &p.CustomerX509CRLs)
	p.WithDefaultAlertsSettings = alerts != 0
	p.Tags, p.Settings, p.Limits = emptyNil(p.Tags), emptyNilMap(p.Settings), emptyNilMap(p.Limits)
	return p, err
}

// projectDocs encodes the JSON columns of p.
func projectDocs(p atlasx509.Project) (tags, settings, limits string, err error) {
	if tags, err = jsonText(nonNil(p.Tags)); err != nil {
		return "", "", "", err
	}
	if settings, err = jsonText(nonNilMap(p.Settings)); err != nil {
		return "", "", "", err
	}
	limits, err = jsonText(nonNilMap(p.Limits))
	return tags, settings, limits, err
}

// InsertProject implements store.Tx.
func (t *tx) InsertProject(ctx context.Context, p atlasx509.Project) error {
	tags, settings, limits, err := projectDocs(p)
	if err != nil {
		return fmt.Errorf("sqlite: insert project: %w", err)
	}
	_, err = t.exec(ctx, "insert project",
		`INSERT INTO projects (`+projectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrgID, p.Name, timeArg(p.Created), p.CustomerX509CAs, p.LeafKeyType,
		boolArg(p.WithDefaultAlertsSettings), tags, settings, limits, p.CustomerX509CRLs)
	return err
}

// GetProject implements store.Tx.
func (t *tx) GetProject(ctx context.Context, id string) (atlasx509.Project, error) {
	return get(ctx, t, "get project", scanProject,
		`SELECT `+projectColumns+` FROM projects WHERE id = ?`, id)
}

// projectFilterWhere is the WHERE clause of a store.ProjectFilter; its two
// arguments are the JSON arrays that projectFilterArgs returns.
const projectFilterWhere = `WHERE org_id IN (SELECT value FROM json_each(?))
	OR id IN (SELECT value FROM json_each(?))`

func projectFilterArgs(f store.ProjectFilter) (orgs, groups string, err error) {
	if orgs, err = jsonStrings(f.OrgIDs); err != nil {
		return "", "", err
	}
	if groups, err = jsonStrings(f.GroupIDs); err != nil {
		return "", "", err
	}
	return orgs, groups, nil
}

// ListProjects implements store.Tx.
func (t *tx) ListProjects(ctx context.Context, f store.ProjectFilter, page store.Page) ([]atlasx509.Project, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	orgs, groups, err := projectFilterArgs(f)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list projects", scanProject,
		`SELECT `+projectColumns+` FROM projects `+projectFilterWhere+`
		ORDER BY created, id LIMIT ? OFFSET ?`, orgs, groups, limit, offset)
}

// CountProjects implements store.Tx.
func (t *tx) CountProjects(ctx context.Context, f store.ProjectFilter) (int, error) {
	orgs, groups, err := projectFilterArgs(f)
	if err != nil {
		return 0, err
	}
	return t.count(ctx, "count projects",
		`SELECT count(*) FROM projects `+projectFilterWhere, orgs, groups)
}

// UpdateProject implements store.Tx.
func (t *tx) UpdateProject(ctx context.Context, p atlasx509.Project) error {
	tags, settings, limits, err := projectDocs(p)
	if err != nil {
		return fmt.Errorf("sqlite: update project: %w", err)
	}
	return t.execOne(ctx, "update project",
		`UPDATE projects SET name = ?, customer_x509_cas = ?, leaf_key_type = ?,
		with_default_alerts_settings = ?, tags = ?, settings = ?, limits = ?, customer_x509_crls = ? WHERE id = ?`,
		p.Name, p.CustomerX509CAs, p.LeafKeyType,
		boolArg(p.WithDefaultAlertsSettings), tags, settings, limits, p.CustomerX509CRLs, p.ID)
}

// DeleteProject implements store.Tx. Users, CAs, certificate records and
// CRLs go by foreign key cascade; project role assignments are deleted here.
func (t *tx) DeleteProject(ctx context.Context, id string) error {
	if err := t.execOne(ctx, "delete project", `DELETE FROM projects WHERE id = ?`, id); err != nil {
		return err
	}
	_, err := t.exec(ctx, "delete project role assignments",
		`DELETE FROM role_assignments WHERE group_id = ? AND group_id <> ''`, id)
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
		nullTimeScan{&u.DeleteAfterDate}, &u.SCRAMCredential,
		timeScan{&u.Created}, timeScan{&u.Updated})
	u.Roles, u.Scopes, u.Labels = nonNil(u.Roles), nonNil(u.Scopes), nonNil(u.Labels)
	return u, err
}

// InsertDatabaseUser implements store.Tx.
func (t *tx) InsertDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error {
	_, err := t.exec(ctx, "insert database user",
		`INSERT INTO database_users (`+userColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.GroupID, u.Username, u.DatabaseName,
		jsonArg{nonNil(u.Roles)}, jsonArg{nonNil(u.Scopes)}, jsonArg{nonNil(u.Labels)},
		u.X509Type, u.AWSIAMType, u.LDAPAuthType, u.OIDCAuthType, u.Description,
		nullTimeArg{u.DeleteAfterDate}, u.SCRAMCredential,
		timeArg(u.Created), timeArg(u.Updated))
	return err
}

// GetDatabaseUser implements store.Tx.
func (t *tx) GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (atlasx509.DatabaseUser, error) {
	return get(ctx, t, "get database user", scanUser,
		`SELECT `+userColumns+` FROM database_users
		WHERE group_id = ? AND username = ? AND database_name = ?`,
		groupID, username, databaseName)
}

// FindDatabaseUser implements store.Tx.
func (t *tx) FindDatabaseUser(ctx context.Context, groupID, username string) (atlasx509.DatabaseUser, error) {
	return get(ctx, t, "find database user", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE group_id = ? AND username = ?`,
		groupID, username)
}

// ListDatabaseUsers implements store.Tx.
func (t *tx) ListDatabaseUsers(ctx context.Context, groupID string, page store.Page) ([]atlasx509.DatabaseUser, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list database users", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE group_id = ?
		ORDER BY username LIMIT ? OFFSET ?`, groupID, limit, offset)
}

// CountDatabaseUsers implements store.Tx.
func (t *tx) CountDatabaseUsers(ctx context.Context, groupID string) (int, error) {
	return t.count(ctx, "count database users",
		`SELECT count(*) FROM database_users WHERE group_id = ?`, groupID)
}

// UpdateDatabaseUser implements store.Tx. Every column but the key is
// replaced, Created included.
func (t *tx) UpdateDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error {
	return t.execOne(ctx, "update database user",
		`UPDATE database_users SET roles = ?, scopes = ?, labels = ?,
			x509_type = ?, aws_iam_type = ?, ldap_auth_type = ?, oidc_auth_type = ?,
			description = ?, delete_after_date = ?, scram_credential = ?,
			created = ?, updated = ?
		WHERE group_id = ? AND username = ? AND database_name = ?`,
		jsonArg{nonNil(u.Roles)}, jsonArg{nonNil(u.Scopes)}, jsonArg{nonNil(u.Labels)},
		u.X509Type, u.AWSIAMType, u.LDAPAuthType, u.OIDCAuthType,
		u.Description, nullTimeArg{u.DeleteAfterDate}, u.SCRAMCredential,
		timeArg(u.Created), timeArg(u.Updated),
		u.GroupID, u.Username, u.DatabaseName)
}

// InsertAPIKey implements store.Tx.
func (t *tx) InsertAPIKey(ctx context.Context, k atlasx509.APIKey) error {
	_, err := t.exec(ctx, "insert API key",
		`INSERT INTO api_keys (id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.PublicKey, k.Description,
		blobArg(k.SealedHA1MD5), blobArg(k.SealedHA1SHA256), timeArg(k.Created))
	return err
}

const apiKeyColumns = `id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created`

func scanAPIKey(r scanner) (atlasx509.APIKey, error) {
	var k atlasx509.APIKey
	err := r.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.Description,
		blobScan{&k.SealedHA1MD5}, blobScan{&k.SealedHA1SHA256}, timeScan{&k.Created})
	return k, err
}

// GetAPIKey implements store.Tx.
func (t *tx) GetAPIKey(ctx context.Context, id string) (atlasx509.APIKey, error) {
	return get(ctx, t, "get API key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id)
}

// GetAPIKeyByPublicKey implements store.Tx.
func (t *tx) GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (atlasx509.APIKey, error) {
	return get(ctx, t, "get API key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE public_key = ?`, publicKey)
}

// ListAPIKeys implements store.Tx, oldest first (by Created, then ID).
func (t *tx) ListAPIKeys(ctx context.Context, orgID string, page store.Page) ([]atlasx509.APIKey, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list API keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = ?
		ORDER BY created, id LIMIT ? OFFSET ?`, orgID, limit, offset)
}

// CountAPIKeys implements store.Tx.
func (t *tx) CountAPIKeys(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, "count API keys",
		`SELECT count(*) FROM api_keys WHERE org_id = ?`, orgID)
}

// UpdateAPIKey implements store.Tx: only the description is written.
func (t *tx) UpdateAPIKey(ctx context.Context, k atlasx509.APIKey) error {
	return t.execOne(ctx, "update API key",
		`UPDATE api_keys SET description = ? WHERE id = ?`, k.Description, k.ID)
}

// DeleteAPIKey implements store.Tx: the key's row only.
func (t *tx) DeleteAPIKey(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete API key", `DELETE FROM api_keys WHERE id = ?`, id)
}

// InsertServiceAccount implements store.Tx.
func (t *tx) InsertServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error {
	_, err := t.exec(ctx, "insert service account",
		`INSERT INTO service_accounts (client_id, org_id, name, description, created)
		VALUES (?, ?, ?, ?, ?)`,
		sa.ClientID, sa.OrgID, sa.Name, sa.Description, timeArg(sa.Created))
	return err
}

const serviceAccountColumns = `client_id, org_id, name, description, created`

func scanServiceAccount(r scanner) (atlasx509.ServiceAccount, error) {
	var sa atlasx509.ServiceAccount
	err := r.Scan(&sa.ClientID, &sa.OrgID, &sa.Name, &sa.Description, timeScan{&sa.Created})
	return sa, err
}

// GetServiceAccount implements store.Tx.
func (t *tx) GetServiceAccount(ctx context.Context, clientID string) (atlasx509.ServiceAccount, error) {
	return get(ctx, t, "get service account", scanServiceAccount,
		`SELECT `+serviceAccountColumns+` FROM service_accounts WHERE client_id = ?`, clientID)
}

// ListServiceAccounts implements store.Tx, oldest first (by Created, then
// ClientID).
func (t *tx) ListServiceAccounts(ctx context.Context, orgID string, page store.Page) ([]atlasx509.ServiceAccount, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list service accounts", scanServiceAccount,
		`SELECT `+serviceAccountColumns+` FROM service_accounts WHERE org_id = ?
		ORDER BY created, client_id LIMIT ? OFFSET ?`, orgID, limit, offset)
}

// CountServiceAccounts implements store.Tx.
func (t *tx) CountServiceAccounts(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, "count service accounts",
		`SELECT count(*) FROM service_accounts WHERE org_id = ?`, orgID)
}

// UpdateServiceAccount implements store.Tx: only the name and description
// are written.
func (t *tx) UpdateServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error {
	return t.execOne(ctx, "update service account",
		`UPDATE service_accounts SET name = ?, description = ? WHERE client_id = ?`,
		sa.Name, sa.Description, sa.ClientID)
}

// DeleteServiceAccount implements store.Tx: the account's row only. The
// foreign keys of secrets and token records still cascade, as a safety
// net; app deletes them first.
func (t *tx) DeleteServiceAccount(ctx context.Context, clientID string) error {
	return t.execOne(ctx, "delete service account",
		`DELETE FROM service_accounts WHERE client_id = ?`, clientID)
}

// InsertServiceAccountSecret implements store.Tx.
func (t *tx) InsertServiceAccountSecret(ctx context.Context, s atlasx509.ServiceAccountSecret) error {
	_, err := t.exec(ctx, "insert service account secret",
		`INSERT INTO service_account_secrets (id, client_id, hash, expires_at, created)
		VALUES (?, ?, ?, ?, ?)`,
		s.ID, s.ClientID, blobArg(s.Hash), timeArg(s.ExpiresAt), timeArg(s.Created))
	return err
}

// ListServiceAccountSecrets implements store.Tx, oldest first (by Created,
// then ID).
func (t *tx) ListServiceAccountSecrets(ctx context.Context, clientID string) ([]atlasx509.ServiceAccountSecret, error) {
	return list(ctx, t, "list service account secrets", func(r scanner) (atlasx509.ServiceAccountSecret, error) {
		var s atlasx509.ServiceAccountSecret
		err := r.Scan(&s.ID, &s.ClientID, blobScan{&s.Hash}, timeScan{&s.ExpiresAt}, timeScan{&s.Created})
		return s, err
	}, `SELECT id, client_id, hash, expires_at, created
		FROM service_account_secrets WHERE client_id = ? ORDER BY created, id`, clientID)
}

// DeleteServiceAccountSecret implements store.Tx; ErrNotFound unless the
// secret exists and belongs to clientID.
func (t *tx) DeleteServiceAccountSecret(ctx context.Context, clientID, secretID string) error {
	return t.execOne(ctx, "delete service account secret",
		`DELETE FROM service_account_secrets WHERE id = ? AND client_id = ?`, secretID, clientID)
}

// DeleteServiceAccountSecrets implements store.Tx.
func (t *tx) DeleteServiceAccountSecrets(ctx context.Context, clientID string) (int, error) {
	return t.execCount(ctx, "delete service account secrets",
		`DELETE FROM service_account_secrets WHERE client_id = ?`, clientID)
}

// InsertRoleAssignment implements store.Tx; ErrConflict if the principal
// already holds that role there.
func (t *tx) InsertRoleAssignment(ctx context.Context, ra atlasx509.RoleAssignment) error {
	kind := ra.PrincipalKind.String()
	if kind == "" {
		return fmt.Errorf("insert role assignment: unknown principal kind %d", ra.PrincipalKind)
	}
	_, err := t.exec(ctx, "insert role assignment",
		`INSERT INTO role_assignments (principal_id, principal_kind, org_id, group_id, role) VALUES (?, ?, ?, ?, ?)`,
		ra.PrincipalID, kind, ra.OrgID, ra.GroupID, string(ra.Role))
	return err
}

func scanRoleAssignment(r scanner) (atlasx509.RoleAssignment, error) {
	var ra atlasx509.RoleAssignment
	var kind string
	err := r.Scan(&ra.PrincipalID, &kind, &ra.OrgID, &ra.GroupID, &ra.Role)
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
		WHERE principal_id = ? ORDER BY org_id, group_id, role`, principalID)
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
		WHERE group_id = ? AND group_id <> '' AND principal_kind = ?
		ORDER BY principal_id LIMIT ? OFFSET ?`, groupID, kind.String(), limit, offset)
}

// CountProjectPrincipals implements store.Tx.
func (t *tx) CountProjectPrincipals(ctx context.Context, groupID string, kind atlasx509.PrincipalKind) (int, error) {
	return t.count(ctx, "count project principals",
		`SELECT count(DISTINCT principal_id) FROM role_assignments
		WHERE group_id = ? AND group_id <> '' AND principal_kind = ?`, groupID, kind.String())
}

// ListPrincipalProjects implements store.Tx.
func (t *tx) ListPrincipalProjects(ctx context.Context, principalID, orgID string, page store.Page) ([]string, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list principal projects", scanString,
		`SELECT DISTINCT group_id FROM role_assignments
		WHERE principal_id = ? AND org_id = ? AND group_id <> ''
		ORDER BY group_id LIMIT ? OFFSET ?`, principalID, orgID, limit, offset)
}

// CountPrincipalProjects implements store.Tx.
func (t *tx) CountPrincipalProjects(ctx context.Context, principalID, orgID string) (int, error) {
	return t.count(ctx, "count principal projects",
		`SELECT count(DISTINCT group_id) FROM role_assignments
		WHERE principal_id = ? AND org_id = ? AND group_id <> ''`, principalID, orgID)
}

// DeleteRoleAssignments implements store.Tx.
func (t *tx) DeleteRoleAssignments(ctx context.Context, principalID, orgID, groupID string) (int, error) {
	return t.execCount(ctx, "delete role assignments",
		`DELETE FROM role_assignments WHERE principal_id = ? AND org_id = ? AND group_id = ?`,
		principalID, orgID, groupID)
}

// DeletePrincipalRoleAssignments implements store.Tx.
func (t *tx) DeletePrincipalRoleAssignments(ctx context.Context, principalID string) (int, error) {
	return t.execCount(ctx, "delete principal role assignments",
		`DELETE FROM role_assignments WHERE principal_id = ?`, principalID)
}

// InsertAccessListEntry implements store.Tx.
func (t *tx) InsertAccessListEntry(ctx context.Context, e atlasx509.AccessListEntry) error {
	_, err := t.exec(ctx, "insert access list entry",
		`INSERT INTO access_list_entries (principal_id, cidr, comment, created) VALUES (?, ?, ?, ?)`,
		e.PrincipalID, e.CIDR, e.Comment, timeArg(e.Created))
	return err
}

// ListAccessListEntries implements store.Tx, oldest first (by Created, then
// CIDR).
func (t *tx) ListAccessListEntries(ctx context.Context, principalID string) ([]atlasx509.AccessListEntry, error) {
	return list(ctx, t, "list access list entries", func(r scanner) (atlasx509.AccessListEntry, error) {
		var e atlasx509.AccessListEntry
		err := r.Scan(&e.PrincipalID, &e.CIDR, &e.Comment, timeScan{&e.Created},
			&e.UseCount, nullTimeScan{&e.LastUsed}, &e.LastUsedAddress)
		return e, err
	}, `SELECT principal_id, cidr, comment, created, use_count, last_used, last_used_address
		FROM access_list_entries WHERE principal_id = ? ORDER BY created, cidr`, principalID)
}

// RecordAccessListUse implements store.Tx. SET expressions see the row as
// it was before the update.
func (t *tx) RecordAccessListUse(ctx context.Context, principalID, cidr string, count int64, at time.Time, address string) error {
	return t.execOne(ctx, "record access list use",
		`UPDATE access_list_entries SET use_count = use_count + ?,
		last_used_address = CASE WHEN last_used IS NULL OR last_used < ? THEN ? ELSE last_used_address END,
		last_used = CASE WHEN last_used IS NULL OR last_used < ? THEN ? ELSE last_used END
		WHERE principal_id = ? AND cidr = ?`,
		count, timeArg(at), address, timeArg(at), timeArg(at), principalID, cidr)
}

// DeleteAccessListEntry implements store.Tx.
func (t *tx) DeleteAccessListEntry(ctx context.Context, principalID, cidr string) error {
	return t.execOne(ctx, "delete access list entry",
		`DELETE FROM access_list_entries WHERE principal_id = ? AND cidr = ?`, principalID, cidr)
}

// DeleteAccessList implements store.Tx.
func (t *tx) DeleteAccessList(ctx context.Context, principalID string) (int, error) {
	return t.execCount(ctx, "delete access list",
		`DELETE FROM access_list_entries WHERE principal_id = ?`, principalID)
}

// InsertOAuthToken implements store.Tx.
func (t *tx) InsertOAuthToken(ctx context.Context, o atlasx509.OAuthToken) error {
	_, err := t.exec(ctx, "insert OAuth token",
		`INSERT INTO oauth_tokens (id, client_id, expires_at, created, revoked) VALUES (?, ?, ?, ?, ?)`,
		o.ID, o.ClientID, timeArg(o.ExpiresAt), timeArg(o.Created), boolArg(o.Revoked))
	return err
}

// GetOAuthToken implements store.Tx.
func (t *tx) GetOAuthToken(ctx context.Context, id string) (atlasx509.OAuthToken, error) {
	return get(ctx, t, "get OAuth token", func(r scanner) (atlasx509.OAuthToken, error) {
		var o atlasx509.OAuthToken
		var revoked int64
		err := r.Scan(&o.ID, &o.ClientID, timeScan{&o.ExpiresAt}, timeScan{&o.Created}, &revoked)
		o.Revoked = revoked != 0
		return o, err
	}, `SELECT id, client_id, expires_at, created, revoked FROM oauth_tokens WHERE id = ?`, id)
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
		`UPDATE oauth_tokens SET revoked = 1 WHERE id = ?`, id)
}

// DeleteOAuthTokensExpiredBefore implements store.Tx: it deletes the
// records whose ExpiresAt is strictly before before.
func (t *tx) DeleteOAuthTokensExpiredBefore(ctx context.Context, before time.Time) (int, error) {
	return t.execCount(ctx, "delete expired OAuth tokens",
		`DELETE FROM oauth_tokens WHERE expires_at < ?`, timeArg(before))
}

// CountOAuthTokens implements store.Tx.
func (t *tx) CountOAuthTokens(ctx context.Context, clientID string, after time.Time) (int, error) {
	return t.count(ctx, "count OAuth tokens",
		`SELECT count(*) FROM oauth_tokens WHERE client_id = ? AND expires_at > ?`, clientID, timeArg(after))
}

// DeleteOAuthTokens implements store.Tx.
func (t *tx) DeleteOAuthTokens(ctx context.Context, clientID string) (int, error) {
	return t.execCount(ctx, "delete OAuth tokens",
		`DELETE FROM oauth_tokens WHERE client_id = ?`, clientID)
}
