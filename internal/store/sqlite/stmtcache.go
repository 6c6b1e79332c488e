package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"

	msqlite "modernc.org/sqlite"
)

// The SQLite driver parses every statement on every call: about a fifth of
// the CPU of an issuance went to SQL parsing. cachingDriver keeps, per
// connection, the prepared statements of the store's queries and reuses
// them. A connection is used by one goroutine at a time, so a cached
// statement is either idle or serving exactly one call; a call that finds
// its statement busy (rows of the same query still open) prepares a fresh
// one, as without the cache.

// maxCachedStmts bounds the statements cached per connection; the store has
// fewer distinct queries than that.
const maxCachedStmts = 256

// cachingDriver wraps modernc's driver.
type cachingDriver struct{ base msqlite.Driver }

func (d *cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{base: c, stmts: make(map[string]*cachedStmt)}, nil
}

// openDB opens a pool of caching connections to dsn.
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(dsnConnector{dsn: dsn, drv: &cachingDriver{}})
}

type dsnConnector struct {
	dsn string
	drv *cachingDriver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

// cachingConn forwards everything to the modernc connection, taking
// single-statement queries and execs through its statement cache.
type cachingConn struct {
	base  driver.Conn
	mu    sync.Mutex // guards stmts; database/sql already serialises use of a conn
	stmts map[string]*cachedStmt
}

// acquire returns the idle cached statement of query, preparing it on first
// use, or nil when the query must not or cannot be cached right now.
func (c *cachingConn) acquire(ctx context.Context, query string) *cachedStmt {
	if strings.Contains(query, ";") {
		return nil // scripts (migrations) are executed as they are
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stmts[query]
	if ok {
		if s.busy {
			return nil
		}
		s.busy = true
		return s
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil // let the uncached path report the error
	}
	s = &cachedStmt{stmt: st, busy: true}
	c.stmts[query] = s
	return s
}

func (c *cachingConn) release(s *cachedStmt) {
	c.mu.Lock()
	s.busy = false
	c.mu.Unlock()
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.acquire(ctx, query)
	if s == nil {
		return c.base.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(s)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.release(s) }}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s := c.acquire(ctx, query)
	if s == nil {
		return c.base.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	defer c.release(s)
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Begin() (driver.Tx, error) { return c.base.Begin() } //nolint:staticcheck // required by driver.Conn

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.base.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.base.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.base.(driver.Validator).IsValid() }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, s := range c.stmts {
		s.stmt.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.base.Close()
}

// cachedRows gives the statement back to the cache when the rows close.
type cachedRows struct {
	driver.Rows
	once    sync.Once
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}

var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)
