package testkit

import (
	"testing"
	"time"
)

// ReportCPU starts measuring the CPU time (user and system) that the whole
// process spends from now on, and returns a function that reports it as the
// metric cpu-µs/op over b.N operations; call it (deferred) at the end of the
// benchmark function. On a machine shared with other work the wall time of
// a benchmark that waits on fsync says little, while the CPU time a request
// costs moves much less.
func ReportCPU(b *testing.B) (stop func()) {
	b.Helper()
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((processCPU()-start)/time.Microsecond)/float64(b.N), "cpu-µs/op")
		}
	}
}
