package postgres

import (
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the SQLite schema, for TestSchemaMatchesSQLite

	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// sqliteMigrations is where the SQLite driver's migrations are, from this
// package's directory (go test runs in it).
const sqliteMigrations = "../sqlite/migrations"

// migrationNames returns the base names of the embedded migrations, in order.
func migrationNames(t testing.TB) []string {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = path.Base(n)
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

// sqlDB opens a database/sql pool on the database at u.
func sqlDB(t *testing.T, u string) *sql.DB {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	t.Cleanup(func() { db.Close() })
	return db
}

// gooseProvider returns a goose provider of the embedded migrations on db.
func gooseProvider(t *testing.T, db *sql.DB) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// openVersion creates a database migrated up to version only, as an older
// release left it, and returns its URL and a pool on it.
func openVersion(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	u := newDB(t, true)
	db := sqlDB(t, u)
	if _, err := gooseProvider(t, db).UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrate up to %d: %v", version, err)
	}
	return u, db
}

// TestMigrationFrom1 opens a database written by the first schema: its rows
// survive, projects get the new columns' defaults, and the new methods work
// on them.
func TestMigrationFrom1(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u, db := openVersion(t, 1)
	created := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	deleteAfter := created.Add(time.Hour)
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO organizations (id, name, created) VALUES ('o1', 'org', $1)`, []any{created}},
		{`INSERT INTO projects (id, org_id, name, created) VALUES ('p1', 'o1', 'project', $1)`, []any{created}},
		{`INSERT INTO database_users (group_id, username, database_name, x509_type, aws_iam_type,
			ldap_auth_type, oidc_auth_type, description, delete_after_date, scram_credential, created, updated)
			VALUES ('p1', 'temp', 'admin', 'NONE', 'NONE', 'NONE', 'NONE', '', $1, '', $2, $2)`,
			[]any{deleteAfter, created}},
		{`INSERT INTO api_keys (id, org_id, public_key, description, sealed_ha1_md5, sealed_ha1_sha256, created)
			VALUES ('k1', 'o1', 'pub', 'key', '\\x00', '\\x00', $1)`, []any{created}},
		{`INSERT INTO service_accounts (client_id, org_id, name, description, created)
			VALUES ('s1', 'o1', 'sa', '', $1)`, []any{created}},
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

	s, err := Open(ctx, u)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	checkVersions(t, s, "after Open of a version 1 database")
	storetest.CheckMigratedFromVersion1(t, s, created, deleteAfter)
}

// pgSchema describes the public schema of db (goose's table excepted):
// columns with their types, indexes and constraints with their definitions.
func pgSchema(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `
		SELECT 'column ' || c.table_name || '.' || c.column_name || ' ' || c.data_type ||
			coalesce(' collate ' || c.collation_name, '') || ' nullable=' || c.is_nullable ||
			coalesce(' default ' || c.column_default, '') || ' #' ||
			-- the rank, not ordinal_position: dropped columns leave holes
			row_number() OVER (PARTITION BY c.table_name ORDER BY c.ordinal_position)
		FROM information_schema.columns c
		WHERE c.table_schema = 'public' AND c.table_name <> 'goose_db_version'
		UNION ALL
		SELECT 'index ' || tablename || ' ' || indexname || ': ' || indexdef
		FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'goose_db_version'
		UNION ALL
		SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ': ' || pg_get_constraintdef(oid)
		FROM pg_constraint
		WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
			AND conrelid::regclass::text <> 'goose_db_version'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMigrationsDown checks that every Down section runs and undoes its Up:
// down to nothing, then up again.
func TestMigrationsDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, db := openVersion(t, lastMigration(t))
	p := gooseProvider(t, db)
	for v := len(migrationNames(t)); v >= 1; v-- {
		before := pgSchema(t, db)
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
		if _, err := p.UpByOne(ctx); err != nil {
			t.Fatalf("up to %d again: %v", v, err)
		}
		if after := pgSchema(t, db); after != before {
			t.Errorf("schema at %d after down and up differs:\n%s\nwant:\n%s", v, after, before)
		}
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
	}
	if s := pgSchema(t, db); s != "" {
		t.Errorf("schema left after migrating down to 0:\n%s", s)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// schemaShape is what must be the same in the SQLite and PostgreSQL
// schemas: per table, its columns in order with their nullability and
// whether they have a default, its primary key, unique constraints,
// foreign keys (with their ON DELETE action) and named indexes. Types are
// not compared (they differ by design: TEXT times are timestamptz, etc.).
type schemaShape map[string][]string

func (s schemaShape) add(table, format string, args ...any) {
	s[table] = append(s[table], fmt.Sprintf(format, args...))
}

func (s schemaShape) sort() {
	for _, v := range s {
		slices.Sort(v)
	}
}

// queryStrings runs a query whose rows are strings.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) [][]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sqliteShape(t *testing.T, db *sql.DB) schemaShape {
	s := schemaShape{}
	for _, tr := range queryStrings(t, db, `SELECT name FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`) {
		table := tr[0]
		s.add(table, "table")
		var pk []string
		for _, c := range queryStrings(t, db, `SELECT cid, name, "notnull", coalesce(dflt_value, ''), pk
			FROM pragma_table_info(?) ORDER BY cid`, table) {
			// A primary key column is NOT NULL in PostgreSQL, declared or not.
			s.add(table, "column %s %s notnull=%t default=%t", c[0], c[1], c[2] == "1" || c[4] != "0", c[3] != "")
			if c[4] != "0" {
				pk = append(pk, c[4]+":"+c[1])
			}
		}
		slices.Sort(pk)
		for i := range pk {
			pk[i] = pk[i][strings.Index(pk[i], ":")+1:]
		}
		s.add(table, "primary key (%s)", strings.Join(pk, ", "))
		for _, ix := range queryStrings(t, db, `SELECT name, origin, partial FROM pragma_index_list(?)`, table) {
			var cols []string
			for _, c := range queryStrings(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix[0]) {
				cols = append(cols, c[0])
			}
			switch ix[1] {
			case "u":
				s.add(table, "unique (%s)", strings.Join(cols, ", "))
			case "c":
				s.add(table, "index %s (%s) partial=%s", ix[0], strings.Join(cols, ", "), ix[2])
			}
		}
		fks := map[string][]string{} // id -> from, to columns
		fkHead := map[string]string{}
		for _, fk := range queryStrings(t, db, `SELECT id, "table", "from", "to", on_delete
			FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table) {
			fks[fk[0]] = append(fks[fk[0]], fk[2]+">"+fk[3])
			fkHead[fk[0]] = fk[1] + " on delete " + strings.ToLower(fk[4])
		}
		for id, pairs := range fks {
			s.add(table, "foreign key (%s) references %s", strings.Join(pairs, ", "), fkHead[id])
		}
	}
	s.sort()
	return s
}

func pgShape(t *testing.T, db *sql.DB) schemaShape {
	s := schemaShape{}
	for _, tr := range queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`) {
		table := tr[0]
		s.add(table, "table")
		for _, c := range queryStrings(t, db, `SELECT row_number() OVER (ORDER BY ordinal_position) - 1,
				column_name, is_nullable, coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1
			ORDER BY ordinal_position`, table) {
			s.add(table, "column %s %s notnull=%t default=%t", c[0], c[1], c[2] == "NO", c[3] != "")
		}
		for _, con := range queryStrings(t, db, `SELECT con.contype::text,
				(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
				coalesce((SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), ''),
				coalesce(con.confrelid::regclass::text, ''), con.confdeltype::text
			FROM pg_constraint con WHERE con.conrelid = $1::regclass`, table) {
			switch con[0] {
			case "p":
				s.add(table, "primary key (%s)", con[1])
			case "u":
				s.add(table, "unique (%s)", con[1])
			case "f":
				from, to := strings.Split(con[1], ", "), strings.Split(con[2], ", ")
				pairs := make([]string, len(from))
				for i := range from {
					pairs[i] = from[i] + ">" + to[i]
				}
				action := map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}[con[4]]
				s.add(table, "foreign key (%s) references %s on delete %s", strings.Join(pairs, ", "), con[3], action)
			}
		}
		for _, ix := range queryStrings(t, db, `SELECT c.relname,
				(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
				CASE WHEN i.indpred IS NULL THEN '0' ELSE '1' END
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = $1::regclass
				AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)`, table) {
			s.add(table, "index %s (%s) partial=%s", ix[0], ix[1], ix[2])
		}
	}
	s.sort()
	return s
}

// TestSchemaMatchesSQLite checks that both drivers have the same
// migrations (names and versions) and, after each, the same tables,
// columns, keys, foreign keys and indexes.
func TestSchemaMatchesSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	names := migrationNames(t)
	sqliteFS := os.DirFS(sqliteMigrations)
	sqliteNames, err := fs.Glob(sqliteFS, "*.sql")
	if err != nil || len(sqliteNames) == 0 {
		t.Skipf("SQLite migrations not found at %s: %v", sqliteMigrations, err)
	}
	slices.Sort(sqliteNames)
	if d := cmp.Diff(sqliteNames, names); d != "" {
		t.Errorf("migrations differ between SQLite (-) and PostgreSQL (+):\n%s", d)
	}

	lite, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	lite.SetMaxOpenConns(1)
	defer lite.Close()
	liteGoose, err := goose.NewProvider(goose.DialectSQLite3, lite, sqliteFS,
		goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	_, pg := openVersion(t, 1)
	pgGoose := gooseProvider(t, pg)
	for v := int64(1); v <= lastMigration(t); v++ {
		if _, err := liteGoose.UpTo(ctx, v); err != nil {
			t.Fatalf("SQLite up to %d: %v", v, err)
		}
		if _, err := pgGoose.UpTo(ctx, v); err != nil {
			t.Fatalf("PostgreSQL up to %d: %v", v, err)
		}
		if d := cmp.Diff(sqliteShape(t, lite), pgShape(t, pg)); d != "" {
			t.Errorf("schemas at version %d differ between SQLite (-) and PostgreSQL (+):\n%s", v, d)
		}
	}
}
