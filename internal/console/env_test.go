package console_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/console"
	"github.com/atlasx509/atlasx509/internal/httpapi"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// clock is a settable clock; zero offset is the real time.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// env is a real server (API and console) on a fresh SQLite store,
// initialized.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	app   *app.App
	store store.Store
	boot  atlasapi.Bootstrap
	clock *clock
}

type envOptions struct {
	tls          bool
	authFailures int // capacity of the failed-authentication limit; 0: the default
	audit        *audit.Log
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	st := testkit.Store(t)
	c := &clock{}
	a, err := app.New(ctx, app.Config{Store: st, Keyring: testkit.Keyring(t), Keys: testkit.FastKeys{}, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limits := httpapi.DefaultLimits()
	if o.authFailures > 0 {
		limits.AuthFailures = ratelimit.Rule{Name: "Authentication failures", Capacity: o.authFailures, Refill: 1, Period: time.Hour}
	}
	opts := httpapi.Options{App: a, Limits: limits, Console: console.New(console.Options{App: a, Secure: o.tls}), Audit: o.audit}
	e := &env{t: t, app: a, store: st, boot: boot, clock: c}
	if o.tls {
		e.srv = httptest.NewUnstartedServer(nil)
		e.srv.Config.Handler = httpapi.NewHandler(opts)
		e.srv.StartTLS()
	} else {
		e.srv = httptest.NewServer(httpapi.NewHandler(opts))
	}
	t.Cleanup(e.srv.Close)
	return e
}

// browser is an HTTP client with its own cookies that does not follow
// redirects.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if e.srv.TLS != nil {
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	}
	return &browser{e: e, client: c}
}

// page is an answer, read.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	resp, err := b.client.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return read(b.e.t, resp)
}

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	resp, err := b.client.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return read(b.e.t, resp)
}

func read(t testing.TB, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms of p.
func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", p.body)
	}
	return m[1]
}

// signIn signs in with an API key and returns the projects page.
func (b *browser) signIn(publicKey, privateKey string) page {
	b.e.t.Helper()
	form := b.get("/console/signin")
	p := b.post("/console/signin", url.Values{"csrf": {form.csrf(b.e.t)}, "kind": {"apiKey"}, "publicKey": {publicKey}, "privateKey": {privateKey}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/projects" {
		b.e.t.Fatalf("sign-in: status %d, Location %q; body %s", p.status, p.header.Get("Location"), p.body)
	}
	return b.get("/console/projects")
}

// signInBootstrap signs in with the bootstrap API key.
func (b *browser) signInBootstrap() page {
	b.e.t.Helper()
	return b.signIn(b.e.boot.APIKey.PublicKey, b.e.boot.APIKey.PrivateKey)
}

// cookie returns the browser's session cookie value ("" when none).
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL + "/console/")
	for _, c := range b.client.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "atlasx509_console") {
			return c.Value
		}
	}
	return ""
}

// sessionExists reports whether the store holds the session of token.
func (e *env) sessionExists(token string) bool {
	e.t.Helper()
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetConsoleSession(context.Background(), app.ConsoleTokenHash(token))
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
