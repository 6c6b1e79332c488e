package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// The tests need a PostgreSQL server and a user allowed to create
// databases. testURLEnv names it; without it, defaultTestURL is tried and
// the tests are skipped when it does not answer, unless CI=true.
const (
	testURLEnv     = "ATLASX509_TEST_POSTGRES_URL"
	defaultTestURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	// testPoolConns is pool_max_conns of the test stores, and maxLiveDBs
	// bounds how many test databases exist at once, so that parallel tests
	// stay below the server's max_connections (100 by default).
	testPoolConns = 4
	maxLiveDBs    = 8
)

// server is what the tests share: an admin pool on the database of the
// test URL, and a template database migrated once per test binary, from
// which every test database is copied (CREATE DATABASE ... TEMPLATE is
// much faster than running the migrations).
var server struct {
	once     sync.Once
	skip     string // why the tests are skipped
	err      error  // why they fail
	url      string
	admin    *pgxpool.Pool
	template string
	live     chan struct{} // a token per live test database
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.admin != nil {
		if server.template != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := server.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+server.template+` WITH (FORCE)`); err != nil {
				fmt.Fprintf(os.Stderr, "drop template database %s: %v\n", server.template, err)
			}
			cancel()
		}
		server.admin.Close()
	}
	os.Exit(code)
}

// setup connects to the test server once, skipping or failing tb when it
// cannot.
func setup(tb testing.TB) {
	tb.Helper()
	server.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		u, explicit := os.Getenv(testURLEnv), true
		if u == "" {
			u, explicit = defaultTestURL, false
		}
		server.url = u
		admin, err := connectAdmin(ctx, u)
		if err != nil {
			if explicit || os.Getenv("CI") == "true" {
				server.err = fmt.Errorf("PostgreSQL at %s: %w", redact(u), err)
			} else {
				server.skip = fmt.Sprintf("no PostgreSQL at %s (%v): set %s to the URL of a database "+
					"whose user may create databases (e.g. %s) to run these tests",
					redact(u), err, testURLEnv, defaultTestURL)
			}
			return
		}
		server.admin = admin
		server.live = make(chan struct{}, maxLiveDBs)
		dropStale(ctx, admin)
		name := dbName("tmpl")
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
			server.err = fmt.Errorf("create template database: %w", err)
			return
		}
		server.template = name
		s, err := Open(ctx, dbURL(tb, name))
		if err != nil {
			server.err = fmt.Errorf("migrate template database: %w", err)
			return
		}
		s.Close() // no session may stay on a template being copied
	})
	if server.skip != "" {
		tb.Skip(server.skip)
	}
	if server.err != nil {
		tb.Fatal(server.err)
	}
}

// Test databases are named atlasx509_KIND_UNIXTIME_RANDOM, so that those
// left by a test binary that did not end normally (a -timeout panic, a
// kill) can be recognised and dropped by a later run.
const (
	dbPrefix = "atlasx509_"
	// staleAfter is the age past which a test database is left over: no
	// test binary runs that long.
	staleAfter = 3 * time.Hour
)

func dbName(kind string) string {
	return fmt.Sprintf("%s%s_%d_%s", dbPrefix, kind, time.Now().Unix(), randomSuffix())
}

// dropStale drops the test databases older than staleAfter that nobody is
// connected to. Errors are of no consequence.
func dropStale(ctx context.Context, admin *pgxpool.Pool) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'atlasx509\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		parts := strings.Split(strings.TrimPrefix(name, dbPrefix), "_")
		if len(parts) != 3 || (parts[0] != "test" && parts[0] != "tmpl") {
			continue
		}
		created, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || time.Since(time.Unix(created, 0)) < staleAfter {
			continue
		}
		// Without FORCE: a database still in use stays.
		admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize())
	}
}

