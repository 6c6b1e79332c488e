package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Profiles of the server (-cpuprofile, -memprofile, allocations per
// request): the server is then built with -tags benchprofile, which serves
// net/http/pprof and the runtime's allocation counters on a loopback
// listener of their own named by ATLASX509_BENCH_PPROF (see
// cmd/atlasx509/benchprofile.go). Without those flags the server is built
// as shipped and none of this runs.

// profiling reports whether the run profiles the server.
func (o options) profiling() bool { return o.cpuProfile != "" || o.memProfile != "" || o.allocs }

// profileFile is where the profile of one scenario goes: PREFIX-NAME.pprof
// (with the repetition when there are several).
func profileFile(prefix string, sc scenario, reps int) string {
	name := sc.Name
	if reps > 1 {
		name = fmt.Sprintf("%s-%d", name, sc.Rep)
	}
	return prefix + "-" + name + ".pprof"
}

// profiler collects the profiles of one measured window.
type profiler struct {
	b      *bench
	before allocCount
	done   []chan error
	files  []string
}

// allocCount is the server's heap allocations since it started.
type allocCount struct {
	objects, bytes float64
	ok             bool
}

// startProfiles starts the profiles of sc's window (of -duration), and
// reads the allocation counters; it does nothing for the peer or when the
// run does not profile.
func (b *bench) startProfiles(ctx context.Context, sc scenario) *profiler {
	if b.pprof == "" || sc.Peer != "" || sc.Kind == kindLowLoad {
		return nil
	}
	p := &profiler{b: b, before: b.readAllocs(ctx)}
	secs := max(1, int(b.opts.duration.Round(time.Second)/time.Second))
	get := func(path, file string) {
		done := make(chan error, 1)
		p.done = append(p.done, done)
		p.files = append(p.files, file)
		go func() { done <- b.fetchTo(ctx, fmt.Sprintf("%s?seconds=%d", path, secs), file) }()
	}
	if b.opts.cpuProfile != "" {
		get("/debug/pprof/profile", profileFile(b.opts.cpuProfile, sc, b.opts.reps))
	}
	if b.opts.memProfile != "" {
		get("/debug/pprof/allocs", profileFile(b.opts.memProfile, sc, b.opts.reps))
	}
	return p
}

// stop waits for the profiles and returns the allocations made in the
// window.
func (p *profiler) stop(ctx context.Context) allocCount {
	if p == nil {
		return allocCount{}
	}
	after := p.b.readAllocs(ctx)
	for i, done := range p.done {
		if err := <-done; err != nil {
			p.b.logf("profile %s: %v", p.files[i], err)
		} else {
			p.b.logf("wrote %s", p.files[i])
		}
	}
	if !p.before.ok || !after.ok {
		return allocCount{}
	}
	return allocCount{objects: after.objects - p.before.objects, bytes: after.bytes - p.before.bytes, ok: true}
}

func (b *bench) readAllocs(ctx context.Context) allocCount {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+b.pprof+"/debug/allocs", nil)
	if err != nil {
		return allocCount{}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return allocCount{}
	}
	defer resp.Body.Close()
	var v struct{ Objects, Bytes uint64 }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return allocCount{}
	}
	return allocCount{objects: float64(v.Objects), bytes: float64(v.Bytes), ok: true}
}

// fetchTo writes the answer of the pprof listener's path to file.
func (b *bench) fetchTo(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+b.pprof+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s: %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
