// Package sqlite is the embedded store driver: a SQLite file accessed through
// modernc.org/sqlite (pure Go, no cgo).
//
// A Store holds two connection pools on the same file. The writer pool has a
// single connection and starts every transaction with BEGIN IMMEDIATE, so
// that another Store's writer waits for the lock instead of failing with
// SQLITE_BUSY on lock upgrade; the reader pool has a few read-only
// connections (query_only) that View uses. Every connection runs in WAL mode
// with synchronous=FULL (a commit is fsynced before Update returns), foreign
// keys on and a busy timeout of 10 s. Several Stores, even in several
// processes, may share a file: SQLite's locks serialise their writers.
//
// Concurrent Updates of a Store share transactions and commits (group
// commit, see Store.Update): one fsync makes a whole batch of them durable,
// each one's writes isolated from the others' failures by a savepoint.
//
// Times are stored as fixed-width UTC text with nanoseconds and come back in
// UTC, exactly; they must lie in the years 0000 to 9999. Role, scope and label
// lists come back as empty non-nil slices when empty, and byte slices as
// empty non-nil slices when empty.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/atlasx509/atlasx509/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Tuning.
const (
	// readerConns is the size of the reader pool.
	readerConns = 4
	// busyTimeout is how long a connection waits for a lock held by another
	// connection (of this or another Store) before failing with SQLITE_BUSY.
	busyTimeout = 10 * time.Second
	// beginAttempts bounds how often Update and View try a BEGIN that fails
	// with SQLITE_BUSY (an attempt may already have waited busyTimeout).
	beginAttempts = 3
	// connectAttempts bounds how often Open retries the first connection of
	// a pool when it fails with SQLITE_BUSY (see connect).
	connectAttempts = 50
	// maxMigrateAttempts bounds how often Open runs the migrations (see
	// migrate); every retry follows progress made by another Store.
	maxMigrateAttempts = 100
)

// Store is a store.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	writer *sql.DB
	reader *sql.DB

	// Group commit (see commit.go).
	mu sync.Mutex
	// busy is set while a goroutine (a leading Update or a committer) runs
	// batches; queue holds the Updates waiting for their turn meanwhile,
	// oldest first. The queue is empty when busy is not set.
	busy  bool
	queue []*request
	// idle is signalled when busy is cleared.
	idle      *sync.Cond
	closed    bool         // Close was called: Update refuses new requests
	back      chan bool    // a queued fn's outcome, to the batch's goroutine
	commits   atomic.Int64 // COMMITs of Update transactions
	committed atomic.Int64 // Updates whose writes those COMMITs carried
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file if needed, and
// brings its schema up to date. path is a file system path (not a URI);
// ":memory:" is refused because the two pools of a Store must share one
// database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: a file path is required", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	// The database holds password verifiers and secret hashes: only its
	// owner may read it, wherever it is and whatever the umask. SQLite
	// gives the -wal and -shm files the mode of the database file.
	if err := ownerOnly(abs, true); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	writer := openDB(dsn(abs, false))
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := connect(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	for _, f := range []string{abs + "-wal", abs + "-shm"} { // left by an older version
		if err := ownerOnly(f, false); err != nil {
			writer.Close()
			return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
		}
	}
	reader := openDB(dsn(abs, true))
	reader.SetMaxOpenConns(readerConns)
	reader.SetMaxIdleConns(readerConns)
	reader.SetConnMaxLifetime(0)
	reader.SetConnMaxIdleTime(0)
	if err := connect(ctx, reader); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	s := &Store{writer: writer, reader: reader, back: make(chan bool, 1)}
	s.idle = sync.NewCond(&s.mu)
	return s, nil
}

// ownerOnly takes every permission of group and others away from the file
// at path, creating it empty with mode 0600 when create is set and it does
// not exist (SQLite takes an empty file as a new database).
func ownerOnly(path string, create bool) error {
	if create {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		f.Close()
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil
	}
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(path, perm&0o700); err != nil {
			return fmt.Errorf("%s is readable by others and its mode cannot be changed: %w", path, err)
		}
	}
	return nil
}

// dsn is the modernc.org/sqlite data source name of a pool on the file at
// the absolute path abs. The _pragma values run on every new connection.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		// Group commit runs every fn but a batch's first in a savepoint,
		// whose journal SQLite writes to a temporary file by default: one
		// write system call per page an fn changes first. In memory it
		// costs none, and no page of the database goes to a temporary
		// file. Readers keep the default, for large sorts.
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:///C:/...
	}
	u := url.URL{Scheme: "file", Path: p}
	// u.String() escapes '?', '#' and '%' of the path, which SQLite decodes.
	return u.String() + "?" + q.Encode()
}

// connect opens a first connection of a pool, which then stays idle in it.
// When several Stores open the same new file at once, a connection's setup
// pragmas (journal_mode(WAL) switches the file to WAL) can fail with
// SQLITE_BUSY at once, without the busy timeout applying: it is retried.
func connect(ctx context.Context, db *sql.DB) error {
	for attempt := 1; ; attempt++ {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || attempt == connectAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// migrate applies the embedded migrations, each in its own transaction.
//
// Another Store (of this or another process) may be migrating the same new
// file at the same time: migrations run in BEGIN IMMEDIATE transactions, so
// they do not interleave, but goose decides what to apply before it begins
// them, and the loser's migration then fails (table already exists). When the
// failed migration turns out applied by the other Store, Up runs again and
// finds less or nothing to do.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		// A new provider per attempt: a provider remembers that it created
		// the version table.
		p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
			goose.WithLogger(goose.NopLogger()), // stdout is reserved; errors are returned
			goose.WithVerbose(false),
			goose.WithDisableGlobalRegistry(true),
			// A migration whose number was reserved while higher ones landed
			// (00010) is applied late to stores already past it.
			goose.WithAllowOutofOrder(true),
		)
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		_, err = p.Up(ctx)
		if err == nil {
			return nil
		}
		var pe *goose.PartialError
		if attempt < maxMigrateAttempts && errors.As(err, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
			if v, verr := p.GetDBVersion(ctx); verr == nil && v >= pe.Failed.Source.Version {
				continue // applied meanwhile by another Store
			}
		}
		return fmt.Errorf("migrations: %w", err)
	}
}

// begin begins a transaction on db, retrying a few times when it fails with
// SQLITE_BUSY: the database stayed locked by another process beyond the busy
// timeout, or a new connection's pragmas met a lock that SQLite does not wait
// for.
func begin(ctx context.Context, db *sql.DB, opts *sql.TxOptions) (*sql.Tx, error) {
	var err error
	for attempt := 1; ; attempt++ {
		var t *sql.Tx
		t, err = db.BeginTx(ctx, opts)
		if err == nil {
			return t, nil
		}
		if !isBusy(err) || attempt == beginAttempts {
			return nil, fmt.Errorf("sqlite: begin: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sqlite: begin: %w", ctx.Err())
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

// View runs fn in a read-only transaction on the reader pool. fn sees one
// consistent snapshot; a write through it fails.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := begin(ctx, s.reader, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer sqlTx.Rollback() // nothing to commit; also runs when fn panics
	return fn(&tx{tx: sqlTx})
}

// isBusy reports whether err is SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// mapErr turns a driver error into the store's vocabulary: ErrNotFound for
// sql.ErrNoRows, ErrConflict for a primary key or unique violation, and a
// wrapped internal error otherwise (foreign key violations included).
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrConflict, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
