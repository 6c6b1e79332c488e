package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Unmatched is the route label of a request no route pattern names.
const Unmatched = "unmatched"

type routeKey struct{}

// routeHolder carries the route of one request from inside the handler
// chain back out to Middleware.
type routeHolder struct{ route string }

// SetRoute names the route of r for the request metrics, from a handler
// that Middleware wraps, however many times the request was copied in
// between (r.WithContext copies it, so the outer middleware cannot see
// r.Pattern as set by the mux). Pass the ServeMux pattern, typically
// r.Pattern; never the raw path, which would make a series per user. It does
// nothing outside Middleware.
func SetRoute(r *http.Request, route string) {
	if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
		h.route = route
	}
}

// Middleware counts the requests that next serves in
// atlasx509_http_requests_total{route,method,code} and times them in
// atlasx509_http_request_duration_seconds{route,method}.
//
// The route label is, in this order: what a handler passed to SetRoute; else
// routeOf(r) when routeOf is not nil and answers non-empty; else r.Pattern of
// the request next received, which a ServeMux sets in place when next is the
// mux itself; else Unmatched. A leading method in a pattern ("POST /x") is
// dropped, as the method is its own label.
//
// So the cheapest wiring wraps the mux directly: Middleware(nil, mux). When
// middlewares that copy the request sit between, either call SetRoute from
// inside or pass routeOf as func(r) string { _, p := mux.Handler(r); return p },
// which costs a second route lookup.
//
// A request whose handler panics is counted with code 500 and the panic goes
// on. On a nil *Metrics, Middleware returns next.
func (m *Metrics) Middleware(routeOf func(*http.Request) string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := &routeHolder{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, h))
		sw := &statusWriter{ResponseWriter: w}
		finished := false
		defer func() {
			code := sw.status
			if !finished {
				code = http.StatusInternalServerError
			}
			m.record(routeLabel(h, r, routeOf), method(r.Method), code, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
		finished = true
	})
}

func (m *Metrics) record(route, method string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK // nothing written: net/http answers 200
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

func routeLabel(h *routeHolder, r *http.Request, routeOf func(*http.Request) string) string {
	route := h.route
	if route == "" && routeOf != nil {
		route = routeOf(r)
	}
	if route == "" {
		route = r.Pattern
	}
	if route == "" {
		return Unmatched
	}
	// "GET /x" → "/x"; a pattern's path starts with "/" and a host pattern
	// with its host, neither with a method and a space.
	if i := strings.IndexByte(route, ' '); i > 0 && method(route[:i]) != "OTHER" {
		route = strings.TrimLeft(route[i+1:], " \t")
	}
	return route
}

// method bounds the method label to the standard methods.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusWriter records the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
