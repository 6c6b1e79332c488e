package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// apiV1 is the path prefix of the Atlas v1.0 API.
const apiV1 = "/api/atlas/v1.0"

// hex24 matches an Atlas object id.
var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// lockedBuffer is a bytes.Buffer safe for the server goroutine to write while
// the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rsaPool holds a few RSA 2048 keys generated once per test binary. Tests
// issue only a handful of RSA certificates, so handing the same key out
// again (which a production KeySource must never do) only means two test
// certificates share a key.
var rsaPool struct {
	once sync.Once
	keys []*rsa.PrivateKey
	err  error
	next atomic.Uint32
}

const rsaPoolSize = 3

func rsaPoolKeys(tb testing.TB) []*rsa.PrivateKey {
	tb.Helper()
	rsaPool.once.Do(func() {
		keys := make([]*rsa.PrivateKey, rsaPoolSize)
		errs := make([]error, rsaPoolSize)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				rsaPool.err = err
			}
		}
		rsaPool.keys = keys
	})
	if rsaPool.err != nil {
		tb.Fatalf("generate RSA 2048 test keys: %v", rsaPool.err)
	}
	return rsaPool.keys
}

// rsaKeys is a fast pki.KeySource handing out the pre-generated RSA 2048 keys in turn.
type rsaKeys struct{ keys []*rsa.PrivateKey }

func newRSAKeys(tb testing.TB) rsaKeys {
	tb.Helper()
	return rsaKeys{keys: rsaPoolKeys(tb)}
}

func (k rsaKeys) NewKey(ctx context.Context, _ pki.KeyType) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := rsaPool.next.Add(1)
	return k.keys[int(i)%len(k.keys)], nil
}

// serverOptions say how startServer runs the server.
type serverOptions struct {
	// keys is the leaf key source; nil means testkit.FastKeys, unless defaultKeys
	// is set.
	keys pki.KeySource
	// defaultKeys runs the server with the binary's own key source (RSA
	// 4096 generated inline), ignoring keys.
	defaultKeys bool
	// dataDir is the data directory; "" means a new temporary one.
	dataDir string
	// initialized says the store in dataDir was initialized before, so
	// serve must print nothing on stdout.
	initialized bool
	// args are more serve flags.
	args []string
	// readHeaderTimeout, when set, replaces the server's header timeout.
	readHeaderTimeout time.Duration
}

// testServer is a running runServe.
type testServer struct {
	URL       string // http://127.0.0.1:port
	Bootstrap atlasapi.Bootstrap
	DataDir   string

	cancel   context.CancelFunc
	done     chan error
	stdout   *lockedBuffer
	logs     *lockedBuffer
	stopOnce sync.Once
	stopErr  error
}

// startServer runs runServe in-process on a free loopback port and returns
// once it serves. The cleanup stops it and fails the test unless runServe
// returns nil (a graceful shutdown that closed the store).
func startServer(tb testing.TB, opts serverOptions) *testServer {
	tb.Helper()
	dataDir := opts.dataDir
	if dataDir == "" {
		dataDir = tb.TempDir()
	}
	getenv := func(string) string { return "" }
	cfg, err := config.Load("serve", append([]string{"--data-dir", dataDir, "--listen", "127.0.0.1:0"}, opts.args...), getenv, io.Discard)
	if err != nil {
		tb.Fatalf("config.Load: %v", err)
	}
	keys := opts.keys
	switch {
	case opts.defaultKeys:
		keys = nil
	case keys == nil:
		keys = testkit.FastKeys{}
	}
	s := &testServer{DataDir: dataDir, done: make(chan error, 1), stdout: &lockedBuffer{}, logs: &lockedBuffer{}}
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	ready := make(chan string, 1)
	go func() {
		s.done <- runServe(ctx, cfg, logger, s.stdout, options{keys: keys, ready: func(addr string) { ready <- addr }, readHeaderTimeout: opts.readHeaderTimeout})
	}()
	tb.Cleanup(func() {
		if err := s.stop(); err != nil {
			tb.Errorf("runServe returned %v, want nil", err)
		}
		if tb.Failed() {
			tb.Logf("server log:\n%s", s.logs.String())
		}
	})
	select {
	case addr := <-ready:
		s.URL = "http://" + addr
	case err := <-s.done:
		s.done <- err // for stop
		tb.Fatalf("runServe returned before serving: %v\nlog:\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		tb.Fatalf("runServe did not get ready in 30s\nlog:\n%s", s.logs.String())
	}

	out := s.stdout.String()
	if opts.initialized {
		if out != "" {
			tb.Fatalf("serve on an initialized store printed on stdout: %q", out)
		}
		return s
	}
	s.Bootstrap = parseBootstrap(tb, out)
	return s
}

// stop cancels the serve context and waits for runServe to return, once.
func (s *testServer) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(45 * time.Second):
			s.stopErr = fmt.Errorf("runServe did not return within 45s of the cancellation")
		}
	})
	return s.stopErr
}

