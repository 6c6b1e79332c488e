package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	msqlite "modernc.org/sqlite"
)

// Backup writes a consistent copy of the store file src to the new file dst
// while other connections (a serving process) keep reading and writing src.
// It uses SQLite's online backup API in one step, which copies the pages of
// one snapshot of src (under WAL it blocks no writer). dst is created with mode 0600,
// written under a temporary name in its directory, synced, and then linked
// into place; Backup never replaces an existing file, and leaves nothing
// behind when it fails.
func Backup(ctx context.Context, src, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%s already exists: a backup never overwrites a file", dst)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := mustExist(src); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // once linked, dst keeps the data
	if err := copyPages(ctx, src, tmpName); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	return install(tmpName, dst)
}

// copyPages copies the database src into the empty file dst with SQLite's
// online backup API, in one step: one read transaction, so one snapshot,
// during which writers (under WAL) go on.
func copyPages(ctx context.Context, src, dst string) error {
	db, err := openFile(src, "")
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(dstURI string) (*msqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver has no backup API (%T)", dc)
		}
		bk, err := b.NewBackup(fileURI(dst) + "?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
		if err != nil {
			return err
		}
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return err
		}
		return bk.Finish()
	})
}

// Restore installs the backup file from as the store file to. to must not
// exist or be an empty file, without a write-ahead log beside it; from must
// be an atlasx509 store that this binary can open (see Check: intact,
// schema not newer than the binary's; an older schema is migrated when the
// store is next opened). The copy is made under a temporary name beside
// to, with mode 0600, synced and then moved into place. When Restore
// refuses or fails, nothing was changed.
func Restore(ctx context.Context, from, to string) error {
	if err := emptyTarget(to); err != nil {
		return err
	}
	problems, err := Check(ctx, from, true)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is not a usable atlasx509 store: %s", from, strings.Join(problems, "; "))
	}
	dir := filepath.Dir(to)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := copyInto(from, to); err != nil {
		if errors.Is(statErr, fs.ErrNotExist) {
			os.Remove(dir) // only if still empty
		}
		return err
	}
	return nil
}

// copyInto copies the file from to a new temporary file beside to and
// installs it as to.
func copyInto(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if fi, err := os.Stat(to); err == nil && fi.Size() == 0 {
		os.Remove(to) // an empty file, which emptyTarget allowed
	}
	return install(tmp.Name(), to)
}

// emptyTarget reports an error unless path is free for a restore: missing
// or an empty file, with no non-empty journal, log or shared memory file.
func emptyTarget(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Size() > 0 {
			return fmt.Errorf("%s is not empty: restore only into an empty data directory (or a --db path that does not exist)", p)
		}
	}
	return nil
}

// install syncs the file tmp and gives it the name dst, which must not
// exist, then syncs the directory.
func install(tmp, dst string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// A hard link never replaces dst, where a rename would.
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: it is never overwritten", dst)
		}
		return err
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mustExist reports a clear error when there is no store file at path.
func mustExist(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no store at %s", path)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file", path)
	}
	return nil
}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Check checks the store file at path without changing its data: that it is a
// SQLite database, SQLite's integrity_check and foreign_key_check, and
// that it holds an atlasx509 schema not newer than this binary's. It
// returns one line per problem; its error means that it could not check
// (no such file). immutable says that no other process writes the file
// (a backup): then nothing is created beside it either.
func Check(ctx context.Context, path string, immutable bool) ([]string, error) {
	if err := mustExist(path); err != nil {
		return nil, err
	}
	head := make([]byte, len(sqliteHeader))
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, sqliteHeader) {
		return []string{"not a SQLite database"}, nil
	}
	mode := "rw" // not ro: a reader of a WAL database may need to create its -shm
	if immutable {
		mode = "ro&immutable=1"
	}
	db, err := openFile(path, mode)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	problems := rows(ctx, db, "integrity", `PRAGMA integrity_check`, func(line string) bool { return line != "ok" })
	problems = append(problems, rows(ctx, db, "foreign key", `SELECT "table" || ' row ' || coalesce(rowid, '?') || ' refers to a missing ' || parent FROM pragma_foreign_key_check`, nil)...)
	return append(problems, schemaProblems(ctx, db)...), nil
}

// rows runs query and returns its one-column rows for which keep is true
// (every row when keep is nil) as problems prefixed with what; a failing
// query is one problem.
func rows(ctx context.Context, db *sql.DB, what, query string, keep func(string) bool) []string {
	const maxRows = 20
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return []string{what + ": " + err.Error()}
	}
	defer rs.Close()
	var out []string
	for n := 0; rs.Next(); n++ {
		var line string
		if err := rs.Scan(&line); err != nil {
			return append(out, what+": "+err.Error())
		}
		if keep != nil && !keep(line) {
			continue
		}
		if len(out) == maxRows {
			return append(out, what+": more problems not shown")
		}
		out = append(out, what+": "+line)
	}
	if err := rs.Err(); err != nil {
		out = append(out, what+": "+err.Error())
	}
	return out
}

// schemaProblems reports a database that is not an atlasx509 store or
// whose schema is newer than this binary's.
func schemaProblems(ctx context.Context, db *sql.DB) []string {
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'
		AND name IN ('goose_db_version', 'settings', 'project_cas')`).Scan(&tables)
	if err != nil {
		return []string{"schema: " + err.Error()}
	}
	if tables != 3 {
		return []string{"schema: not an atlasx509 store (no migration version table or store tables)"}
	}
	var version int64
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&version)
	if err != nil {
		return []string{"schema: " + err.Error()}
	}
	own, err := SchemaVersion()
	if err != nil {
		return []string{"schema: " + err.Error()}
	}
	if version > own {
		return []string{fmt.Sprintf("schema: version %d is newer than this binary's %d: use a newer atlasx509", version, own)}
	}
	return nil
}

// SchemaVersion returns the newest migration this binary holds.
func SchemaVersion() (int64, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: no version prefix", e.Name())
		}
		newest = max(newest, v)
	}
	return newest, nil
}

// openFile opens a pool on the existing file at path, with mode ("rw",
// "ro&immutable=1"; "" for rw) and a busy timeout, that does not change
// the file's journal mode. It never creates the file.
func openFile(path, mode string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if mode == "" {
		mode = "rw"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	db := sql.OpenDB(plainConnector(fileURI(abs) + "?mode=" + mode + "&" + q.Encode()))
	db.SetMaxOpenConns(1)
	return db, nil
}

// fileURI is the file: URI of the absolute path abs.
func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p}
	return u.String()
}

// plainConnector opens connections of modernc.org/sqlite's own driver
// (without the statement cache), whose Raw connection has the backup API.
type plainConnector string

func (c plainConnector) Connect(context.Context) (driver.Conn, error) {
	return (&msqlite.Driver{}).Open(string(c))
}
func (c plainConnector) Driver() driver.Driver { return &msqlite.Driver{} }
