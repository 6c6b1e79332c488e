// Package metrics exposes the server's Prometheus metrics: HTTP requests by
// route, certificates issued, the leaf key pool, store transaction latency,
// and the Go runtime and process collectors.
//
// Everything lives on the Metrics' own prometheus.Registry, never on the
// global default registry, so that tests and several servers in one process
// do not collide. Every recording method is safe on a nil *Metrics and does
// nothing, so a component can hold an optional *Metrics.
//
// Labels are bounded: a route is a ServeMux pattern, never a raw path; a
// method outside the standard ones is "OTHER"; key types and transaction
// kinds come from fixed sets. No label carries a project, user or caller.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atlasx509/atlasx509/internal/pki"
)

const namespace = "atlasx509"

// Store transaction kinds, the values of ObserveTx's kind.
const (
	TxUpdate = "update"
	TxView   = "view"
)

// httpBuckets span a cached GET (well under a millisecond) to an RSA 4096
// key generated inline (about half a second, several under load).
var httpBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// txBuckets span a read transaction (tens of microseconds) to a durable
// commit waiting behind others (an fsync is about 0.6 ms on the reference
// machine).
var txBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// Metrics holds the server's metrics and their registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	issued   *prometheus.CounterVec
	storeTx  *prometheus.HistogramVec
}

// New returns metrics registered on a new registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from receiving a request's headers to the end of its answer, by route pattern and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "certificates_issued_total",
			Help: "Certificates issued, by leaf key type.",
		}, []string{"key_type"}),
		storeTx: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "store", Name: "tx_duration_seconds",
			Help:    "Store transaction latency including commit (update: durable), by kind.",
			Buckets: txBuckets,
		}, []string{"kind"}),
	}
	// Series that exist from the start, so that rate() sees the first one.
	for _, t := range pki.KeyTypes() {
		m.issued.WithLabelValues(string(t))
	}
	for _, k := range []string{TxUpdate, TxView} {
		m.storeTx.WithLabelValues(k)
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.issued, m.storeTx,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry the metrics are on, to add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats: the
// handler of GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CertificateIssued counts one certificate issued with a leaf key of type t.
func (m *Metrics) CertificateIssued(t pki.KeyType) {
	if m == nil {
		return
	}
	m.issued.WithLabelValues(string(t)).Inc()
}

// ObserveTx records the duration of one store transaction of kind TxUpdate
// or TxView; any other kind is recorded as "other".
func (m *Metrics) ObserveTx(kind string, d time.Duration) {
	if m == nil {
		return
	}
	if kind != TxUpdate && kind != TxView {
		kind = "other"
	}
	m.storeTx.WithLabelValues(kind).Observe(d.Seconds())
}
