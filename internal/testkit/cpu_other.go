//go:build !unix

package testkit

import "time"

// processCPU is not measured here: ReportCPU reports 0.
func processCPU() time.Duration { return 0 }
