package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// TestFilesOwnerOnly: the database and its -wal and -shm files are readable
// by their owner only, whatever the umask, also when an existing database
// was readable by others.
func TestFilesOwnerOnly(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(existing, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "new.db"), existing} {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		o := atlasx509.Organization{ID: "0123456789abcdef01234567", Name: "org", Created: time.Unix(1, 0).UTC()}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertOrganization(ctx, o) }); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
			}
		}
		s.Close()
	}
}
