package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/store"
)

// TestBackupUnderWrites backs up a store while another goroutine keeps
// committing, restores the backup into a new directory and finds there
// every write committed before the backup began, in a file of mode 0600.
func TestBackupUnderWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, path := openTemp(t)
	put := func(n int) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, fmt.Sprintf("k%d", n), []byte("v")) })
	}
	for n := range 100 {
		if err := put(n); err != nil {
			t.Fatal(err)
		}
	}
	stop, done := make(chan struct{}), make(chan error)
	go func() {
		for n := 100; ; n++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := put(n); err != nil {
				done <- err
				return
			}
		}
	}()
	out := filepath.Join(t.TempDir(), "backup.db")
	err := Backup(ctx, path, out)
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", fi, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("the backup left files beside it: %v", entries)
	}
	if err := Backup(ctx, path, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second backup to the same file: err = %v, want a refusal", err)
	}
	if problems, err := Check(ctx, out, true); err != nil || len(problems) > 0 {
		t.Fatalf("Check(backup) = %v, %v", problems, err)
	}

	restored := filepath.Join(t.TempDir(), "new", "atlasx509.db")
	if err := Restore(ctx, out, restored); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(restored); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v, %v; want mode 0600", fi, err)
	}
	r, err := Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.View(ctx, func(tx store.Tx) error {
		for n := range 100 {
			if _, err := tx.GetSetting(ctx, fmt.Sprintf("k%d", n)); err != nil {
				return fmt.Errorf("k%d: %w", n, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("restored store lacks a write committed before the backup: %v", err)
	}
	// The restored store serves writes.
	if err := r.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "after", nil) }); err != nil {
		t.Error(err)
	}
}

// TestRestoreRefuses: a target that holds data, a file that is not a
// store, a corrupted store and a store of a newer schema are refused, and
// the target is left as it was.
func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, path := openTemp(t)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "x", []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if err := Backup(ctx, path, good); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("SQLite format 3 is what this file is not\n"), 0o600)
	newer := copyFile(t, good, filepath.Join(dir, "newer.db"))
	exec(t, newer, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`)
	notOurs := filepath.Join(dir, "other.db")
	exec(t, notOurs, `CREATE TABLE t (x)`)
	corrupt := copyFile(t, good, filepath.Join(dir, "corrupt.db"))
	corruptPages(t, corrupt)

	emptyDir := func() string { return filepath.Join(t.TempDir(), "data", "atlasx509.db") }
	tests := []struct {
		name, from, to string
		want           string
	}{
		{"target holds a store", good, path, "is not empty"},
		{"not SQLite", text, emptyDir(), "not a SQLite database"},
		{"not an atlasx509 store", notOurs, emptyDir(), "not an atlasx509 store"},
		{"newer schema", newer, emptyDir(), "newer than this binary"},
		{"corrupted", corrupt, emptyDir(), "integrity"},
		{"missing", filepath.Join(dir, "none.db"), emptyDir(), "no store at"},
	}
	for _, tc := range tests {
		before, _ := os.ReadFile(tc.to)
		err := Restore(ctx, tc.from, tc.to)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
		after, _ := os.ReadFile(tc.to)
		if string(before) != string(after) {
			t.Errorf("%s: the target changed", tc.name)
		}
		if len(before) == 0 {
			if _, err := os.Stat(filepath.Dir(tc.to)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: the target directory was created", tc.name)
			}
		}
	}
}

// TestCheckFindsCorruption: Check passes a good store and names what is
// wrong with a corrupted file and with a row whose parent is missing.
func TestCheckFindsCorruption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, path string)
		want  string // prefix of the first problem; "" for none
	}{
		{"good store", func(*testing.T, string) {}, ""},
		{"pages overwritten", corruptPages, "integrity: "},
		{"row without its parent", func(t *testing.T, path string) {
			// foreign_keys is off on a plain connection.
			exec(t, path, `INSERT INTO project_cas (group_id, generation, cert_der, sealed_key, not_before, not_after, created)
				VALUES ('000000000000000000000099', 1, x'00', x'00', '', '', '')`)
		}, "foreign key: project_cas row "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, path := openTemp(t)
			err := s.Update(ctx, func(tx store.Tx) error {
				for n := range 2000 {
					if err := tx.InsertSetting(ctx, fmt.Sprintf("setting %d", n), make([]byte, 100)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			tc.spoil(t, path)
			problems, err := Check(ctx, path, false)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && len(problems) > 0 || tc.want != "" && (len(problems) == 0 || !strings.HasPrefix(problems[0], tc.want)) {
				t.Errorf("Check = %q, want a first problem starting with %q", problems, tc.want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// exec runs one statement on the SQLite file at path, creating it if needed.
func exec(t *testing.T, path, stmt string) {
	t.Helper()
	db := openDB("file:" + path)
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatal(err)
	}
}

// corruptPages overwrites pages past the first of the database file at
// path with garbage, leaving its header intact.
func corruptPages(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	for off := int64(4096); off+int64(len(garbage)) <= fi.Size(); off += 3 * 4096 {
		if _, err := f.WriteAt(garbage, off); err != nil {
			t.Fatal(err)
		}
	}
}
