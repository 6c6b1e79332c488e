package sqlite

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// benchStore opens a store holding one project with one user and its CA.
func benchStore(b *testing.B) (*Store, atlasx509.DatabaseUser) {
	b.Helper()
	s, _ := openTemp(b)
	ctx := context.Background()
	now := time.Now().UTC()
	o := atlasx509.Organization{ID: atlasx509.NewID(now), Name: "bench", Created: now}
	p := atlasx509.Project{ID: atlasx509.NewID(now), OrgID: o.ID, Name: "bench", Created: now}
	u := atlasx509.DatabaseUser{
		GroupID: p.ID, Username: "alice", DatabaseName: atlasx509.DatabaseExternal,
		X509Type: atlasx509.X509Managed, Created: now, Updated: now,
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, o); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		if err := tx.InsertProjectCA(ctx, atlasx509.ProjectCA{
			GroupID: p.ID, Generation: 1, CertDER: make([]byte, 800), SealedKey: make([]byte, 200),
			NotBefore: now, NotAfter: now.AddDate(10, 0, 0), Created: now,
		}); err != nil {
			return err
		}
		return tx.InsertDatabaseUser(ctx, u)
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, u
}

func benchCertificate(u atlasx509.DatabaseUser, serial int64) atlasx509.Certificate {
	now := time.Now().UTC()
	return atlasx509.Certificate{
		GroupID: u.GroupID, Username: u.Username, Serial: serial, Subject: "CN=" + u.Username,
		CAGeneration: 1, NotBefore: now, NotAfter: now.AddDate(0, 3, 0),
		FingerprintSHA256: fmt.Sprintf("%064x", serial), Created: now,
	}
}

// BenchmarkInsertCertificate commits one certificate record per Update: the
// cost of a durable (fsynced) write transaction.
func BenchmarkInsertCertificate(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	var serial int64
	for b.Loop() {
		serial++
		c := benchCertificate(u, serial)
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, c) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParallelInsertCertificate runs such Updates from parallel
// goroutines (GOMAXPROCS of them): concurrent Updates share commits.
func BenchmarkParallelInsertCertificate(b *testing.B) {
	benchParallelInsert(b, 1)
}

// BenchmarkParallel16InsertCertificate runs them from 16 goroutines (16
// divided by GOMAXPROCS per GOMAXPROCS, at least one each), as a server
// with 16 clients waiting on the store would.
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
			c := benchCertificate(u, serial.Add(1))
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, c) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportBatches(b, s)
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

// reportBatches reports how many Updates a commit carried on average.
func reportBatches(b *testing.B, s *Store) {
	if n := s.commits.Load(); n > 0 {
		b.ReportMetric(float64(s.committed.Load())/float64(n), "updates/commit")
	}
}
