package sqlite

import (
	"database/sql"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// migrationNames returns the names of the embedded migrations, in order.
func migrationNames(t testing.TB) []string {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// lastMigration is the version of the newest embedded migration: the
// number its name starts with. Numbers may have gaps (some are reserved
// for work that has not landed), so it may exceed their count.
func lastMigration(t testing.TB) int64 {
	t.Helper()
	names := migrationNames(t)
	v, err := strconv.ParseInt(strings.SplitN(path.Base(names[len(names)-1]), "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatalf("migration %s: %v", names[len(names)-1], err)
	}
	return v
}

// gooseProvider returns a goose provider of the embedded migrations on db.
func gooseProvider(t *testing.T, db *sql.DB) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// openVersion creates a database file migrated up to version only, as an
// older release left it, and returns its path and a writer pool on it.
func openVersion(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := gooseProvider(t, db).UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrate up to %d: %v", version, err)
	}
	return path, db
}

// TestMigrationFrom1 opens a file written by the first schema: its rows
// survive, projects get the new columns' defaults, and the new methods work
// on them.
func TestMigrationFrom1(t *testing.T) {
	ctx := t.Context()
	path, db := openVersion(t, 1)
	created := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	deleteAfter := created.Add(time.Hour)
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO organizations (id, name, created) VALUES ('o1', 'org', ?)`, []any{timeArg(created)}},
		{`INSERT INTO projects (id, org_id, name, created) VALUES ('p1', 'o1', 'project', ?)`, []any{timeArg(created)}},
		{`INSERT INTO database_users (group_id, username, database_name, x509_type, aws_iam_type,
			ldap_auth_type, oidc_auth_type, description, delete_after_date, scram_credential, created, updated)
			VALUES ('p1', 'temp', 'admin', 'NONE', 'NONE', 'NONE', 'NONE', '', ?, '', ?, ?)`,
			[]any{timeArg(deleteAfter), timeArg(created), timeArg(created)}},
		{`INSERT INTO api_keys (id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created)
			VALUES ('k1', 'o1', 'pub', 'key', x'00', x'00', ?)`, []any{timeArg(created)}},
		{`INSERT INTO service_accounts (client_id, org_id, name, description, created)
			VALUES ('s1', 'o1', 'sa', '', ?)`, []any{timeArg(created)}},
		{`INSERT INTO role_assignments (principal_id, org_id, group_id, role) VALUES ('k1', 'o1', 'p1', 'GROUP_OWNER')`, nil},
		{`INSERT INTO role_assignments (principal_id, org_id, group_id, role) VALUES ('k1', 'o1', '', 'ORG_OWNER')`, nil},
		{`INSERT INTO role_assignments (principal_id, org_id, group_id, role) VALUES ('s1', 'o1', 'p1', 'GROUP_READ_ONLY')`, nil},
		// A role of no credential grants nothing: the migration drops it.
		{`INSERT INTO role_assignments (principal_id, org_id, group_id, role) VALUES ('gone', 'o1', 'p1', 'GROUP_OWNER')`, nil},
	} {
		if _, err := db.ExecContext(ctx, q.query, q.args...); err != nil {
			t.Fatalf("%s: %v", q.query, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	defer s.Close()
	storetest.CheckMigratedFromVersion1(t, s, created, deleteAfter)
}

// TestMigrationsDown checks that every Down section runs and undoes its Up:
// down to nothing, then up again.
func TestMigrationsDown(t *testing.T) {
	ctx := t.Context()
	_, db := openVersion(t, lastMigration(t))
	p := gooseProvider(t, db)
	schema := func() string {
		rows, err := db.QueryContext(ctx, `SELECT type, name, coalesce(sql, '') FROM sqlite_schema
			WHERE name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY type, name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name, sql string
			if err := rows.Scan(&typ, &name, &sql); err != nil {
				t.Fatal(err)
			}
			b.WriteString(typ + " " + name + ": " + sql + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for v := len(migrationNames(t)); v >= 1; v-- {
		before := schema()
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
		if _, err := p.UpByOne(ctx); err != nil {
			t.Fatalf("up to %d again: %v", v, err)
		}
		if after := schema(); after != before {
			t.Errorf("schema at %d after down and up differs:\n%s\nwant:\n%s", v, after, before)
		}
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
	}
	if s := schema(); s != "" {
		t.Errorf("schema left after migrating down to 0:\n%s", s)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// TestQueryPlans checks that the queries the new indexes are for use them.
func TestQueryPlans(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	tests := []struct {
		query string
		args  []any
		index string
	}{
		{`DELETE FROM database_users WHERE delete_after_date <= ?`, []any{"2025"}, "database_users_delete_after_date"},
		{`SELECT DISTINCT principal_id FROM role_assignments
			WHERE group_id = ? AND group_id <> '' AND principal_kind = ?
			ORDER BY principal_id LIMIT ? OFFSET ?`, []any{"p", "apiKey", -1, 0}, "COVERING INDEX role_assignments_group_kind"},
		{`SELECT count(DISTINCT principal_id) FROM role_assignments
			WHERE group_id = ? AND group_id <> '' AND principal_kind = ?`, []any{"p", "apiKey"}, "COVERING INDEX role_assignments_group_kind"},
		{`SELECT DISTINCT group_id FROM role_assignments
			WHERE principal_id = ? AND org_id = ? AND group_id <> ''
			ORDER BY group_id LIMIT ? OFFSET ?`, []any{"k", "o", -1, 0}, "sqlite_autoindex_role_assignments_1"},
		{`DELETE FROM role_assignments WHERE group_id = ? AND group_id <> ''`, []any{"p"}, "role_assignments_group_kind"},
		{`SELECT ` + certificateColumns + ` FROM certificates
			WHERE group_id = ? AND ca_generation = ? AND revoked_at IS NOT NULL AND not_after > ?
			ORDER BY serial`, []any{"p", 1, "2025"}, "certificates_ca_revoked"},
		{`DELETE FROM certificates WHERE user_deleted = 1 AND not_after <= ?`, []any{"2025"}, "certificates_deleted_users"},
		// Events: 00013 dropped events_type and made events_org_created partial.
		{`SELECT ` + eventColumns + ` FROM events WHERE org_id = ? AND org_id <> ''
			ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?`, []any{"o", -1, 0}, "events_org_created"},
		{`SELECT count(*) FROM events WHERE org_id = ? AND org_id <> '' AND created >= ?`, []any{"o", "2025"}, "events_org_created"},
		{`SELECT ` + eventColumns + ` FROM events WHERE group_id = ? AND event_type IN (SELECT value FROM json_each(?))
			ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?`, []any{"p", `["X"]`, -1, 0}, "events_group_created"},
		{`DELETE FROM events WHERE created < ?`, []any{"2025"}, "events_created"},
	}
	for _, tc := range tests {
		rows, err := s.writer.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		if !strings.Contains(plan.String(), tc.index) {
			t.Errorf("plan of %q does not use %s:\n%s", tc.query, tc.index, plan.String())
		}
	}
}

// TestNanoseconds checks a property of this driver beyond the conformance
// suite (which requires microseconds): times keep their nanoseconds.
func TestNanoseconds(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	created := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	e := atlasx509.AccessListEntry{PrincipalID: "k", CIDR: "192.0.2.0/24", Created: created}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertAccessListEntry(ctx, e) }); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.ListAccessListEntries(ctx, "k")
		if err != nil {
			return err
		}
		if len(got) != 1 || !got[0].Created.Equal(created) || got[0].Created.Location() != time.UTC {
			t.Errorf("ListAccessListEntries = %+v, want Created %v in UTC", got, created)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrationReservedLate opens a file that a release without 00010 (the
// console's sessions, whose number was reserved while 00011 and 00012
// landed) migrated to the end: Open applies 00010 out of order.
func TestMigrationReservedLate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	without := fstest.MapFS{}
	names, err := fs.Glob(sub, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "00010_") {
			continue
		}
		b, err := fs.ReadFile(sub, n)
		if err != nil {
			t.Fatal(err)
		}
		without[n] = &fstest.MapFile{Data: b}
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, without,
		goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a file migrated without 00010: %v", err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertConsoleSession(ctx, store.ConsoleSession{TokenHash: "h", PrincipalID: "k", PrincipalKind: atlasx509.PrincipalAPIKey})
	})
	if err != nil {
		t.Errorf("the console sessions table after Open: %v", err)
	}
}
