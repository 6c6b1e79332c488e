package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// now is the agent's clock in every test.
var now = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

const groupID = "0123456789abcdef01234567"

// newCA makes a project CA like the server's.
func newCA(t testing.TB) *pki.CA {
	t.Helper()
	der, key, err := pki.NewCA(groupID, now.Add(-24*time.Hour), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseCA(der, key)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// crl returns a PEM CRL of ca valid from this to next listing serials.
func crl(t testing.TB, ca *pki.CA, number int64, this, next time.Time, serials ...int64) []byte {
	t.Helper()
	var entries []pki.RevokedCert
	for _, s := range serials {
		entries = append(entries, pki.RevokedCert{Serial: s, RevokedAt: this, Reason: pki.ReasonKeyCompromise})
	}
	der, err := ca.SignCRL(pki.CRLRequest{Number: big.NewInt(number), ThisUpdate: this, NextUpdate: next, Entries: entries}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pki.CRLPEM(der)
}

// currentCRL is a CRL of ca valid at now.
func currentCRL(t testing.TB, ca *pki.CA, number int64, serials ...int64) []byte {
	return crl(t, ca, number, now.Add(-time.Hour), now.Add(7*24*time.Hour), serials...)
}

func caPEM(cas ...*pki.CA) []byte {
	var b []byte
	for _, ca := range cas {
		b = append(b, pki.CertPEM(ca.Cert.Raw)...)
	}
	return b
}

// fakeServer serves a project's managed X.509 CA and CRL routes with ETags,
// as atlasx509 does, from content the test changes.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	ca, crl  []byte
	status   int // when not 0, every answer has this status
	noETag   bool
	requests []string // "GET path [If-None-Match]" → status
}

func newFakeServer(t *testing.T, ca, crl []byte) *fakeServer {
	f := &fakeServer{ca: ca, crl: crl}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) set(ca, crl []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ca, f.crl = ca, crl
}

func (f *fakeServer) fail(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = status
}

func (f *fakeServer) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const base = "/api/atlas/v2/groups/" + groupID + "/userSecurity/managedX509"
	var body []byte
	switch {
	case r.Header.Get("Accept") != "application/vnd.atlas.2023-01-01+json":
		w.WriteHeader(http.StatusNotAcceptable)
	case f.status != 0:
		w.WriteHeader(f.status)
	case r.URL.Path == base+"/ca":
		body = f.ca
	case r.URL.Path == base+"/crl":
		body = f.crl
	default:
		w.WriteHeader(http.StatusNotFound)
	}
	entry := r.Method + " " + strings.TrimPrefix(r.URL.Path, base)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		entry += " If-None-Match"
	}
	if body == nil {
		f.requests = append(f.requests, entry+" → error")
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if !f.noETag {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			f.requests = append(f.requests, entry+" → 304")
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(body)
	f.requests = append(f.requests, entry+" → 200")
}

// harness is an agent on a fake server, with files in a temp directory and
// a command runner that counts its runs.
type harness struct {
	srv      *fakeServer
	agent    *Agent
	dir      string
	caFile   string
	crlFile  string
	runs     int
	exitCode int
	clock    time.Time
}

func newHarness(t *testing.T, srv *fakeServer) *harness {
	t.Helper()
	h := &harness{srv: srv, dir: t.TempDir(), clock: now}
	h.caFile = filepath.Join(h.dir, "ca.pem")
	h.crlFile = filepath.Join(h.dir, "crl.pem")
	a, err := New(Config{
		BaseURL: srv.URL, GroupID: groupID, CAFile: h.caFile, CRLFile: h.crlFile, OnChange: "rotate",
		HTTPClient: srv.Client(),
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Now:        func() time.Time { return h.clock },
		RunCommand: func(_ context.Context, cmd string) (int, error) {
			if cmd != "rotate" {
				t.Errorf("command %q, want rotate", cmd)
			}
			h.runs++
			return h.exitCode, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.agent = a
	return h
}

// files returns the content of the CA and CRL files ("" when missing).
func (h *harness) files(t *testing.T) [2]string {
	t.Helper()
	var out [2]string
	for i, p := range []string{h.caFile, h.crlFile} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestSyncWritesFilesAndRunsCommandOncePerChange(t *testing.T) {
	ca := newCA(t)
	crl1 := currentCRL(t, ca, 1)
	srv := newFakeServer(t, caPEM(ca), crl1)
	h := newHarness(t, srv)
	ctx := context.Background()

	if err := h.agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want := [2]string{string(caPEM(ca)), string(crl1)}
	if diff := cmp.Diff(want, h.files(t)); diff != "" {
		t.Fatalf("files after the first sync (-want +got):\n%s", diff)
	}
	for _, p := range []string{h.caFile, h.crlFile} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", p, fi.Mode().Perm())
		}
	}
	if h.runs != 1 {
		t.Errorf("command ran %d times after the first sync, want 1", h.runs)
	}
	if diff := cmp.Diff([]string{"GET /ca → 200", "GET /crl → 200"}, srv.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(h.dir)
	if err != nil || len(entries) != 2 {
		t.Errorf("directory holds %v (%v), want the two files and no temporary file", entries, err)
	}

	// Nothing changed: the server answers 304, nothing is written, no command.
	caInfo, _ := os.Stat(h.caFile)
	if err := h.agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if h.runs != 1 {
		t.Errorf("command ran %d times after an unchanged sync, want 1", h.runs)
	}
	if diff := cmp.Diff([]string{"GET /ca If-None-Match → 304", "GET /crl If-None-Match → 304"}, srv.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// A revocation changes the CRL only: one rewrite, one command run.
	crl2 := currentCRL(t, ca, 2, 77)
	srv.set(caPEM(ca), crl2)
	if err := h.agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want[1] = string(crl2)
	if diff := cmp.Diff(want, h.files(t)); diff != "" {
		t.Errorf("files after a revocation (-want +got):\n%s", diff)
	}
	if h.runs != 2 {
		t.Errorf("command ran %d times after a revocation, want 2", h.runs)
	}
	if fi, _ := os.Stat(h.caFile); !os.SameFile(caInfo, fi) {
		t.Error("the unchanged CA file was rewritten")
	}

	// A rotation changes both files: still one command run.
	ca2 := newCA(t)
	both := append(currentCRL(t, ca, 3, 77), currentCRL(t, ca2, 1)...)
	srv.set(caPEM(ca, ca2), both)
	if err := h.agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want = [2]string{string(caPEM(ca, ca2)), string(both)}
	if diff := cmp.Diff(want, h.files(t)); diff != "" {
		t.Errorf("files after a rotation (-want +got):\n%s", diff)
	}
	if h.runs != 3 {
		t.Errorf("command ran %d times after a rotation, want 3", h.runs)
	}
}

func TestSyncWithoutETags(t *testing.T) {
	ca := newCA(t)
	srv := newFakeServer(t, caPEM(ca), currentCRL(t, ca, 1))
	srv.noETag = true
	h := newHarness(t, srv)
	for range 2 {
		if err := h.agent.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if h.runs != 1 {
		t.Errorf("command ran %d times, want 1", h.runs)
	}
	want := []string{"GET /ca → 200", "GET /crl → 200", "GET /ca → 200", "GET /crl → 200"}
	if diff := cmp.Diff(want, srv.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestSyncRefuses serves a bad answer after a good sync: the sync fails,
// the files keep their content and the command does not run. The same
// answer on a first sync creates no file.
func TestSyncRefuses(t *testing.T) {
	ca, other := newCA(t), newCA(t)
	good := currentCRL(t, ca, 1)
	tests := []struct {
		name    string
		ca, crl []byte
		status  int
		clock   time.Time
		wantErr string
	}{
		{name: "empty CA bundle", ca: []byte{}, crl: good, wantErr: "CA bundle is empty"},
		{name: "blank CA bundle", ca: []byte("\n \n"), crl: good, wantErr: "CA bundle is empty"},
		{name: "CA bundle not PEM", ca: []byte("<html>maintenance</html>"), crl: good, wantErr: "not PEM"},
		{name: "CA bundle with junk after", ca: append(caPEM(ca), "junk"...), crl: good, wantErr: "not PEM"},
		{name: "CA bundle with a key", ca: append(caPEM(ca), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"...), crl: good, wantErr: `"PRIVATE KEY"`},
		{name: "CRL of another CA", ca: caPEM(ca), crl: currentCRL(t, other, 1), wantErr: "signed by no CA"},
		{name: "a CRL of another CA besides", ca: caPEM(ca), crl: append(currentCRL(t, ca, 2), currentCRL(t, other, 1)...), wantErr: "signed by no CA"},
		{name: "CA without its CRL", ca: caPEM(ca, other), crl: good, wantErr: "has no CRL"},
		{name: "no CRL at all", ca: caPEM(ca), crl: []byte{}, wantErr: "has no CRL"},
		{name: "CRL not PEM", ca: caPEM(ca), crl: []byte("oops"), wantErr: "not PEM"},
		{name: "CRL expired", ca: caPEM(ca), crl: crl(t, ca, 2, now.Add(-8*24*time.Hour), now.Add(-time.Second)), wantErr: "expired"},
		{name: "CRL expiring now", ca: caPEM(ca), crl: crl(t, ca, 2, now.Add(-time.Hour), now), wantErr: "expired"},
		{name: "CRL not yet valid", ca: caPEM(ca), crl: crl(t, ca, 2, now.Add(time.Second), now.Add(time.Hour)), wantErr: "not valid before"},
		{name: "server error", status: http.StatusInternalServerError, wantErr: "500"},
		{name: "unauthorized", status: http.StatusUnauthorized, wantErr: "401"},
	}
	for _, tt := range tests {
		for _, first := range []bool{false, true} {
			name := tt.name
			if first {
				name += "/first sync"
			}
			t.Run(name, func(t *testing.T) {
				srv := newFakeServer(t, caPEM(ca), good)
				h := newHarness(t, srv)
				var want [2]string
				if !first {
					if err := h.agent.Sync(context.Background()); err != nil {
						t.Fatal(err)
					}
					want = [2]string{string(caPEM(ca)), string(good)}
				}
				runs := h.runs
				srv.set(tt.ca, tt.crl)
				srv.fail(tt.status)
				err := h.agent.Sync(context.Background())
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("sync error %v, want one containing %q", err, tt.wantErr)
				}
				if diff := cmp.Diff(want, h.files(t)); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
				if h.runs != runs {
					t.Errorf("command ran after a refused sync")
				}
				entries, _ := os.ReadDir(h.dir)
				if len(entries) != 2-2*btoi(first) {
					t.Errorf("directory holds %v", entries)
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCRLExpiresWhileServerAnswers304 checks that a CRL the server keeps
// answering 304 for is checked again: once past nextUpdate it is refused.
func TestCRLExpiresWhileServerAnswers304(t *testing.T) {
	ca := newCA(t)
	srv := newFakeServer(t, caPEM(ca), currentCRL(t, ca, 1))
	h := newHarness(t, srv)
	if err := h.agent.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.clock = now.Add(8 * 24 * time.Hour)
	if err := h.agent.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("sync error %v, want an expired CRL", err)
	}
	if diff := cmp.Diff([]string{"GET /ca → 200", "GET /crl → 200", "GET /ca If-None-Match → 304", "GET /crl If-None-Match → 304"}, srv.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestUnexpected304 checks that a 304 to a request without If-None-Match is
// an error, not an empty file.
func TestUnexpected304(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	h := newHarness(t, &fakeServer{Server: srv})
	if err := h.agent.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "304") {
		t.Errorf("sync error %v, want a 304 refused", err)
	}
	if diff := cmp.Diff([2]string{}, h.files(t)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// TestOnChangeFailureRunsAgain checks that a failed on-change command runs
// again at the next sync even though nothing changed, and only until it
// succeeds.
func TestOnChangeFailureRunsAgain(t *testing.T) {
	ca := newCA(t)
	crl1 := currentCRL(t, ca, 1)
	srv := newFakeServer(t, caPEM(ca), crl1)
	h := newHarness(t, srv)
	h.exitCode = 1
	if err := h.agent.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "status 1") {
		t.Fatalf("sync error %v, want the command's exit status", err)
	}
	if diff := cmp.Diff([2]string{string(caPEM(ca)), string(crl1)}, h.files(t)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	h.exitCode = 0
	for range 2 {
		if err := h.agent.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if h.runs != 2 {
		t.Errorf("command ran %d times, want 2 (failed, then succeeded once)", h.runs)
	}
}

// TestRunBacksOff runs the loop with a sleep that records each wait: the
// server is down for eight syncs, then up.
func TestRunBacksOff(t *testing.T) {
	ca := newCA(t)
	crl1 := currentCRL(t, ca, 1)
	srv := newFakeServer(t, caPEM(ca), crl1)
	srv.fail(http.StatusServiceUnavailable)
	h := newHarness(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	h.agent.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		switch len(waits) {
		case 8:
			srv.fail(0)
		case 9:
			if h.runs != 1 {
				t.Errorf("after the server came back the command ran %d times, want 1", h.runs)
			}
			srv.fail(http.StatusServiceUnavailable)
		case 11:
			cancel()
		}
		return ctx.Err()
	}
	if err := h.agent.Run(ctx); err != nil {
		t.Fatalf("Run returned %v, want nil on cancel", err)
	}
	s := time.Second
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s, 60 * s, s, 2 * s}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([2]string{string(caPEM(ca)), string(crl1)}, h.files(t)); diff != "" {
		t.Errorf("files kept through the outage (-want +got):\n%s", diff)
	}
}

// TestRunStopsOnCancel checks that Run returns nil when its context is
// cancelled during a sync.
func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	}))
	defer srv.Close()
	h := newHarness(t, &fakeServer{Server: srv})
	if err := h.agent.Run(ctx); err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
}

func TestNewRefusesConfig(t *testing.T) {
	ok := Config{BaseURL: "http://127.0.0.1:8080", GroupID: groupID, CAFile: "ca.pem", CRLFile: "crl.pem", HTTPClient: http.DefaultClient}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no URL", func(c *Config) { c.BaseURL = "" }},
		{"URL without scheme", func(c *Config) { c.BaseURL = "127.0.0.1:8080" }},
		{"ftp URL", func(c *Config) { c.BaseURL = "ftp://host" }},
		{"no project", func(c *Config) { c.GroupID = "" }},
		{"project with a slash", func(c *Config) { c.GroupID = "a/../b" }},
		{"no CA file", func(c *Config) { c.CAFile = "" }},
		{"no CRL file", func(c *Config) { c.CRLFile = "" }},
		{"same file", func(c *Config) { c.CRLFile = c.CAFile }},
		{"negative interval", func(c *Config) { c.Interval = -time.Second }},
		{"no client", func(c *Config) { c.HTTPClient = nil }},
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("New(valid config): %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if _, err := New(c); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

func TestShellRunner(t *testing.T) {
	var out bytes.Buffer
	run := shellRunner(&out)
	tests := []struct {
		command string
		want    int
	}{
		{"echo rotated", 0},
		{"exit 3", 3},
		{"false", 1},
	}
	for _, tt := range tests {
		code, err := run(context.Background(), tt.command)
		if err != nil || code != tt.want {
			t.Errorf("%q: status %d, %v; want %d", tt.command, code, err, tt.want)
		}
	}
	if out.String() != "rotated\n" {
		t.Errorf("output %q, want the command's", out.String())
	}
}

// TestWriteFailureKeepsFiles checks that a CRL file that cannot be written
// fails the sync before the CA file is touched, and runs no command.
func TestWriteFailureKeepsFiles(t *testing.T) {
	ca := newCA(t)
	srv := newFakeServer(t, caPEM(ca), currentCRL(t, ca, 1))
	h := newHarness(t, srv)
	h.agent.cfg.CRLFile = filepath.Join(h.dir, "missing", "crl.pem")
	if err := h.agent.Sync(context.Background()); err == nil {
		t.Fatal("sync succeeded without a CRL directory")
	}
	if diff := cmp.Diff([2]string{}, h.files(t)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if h.runs != 0 {
		t.Errorf("command ran %d times", h.runs)
	}
}
