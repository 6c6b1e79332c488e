package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// openTemp opens a store on a new file in a temporary directory and closes
// it when the test ends.
func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "atlasx509.db")
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestOpenOddPath(t *testing.T) {
	// Characters that mean something in a URI must reach the file system as is.
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "db?.sqlite")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %q: %v", path, err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	o := atlasx509.Organization{ID: "0123456789abcdef01234567", Name: "org", Created: time.Unix(1, 2).UTC()}
	for i := range 3 {
		s, err := Open(ctx, path)
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
			if d := cmp.Diff(o, got); d != "" {
				t.Errorf("reopen #%d: GetOrganization mismatch (-want +got):\n%s", i, d)
			}
			return nil
		})
		if err != nil {
			t.Errorf("reopen #%d: View: %v", i, err)
		}
		var versions, maxVersion int
		if err := s.writer.QueryRowContext(ctx,
			`SELECT count(*), max(version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&versions, &maxVersion); err != nil {
			t.Fatal(err)
		}
		if n, last := len(migrationNames(t)), lastMigration(t); versions != n || int64(maxVersion) != last {
			t.Errorf("reopen #%d: goose_db_version holds %d migrations up to %d, want %d up to %d", i, versions, maxVersion, n, last)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i, err)
		}
	}
}

// TestQuietOpen checks that migrating a new file and reopening it print
// nothing (see storetest.CheckQuietOpen).
func TestQuietOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	storetest.CheckQuietOpen(t, func() (store.Store, error) { return Open(t.Context(), path) })
}

func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	pools := []struct {
		name      string
		db        *sql.DB
		queryOnly string
		// tempStore: the writer keeps savepoint journals in memory (2);
		// readers, whose sorts may be large, keep the default (0).
		tempStore string
	}{
		{"writer", s.writer, "0", "2"},
		{"reader", s.reader, "1", "0"},
	}
	for _, pool := range pools {
		// Hold several connections at once so that pragmas are checked on
		// more than the first connection of the pool.
		n := pool.db.Stats().MaxOpenConnections
		conns := make([]*sql.Conn, n)
		for i := range conns {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: Conn: %v", pool.name, err)
			}
			conns[i] = c
		}
		for i, c := range conns {
			for _, tc := range append(tests, struct{ pragma, want string }{"query_only", pool.queryOnly},
				struct{ pragma, want string }{"temp_store", pool.tempStore}) {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatalf("%s conn %d: PRAGMA %s: %v", pool.name, i, tc.pragma, err)
				}
				if got != tc.want {
					t.Errorf("%s conn %d: PRAGMA %s = %q, want %q", pool.name, i, tc.pragma, got, tc.want)
				}
			}
			c.Close()
		}
	}
	if got := s.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool MaxOpenConnections = %d, want 1", got)
	}
}

// TestBeginImmediate checks that Update holds the write lock from its start:
// another Store on the file cannot begin a write meanwhile.
func TestBeginImmediate(t *testing.T) {
	ctx := t.Context()
	s1, path := openTemp(t)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s1.Update(ctx, func(tx store.Tx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	// fn has done nothing yet, but s1 already holds the RESERVED lock: a
	// write transaction of s2 cannot start.
	conn, err := s2.writer.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	other, err := conn.BeginTx(ctx, nil)
	if err == nil {
		other.Rollback()
	}
	if !isBusy(err) {
		t.Errorf("BEGIN IMMEDIATE while another Update runs: err = %v, want SQLITE_BUSY", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); err != nil {
		t.Fatal(err)
	}
}

func TestTwoStoresOneFile(t *testing.T) {
	ctx := t.Context()
	s1, path := openTemp(t)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	const perStore = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, s := range []*Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perStore {
				name := fmt.Sprintf("s%d-%d", i, j)
				if err := s.Update(ctx, func(tx store.Tx) error {
					return tx.InsertSetting(ctx, name, []byte(name))
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each store sees the writes of the other.
	for i, s := range []*Store{s1, s2} {
		err := s.View(ctx, func(tx store.Tx) error {
			for k := range 2 {
				for j := range perStore {
					name := fmt.Sprintf("s%d-%d", k, j)
					if _, err := tx.GetSetting(ctx, name); err != nil {
						return fmt.Errorf("store %d: GetSetting(%s): %w", i, name, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// TestConcurrentFirstOpen opens a new file from several Stores at once: all
// must end up migrated and usable.
func TestConcurrentFirstOpen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, path)
		}()
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
}

// TestSerialUpdates checks a property of this driver that the conformance
// suite does not require: Updates are serialised, so concurrent
// read-modify-write transactions lose no update.
func TestSerialUpdates(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	p := atlasx509.Project{ID: "0000000000000000000000a1", OrgID: "0000000000000000000000b1", Name: "p"}
	u := atlasx509.DatabaseUser{GroupID: p.ID, Username: "counter", DatabaseName: atlasx509.DatabaseAdmin, Description: "0"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, atlasx509.Organization{ID: p.OrgID}); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		return tx.InsertDatabaseUser(ctx, u)
	}); err != nil {
		t.Fatal(err)
	}
	const goroutines, increments = 6, 10
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				err := s.Update(ctx, func(tx store.Tx) error {
					got, err := tx.FindDatabaseUser(ctx, p.ID, u.Username)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(got.Description)
					if err != nil {
						return err
					}
					got.Description = strconv.Itoa(n + 1)
					return tx.UpdateDatabaseUser(ctx, got)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(ctx, p.ID, u.Username)
		if err != nil {
			return err
		}
		if want := strconv.Itoa(goroutines * increments); got.Description != want {
			t.Errorf("counter = %s, want %s", got.Description, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCommitErrorReturned(t *testing.T) {
	// A deferred foreign key violation surfaces only at COMMIT: the commit
	// error must be returned although fn succeeded.
	ctx := t.Context()
	s, _ := openTemp(t)
	err := s.Update(ctx, func(stx store.Tx) error {
		if err := stx.InsertSetting(ctx, "k", []byte("v")); err != nil {
			return err
		}
		if _, err := stx.(*tx).tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		return stx.InsertProject(ctx, atlasx509.Project{ID: "p", OrgID: "no such org", Name: "p"})
	})
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update whose commit fails returned %v, want the commit error", err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, "k")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSetting after a failed commit: %v, want ErrNotFound", err)
	}
}

func TestTimeFormat(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "0001-01-01T00:00:00.000000000Z"},
		{time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("", -3600)), "2025-01-02T04:04:05.000000006Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "9999-12-31T23:59:59.999999999Z"},
	}
	for _, tc := range tests {
		got, err := formatTime(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("formatTime(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		back, err := parseTime(got)
		if err != nil || !back.Equal(tc.in) || back.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v in UTC", got, back, err, tc.in)
		}
	}
	for _, bad := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := formatTime(bad); err == nil {
			t.Errorf("formatTime(%v) = %q, want an error", bad, got)
		}
	}
	// An out-of-range time is refused at insert, as an internal error.
	s, _ := openTemp(t)
	ctx := t.Context()
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertOrganization(ctx, atlasx509.Organization{ID: "o", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	})
	if err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("InsertOrganization of year 10000: %v, want an internal error", err)
	}
}