func connectAdmin(ctx context.Context, u string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// redact hides the password of a URL.
func redact(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		return p.Redacted()
	}
	return u
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// dbURL is the test URL pointed at database name, with testPoolConns
// connections unless the URL sets pool_max_conns.
func dbURL(tb testing.TB, name string) string {
	tb.Helper()
	if strings.HasPrefix(server.url, "postgres://") || strings.HasPrefix(server.url, "postgresql://") {
		u, err := url.Parse(server.url)
		if err != nil {
			tb.Fatal(err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if !q.Has("pool_max_conns") {
			q.Set("pool_max_conns", strconv.Itoa(testPoolConns))
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// keyword/value form: a later keyword overrides an earlier one.
	s := server.url + " dbname=" + name
	if !strings.Contains(server.url, "pool_max_conns") {
		s += " pool_max_conns=" + strconv.Itoa(testPoolConns)
	}
	return s
}

// newDB creates a database for tb, a copy of the migrated template or,
// when empty is set, an empty one, and drops it when tb ends. It returns
// the database's URL.
func newDB(tb testing.TB, empty bool) string {
	tb.Helper()
	setup(tb)
	ctx := context.Background()
	server.live <- struct{}{}
	name := dbName("test")
	stmt := `CREATE DATABASE ` + name + ` TEMPLATE ` + server.template
	if empty {
		stmt = `CREATE DATABASE ` + name
	}
	if _, err := server.admin.Exec(ctx, stmt); err != nil {
		<-server.live
		tb.Fatalf("%s: %v", stmt, err)
	}
	tb.Cleanup(func() {
		defer func() { <-server.live }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := server.admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return dbURL(tb, name)
}

// openTest opens a store on a new database and closes it when tb ends.
func openTest(tb testing.TB) (*Store, string) {
	tb.Helper()
	u := newDB(tb, false)
	s, err := Open(context.Background(), u)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, u
}

func TestConformance(t *testing.T) {
	setup(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), newDB(t, false))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// migrationCount is the number of embedded migrations.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %d files", err, len(files))
	}
	return len(files)
}

// checkVersions fails the test unless goose_db_version records each
// migration once, up to the last.
func checkVersions(t *testing.T, s *Store, what string) {
	t.Helper()
	want, last := migrationCount(t), lastMigration(t)
	var rows, distinct, maxVersion int
	if err := s.pool.QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version_id), coalesce(max(version_id), 0)
		FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&rows, &distinct, &maxVersion); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if rows != want || distinct != want || int64(maxVersion) != last {
		t.Errorf("%s: goose_db_version holds %d rows (%d versions) up to %d, want %d up to %d",
			what, rows, distinct, maxVersion, want, last)
	}
}

func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := newDB(t, true)
	o := atlasx509.Organization{ID: "0123456789abcdef01234567", Name: "org", Created: time.Unix(1, 2000).UTC()}
	for i := range 3 {
		s, err := Open(ctx, u)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		if i == 0 {
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertOrganization(ctx, o) }); err != nil {
				t.Fatalf("Update: %v", err)
			}
		}
		err = s.View(ctx, func(tx store.Tx) error {
			got, err := tx.GetOrganization(ctx, o.ID)
			if err != nil {
				return err
			}
			if got != o {
				t.Errorf("reopen #%d: GetOrganization = %+v, want %+v", i, got, o)
			}
			return nil
		})
		if err != nil {
			t.Errorf("reopen #%d: View: %v", i, err)
		}
		checkVersions(t, s, fmt.Sprintf("reopen #%d", i))
		s.Close()
	}
}

// TestConcurrentFirstOpen opens a new, empty database from several Stores
// at once, as replicas starting together: all succeed, the migrations are
// applied once.
func TestConcurrentFirstOpen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := newDB(t, true)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, u) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open #%d: %v", i, errs[i])
			continue
		}
		defer stores[i].Close()
		name := strconv.Itoa(i)
		if err := stores[i].Update(ctx, func(tx store.Tx) error {
			return tx.InsertSetting(ctx, name, nil)
		}); err != nil {
			t.Errorf("Update #%d: %v", i, err)
		}
	}
	if stores[0] != nil {
		checkVersions(t, stores[0], "after concurrent opens")
	}
}

