package httpapi

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// env is one server on a fresh SQLite file, initialized, with a Bearer
// token of the bootstrap service account (ORG_OWNER).
type env struct {
	t       testing.TB
	handler http.Handler
	app     *app.App
	store   store.Store
	boot    atlasapi.Bootstrap
	token   string
}

// testExternalURL is the external URL of the tests' handlers: the Host
// httptest gives requests, which the answers' links have always shown.
const testExternalURL = "http://example.com"

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvKeys(tb, testkit.FastKeys{})
}

// newEnvKeys is newEnv with another leaf key source.
func newEnvKeys(tb testing.TB, keys pki.KeySource) *env {
	tb.Helper()
	return newEnvWith(tb, func(c *app.Config) { c.Keys = keys })
}

// newEnvWith is newEnv with fast keys and the App configuration changed by
// configure.
func newEnvWith(tb testing.TB, configure func(*app.Config)) *env {
	tb.Helper()
	ctx := context.Background()
	st := testkit.Store(tb)
	cfg := app.Config{Store: st, Keyring: testkit.Keyring(tb), Keys: testkit.FastKeys{}}
	configure(&cfg)
	a, err := app.New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := a.IssueToken(ctx, boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{t: tb, handler: withSpecCheck(tb, NewHandler(Options{App: a, ExternalURL: testExternalURL})), app: a, store: st, boot: boot, token: tok.AccessToken}
}

// do sends a request as the bootstrap service account and returns the recorder.
func (e *env) do(method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.doAs(e.token, method, path, body)
}

func (e *env) doAs(token, method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.request(e.t, token, method, path, body)
}

// request serves one request; tb is the test it runs in (a fuzz target's
// own *testing.T, not the F the env was built with).
func (e *env) request(tb testing.TB, token, method, path, body string) *httptest.ResponseRecorder {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// mustDo sends a request and fails the test unless the status is want.
func (e *env) mustDo(want int, method, path, body string) []byte {
	e.t.Helper()
	rec := e.do(method, path, body)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body.String())
	}
	return rec.Body.Bytes()
}

func (e *env) group() string { return "/api/atlas/v1.0/groups/" + e.boot.ProjectID }

// createUser creates a database user from a JSON body.
func (e *env) createUser(body string) {
	e.t.Helper()
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers", body)
}

func managedUserBody(name string) string {
	b, _ := json.Marshal(map[string]any{
		"username": name, "databaseName": "$external", "x509Type": "MANAGED",
		"roles": []map[string]string{{"roleName": "readWrite", "databaseName": "app"}},
	})
	return string(b)
}

func scramUserBody(name string) string {
	b, _ := json.Marshal(map[string]any{
		"username": name, "databaseName": "admin", "password": "correct horse battery",
		"roles": []map[string]string{{"roleName": "read", "databaseName": "app"}},
	})
	return string(b)
}

// apiError decodes an Atlas error body.
func apiError(tb testing.TB, rec *httptest.ResponseRecorder) atlasapi.ApiError {
	tb.Helper()
	var e atlasapi.ApiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		tb.Fatalf("error body is not JSON: %v: %s", err, rec.Body.String())
	}
	if got := rec.Header().Get("X-Error-Code"); got != e.ErrorCode {
		tb.Errorf("X-Error-Code %q, body errorCode %q", got, e.ErrorCode)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		tb.Errorf("error Content-Type %q", ct)
	}
	if e.Error != rec.Code || e.Reason != http.StatusText(rec.Code) {
		tb.Errorf("error body says %d %q for status %d", e.Error, e.Reason, rec.Code)
	}
	return e
}

// count returns the rows of a table-like thing through the store.
func (e *env) userCount() int {
	e.t.Helper()
	var n int
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.CountDatabaseUsers(context.Background(), e.boot.ProjectID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func compact(tb testing.TB, b []byte) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatalf("not JSON: %v: %s", err, b)
	}
	return buf.String()
}

// recordingKeys records the key types asked for and hands out fast keys.
type recordingKeys struct {
	mu    sync.Mutex
	asked []string
}

func (k *recordingKeys) NewKey(ctx context.Context, t pki.KeyType) (crypto.Signer, error) {
	k.mu.Lock()
	k.asked = append(k.asked, string(t))
	k.mu.Unlock()
	return testkit.FastKeys{}.NewKey(ctx, t)
}
