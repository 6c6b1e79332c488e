package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/pki"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		d    []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", append(ms(make([]int, 98)...), ms(5, 9)...), 0.99, 5 * time.Millisecond},
		{"p99 of 200 is the 198th", append(ms(make([]int, 198)...), ms(5, 9)...), 0.99, 0},
	}
	for _, tt := range tests {
		if got := percentile(tt.d, tt.p); got != tt.want {
			t.Errorf("%s: percentile = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseSamples(t *testing.T) {
	text := `# HELP atlasx509_key_pool_depth Leaf keys ready in the pool, by key type.
# TYPE atlasx509_key_pool_depth gauge
atlasx509_key_pool_depth{key_type="ECDSA_P256"} 256
atlasx509_key_pool_depth{key_type="RSA4096"} 3
atlasx509_http_requests_total{code="201",method="POST",route="/a b/{c}"} 1.5e+06
go_goroutines 12
garbage line
`
	want := samples{
		`atlasx509_key_pool_depth{key_type="ECDSA_P256"}`:                          256,
		`atlasx509_key_pool_depth{key_type="RSA4096"}`:                             3,
		`atlasx509_http_requests_total{code="201",method="POST",route="/a b/{c}"}`: 1.5e6,
		"go_goroutines": 12,
	}
	got := parseSamples([]byte(text))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseSamples (-want +got):\n%s", diff)
	}
	if v, ok := got.pool(seriesDepth, pki.RSA4096); !ok || v != 3 {
		t.Errorf("pool(depth, RSA4096) = %v, %v; want 3, true", v, ok)
	}
}

func TestWindow(t *testing.T) {
	var w window
	t0 := time.Now()
	if w.holds(t0) {
		t.Error("an unopened window holds a time")
	}
	w.start.Store(t0.UnixNano())
	if !w.holds(t0.Add(time.Hour)) || w.holds(t0.Add(-time.Nanosecond)) {
		t.Error("an open window: wrong membership")
	}
	w.end.Store(t0.Add(time.Second).UnixNano())
	if w.holds(t0.Add(2 * time.Second)) {
		t.Error("a closed window holds a later time")
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		filter string
		peers  bool
		reps   int
		want   []string
	}{
		{"ecdsa-p256-c4$|list", false, 0, []string{"ecdsa-p256-c4", "list-users-c4"}},
		{"lowload", false, 1, []string{"rsa4096-lowload"}},
		{"nothing", false, 1, nil},
		{"c16$", false, 1, []string{"ecdsa-p256-c16", "rsa4096-c16"}},
		{"p256-c16$", true, 2, []string{"cfssl-p256-c16", "ecdsa-p256-c16", "cfssl-p256-c16", "ecdsa-p256-c16"}},
		{peersScenarios, true, 1, []string{"cfssl-p256-c4", "ecdsa-p256-c4", "cfssl-p256-c16", "ecdsa-p256-c16", "ecdsa-p256-c4-digest"}},
	}
	for _, tt := range tests {
		b := &bench{opts: options{scenarios: regexp.MustCompile(tt.filter), lowLoadN: 1, peers: tt.peers, reps: tt.reps}}
		var got []string
		for _, sc := range b.plan() {
			got = append(got, sc.Name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("plan(%q) (-want +got):\n%s", tt.filter, diff)
		}
	}
}

func TestMeasureLimit(t *testing.T) {
	l, err := measureLimit(context.Background(), pki.ECDSAP256, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if l.Operations == 0 || l.PerSecond <= 0 || l.MeanMillis <= 0 {
		t.Errorf("measureLimit = %+v, want operations and a rate", l)
	}
}

func TestStoreName(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "SQLite"},
		{[]string{"--log-level", "info"}, "SQLite"},
		{[]string{"--db", "sqlite:/tmp/x.db"}, "SQLite"},
		{[]string{"--db", "postgres://u@h/db"}, "PostgreSQL"},
		{[]string{"-db=postgresql://u@h/db"}, "PostgreSQL"},
		{[]string{"--db"}, "SQLite"},
	}
	for _, tt := range tests {
		if got := storeName(tt.args); !strings.HasPrefix(got, tt.want) {
			t.Errorf("storeName(%q) = %q, want %s…", tt.args, got, tt.want)
		}
	}
}

// TestReplicasFlag checks that -replicas above 1 is taken only with a store
// the replicas can share, and not with a profile of one server.
func TestReplicasFlag(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"-replicas", "1"}, false},
		{[]string{"-replicas", "0"}, true},
		{[]string{"-replicas", "2"}, true},
		{[]string{"-replicas", "2", "-server-args", "--db sqlite:/tmp/x.db"}, true},
		{[]string{"-replicas", "2", "-server-args", "--db postgres://postgres@127.0.0.1/b"}, false},
		{[]string{"-replicas", "2", "-server-args", "--db postgres://postgres@127.0.0.1/b", "-cpuprofile", "/tmp/p"}, true},
	}
	for _, tc := range tests {
		o, err := parseFlags(tc.args, io.Discard)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseFlags(%q) error = %v, want error %v", tc.args, err, tc.wantErr)
		}
		if err == nil && o.replicas < 1 {
			t.Errorf("parseFlags(%q): replicas %d", tc.args, o.replicas)
		}
	}
}
