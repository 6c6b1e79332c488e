package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is the outcome of one scenario.
type result struct {
	Name string `json:"name"`
	// Server is "atlasx509" or the peer's name.
	Server     string  `json:"server"`
	Rep        int     `json:"rep"`
	Kind       string  `json:"kind"`
	KeyType    string  `json:"keyType,omitempty"`
	Auth       string  `json:"auth"`
	Clients    int     `json:"clients"`
	Skipped    string  `json:"skipped,omitempty"`
	OK         int     `json:"ok"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"perSecond"`
	// Ratio is PerSecond over the raw limit of the key type measured in the
	// same run; 0 when it does not apply.
	Ratio float64 `json:"ratioToLimit,omitempty"`
	// RatioErr is the relative standard error of Ratio due to the spread of
	// key generation times (one key per certificate), in the window and in
	// the limit's measurement.
	RatioErr  float64 `json:"ratioRelErr,omitempty"`
	P50Millis float64 `json:"p50Millis"`
	P99Millis float64 `json:"p99Millis"`
	MaxMillis float64 `json:"maxMillis"`
	// ServerCPU and LoadCPU are the cores the server and the load generator
	// used on average over the window.
	ServerCPU float64 `json:"serverCPU"`
	LoadCPU   float64 `json:"loadCPU"`
	// OtherCPU is what every other process on the machine used meanwhile:
	// when it is not near zero, the figures are disturbed.
	OtherCPU float64 `json:"otherCPU"`
	// PeakRSSMB is the highest VmRSS sampled in the window, HWMMB the
	// server's VmHWM (its peak since start) at the end of it, in MiB.
	PeakRSSMB float64 `json:"peakRSSMiB"`
	HWMMB     float64 `json:"hwmMiB"`
	// PoolHits and PoolFallbacks are the key pool's counters over the
	// window, when the server exports them.
	PoolHits      *float64 `json:"poolHits,omitempty"`
	PoolFallbacks *float64 `json:"poolFallbacks,omitempty"`
	// AllocsPerReq and KBPerReq are the server's heap allocations per
	// answered request over the window (runs that profile the server).
	AllocsPerReq float64  `json:"allocsPerRequest,omitempty"`
	KBPerReq     float64  `json:"kibPerRequest,omitempty"`
	Load         string   `json:"loadAverage,omitempty"`
	Notes        []string `json:"notes,omitempty"`

	row int
}

func (r *result) cpuAndPool(before, after snap) {
	dt := after.at.Sub(before.at).Seconds()
	if before.cpuErr == nil && after.cpuErr == nil && dt > 0 {
		r.ServerCPU = (after.srvCPU - before.srvCPU) / dt
		r.LoadCPU = (after.ownCPU - before.ownCPU) / dt
		r.OtherCPU = max(0, (after.allCPU-before.allCPU)/dt-r.ServerCPU-r.LoadCPU)
	}
	if before.pool && after.pool {
		h, f := after.hits-before.hits, after.fallbacks-before.fallbacks
		r.PoolHits, r.PoolFallbacks = &h, &f
	}
}

func (r *result) summary() string {
	if r.Skipped != "" {
		return r.Name + ": skipped: " + r.Skipped
	}
	s := fmt.Sprintf("%s: %d ok, %d errors, %.1f/s, p50 %.1f ms, p99 %.1f ms", r.Name, r.OK, r.Errors, r.PerSecond, r.P50Millis, r.P99Millis)
	if r.FirstError != "" {
		s += "; first error: " + r.FirstError
	}
	return s
}

// report is the whole run.
type report struct {
	Started    time.Time `json:"started"`
	GoVersion  string    `json:"goVersion"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"numCPU"`
	Duration   string    `json:"duration"`
	ServerArgs []string  `json:"serverArgs"`
	// Replicas is how many atlasx509 servers shared the store (-replicas).
	Replicas   int              `json:"replicas,omitempty"`
	Limits     map[string]limit `json:"limits"`
	Results    []result         `json:"results"`
	LoadBefore string           `json:"loadAverageBefore,omitempty"`
	LoadAfter  string           `json:"loadAverageAfter,omitempty"`
	ServerExit string           `json:"serverExit,omitempty"`
}

