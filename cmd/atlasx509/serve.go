package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/console"
	"github.com/atlasx509/atlasx509/internal/httpapi"
	"github.com/atlasx509/atlasx509/internal/metrics"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
)

// shutdownGrace is how long in-flight requests may take to finish after a
// stop signal.
const shutdownGrace = 30 * time.Second

// runServe serves until ctx is done, then lets in-flight requests finish
// and closes the store.
func runServe(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, opts options) error {
	d, err := open(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := d.store.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	initialized, err := d.app.Initialized(ctx)
	if err != nil {
		return err
	}
	if !initialized {
		b, err := d.app.Bootstrap(ctx)
		switch {
		case errors.Is(err, app.ErrAlreadyInitialized):
			// another process initialized it meanwhile
		case err != nil:
			return err
		default:
			if err := printBootstrap(stdout, b); err != nil {
				return err
			}
			log.Info("initialized a new store; the bootstrap credentials were printed on stdout")
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	// Past the limit, connections wait in the kernel's queue: slow clients
	// cannot hold more than that many descriptors and goroutines.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	auditLog, err := openAudit(cfg.AuditLog, opts.stderr)
	if err != nil {
		return err
	}
	defer auditLog.Close()
	hopts, err := handlerOptions(cfg)
	if err != nil {
		return err
	}
	hopts.App, hopts.Logger, hopts.Audit, hopts.Metrics = d.app, log, auditLog, d.metrics
	hopts.ServeMetrics = cfg.MetricsListen == ""
	hopts.ExternalURL = externalURL(cfg, ln.Addr())
	if cfg.Console {
		// Secure cookies when browsers reach the server over HTTPS, directly
		// or through a proxy that terminates TLS.
		secure := cfg.TLSCert != "" || strings.HasPrefix(cfg.ExternalURL, "https://")
		hopts.Console = console.New(console.Options{App: d.app, Secure: secure, Logger: log})
	}
	if addr := cfg.MetricsListen; addr != "" && addr != "off" {
		stop, err := serveMetrics(addr, d.metrics, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	go sweepTemporaryUsers(ctx, d.app, log)
	go flushAccessListUse(ctx, d.app, log)
	go purgeEvents(ctx, d.app, cfg.EventRetention, log)
	stopAlerts, err := startAlerts(ctx, cfg, d.app, log)
	if err != nil {
		return err
	}
	defer stopAlerts() // before the store closes
	if d.pool != nil {
		d.pool.Start(ctx)
		defer d.pool.Close() // drops every key made ahead of time
	}

	fresh := newFreshConns()
	headerTimeout := opts.readHeaderTimeout
	if headerTimeout == 0 {
		headerTimeout = defaultReadHeaderTimeout
	}
	srv := &http.Server{
		ConnState:         fresh.track,
		Handler:           httpapi.NewHandler(hopts),
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS: %w", err)
		}
		srv.TLSConfig = serverTLS(cert)
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String())
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: letting in-flight requests finish")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// Shutdown waits up to five seconds for connections that never sent a
	// request; nothing is in flight on them, so close them now.
	go func() {
		time.Sleep(100 * time.Millisecond) // let Shutdown close the listener first
		fresh.closeAll()
	}()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc
	if err := d.app.FlushAccessListUse(sctx); err != nil {
		log.Error("writing access list uses", "error", err)
	}
	log.Info("stopped")
	return nil
}

// freshConns tracks connections that have not yet sent a request.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newFreshConns() *freshConns { return &freshConns{conns: make(map[net.Conn]struct{})} }

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}

// openAudit opens the audit trail named by --audit-log; "stderr" means the
// command's standard error.
func openAudit(dest string, stderr io.Writer) (*audit.Log, error) {
	switch dest {
	case "off":
		return nil, nil
	case "stderr":
		if stderr == nil {
			stderr = io.Discard
		}
		return audit.New(stderr), nil
	default:
		return audit.OpenFile(dest)
	}
}

// serverTLS is the TLS configuration of the API: TLS 1.2 or later, with
// forward-secret AEAD suites only on TLS 1.2 (TLS 1.3 has no others), and
// HTTP/2 offered by ALPN.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// defaultReadHeaderTimeout bounds the reading of a request's header, so a
// client that sends its header slowly (or never ends it) cannot hold a
// connection, and with --max-connections the server, for long; bodies are
// bounded by the server's ReadTimeout.
const defaultReadHeaderTimeout = 10 * time.Second

// externalURL is the base of the links in answers: --external-url, or the
// URL of the address listened on (localhost for an unspecified address).
func externalURL(cfg config.Config, addr net.Addr) string {
	if cfg.ExternalURL != "" {
		return cfg.ExternalURL
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://localhost"
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// handlerOptions turns the configuration into the HTTP layer's options.
func handlerOptions(cfg config.Config) (httpapi.Options, error) {
	proxies, err := cfg.Proxies()
	if err != nil {
		return httpapi.Options{}, err
	}
	limits := httpapi.DefaultLimits()
	for _, l := range []struct {
		rule *ratelimit.Rule
		v    string
	}{{&limits.DatabaseUsers, cfg.RateLimitDatabaseUsers}, {&limits.X509, cfg.RateLimitX509}, {&limits.AuthFailures, cfg.RateLimitAuthFailures}} {
		capacity, refill, err := config.ParseRate(l.v)
		if err != nil {
			return httpapi.Options{}, err
		}
		l.rule.Capacity, l.rule.Refill, l.rule.Period = capacity, refill, time.Minute
	}
	return httpapi.Options{TrustedProxies: proxies, Limits: limits}, nil
}

// sweepTemporaryUsers deletes expired temporary database users every few
// seconds until ctx ends.
func sweepTemporaryUsers(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.DeleteExpiredUsers(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("deleting expired temporary users", "error", err)
			} else if n > 0 {
				log.Info("deleted expired temporary users", "count", n)
			}
		}
	}
}

// purgeEvents deletes the events older than retention, and the console
// sessions that ended, at start and then every hour until ctx ends.
func purgeEvents(ctx context.Context, a *app.App, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := a.PurgeEvents(ctx, retention)
		if err != nil && ctx.Err() == nil {
			log.Error("purging old events", "error", err)
		} else if n > 0 {
			log.Info("purged old events", "count", n, "retention", retention)
		}
		if n, err := a.PurgeConsoleSessions(ctx); err != nil && ctx.Err() == nil {
			log.Error("purging ended console sessions", "error", err)
		} else if n > 0 {
			log.Info("purged ended console sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// flushAccessListUse writes the access list uses counted in memory every
// app.AccessListUseFlushEvery until ctx ends (the shutdown writes the
// last ones).
func flushAccessListUse(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(app.AccessListUseFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.FlushAccessListUse(ctx); err != nil && ctx.Err() == nil {
				log.Error("writing access list uses", "error", err)
			}
		}
	}
}

// serveMetrics serves /metrics alone on addr, so that it can be kept off
// the API's network; stop shuts it down.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// startAlerts runs the alert evaluator and deliverer in the background
// until ctx ends or the returned stop is called; stop waits for the round
// in progress. Replicas take turns through the store's lease.
func startAlerts(ctx context.Context, cfg config.Config, a *app.App, log *slog.Logger) (stop func(), err error) {
	interval := cfg.AlertInterval
	if interval <= 0 {
		interval = time.Minute
	}
	r := &app.AlertRunner{App: a, Holder: replicaName(), Interval: interval, Logger: log}
	if cfg.SMTPURL != "" {
		if r.SMTP, err = notify.ParseSMTP(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return func() { cancel(); <-done }, nil
}

// replicaName names this process in the alert lease: host, process id and
// a random suffix, unique across replicas.
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), atlasx509.NewID(time.Now()))
}
