package sqlite

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlasx509/atlasx509/internal/store"
)

// benchBackupStore returns the path of a closed store of about 10 MB
// (20 000 rows of 512 bytes).
func benchBackupStore(b *testing.B) string {
	b.Helper()
	s, path := openTemp(b)
	err := s.Update(b.Context(), func(tx store.Tx) error {
		for n := range 20000 {
			if err := tx.InsertSetting(b.Context(), fmt.Sprintf("row %d", n), make([]byte, 512)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	return path
}

// BenchmarkBackup: one Backup of a 10 MB store (VACUUM INTO, sync, link).
// Compare with BenchmarkBackupBaselineCopy, a synced copy of the same file.
func BenchmarkBackup(b *testing.B) {
	path := benchBackupStore(b)
	dir := b.TempDir()
	b.ResetTimer()
	for i := range b.N {
		if err := Backup(b.Context(), path, filepath.Join(dir, fmt.Sprintf("b%d.db", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackupBaselineCopy: what a plain synced file copy of the same
// store costs (not a consistent backup of a live store).
func BenchmarkBackupBaselineCopy(b *testing.B) {
	path := benchBackupStore(b)
	dir := b.TempDir()
	b.ResetTimer()
	for i := range b.N {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("c%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		in.Close()
		out.Close()
	}
}
