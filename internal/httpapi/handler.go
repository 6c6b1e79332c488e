// Package httpapi serves the Atlas Administration API over HTTP. Handlers
// decode the request, call one use case of package app and encode its answer
// in Atlas's wire shapes. They return errors instead of writing them, so that
// one function turns every error into Atlas's error body.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/metrics"
)

// Options configures the handler.
type Options struct {
	App    *app.App
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// Audit receives the audit trail; nil records nothing.
	Audit *audit.Log
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Limits are the rate limits; the zero value disables them all.
	Limits Limits
	// Metrics, when set, counts requests by route.
	Metrics *metrics.Metrics
	// ServeMetrics serves Metrics at GET /metrics on this handler.
	ServeMetrics bool
	// ExternalURL is the scheme and host (and optional path prefix) that
	// clients reach the server at, the base of every link in answers; never
	// the request's Host header. "" means http://localhost.
	ExternalURL string
	// Console, when set, builds the web console served under /console/
	// on this handler (behind the same middleware), given what it shares
	// with the API.
	Console func(ConsoleGate) http.Handler
}

type server struct {
	app     *app.App
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	routes  []route
	guard   *guard
	baseURL string // ExternalURL without its trailing slash
}

// NewHandler returns the HTTP handler of the whole API.
func NewHandler(opts Options) http.Handler {
	return newHandler(opts, nil)
}

// newHandler is NewHandler with edit, when not nil, applied to the route
// table before it is registered (tests use it to try a row's variants).
func newHandler(opts Options, edit func(routes []route)) http.Handler {
	s := &server{app: opts.App, log: opts.Logger, maxBody: opts.MaxBodyBytes, mux: http.NewServeMux(), guard: newGuard(opts)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = 1 << 20
	}
	s.baseURL = strings.TrimRight(opts.ExternalURL, "/")
	if s.baseURL == "" {
		s.baseURL = "http://localhost"
	}
	routes := s.atlasRoutes()
	if edit != nil {
		edit(routes)
	}
	s.register(routes)
	if opts.Console != nil {
		s.mux.Handle("/console/", opts.Console(ConsoleGate{s}))
		s.mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusSeeOther))
	}
	if opts.Metrics != nil && opts.ServeMetrics {
		s.mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	return s.middleware(opts.Metrics.Middleware(nil, s.mux))
}

// handlerFunc is the type of every handler: it returns an error rather than
// writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type ctxKey int

const (
	principalKey ctxKey = iota
	logAttrsKey
	baseURLKey
	confirmKey // the confirmation of an unconfirmed principal (see confirmed)
)

// principal returns the authenticated caller of r.
func principal(r *http.Request) atlasx509.Principal {
	p, _ := r.Context().Value(principalKey).(atlasx509.Principal)
	return p
}

// requestLog collects what the access log line and the audit trail say
// about a request.
type requestLog struct {
	id            string
	source        string
	principal     string
	principalKind string
	op            string
	groupID       string // the project of a console request (its path is not the API's)
	presented     bool   // the request carried credentials
	intent        bool   // an audit intent record was written
	err           error
}

// statusWriter records the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
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

// middleware adds the headers every answer carries, bounds the body, turns a
// panic into a logged 500 and writes one access log line per request.
func (s *server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		rl := &requestLog{id: newRequestID(), source: s.guard.clientAddr(r).String()}
		ctx := context.WithValue(r.Context(), logAttrsKey, rl)
		r = r.WithContext(context.WithValue(ctx, baseURLKey, s.baseURL))
		h := sw.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Request-Id", rl.id)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, s.maxBody)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(sw, r, errors.New("panic"))
				}
			}
			s.auditOutcome(r, rl, sw.status)
			attrs := []any{"id", rl.id, "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start), "remote", rl.source}
			if rl.principal != "" {
				attrs = append(attrs, "principal", rl.principal)
			}
			level := slog.LevelInfo
			if rl.err != nil && sw.status >= 500 {
				level = slog.LevelError
				attrs = append(attrs, "error", rl.err.Error())
			} else if rl.err != nil {
				attrs = append(attrs, "reason", rl.err.Error())
			}
			s.log.Log(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

func logState(r *http.Request) *requestLog {
	if rl, ok := r.Context().Value(logAttrsKey).(*requestLog); ok {
		return rl
	}
	return &requestLog{}
}

// serve adapts a handlerFunc to http.Handler.
func (s *server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// auditOutcome writes the outcome record of a privileged request that was
// announced, and of every refused request that presented credentials.
func (s *server) auditOutcome(r *http.Request, rl *requestLog, status int) {
	refused := status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests
	if !rl.intent && !(refused && rl.presented) {
		return
	}
	outcome := "allowed"
	switch {
	case refused:
		outcome = "denied"
	case status >= 400:
		outcome = "failed"
	}
	groupID := r.PathValue("groupId")
	if rl.groupID != "" {
		groupID = rl.groupID
	}
	ev := audit.Event{RequestID: rl.id, Principal: rl.principal, PrincipalKind: rl.principalKind, Operation: rl.op,
		Method: r.Method, Path: r.URL.Path, GroupID: groupID, OrgID: r.PathValue("orgId"),
		Source: rl.source, Status: status, Outcome: outcome}
	if err := s.guard.audit.Outcome(ev); err != nil {
		s.log.Error("audit trail unavailable", "id", rl.id, "error", err)
	}
}