// parseBootstrap checks that out is exactly one line holding the bootstrap
// JSON object, with nothing else, and decodes it.
func parseBootstrap(tb testing.TB, out string) atlasapi.Bootstrap {
	tb.Helper()
	line, rest, ok := strings.Cut(out, "\n")
	if !ok || rest != "" || line == "" {
		tb.Fatalf("stdout is not exactly one line: %q", out)
	}
	var b atlasapi.Bootstrap
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		tb.Fatalf("bootstrap line %q: %v", line, err)
	}
	if dec.More() {
		tb.Fatalf("bootstrap line %q holds more than one JSON value", line)
	}
	for name, id := range map[string]string{"orgId": b.OrgID, "projectId": b.ProjectID, "apiKey.id": b.APIKey.ID} {
		if !hex24.MatchString(id) {
			tb.Errorf("bootstrap %s = %q, want 24 hex digits", name, id)
		}
	}
	for name, v := range map[string]string{
		"apiKey.publicKey": b.APIKey.PublicKey, "apiKey.privateKey": b.APIKey.PrivateKey,
		"serviceAccount.clientId": b.ServiceAccount.ClientID, "serviceAccount.clientSecret": b.ServiceAccount.ClientSecret,
	} {
		if v == "" {
			tb.Errorf("bootstrap %s is empty", name)
		}
	}
	return b
}

// digestClient returns an HTTP client that authenticates with the bootstrap
// API key through the official Digest transport.
func (s *testServer) digestClient() *http.Client {
	return &http.Client{Transport: digest.NewTransport(s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey), Timeout: 60 * time.Second}
}

// response is a read HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request with c and reads the whole answer. A non-empty body
// is sent as JSON.
func do(tb testing.TB, c *http.Client, method, url, body string) response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// mustStatus fails the test unless r has status want.
func mustStatus(tb testing.TB, r response, want int, what string) {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("%s: status %d, want %d; body %s", what, r.Status, want, r.Body)
	}
}

// decodeJSON decodes r's body into v.
func decodeJSON(tb testing.TB, body []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
}

// createManagedUser creates a MANAGED X.509 user in project groupID with c.
func createManagedUser(tb testing.TB, c *http.Client, base, groupID, username string) {
	tb.Helper()
	body := fmt.Sprintf(`{"username":%q,"databaseName":"$external","x509Type":"MANAGED","groupId":%q,"roles":[{"roleName":"readWrite","databaseName":"app"}]}`, username, groupID)
	r := do(tb, c, "POST", base+apiV1+"/groups/"+groupID+"/databaseUsers", body)
	mustStatus(tb, r, http.StatusCreated, "create user "+username)
}

// createProject creates a project in the bootstrap organization and returns its id.
func createProject(tb testing.TB, s *testServer, name string) string {
	tb.Helper()
	r := do(tb, s.digestClient(), "POST", s.URL+apiV1+"/groups", fmt.Sprintf(`{"name":%q,"orgId":%q}`, name, s.Bootstrap.OrgID))
	mustStatus(tb, r, http.StatusOK, "create project "+name)
	var g atlasapi.Group
	decodeJSON(tb, r.Body, &g)
	if !hex24.MatchString(g.ID) {
		tb.Fatalf("new project id %q", g.ID)
	}
	return g.ID
}

// issued is a certificate answer taken apart.
type issued struct {
	PEM  []byte
	Cert *x509.Certificate
	Key  crypto.Signer
	// KeyBlock is the DER of the PKCS#8 key block.
	KeyBlock []byte
}

// issueCert asks for a certificate of username with c and parses the answer.
func issueCert(tb testing.TB, c *http.Client, base, groupID, username string, months int) issued {
	tb.Helper()
	r := do(tb, c, "POST", base+apiV1+"/groups/"+groupID+"/databaseUsers/"+username+"/certs", fmt.Sprintf(`{"monthsUntilExpiration":%d}`, months))
	mustStatus(tb, r, http.StatusCreated, "issue a certificate for "+username)
	return parseCertAndKey(tb, r.Body)
}

