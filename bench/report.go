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
	Name       string  `json:"name"`
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
	Notes         []string `json:"notes,omitempty"`

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
	Started    time.Time        `json:"started"`
	GoVersion  string           `json:"goVersion"`
	GOMAXPROCS int              `json:"gomaxprocs"`
	NumCPU     int              `json:"numCPU"`
	Duration   string           `json:"duration"`
	ServerArgs []string         `json:"serverArgs"`
	Limits     map[string]limit `json:"limits"`
	Results    []result         `json:"results"`
	ServerExit string           `json:"serverExit,omitempty"`
}

func (r *report) sortResults() {
	slices.SortStableFunc(r.Results, func(a, b result) int { return a.row - b.row })
}

// print writes the report as plain tables.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\natlasx509 benchmark, %s, %s, GOMAXPROCS %d (%d CPUs), window %s per scenario\n\n",
		r.Started.Format(time.RFC3339), r.GoVersion, r.GOMAXPROCS, r.NumCPU, r.Duration)
	fmt.Fprintf(w, "server: atlasx509 serve %s\n\n", strings.Join(r.ServerArgs, " "))
	fmt.Fprintln(w, "Raw limit: leaf key + certificate signed by an ECDSA P-256 CA + PEM, no HTTP or storage, in GOMAXPROCS goroutines")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "leaf key\tper second\t±\tms per op (1 core)\tops\t")
	for _, kt := range sortedKeys(r.Limits) {
		l := r.Limits[kt]
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.2f\t%d\t\n", kt, l.PerSecond, pct(l.RelErr), l.MeanMillis, l.Operations)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nOver HTTP (loopback, SQLite, durable commits); ratio = per second / raw limit of the same key type")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tauth\tclients\tok\terrors\tper second\tratio\t±\tp50 ms\tp99 ms\tmax ms\tserver CPU\tload CPU\tother CPU\tpeak RSS MiB\tHWM MiB\tpool hit/fallback\t")
	for _, x := range r.Results {
		if x.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%s\t%d\tskipped\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", x.Name, x.Auth, x.Clients)
			continue
		}
		ratio := "-"
		if x.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", x.Ratio)
		}
		pool := "-"
		if x.PoolHits != nil {
			pool = fmt.Sprintf("%.0f/%.0f", *x.PoolHits, *x.PoolFallbacks)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s\t\n",
			x.Name, x.Auth, x.Clients, x.OK, x.Errors, x.PerSecond, ratio, pct(x.RatioErr), x.P50Millis, x.P99Millis, x.MaxMillis,
			x.ServerCPU, x.LoadCPU, x.OtherCPU, x.PeakRSSMB, x.HWMMB, pool)
	}
	tw.Flush()
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
