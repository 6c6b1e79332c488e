// Package postgres is the PostgreSQL store driver, for several replicas
// sharing one database. It uses pgx v5 (a pgxpool.Pool); migrations run
// through goose on a database/sql view of the same pool.
//
// # Connection
//
// Open takes a libpq-style URL or keyword/value string, as pgx parses it
// (postgres://user:password@host:5432/dbname?sslmode=verify-full). Besides
// the libpq parameters, pgxpool's pool_* parameters apply, chiefly
// pool_max_conns: the most connections a Store opens, 8 by default
// (defaultMaxConns, whatever the number of CPUs). Every replica opens up to
// that many, so their sum over the replicas, plus what else uses the
// server, must stay below the server's max_connections (100 by default).
// Other pool parameters: pool_min_conns, pool_max_conn_lifetime,
// pool_max_conn_idle_time, pool_health_check_period. Other parameters that
// are not libpq's are sent to the server as settings (for example
// idle_in_transaction_session_timeout=60000). The application_name is
// "atlasx509" unless the URL sets it.
//
// The driver needs a session of its own per connection: a direct
// connection, or a pooler in session mode (pgx prepares and caches
// statements per connection, and the migration lock is a session lock).
//
// # Migrations
//
// Open applies the embedded migrations (migrations/*.sql, which mirror the
// SQLite driver's schema version for version) with goose, under a
// session-level PostgreSQL advisory lock (advisoryLockID, polled every
// second for up to 5 minutes): replicas that start together queue on the
// lock, the first migrates and the others find nothing to do. Advisory locks are per database, so stores on different
// databases of one server do not wait for each other.
//
// # Transactions
//
// Update runs fn in a SERIALIZABLE read-write transaction: the outcome of
// concurrent Updates, in this process or in other replicas, is that of some
// serial order, so read-check-write logic (count then insert, check that a
// user exists then insert its certificate, read the CAs then insert the next
// generation) is correct without explicit locks. PostgreSQL enforces it by
// failing one of two conflicting transactions with a serialization failure
// (SQLSTATE 40001), possibly at COMMIT; Update then rolls back and runs fn
// again, in a new transaction, up to maxAttempts times with jittered
// exponential backoff (deadlocks, 40P01, likewise). fn may therefore run
// more than once: it must be re-runnable, with no effect outside the
// transaction that a second run would repeat wrongly (assigning results to
// variables is fine: the last run wins). A transaction in which a statement
// failed is aborted by PostgreSQL: later statements of fn fail too; callers
// return on the first error (ErrConflict included), as the store contract
// expects. Commits are durable with the server's default
// synchronous_commit=on, which this driver leaves alone.
//
// View runs fn in a REPEATABLE READ, READ ONLY transaction: one consistent
// snapshot, no serialization failures, and writes are refused.
//
// # Values
//
// Times are stored as timestamptz, truncated to the microsecond, and come
// back in UTC. Comparisons with a time argument (ListCertificates,
// CountCertificates, DeleteExpiredDatabaseUsers,
// DeleteOAuthTokensExpiredBefore) compare the stored microsecond value with
// the exact argument, nanoseconds included. Role, scope and label lists come
// back as empty non-nil slices when empty, byte slices as empty non-nil
// slices when empty. PostgreSQL text cannot hold the NUL character, nor
// invalid UTF-8 in a UTF8 database: such strings are refused with an
// internal error (SQLite would store them).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/atlasx509/atlasx509/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Tuning.
const (
	// maxAttempts bounds how often Update runs fn when its transaction
	// fails with a serialization failure or a deadlock.
	maxAttempts = 20
	// retryBaseDelay and retryMaxDelay bound the backoff before a new
	// attempt: the n-th retry waits a random time between half and all of
	// min(retryMaxDelay, retryBaseDelay·2^(n-1)).
	retryBaseDelay = 2 * time.Millisecond
	retryMaxDelay  = 200 * time.Millisecond
	// rollbackTimeout bounds a ROLLBACK, which runs even when the caller's
	// context is done.
	rollbackTimeout = 5 * time.Second
	// advisoryLockID is the key of the session-level advisory lock held
	// while migrating (the CRC-32 of "atlasx509 migrations").
	advisoryLockID int64 = 0x2ab7f5c1
	// lockPollSeconds and lockPolls: goose polls the advisory lock every
	// lockPollSeconds, lockPolls times at most, before Open fails.
	lockPollSeconds = 1
	lockPolls       = 300
	// defaultMaxConns is the pool size when the URL sets no pool_max_conns.
	defaultMaxConns = 8
	// applicationName is the default application_name of the connections.
	applicationName = "atlasx509"
)

