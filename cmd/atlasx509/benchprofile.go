//go:build benchprofile

package main

// Built only with -tags benchprofile (go run ./bench -cpuprofile/-memprofile
// builds the server so): when ATLASX509_BENCH_PPROF names a loopback
// address, net/http/pprof and the runtime's allocation counters are served
// there, on a listener of their own that never serves the API. The
// server as built without the tag has none of it.

import (
	"encoding/json"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime/metrics"
)

func init() {
	addr := os.Getenv("ATLASX509_BENCH_PPROF")
	if addr == "" {
		return
	}
	http.HandleFunc("/debug/allocs", func(w http.ResponseWriter, _ *http.Request) {
		s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(s)
		json.NewEncoder(w).Encode(map[string]uint64{"objects": s[0].Value.Uint64(), "bytes": s[1].Value.Uint64()})
	})
	go http.ListenAndServe(addr, nil)
}
