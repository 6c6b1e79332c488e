package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/atlasx509/atlasx509/internal/keypool"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// requestCounts returns atlasx509_http_requests_total as "route method code"
// → count.
func requestCounts(tb testing.TB, m *Metrics) map[string]float64 {
	tb.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]float64)
	for _, f := range fams {
		if f.GetName() != "atlasx509_http_requests_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			l := make(map[string]string)
			for _, lp := range mt.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			out[l["route"]+" "+l["method"]+" "+l["code"]] = mt.GetCounter().GetValue()
		}
	}
	return out
}

// histogramCount returns the sample count of the histogram series of name
// whose labels include want.
func histogramCount(tb testing.TB, m *Metrics, name string, want map[string]string) uint64 {
	tb.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var n uint64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, mt := range f.GetMetric() {
			for k, v := range want {
				found := false
				for _, lp := range mt.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			n += mt.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// copying is a middleware that copies the request, as a logging middleware
// adding to the context does, so the mux's r.Pattern stays on the copy.
func copying(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), struct{}{}, 1)))
	})
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/atlas/v1.0/groups/{groupId}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("{}"))
	})
	mux.HandleFunc("POST /api/atlas/v1.0/groups/{groupId}/databaseUsers/{username}/certs", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/api/atlas/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("GET /silent", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r, "/explicit/{name}")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	return mux
}

type request struct{ method, path string }

func TestMiddlewareRouteLabels(t *testing.T) {
	tests := []struct {
		name string
		// wrap builds the handler under test around the metrics and mux.
		wrap func(m *Metrics, mux *http.ServeMux) http.Handler
		reqs []request
		want map[string]float64
	}{
		{
			name: "around the mux: r.Pattern, never the raw path",
			wrap: func(m *Metrics, mux *http.ServeMux) http.Handler { return m.Middleware(nil, mux) },
			reqs: []request{
				{"GET", "/api/atlas/v1.0/groups/aaa"}, {"GET", "/api/atlas/v1.0/groups/bbb"},
				{"POST", "/api/atlas/v1.0/groups/aaa/databaseUsers/alice/certs"},
				{"GET", "/api/atlas/v1.0/nothing/here"}, {"GET", "/elsewhere"},
			},
			want: map[string]float64{
				"/api/atlas/v1.0/groups/{groupId} GET 200":                                 2,
				"/api/atlas/v1.0/groups/{groupId}/databaseUsers/{username}/certs POST 201": 1,
				"/api/atlas/ GET 404": 1,
				"unmatched GET 404":   1,
			},
		},
		{
			name: "behind a copying middleware: routeOf looks the pattern up",
			wrap: func(m *Metrics, mux *http.ServeMux) http.Handler {
				return m.Middleware(func(r *http.Request) string { _, p := mux.Handler(r); return p }, copying(mux))
			},
			reqs: []request{{"GET", "/api/atlas/v1.0/groups/aaa"}, {"DELETE", "/api/atlas/v1.0/groups/aaa"}, {"DELETE", "/silent"}},
			want: map[string]float64{
				"/api/atlas/v1.0/groups/{groupId} GET 200": 1,
				"/api/atlas/ DELETE 404":                   1,
				// A 405 is answered by the mux itself, with no pattern.
				"unmatched DELETE 405": 1,
			},
		},
		{
			name: "behind a copying middleware without routeOf: unmatched",
			wrap: func(m *Metrics, mux *http.ServeMux) http.Handler { return m.Middleware(nil, copying(mux)) },
			reqs: []request{{"GET", "/api/atlas/v1.0/groups/aaa"}},
			want: map[string]float64{"unmatched GET 200": 1},
		},
		{
			name: "SetRoute wins, even behind copies",
			wrap: func(m *Metrics, mux *http.ServeMux) http.Handler {
				return m.Middleware(func(*http.Request) string { return "/from/routeOf" }, copying(copying(mux)))
			},
			reqs: []request{{"GET", "/set"}, {"GET", "/silent"}},
			want: map[string]float64{"/explicit/{name} GET 200": 1, "/from/routeOf GET 200": 1},
		},
		{
			name: "nothing written is a 200; unknown methods are OTHER; a panic is a 500",
			wrap: func(m *Metrics, mux *http.ServeMux) http.Handler { return m.Middleware(nil, mux) },
			reqs: []request{{"GET", "/silent"}, {"BREW", "/api/atlas/v1.0/x"}, {"GET", "/panic"}},
			want: map[string]float64{"/silent GET 200": 1, "/api/atlas/ OTHER 404": 1, "/panic GET 500": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			h := tt.wrap(m, testMux())
			for _, rq := range tt.reqs {
				func() {
					defer func() { recover() }() // the panicking handler
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(rq.method, rq.path, nil))
				}()
			}
			if diff := cmp.Diff(tt.want, requestCounts(t, m)); diff != "" {
				t.Errorf("requests_total (-want +got):\n%s", diff)
			}
			var total uint64
			for k := range tt.want {
				f := strings.Fields(k)
				total += histogramCount(t, m, "atlasx509_http_request_duration_seconds", map[string]string{"route": f[0], "method": f[1]})
			}
			if want := uint64(len(tt.reqs)); total != want {
				t.Errorf("request_duration_seconds holds %d samples, want %d", total, want)
			}
		})
	}
}

func TestRouteLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", Unmatched},
		{"/", "/"},
		{"GET /healthz", "/healthz"},
		{"POST  /x/{id}", "/x/{id}"},
		{"example.com/x", "example.com/x"},
		{"/a b", "/a b"},
	}
	for _, tt := range tests {
		if got := routeLabel(&routeHolder{route: tt.in}, httptest.NewRequest("GET", "/", nil), nil); got != tt.want {
			t.Errorf("routeLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCertificatesIssuedAndStoreTx(t *testing.T) {
	m := New()
	m.CertificateIssued(pki.RSA4096)
	m.CertificateIssued(pki.RSA4096)
	m.CertificateIssued(pki.ECDSAP256)
	m.ObserveTx(TxUpdate, 2*time.Millisecond)
	m.ObserveTx(TxView, 100*time.Microsecond)
	m.ObserveTx(TxView, 200*time.Microsecond)
	m.ObserveTx("drop table", time.Millisecond)

	want := `
# HELP atlasx509_certificates_issued_total Certificates issued, by leaf key type.
# TYPE atlasx509_certificates_issued_total counter
atlasx509_certificates_issued_total{key_type="ECDSA_P256"} 1
atlasx509_certificates_issued_total{key_type="ECDSA_P384"} 0
atlasx509_certificates_issued_total{key_type="RSA2048"} 0
atlasx509_certificates_issued_total{key_type="RSA3072"} 0
atlasx509_certificates_issued_total{key_type="RSA4096"} 2
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "atlasx509_certificates_issued_total"); err != nil {
		t.Error(err)
	}
	got := map[string]uint64{}
	for _, k := range []string{TxUpdate, TxView, "other"} {
		got[k] = histogramCount(t, m, "atlasx509_store_tx_duration_seconds", map[string]string{"kind": k})
	}
	if diff := cmp.Diff(map[string]uint64{TxUpdate: 1, TxView: 2, "other": 1}, got); diff != "" {
		t.Errorf("store_tx_duration_seconds samples (-want +got):\n%s", diff)
	}
}

type fakePool []keypool.TypeStats

func (p fakePool) Stats() []keypool.TypeStats { return p }

func TestWatchKeyPool(t *testing.T) {
	m := New()
	src := fakePool{
		{Type: pki.RSA4096, Depth: 30, Target: 32, Warm: true, Generated: 40, Hits: 10, Misses: 3, GenerateSeconds: 22.5, RefillRate: 1.25},
		{Type: pki.ECDSAP256, Depth: 256, Target: 256, Warm: true, Generated: 256, Errors: 1},
	}
	if err := m.WatchKeyPool(src); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchKeyPool(src); err == nil {
		t.Error("a second WatchKeyPool: want an error")
	}
	want := `
# HELP atlasx509_key_pool_depth Leaf keys ready in the pool, by key type.
# TYPE atlasx509_key_pool_depth gauge
atlasx509_key_pool_depth{key_type="ECDSA_P256"} 256
atlasx509_key_pool_depth{key_type="RSA4096"} 30
# HELP atlasx509_key_pool_fallbacks_total Leaf keys generated inline in a request because the pool was empty.
# TYPE atlasx509_key_pool_fallbacks_total counter
atlasx509_key_pool_fallbacks_total{key_type="ECDSA_P256"} 0
atlasx509_key_pool_fallbacks_total{key_type="RSA4096"} 3
# HELP atlasx509_key_pool_generated_total Leaf keys added to the pool; its rate is the refill rate.
# TYPE atlasx509_key_pool_generated_total counter
atlasx509_key_pool_generated_total{key_type="ECDSA_P256"} 256
atlasx509_key_pool_generated_total{key_type="RSA4096"} 40
# HELP atlasx509_key_pool_refill_rate Leaf keys added to the pool per second, averaged exponentially over about 30 s.
# TYPE atlasx509_key_pool_refill_rate gauge
atlasx509_key_pool_refill_rate{key_type="ECDSA_P256"} 0
atlasx509_key_pool_refill_rate{key_type="RSA4096"} 1.25
`
	names := []string{"atlasx509_key_pool_depth", "atlasx509_key_pool_fallbacks_total", "atlasx509_key_pool_generated_total", "atlasx509_key_pool_refill_rate"}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(newPoolCollector(src)); n != 16 {
		t.Errorf("the pool collector exports %d series, want 16 (8 per key type)", n)
	}
}

func TestWatchKeyPoolReadsARealPool(t *testing.T) {
	p := keypool.New(keypool.Config{Depth: map[pki.KeyType]int{pki.ECDSAP256: 4}})
	defer p.Close()
	p.Start(context.Background())
	m := New()
	if err := m.WatchKeyPool(p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		depth := -1.0
		for _, f := range fams {
			if f.GetName() == "atlasx509_key_pool_depth" {
				depth = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		if depth == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("key_pool_depth = %v, want 4", depth)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.CertificateIssued(pki.RSA4096)
	h := m.Middleware(nil, testMux())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/atlas/v1.0/groups/g1", nil))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`atlasx509_http_requests_total{code="200",method="GET",route="/api/atlas/v1.0/groups/{groupId}"} 1`,
		`atlasx509_http_request_duration_seconds_bucket{method="GET",route="/api/atlas/v1.0/groups/{groupId}",le="0.0005"}`,
		`atlasx509_certificates_issued_total{key_type="RSA4096"} 1`,
		`atlasx509_store_tx_duration_seconds_count{kind="update"} 0`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "g1") {
		t.Error("GET /metrics names a raw path")
	}
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "atlasx509_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.CertificateIssued(pki.RSA4096)
	m.ObserveTx(TxUpdate, time.Second)
	if err := m.WatchKeyPool(fakePool{}); err != nil {
		t.Error(err)
	}
	next := http.NotFoundHandler()
	if got := m.Middleware(nil, next); got == nil {
		t.Error("Middleware on nil returned nil")
	}
	var st store.Store = &fakeStore{}
	if got := m.InstrumentStore(st); got != st {
		t.Error("InstrumentStore on nil did not return the store itself")
	}
	// SetRoute outside Middleware is harmless.
	SetRoute(httptest.NewRequest("GET", "/", nil), "/x")
}

type fakeStore struct{ updates, views int }

func (s *fakeStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.updates++
	return fn(nil)
}

func (s *fakeStore) View(ctx context.Context, fn func(store.Tx) error) error {
	s.views++
	return fn(nil)
}

func (s *fakeStore) Close() error { return nil }

func TestInstrumentStore(t *testing.T) {
	m := New()
	fs := &fakeStore{}
	st := m.InstrumentStore(fs)
	errBoom := errors.New("boom")
	ctx := context.Background()
	if err := st.Update(ctx, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(store.Tx) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Errorf("Update error = %v, want fn's error unchanged", err)
	}
	if err := st.View(ctx, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{
		TxUpdate: histogramCount(t, m, "atlasx509_store_tx_duration_seconds", map[string]string{"kind": TxUpdate}),
		TxView:   histogramCount(t, m, "atlasx509_store_tx_duration_seconds", map[string]string{"kind": TxView}),
	}
	if diff := cmp.Diff(map[string]uint64{TxUpdate: 2, TxView: 1}, got); diff != "" {
		t.Errorf("tx samples (-want +got):\n%s", diff)
	}
	if fs.updates != 2 || fs.views != 1 {
		t.Errorf("the wrapped store saw %d updates and %d views, want 2 and 1", fs.updates, fs.views)
	}
}
