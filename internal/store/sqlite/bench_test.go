package sqlite

import (
	"testing"

	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// The benchmarks are storetest's, shared with the PostgreSQL driver.

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, _ := openTemp(b)
	return s
}

// BenchmarkInsertCertificate: one durable (fsynced) Update per record.
func BenchmarkInsertCertificate(b *testing.B) { storetest.BenchInsertCertificate(b, benchStore(b)) }

// BenchmarkParallelInsertCertificate: Updates from GOMAXPROCS goroutines,
// which share commits (group commit).
func BenchmarkParallelInsertCertificate(b *testing.B) {
	s := benchStore(b)
	storetest.BenchParallelInsertCertificate(b, s, 1)
	reportBatches(b, s)
}

// BenchmarkParallel16InsertCertificate: Updates from 16 goroutines.
func BenchmarkParallel16InsertCertificate(b *testing.B) {
	s := benchStore(b)
	storetest.BenchParallelInsertCertificate(b, s, 0)
	reportBatches(b, s)
}

// BenchmarkParallelFindDatabaseUser: reads through View, for comparison.
func BenchmarkParallelFindDatabaseUser(b *testing.B) {
	storetest.BenchParallelFindDatabaseUser(b, benchStore(b))
}

// reportBatches reports how many Updates a commit carried on average.
func reportBatches(b *testing.B, s *Store) {
	if n := s.commits.Load(); n > 0 {
		b.ReportMetric(float64(s.committed.Load())/float64(n), "updates/commit")
	}
}

// BenchmarkInFn: the nested-Update check that every Update makes, from 50
// frames deep (a request's stack is about as deep); compare with
// BenchmarkInsertCertificate, the Update it guards.
func BenchmarkInFn(b *testing.B) {
	atDepth(50, func() {
		for b.Loop() {
			if inFn() {
				b.Fatal("inFn outside any fn")
			}
		}
	})
}

// atDepth calls f n frames deeper than its caller.
func atDepth(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	atDepth(n-1, f)
}
