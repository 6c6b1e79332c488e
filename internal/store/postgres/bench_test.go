package postgres

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// The benchmarks mirror those of the SQLite driver (same names, same
// records), for comparison:
//
//	go test -run x -bench . ./internal/store/sqlite/ ./internal/store/postgres/
//
// Their stores have the default pool size (defaultMaxConns) unless the test
// URL sets pool_max_conns.

// benchStore opens a store on a new database.
func benchStore(b *testing.B) *Store {
	b.Helper()
	u := newDB(b, false)
	if !strings.Contains(server.url, "pool_max_conns") {
		// Drop the tests' smaller pool size.
		if p, err := url.Parse(u); err == nil && strings.HasPrefix(u, "postgres") {
			q := p.Query()
			q.Del("pool_max_conns")
			p.RawQuery = q.Encode()
			u = p.String()
		} else {
			u = strings.Replace(u, " pool_max_conns="+strconv.Itoa(testPoolConns), "", 1)
		}
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if got := s.pool.Config().MaxConns; !strings.Contains(server.url, "pool_max_conns") && got != defaultMaxConns {
		b.Fatalf("benchmark pool of %d connections, want %d", got, defaultMaxConns)
	}
	return s
}

// BenchmarkInsertCertificate: one durable (synchronous_commit=on)
// SERIALIZABLE Update per record.
func BenchmarkInsertCertificate(b *testing.B) { storetest.BenchInsertCertificate(b, benchStore(b)) }

// BenchmarkParallelInsertCertificate: Updates from GOMAXPROCS goroutines,
// committed concurrently by PostgreSQL.
func BenchmarkParallelInsertCertificate(b *testing.B) {
	storetest.BenchParallelInsertCertificate(b, benchStore(b), 1)
}

// BenchmarkParallel16InsertCertificate: Updates from 16 goroutines, which
// queue for the pool's connections.
func BenchmarkParallel16InsertCertificate(b *testing.B) {
	storetest.BenchParallelInsertCertificate(b, benchStore(b), 0)
}

// BenchmarkParallelFindDatabaseUser: reads through View, for comparison.
func BenchmarkParallelFindDatabaseUser(b *testing.B) {
	storetest.BenchParallelFindDatabaseUser(b, benchStore(b))
}