func (r *report) sortResults() {
	slices.SortStableFunc(r.Results, func(a, b result) int { return a.row - b.row })
}

// print writes the report as plain tables.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\natlasx509 benchmark, %s, %s, GOMAXPROCS %d (%d CPUs), window %s per scenario\n\n",
		r.Started.Format(time.RFC3339), r.GoVersion, r.GOMAXPROCS, r.NumCPU, r.Duration)
	fmt.Fprintf(w, "server: atlasx509 serve %s\n", strings.Join(r.ServerArgs, " "))
	if r.Replicas > 1 {
		fmt.Fprintf(w, "replicas: %d on the one store, load client i on replica i mod %d; server CPU is their sum, peak RSS and HWM the first's\n", r.Replicas, r.Replicas)
	}
	fmt.Fprintf(w, "load average (1, 5, 15 min) before: %s, after: %s\n\n", r.LoadBefore, r.LoadAfter)
	fmt.Fprintln(w, "Raw limit: leaf key + certificate signed by an ECDSA P-256 CA + PEM, no HTTP or storage, in GOMAXPROCS goroutines")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "leaf key\tper second\t±\tms per op (1 core)\tops\t")
	for _, kt := range sortedKeys(r.Limits) {
		l := r.Limits[kt]
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.2f\t%d\t\n", kt, l.PerSecond, pct(l.RelErr), l.MeanMillis, l.Operations)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nOver HTTP (loopback, %s, durable commits); ratio = per second / raw limit of the same key type\n", storeName(r.ServerArgs))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tauth\tclients\tok\terrors\tper second\tratio\t±\tp50 ms\tp99 ms\tmax ms\tserver CPU\tload CPU\tother CPU\tpeak RSS MiB\tHWM MiB\tpool hit/fallback\tallocs/req\tKiB/req\tload avg\t")
	for _, x := range r.Results {
		name := x.Name
		if r.maxRep() > 1 {
			name = fmt.Sprintf("%s #%d", x.Name, x.Rep)
		}
		if x.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%s\t%d\tskipped\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", name, x.Auth, x.Clients)
			continue
		}
		allocs, kib := "-", "-"
		if x.AllocsPerReq > 0 {
			allocs, kib = fmt.Sprintf("%.0f", x.AllocsPerReq), fmt.Sprintf("%.1f", x.KBPerReq)
		}
		ratio := "-"
		if x.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", x.Ratio)
		}
		pool := "-"
		if x.PoolHits != nil {
			pool = fmt.Sprintf("%.0f/%.0f", *x.PoolHits, *x.PoolFallbacks)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\n",
			name, x.Auth, x.Clients, x.OK, x.Errors, x.PerSecond, ratio, pct(x.RatioErr), x.P50Millis, x.P99Millis, x.MaxMillis,
			x.ServerCPU, x.LoadCPU, x.OtherCPU, x.PeakRSSMB, x.HWMMB, pool, allocs, kib, x.Load)
	}
	tw.Flush()
	r.printPeers(w)
	var notes []string
	for _, x := range r.Results {
		if x.OtherCPU >= 0.2 {
			notes = append(notes, fmt.Sprintf("%s: other processes used %.2f cores meanwhile: its figures are disturbed", x.Name, x.OtherCPU))
		}
		if x.Skipped != "" {
			notes = append(notes, x.Name+": skipped: "+x.Skipped)
		}
		if x.FirstError != "" {
			notes = append(notes, fmt.Sprintf("%s: %d errors, the first: %s", x.Name, x.Errors, x.FirstError))
		}
		for _, n := range x.Notes {
			notes = append(notes, x.Name+": "+n)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  "+strings.ReplaceAll(n, "\n", " "))
		}
	}
	if r.ServerExit != "" && r.ServerExit != "exit status 0" {
		fmt.Fprintf(w, "\nserver: %s\n", r.ServerExit)
	}
}