// SQLSTATE codes the driver acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Store is a store.Store on one PostgreSQL database. It is safe for
// concurrent use, and several Stores (in several processes) may share the
// database.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (see the package documentation for
// its parameters) and brings its schema up to date. The database must
// exist; the user needs the rights to create tables in it (on first start
// and upgrades) and to read and write them.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors do not show the password.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// pgxpool's own default (the number of CPUs) suits one process on its
	// server, not replicas sharing one; ParseConfig removed the pool_*
	// parameters, so look for pool_max_conns in a plain parse.
	if plain, err := pgx.ParseConfig(url); err == nil {
		if _, ok := plain.RuntimeParams["pool_max_conns"]; !ok {
			cfg.MaxConns = defaultMaxConns
		}
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// timestamptz values come back in UTC rather than time.Local.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", describe(cfg), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", describe(cfg), err)
	}
	return &Store{pool: pool}, nil
}

// describe names the database of cfg for error messages, without secrets.
func describe(cfg *pgxpool.Config) string {
	return fmt.Sprintf("database %q on %s:%d as %q",
		cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.User)
}

// migrate applies the embedded migrations, each in its own transaction,
// while holding the advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(advisoryLockID),
		lock.WithLockTimeout(lockPollSeconds, lockPolls),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker),
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
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

var (
	updateOptions = pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite}
	viewOptions   = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// Update runs fn in a SERIALIZABLE read-write transaction and commits it
// when fn returns nil; the commit is durable before Update returns. When fn
// returns an error or panics, the transaction is rolled back and the error
// returned unchanged or the panic continued.
//
// When the transaction fails with a serialization failure or a deadlock
// (in one of fn's statements, whatever fn then returns, or at COMMIT),
// Update rolls back and runs fn again in a new transaction, up to
// maxAttempts times in all: fn must be re-runnable (see the package
// documentation). When the attempts are exhausted, the last error is
// returned, wrapped.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		retry, err := s.update(ctx, fn)
		if !retry {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("postgres: update: giving up after %d attempts: %w", attempt, err)
		}
		timer := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("postgres: update: %w (retrying after: %w)", ctx.Err(), err)
		case <-timer.C:
		}
	}
}

// backoff is the wait before retry n (1, 2, ...): a random duration
// between half and all of min(retryMaxDelay, retryBaseDelay·2^(n-1)).
func backoff(n int) time.Duration {
	d := retryMaxDelay
	if n < 16 {
		d = min(retryMaxDelay, retryBaseDelay<<(n-1))
	}
	return d/2 + rand.N(d/2+1)
}

// update makes one attempt of Update. retry reports that the transaction
// failed with a serialization failure or a deadlock.
func (s *Store) update(ctx context.Context, fn func(store.Tx) error) (retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("postgres: begin: %w", err)
	}
	pgTx, err := s.pool.BeginTx(ctx, updateOptions)
	if err != nil {
		return isRetryable(err), fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{tx: pgTx}
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			rollback(ctx, pgTx)
		}
	}()
	if err := fn(t); err != nil {
		done = true
		rollback(ctx, pgTx)
		return t.retry || isRetryable(err), err
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		// A failed COMMIT leaves no transaction open: pgx closes the
		// connection when it cannot tell.
		return t.retry || isRetryable(err), fmt.Errorf("postgres: commit: %w", err)
	}
	return false, nil
}

// rollback rolls pgTx back, even when ctx is done. An error is of no use:
// when ROLLBACK fails, the pool discards the connection, which ends the
// transaction on the server.
func rollback(ctx context.Context, pgTx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	pgTx.Rollback(ctx)
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction: fn sees one
// consistent snapshot; a write through it fails. fn runs once.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	pgTx, err := s.pool.BeginTx(ctx, viewOptions)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer rollback(ctx, pgTx) // nothing to commit; also runs when fn panics
	return fn(&tx{tx: pgTx})
}

// sqlState returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isRetryable reports whether err is a serialization failure or a
// deadlock, after which the whole transaction may succeed when run again.
func isRetryable(err error) bool {
	switch sqlState(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// mapErr turns a driver error into the store's vocabulary: ErrNotFound for
// no rows, ErrConflict for a primary key or unique violation, and a wrapped
// internal error otherwise (foreign key violations included).
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	if sqlState(err) == codeUniqueViolation {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrConflict, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}