// parseCertAndKey checks that b is exactly a CERTIFICATE PEM block followed
// by an unencrypted PKCS#8 PRIVATE KEY block for the certificate's key.
func parseCertAndKey(tb testing.TB, b []byte) issued {
	tb.Helper()
	certBlock, rest := pem.Decode(b)
	if certBlock == nil || certBlock.Type != "CERTIFICATE" || len(certBlock.Headers) != 0 {
		tb.Fatalf("the answer does not start with a CERTIFICATE block:\n%s", b)
	}
	keyBlock, rest := pem.Decode(rest)
	if keyBlock == nil || keyBlock.Type != "PRIVATE KEY" || len(keyBlock.Headers) != 0 {
		tb.Fatalf("the certificate is not followed by a PKCS#8 PRIVATE KEY block:\n%s", b)
	}
	if len(rest) != 0 {
		tb.Fatalf("%d bytes after the key block: %q", len(rest), rest)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		tb.Fatalf("parse certificate: %v", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		tb.Fatalf("parse PKCS#8 key: %v", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		tb.Fatalf("key %T is not a crypto.Signer", k)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if !key.Public().(equaler).Equal(cert.PublicKey) {
		tb.Fatal("the private key does not belong to the certificate")
	}
	return issued{PEM: b, Cert: cert, Key: key, KeyBlock: keyBlock.Bytes}
}

// fetchCAPEM returns the PEM of the project's CA certificates (extension route).
func fetchCAPEM(tb testing.TB, c *http.Client, base, groupID string) []byte {
	tb.Helper()
	r := do(tb, c, "GET", base+apiV1+"/groups/"+groupID+"/userSecurity/managedX509/ca", "")
	mustStatus(tb, r, http.StatusOK, "get the project CA")
	return r.Body
}

// parseCAs parses every CERTIFICATE block of b.
func parseCAs(tb testing.TB, b []byte) []*x509.Certificate {
	tb.Helper()
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			tb.Fatalf("CA PEM holds a %s block", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, c)
	}
	if len(bytes.TrimSpace(b)) != 0 || len(out) == 0 {
		tb.Fatalf("CA PEM: %d certificates and trailing %q", len(out), b)
	}
	return out
}

// digestParams are what a client hashes into one Digest answer.
type digestParams struct {
	Username, Password, Realm, Nonce string
	Method, URI                      string
	Algorithm                        string // "MD5" or "SHA-256"
	NC                               uint32
	Cnonce                           string
}

// authorization computes an `Authorization: Digest …` value (RFC 7616, qop=auth)
// independently of the server's and the official client's code.
func (p digestParams) authorization() string {
	var newHash func() hash.Hash
	switch p.Algorithm {
	case "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		panic("algorithm " + p.Algorithm)
	}
	h := func(s string) string {
		d := newHash()
		io.WriteString(d, s)
		return hex.EncodeToString(d.Sum(nil))
	}
	nc := fmt.Sprintf("%08x", p.NC)
	ha1 := h(p.Username + ":" + p.Realm + ":" + p.Password)
	ha2 := h(p.Method + ":" + p.URI)
	resp := h(ha1 + ":" + p.Nonce + ":" + nc + ":" + p.Cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q, algorithm=%s, qop=auth, nc=%s, cnonce=%q`,
		p.Username, p.Realm, p.Nonce, p.URI, resp, p.Algorithm, nc, p.Cnonce)
}

// challengeRE is the exact shape of Atlas's Digest challenge.
var challengeRE = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="([^"]+)", algorithm=MD5, qop="auth", stale=(true|false)$`)

// challenge asks the server for a fresh nonce with an unauthenticated request.
func challenge(tb testing.TB, base string) string {
	tb.Helper()
	r := do(tb, http.DefaultClient, "GET", base+apiV1+"/groups", "")
	mustStatus(tb, r, http.StatusUnauthorized, "unauthenticated GET /groups")
	m := challengeRE.FindStringSubmatch(r.Header.Get("WWW-Authenticate"))
	if m == nil {
		tb.Fatalf("challenge %q does not have Atlas's shape", r.Header.Get("WWW-Authenticate"))
	}
	return m[1]
}