// TestMigrationLock checks that Open migrates under the advisory lock: while
// another session holds it, Open waits and creates nothing.
func TestMigrationLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := newDB(t, true)
	cfg, err := pgxpool.ParseConfig(u) // drops the pool_* parameters
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		s   *Store
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Open(ctx, u)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.s != nil {
			r.s.Close()
		}
		t.Fatalf("Open returned (%v) while another session held the migration lock", r.err)
	case <-time.After(2500 * time.Millisecond):
	}
	var tables int
	if err := conn.QueryRow(ctx,
		`SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables created while the migration lock was held elsewhere", tables)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, advisoryLockID); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Open after the lock was released: %v", r.err)
		}
		defer r.s.Close()
		checkVersions(t, r.s, "after the lock was released")
	case <-time.After(30 * time.Second):
		t.Fatal("Open still waiting 30 s after the lock was released")
	}
}

// TestQuietOpen checks that migrating a new database and reopening it
// print nothing (see storetest.CheckQuietOpen).
func TestQuietOpen(t *testing.T) {
	u := newDB(t, true)
	storetest.CheckQuietOpen(t, func() (store.Store, error) { return Open(t.Context(), u) })
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://user:s3cretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgres://user:s3cretpw@127.0.0.1:5432/db?pool_max_conns=zero",
		"not a url %%",
	} {
		s, err := Open(ctx, u)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open(%q) error shows the password: %v", u, err)
		}
	}
	// A database that does not exist.
	u := dbURL(t, "atlasx509_no_such_db_"+randomSuffix())
	if s, err := Open(ctx, u); err == nil {
		s.Close()
		t.Errorf("Open of a missing database succeeded")
	}
}

func TestPoolSize(t *testing.T) {
	t.Parallel()
	u := newDB(t, false)
	for _, tc := range []struct {
		set  string
		want int32
	}{{"", defaultMaxConns}, {"3", 3}} {
		p, err := url.Parse(u)
		if err != nil {
			t.Skipf("test URL is not a URL: %v", err)
		}
		q := p.Query()
		q.Del("pool_max_conns")
		if tc.set != "" {
			q.Set("pool_max_conns", tc.set)
		}
		p.RawQuery = q.Encode()
		s, err := Open(t.Context(), p.String())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.pool.Config().MaxConns; got != tc.want {
			t.Errorf("pool_max_conns=%q: MaxConns = %d, want %d", tc.set, got, tc.want)
		}
		var app string
		if err := s.pool.QueryRow(t.Context(), `SHOW application_name`).Scan(&app); err != nil || app != applicationName {
			t.Errorf("application_name = %q, %v; want %q", app, err, applicationName)
		}
		s.Close()
	}
}

// TestTransactionSettings checks the isolation level and access mode of
// Update and View, and that the commit durability is the server's default.
func TestTransactionSettings(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	show := func(stx store.Tx, name string) string {
		var v string
		if err := stx.(*tx).tx.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v); err != nil {
			t.Fatalf("current_setting(%s): %v", name, err)
		}
		return v
	}
	tests := []struct {
		name string
		run  func(context.Context, func(store.Tx) error) error
		want map[string]string
	}{
		{"Update", s.Update, map[string]string{
			"transaction_isolation": "serializable", "transaction_read_only": "off", "synchronous_commit": "on",
		}},
		{"View", s.View, map[string]string{
			"transaction_isolation": "repeatable read", "transaction_read_only": "on",
		}},
	}
	for _, tc := range tests {
		err := tc.run(ctx, func(stx store.Tx) error {
			for name, want := range tc.want {
				if got := show(stx, name); got != want {
					t.Errorf("%s: %s = %q, want %q", tc.name, name, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestTimePrecision checks the truncation to the microsecond and that time
// comparisons are exact against the stored value.
func TestTimePrecision(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	p := seedProject(t, s)
	u := testUser(p, "alice")
	base := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	u.Created = base.Add(789) // nanoseconds past the microsecond
	deleteAfter := base
	u.DeleteAfterDate = &deleteAfter
	c := testCertificate(u, 1)
	c.NotAfter = base
	sa := atlasx509.ServiceAccount{ClientID: "mdb_sa_id_x", OrgID: p.OrgID, Name: "sa", Created: base}
	tok := atlasx509.OAuthToken{ID: "jti", ClientID: sa.ClientID, ExpiresAt: base, Created: base}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertDatabaseUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		if err := tx.InsertServiceAccount(ctx, sa); err != nil {
			return err
		}
		return tx.InsertOAuthToken(ctx, tok)
	}); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(ctx, p.ID, u.Username)
		if err != nil {
			return err
		}
		if want := base; !got.Created.Equal(want) || got.Created.Location() != time.UTC {
			t.Errorf("Created = %v, want %v in UTC (truncated)", got.Created, want)
		}
		for _, tc := range []struct {
			validAt time.Time
			want    int
		}{{base.Add(-1), 1}, {base, 0}, {base.Add(1), 0}, {base.Add(-time.Microsecond), 1}} {
			n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: u.Username, ValidAt: tc.validAt})
			if err != nil {
				return err
			}
			if n != tc.want {
				t.Errorf("CountCertificates(validAt %v) = %d, want %d", tc.validAt, n, tc.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Deletions at the boundary, within a transaction rolled back each time.
	errRollback := errors.New("rollback")
	for _, tc := range []struct {
		name   string
		del    func(tx store.Tx) (int, error)
		wanted int
	}{
		{"tokens expired before base", func(tx store.Tx) (int, error) { return tx.DeleteOAuthTokensExpiredBefore(ctx, base) }, 0},
		{"tokens expired before base+1ns", func(tx store.Tx) (int, error) { return tx.DeleteOAuthTokensExpiredBefore(ctx, base.Add(1)) }, 1},
		{"users expired at base-1ns", func(tx store.Tx) (int, error) { return tx.DeleteExpiredDatabaseUsers(ctx, base.Add(-1)) }, 0},
		{"users expired at base", func(tx store.Tx) (int, error) { return tx.DeleteExpiredDatabaseUsers(ctx, base) }, 1},
		{"users expired at base+1ns", func(tx store.Tx) (int, error) { return tx.DeleteExpiredDatabaseUsers(ctx, base.Add(1)) }, 1},
	} {
		err := s.Update(ctx, func(tx store.Tx) error {
			n, err := tc.del(tx)
			if err != nil {
				return err
			}
			if n != tc.wanted {
				t.Errorf("%s: deleted %d, want %d", tc.name, n, tc.wanted)
			}
			return errRollback
		})
		if err != errRollback {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestTimeHelpers(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("x", 3600)
	tests := []struct {
		in, floor, ceil time.Time
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 1500, loc), time.Date(2024, 12, 31, 23, 0, 0, 1000, time.UTC), time.Date(2024, 12, 31, 23, 0, 0, 2000, time.UTC)},
		{time.Date(2025, 1, 1, 0, 0, 0, 2000, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 2000, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 2000, time.UTC)},
		{time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Time{}, time.Time{}, time.Time{}},
	}
	for _, tc := range tests {
		if got := ts(tc.in); !got.Equal(tc.floor) || got.Location() != time.UTC {
			t.Errorf("ts(%v) = %v, want %v", tc.in, got, tc.floor)
		}
		if got := tsCeil(tc.in); !got.Equal(tc.ceil) {
			t.Errorf("tsCeil(%v) = %v, want %v", tc.in, got, tc.ceil)
		}
	}
}

// TestByteOrder checks that ordering is by bytes whatever the database's
// collation: the columns are COLLATE "C".
func TestByteOrder(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	p := seedProject(t, s)
	names := []string{"B", "_x", "a", "b-2", "b_1", "é"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		for _, n := range []string{"é", "b_1", "a", "_x", "b-2", "B"} {
			if err := tx.InsertDatabaseUser(ctx, testUser(p, n)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		users, err := tx.ListDatabaseUsers(ctx, p.ID, store.Page{})
		if err != nil {
			return err
		}
		var got []string
		for _, u := range users {
			got = append(got, u.Username)
		}
		if strings.Join(got, " ") != strings.Join(names, " ") {
			t.Errorf("ListDatabaseUsers order %q, want byte order %q", got, names)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTextLimits checks that strings PostgreSQL cannot store are refused
// with an internal error, not stored altered.
func TestTextLimits(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	var encoding string
	if err := s.pool.QueryRow(ctx, `SHOW server_encoding`).Scan(&encoding); err != nil {
		t.Fatal(err)
	}
	bad := []string{"nul\x00char"}
	if encoding == "UTF8" {
		bad = append(bad, "invalid \xff UTF-8")
	}
	for i, name := range bad {
		err := s.Update(ctx, func(tx store.Tx) error {
			return tx.InsertOrganization(ctx, atlasx509.Organization{ID: strconv.Itoa(i), Name: name})
		})
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("InsertOrganization with name %q: %v, want an internal error", name, err)
		}
	}
}
