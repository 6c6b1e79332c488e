package postgres

import (
	"context"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// The benchmarks mirror those of the SQLite driver (same names, same
// records), for comparison:
//
//	go test -run x -bench . ./internal/store/sqlite/ ./internal/store/postgres/
//
// Their stores have the default pool size (defaultMaxConns) unless the test
// URL sets pool_max_conns.

// benchStore opens a store on a new database holding one project with its
// CA and one user.
func benchStore(b *testing.B) (*Store, atlasx509.DatabaseUser) {
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
	p := seedProject(b, s)
	user := testUser(p, "alice")
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, user) }); err != nil {
		b.Fatal(err)
	}
	return s, user
}

// BenchmarkInsertCertificate commits one certificate record per Update: the
// cost of a durable (synchronous_commit=on) SERIALIZABLE write transaction.
func BenchmarkInsertCertificate(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	var serial int64
	for b.Loop() {
		serial++
		c := testCertificate(u, serial)
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, c) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParallelInsertCertificate runs such Updates from parallel
// goroutines (GOMAXPROCS of them); they share the pool, and PostgreSQL
// commits them concurrently.
func BenchmarkParallelInsertCertificate(b *testing.B) {
	benchParallelInsert(b, 1)
}

// BenchmarkParallel16InsertCertificate runs them from 16 goroutines (16
// divided by GOMAXPROCS per GOMAXPROCS, at least one each), as a server
// with 16 clients waiting on the store would; they queue for the pool's
// connections.
func BenchmarkParallel16InsertCertificate(b *testing.B) {
	benchParallelInsert(b, max(1, 16/runtime.GOMAXPROCS(0)))
}

// benchParallelInsert runs RunParallel with parallelism goroutines per
// GOMAXPROCS.
func benchParallelInsert(b *testing.B, parallelism int) {
	s, u := benchStore(b)
	ctx := context.Background()
	var serial atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := testCertificate(u, serial.Add(1))
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, c) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkParallelFindDatabaseUser reads through View from parallel
// goroutines, for comparison.
func BenchmarkParallelFindDatabaseUser(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.FindDatabaseUser(ctx, u.GroupID, u.Username)
				return err
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
