package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
	"github.com/atlasx509/atlasx509/internal/store"
)

// withHandler rebuilds the env's handler with other options.
func (e *env) withHandler(opts Options) {
	opts.App = e.app
	if opts.ExternalURL == "" {
		opts.ExternalURL = testExternalURL
	}
	e.handler = NewHandler(opts)
}

// allowFrom puts cidr on the access list of the bootstrap service account.
func (e *env) allowFrom(cidr string) {
	e.t.Helper()
	ctx := context.Background()
	err := e.store.Update(ctx, func(tx store.Tx) error {
		return tx.InsertAccessListEntry(ctx, atlasx509.AccessListEntry{PrincipalID: e.boot.ServiceAccount.ClientID, CIDR: cidr, Created: time.Now().UTC()})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestAccessListOverLoopback connects from two loopback source addresses:
// only the one on the credential's access list gets through.
func TestAccessListOverLoopback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.allowFrom("127.0.0.1/32")
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	get := func(source string) *http.Response {
		t.Helper()
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
		client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
		req, _ := http.NewRequest("GET", srv.URL+e.group(), nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("from %s: %v", source, err)
		}
		return resp
	}
	if resp := get("127.0.0.1"); resp.StatusCode != http.StatusOK {
		t.Errorf("from 127.0.0.1: %d", resp.StatusCode)
	}
	resp := get("127.0.0.2")
	var body struct {
		ErrorCode string `json:"errorCode"`
		Detail    string `json:"detail"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusForbidden || body.ErrorCode != "IP_ADDRESS_NOT_ON_ACCESS_LIST" || !strings.Contains(body.Detail, "127.0.0.2") {
		t.Errorf("from 127.0.0.2: %d %+v", resp.StatusCode, body)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	g := &guard{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "198.51.100.7", "192.0.2.1"}, // an untrusted peer cannot claim another address
		{"10.1.2.3:5000", "198.51.100.7", "198.51.100.7"},
		{"10.1.2.3:5000", "203.0.113.9, 198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"[::ffff:192.0.2.1]:5000", "", "192.0.2.1"},
		{"[2001:db8::1]:5000", "", "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := g.clientAddr(r).String(); got != tt.want {
			t.Errorf("clientAddr(%s, XFF %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{
		X509:          ratelimit.Rule{Name: setX509, Capacity: 2, Refill: 1, Period: time.Hour},
		DatabaseUsers: ratelimit.Rule{Name: setDatabaseUsers, Capacity: 100, Refill: 100, Period: time.Minute},
	}})
	e.createUser(managedUserBody("alice"))
	path := e.group() + "/databaseUsers/alice/certs"
	for i, want := range []string{"1", "0"} {
		rec := e.do("GET", path, "")
		if rec.Code != 200 || rec.Header().Get("RateLimit-Limit") != "2" || rec.Header().Get("RateLimit-Remaining") != want {
			t.Fatalf("request %d: %d %v", i, rec.Code, rec.Header())
		}
	}
	rec := e.do("POST", path, `{}`)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "3600" {
		t.Fatalf("third request: %d %v", rec.Code, rec.Header())
	}
	got := apiError(t, rec)
	if got.ErrorCode != "RATE_LIMITED_TOKEN_BUCKET" || !strings.Contains(got.Detail, "Request capacity: 2. Refill rate: 1 per 3600 seconds.") {
		t.Errorf("429 body %+v", got)
	}
	// Another endpoint set, and another project, have their own buckets.
	if rec := e.do("GET", e.group()+"/databaseUsers", ""); rec.Code != 200 || rec.Header().Get("RateLimit-Limit") != "100" {
		t.Errorf("database users set: %d %v", rec.Code, rec.Header())
	}
	if rec := e.do("GET", e.group(), ""); rec.Header().Get("RateLimit-Limit") != "" {
		t.Errorf("project routes are in no limited set: %v", rec.Header())
	}
}

func TestFailedAuthenticationsAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{AuthFailures: ratelimit.Rule{Name: "auth", Capacity: 3, Refill: 1, Period: time.Hour}}})
	for i := 0; i < 3; i++ {
		if rec := e.doAs("wrong", "GET", e.group(), ""); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i, rec.Code)
		}
	}
	// Even the right credentials are refused from that address for a while.
	if rec := e.do("GET", e.group(), ""); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures: %d", rec.Code)
	}
	// The unauthenticated first request of a Digest client is not a failure.
	e2 := newEnv(t)
	e2.withHandler(Options{Limits: Limits{AuthFailures: ratelimit.Rule{Name: "auth", Capacity: 1, Refill: 1, Period: time.Hour}}})
	for i := 0; i < 5; i++ {
		e2.doAs("", "GET", e2.group(), "")
	}
	if rec := e2.do("GET", e2.group(), ""); rec.Code != 200 {
		t.Errorf("challenges counted as failures: %d", rec.Code)
	}
}

type lines struct{ strings.Builder }

func (l *lines) events(t *testing.T) []audit.Event {
	var out []audit.Event
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buf lines
	e.withHandler(Options{Audit: audit.New(&buf)})
	e.createUser(managedUserBody("alice"))
	e.mustDo(201, "POST", e.group()+"/databaseUsers/alice/certs", `{}`)
	e.mustDo(204, "DELETE", e.group()+"/databaseUsers/alice/certs?reason=keyCompromise", "")
	e.mustDo(200, "GET", e.group()+"/databaseUsers", "") // reads are not audited
	e.doAs("bad-token", "GET", e.group(), "")            // a refused request is
	e.doAs("", "GET", e.group(), "")                     // a bare challenge is not
	evs := buf.events(t)
	type row struct{ Phase, Operation, Outcome string }
	var got []row
	for _, ev := range evs {
		got = append(got, row{ev.Phase, ev.Operation, ev.Outcome})
		if ev.Source == "" || ev.RequestID == "" || ev.Method == "" {
			t.Errorf("incomplete event %+v", ev)
		}
	}
	want := []row{
		{"request", "createDatabaseUser", ""}, {"response", "createDatabaseUser", "allowed"},
		{"request", "createDatabaseUserCertificate", ""}, {"response", "createDatabaseUserCertificate", "allowed"},
		{"request", "revokeDatabaseUserCertificates", ""}, {"response", "revokeDatabaseUserCertificates", "allowed"},
		{"response", "getProject", "denied"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, secret := range []string{e.token, e.boot.ServiceAccount.ClientSecret, "PRIVATE KEY"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the audit trail holds a secret")
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestAuditFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Audit: audit.New(failingWriter{})})
	rec := e.do("POST", e.group()+"/databaseUsers", managedUserBody("alice"))
	if rec.Code != 500 || apiError(t, rec).ErrorCode != "UNEXPECTED_ERROR" {
		t.Fatalf("change without an audit trail: %d %s", rec.Code, rec.Body.String())
	}
	if n := e.userCount(); n != 0 {
		t.Errorf("the change was made anyway: %d users", n)
	}
	if rec := e.do("GET", e.group(), ""); rec.Code != 200 {
		t.Errorf("reads still work: %d", rec.Code)
	}
}

// TestTokenEndpointFailuresAreLimited: guessing a service account secret at
// the token endpoint is slowed down like any failed authentication.
func TestTokenEndpointFailuresAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{AuthFailures: ratelimit.Rule{Name: "auth", Capacity: 2, Refill: 1, Period: time.Hour}}})
	token := func(secret string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.boot.ServiceAccount.ClientID, secret)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec
	}
	for i := 0; i < 2; i++ {
		if rec := token("wrong"); rec.Code != 401 {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	rec := token(e.boot.ServiceAccount.ClientSecret)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after 2 failures the right secret got %d %v", rec.Code, rec.Header())
	}
}
