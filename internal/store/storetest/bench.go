package storetest

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

// The benchmarks every driver runs on the same records, so that the
// drivers can be compared:
//
//	go test -run x -bench . ./internal/store/sqlite/ ./internal/store/postgres/

// SeedBenchmark inserts into s an organization, a project with CA
// generation 1 and one managed user, and returns the user.
func SeedBenchmark(tb testing.TB, s store.Store) atlasx509.DatabaseUser {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := atlasx509.Organization{ID: atlasx509.NewID(now), Name: "bench", Created: now}
	p := atlasx509.Project{ID: atlasx509.NewID(now), OrgID: o.ID, Name: "bench", Created: now}
	u := atlasx509.DatabaseUser{
		GroupID: p.ID, Username: "alice", DatabaseName: atlasx509.DatabaseExternal, X509Type: atlasx509.X509Managed,
		AWSIAMType: "NONE", LDAPAuthType: "NONE", OIDCAuthType: "NONE", Created: now, Updated: now,
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
		tb.Fatal(err)
	}
	return u
}

func benchCertificate(u atlasx509.DatabaseUser, serial int64) atlasx509.Certificate {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return atlasx509.Certificate{
		GroupID: u.GroupID, Username: u.Username, Serial: serial, Subject: "CN=" + u.Username,
		CAGeneration: 1, NotBefore: now, NotAfter: now.AddDate(0, 3, 0),
		FingerprintSHA256: fmt.Sprintf("%064x", serial), Created: now,
	}
}

// BenchInsertCertificate commits one certificate record per Update: the
// cost of a durable write transaction.
func BenchInsertCertificate(b *testing.B, s store.Store) {
	u := SeedBenchmark(b, s)
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

// BenchParallelInsertCertificate runs such Updates from goroutines (per
// GOMAXPROCS, parallelism of them; 0 means 16 in all, as a server with 16
// clients waiting on the store would).
func BenchParallelInsertCertificate(b *testing.B, s store.Store, parallelism int) {
	if parallelism == 0 {
		parallelism = max(1, 16/runtime.GOMAXPROCS(0))
	}
	u := SeedBenchmark(b, s)
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
}

// BenchParallelFindDatabaseUser reads through View from parallel goroutines.
func BenchParallelFindDatabaseUser(b *testing.B, s store.Store) {
	u := SeedBenchmark(b, s)
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