// pct formats a relative error as a percentage, or "" when negligible.
func pct(rel float64) string {
	if rel < 0.005 {
		return ""
	}
	return fmt.Sprintf("%.0f%%", rel*100)
}

func sortedKeys(m map[string]limit) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeJSON writes the report as indented JSON to path, or to stdout for "-".
func (r *report) writeJSON(path string, stdout io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// printPeers writes the comparison of atlasx509 with the peer, when the
// run measured one: per client count, the median over the repetitions of
// each server's rate, its ratio to the raw limit, its p50 and p99, and the
// ratio of the two rates; and Digest against Bearer.
func (r *report) printPeers(w io.Writer) {
	type key struct {
		server, auth string
		clients      int
	}
	groups := map[key][]result{}
	var peer string
	for _, x := range r.Results {
		if x.Skipped != "" || x.Kind != kindCerts || x.KeyType != "ECDSA_P256" {
			continue
		}
		k := key{x.Server, x.Auth, x.Clients}
		groups[k] = append(groups[k], x)
		if x.Server != "atlasx509" {
			peer = x.Server
		}
	}
	if peer == "" {
		return
	}
	med := func(rs []result) (result, bool) {
		if len(rs) == 0 {
			return result{}, false
		}
		s := slices.Clone(rs)
		slices.SortFunc(s, func(a, b result) int { return cmpFloat(a.PerSecond, b.PerSecond) })
		return s[(len(s)-1)/2], true
	}
	lim := r.Limits["ECDSA_P256"].PerSecond
	fmt.Fprintf(w, "\natlasx509 (Bearer, durable record, audit) beside %s %s (newcert: no authentication, stores nothing), ECDSA P-256 leaves;\n", peer, cfsslVersion)
	fmt.Fprintf(w, "median of %d repetition(s) by rate; ratio to the raw limit of this run (%.0f/s)\n", r.maxRep(), lim)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "clients\t%s per second\tratio\tp50 ms\tp99 ms\tatlasx509 per second\tratio\tp50 ms\tp99 ms\tatlasx509 / %s\t\n", peer, peer)
	for _, c := range []int{1, 4, 16} {
		p, ok1 := med(groups[key{peer, authNone, c}])
		a, ok2 := med(groups[key{"atlasx509", authBearer, c}])
		if !ok1 || !ok2 {
			continue
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.1f\t%.1f\t%.0f\t%.2f\t%.1f\t%.1f\t%.2f\t\n", c,
			p.PerSecond, p.Ratio, p.P50Millis, p.P99Millis, a.PerSecond, a.Ratio, a.P50Millis, a.P99Millis, a.PerSecond/p.PerSecond)
	}
	tw.Flush()
	if d, ok := med(groups[key{"atlasx509", authDigest, 4}]); ok {
		if bearer, ok := med(groups[key{"atlasx509", authBearer, 4}]); ok {
			fmt.Fprintf(w, "Digest at 4 clients: %.0f/s (%.2f), p50 %.1f ms, p99 %.1f ms: %.2f of Bearer's rate\n",
				d.PerSecond, d.Ratio, d.P50Millis, d.P99Millis, d.PerSecond/bearer.PerSecond)
		}
	}
}

func (r *report) maxRep() int {
	n := 1
	for _, x := range r.Results {
		n = max(n, x.Rep)
	}
	return n
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// storeName names the store that the server flags args select: PostgreSQL
// for a --db postgres:// URL (whose server's CPU then counts as other
// processes'), SQLite otherwise.
func storeName(args []string) string {
	for i, a := range args {
		v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "db=")
		if !ok && strings.TrimLeft(a, "-") == "db" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok && (strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://")) {
			return "PostgreSQL (its CPU counts as other processes')"
		}
	}
	return "SQLite"
}
