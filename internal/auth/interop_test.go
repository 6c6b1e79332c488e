package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mongodb-forks/digest"
)

const (
	testPub  = "abcdefgh"
	testPriv = "11111111-2222-3333-4444-555555555555"
)

// digestServer is an httptest server authenticating with this package the
// way the HTTP layer is meant to (see the package documentation).
type digestServer struct {
	*httptest.Server
	nonces *Nonces
	// challenge, if set, replaces Challenge for the WWW-Authenticate values.
	challenge func(nonce string, stale bool) []string
	// before, if set, runs first for every request.
	before func(r *http.Request)

	mu       sync.Mutex
	log      []string // one entry per request: "unauth", "ok", or "401 <reason>"
	bodies   []string // request bodies as received, every request
	lastAuth string   // last accepted Authorization header
}

// newDigestServer starts a server; opts configure it before it starts.
func newDigestServer(t *testing.T, opts ...func(*digestServer)) *digestServer {
	t.Helper()
	s := &digestServer{nonces: NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, nil)}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *digestServer) record(event, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, event)
	s.bodies = append(s.bodies, body)
}

func (s *digestServer) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *digestServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func (s *digestServer) accepted() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAuth
}

func (s *digestServer) deny(w http.ResponseWriter, body, reason string, stale bool) {
	s.record("401 "+reason, body)
	values := []string{Challenge(s.nonces.New(), stale)}
	if s.challenge != nil {
		values = s.challenge(s.nonces.New(), stale)
	}
	for _, v := range values {
		w.Header().Add("WWW-Authenticate", v)
	}
	w.WriteHeader(http.StatusUnauthorized)
}

func (s *digestServer) serve(w http.ResponseWriter, r *http.Request) {
	if s.before != nil {
		s.before(r)
	}
	b, _ := io.ReadAll(r.Body)
	body := string(b)
	h := r.Header.Get("Authorization")
	if h == "" {
		s.deny(w, body, "unauth", false)
		return
	}
	c, err := ParseDigest(h)
	if err != nil {
		s.deny(w, body, "malformed", false)
		return
	}
	if c.Realm != Realm || c.URI != r.RequestURI {
		s.deny(w, body, "realm/uri", false)
		return
	}
	switch s.nonces.Check(c.Nonce) {
	case NonceValid:
	case NonceStale:
		s.deny(w, body, "stale", true)
		return
	default:
		s.deny(w, body, "invalid nonce", false)
		return
	}
	if c.Username != testPub || !c.Verify(r.Method, HA1(c.Algorithm, testPub, Realm, testPriv)) {
		s.deny(w, body, "bad response", false)
		return
	}
	if !s.nonces.Accept(c.Nonce, c.NC) {
		s.deny(w, body, "replayed", false)
		return
	}
	s.record("ok", body)
	s.mu.Lock()
	s.lastAuth = h
	s.mu.Unlock()
	fmt.Fprintf(w, "%s %s %s", r.Method, r.RequestURI, body)
}

func TestDigestInteropOfficialClient(t *testing.T) {
	tests := []struct {
		name, method, path, body string
	}{
		{"GET list certs", "GET", "/api/atlas/v2/groups/P/databaseUsers/u/certs?includeCount=true&itemsPerPage=100&pageNum=1", ""},
		{"POST create cert", "POST", "/api/atlas/v2/groups/P/databaseUsers/u/certs", `{"monthsUntilExpiration":3}`},
		{"GET percent-encoded", "GET", "/api/atlas/v1.0/groups/x/databaseUsers/%24external/a%2Fb?pretty=true", ""},
		{"DELETE percent-encoded", "DELETE", "/api/atlas/v2/groups/x/databaseUsers/%24external/CN%3Dalice%2CO%3Dacme", ""},
		{"PATCH unicode path", "PATCH", "/api/atlas/v2/groups/x/databaseUsers/admin/Jos%C3%A9?envelope=true", `{"roles":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pw := range []struct {
				priv     string
				wantCode int
				wantLog  []string
			}{
				{testPriv, 200, []string{"401 unauth", "ok"}},
				{testPriv + "x", 401, []string{"401 unauth", "401 bad response"}},
			} {
				srv := newDigestServer(t)
				client := &http.Client{Transport: digest.NewTransport(testPub, pw.priv)}
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != pw.wantCode {
					t.Fatalf("priv %q: status %d, want %d (log %v)", pw.priv, resp.StatusCode, pw.wantCode, srv.events())
				}
				if diff := cmp.Diff(pw.wantLog, srv.events()); diff != "" {
					t.Errorf("server log (-want +got):\n%s", diff)
				}
				// The transport sends the body with both requests.
				for i, b := range srv.received() {
					if b != tt.body {
						t.Errorf("request %d body %q, want %q", i, b, tt.body)
					}
				}
				if pw.wantCode == 200 {
					if want := tt.method + " " + tt.path + " " + tt.body; string(got) != want {
						t.Errorf("response %q, want %q", got, want)
					}
					if resp.Header.Get("WWW-Authenticate") != "" {
						t.Error("200 response carries a challenge")
					}
				} else if ch := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Digest realm="MMS Public API"`) {
					t.Errorf("401 challenge %q", ch)
				}
			}
		})
	}
}

// fetchNonce performs an unauthenticated request and returns the challenge's
// nonce.
func fetchNonce(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch := resp.Header.Get("WWW-Authenticate")
	_, rest, ok := strings.Cut(ch, `nonce="`)
	if !ok {
		t.Fatalf("no nonce in %q", ch)
	}
	nonce, _, _ := strings.Cut(rest, `"`)
	return nonce
}

// digestHeader computes a qop=auth Authorization header by hand.
func digestHeader(algorithm, method, uri, nonce string, nc uint32, user, pass string) string {
	c := DigestCredentials{Username: user, Realm: Realm, Nonce: nonce, URI: uri, Algorithm: algorithm,
		Cnonce: "0a4f113b", Qop: "auth", NC: nc}
	newHash := hashFunc(algorithm)
	ha1 := HA1(algorithm, user, Realm, pass)
	ha2 := hexHash(newHash, method, ":", uri)
	c.Response = hexHash(newHash, ha1, ":", nonce, ":", fmt.Sprintf("%08x", nc), ":", c.Cnonce, ":auth:", ha2)
	return formatDigest(c)
}

func doWithAuth(t *testing.T, method, url, auth string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDigestHandBuiltHeaders(t *testing.T) {
	srv := newDigestServer(t)
	const path = "/api/atlas/v2/groups/x/databaseUsers?pageNum=2"
	tests := []struct {
		name      string
		algorithm string
		pass      string
		want      int
	}{
		{"SHA-256 right password", AlgorithmSHA256, testPriv, 200},
		{"SHA-256 wrong password", AlgorithmSHA256, "nope", 401},
		{"MD5 right password", AlgorithmMD5, testPriv, 200},
		{"MD5 wrong password", AlgorithmMD5, "nope", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nonce := fetchNonce(t, srv.URL+path)
			auth := digestHeader(tt.algorithm, "GET", path, nonce, 1, testPub, tt.pass)
			if got := doWithAuth(t, "GET", srv.URL+path, auth); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
			if tt.want != 200 {
				return
			}
			// Replaying the same header is refused; a higher nc is fine.
			if got := doWithAuth(t, "GET", srv.URL+path, auth); got != 401 {
				t.Errorf("replay: status %d, want 401", got)
			}
			auth2 := digestHeader(tt.algorithm, "GET", path, nonce, 2, testPub, tt.pass)
			if got := doWithAuth(t, "GET", srv.URL+path, auth2); got != 200 {
				t.Errorf("nc=2: status %d, want 200", got)
			}
			// A digest for another URI or method is refused.
			other := digestHeader(tt.algorithm, "GET", "/other", nonce, 3, testPub, tt.pass)
			if got := doWithAuth(t, "GET", srv.URL+path, other); got != 401 {
				t.Errorf("other uri: status %d, want 401", got)
			}
			del := digestHeader(tt.algorithm, "DELETE", path, nonce, 4, testPub, tt.pass)
			if got := doWithAuth(t, "GET", srv.URL+path, del); got != 401 {
				t.Errorf("other method: status %d, want 401", got)
			}
		})
	}
}

func TestDigestReplayOfClientHeader(t *testing.T) {
	srv := newDigestServer(t)
	client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
	resp, err := client.Get(srv.URL + "/a?b=c")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	auth := srv.accepted()
	if got := doWithAuth(t, "GET", srv.URL+"/a?b=c", auth); got != 401 {
		t.Errorf("replayed client header: status %d, want 401", got)
	}
}

// TestDigestClientBehaviour pins down how github.com/mongodb-forks/digest
// reacts to challenges other than ours, to document what the server may rely
// on.
func TestDigestClientBehaviour(t *testing.T) {
	t.Run("SHA-256 challenge is answered with SHA-256", func(t *testing.T) {
		srv := newDigestServer(t, func(s *digestServer) {
			s.challenge = func(nonce string, stale bool) []string {
				return []string{strings.Replace(Challenge(nonce, stale), "algorithm=MD5", "algorithm=SHA-256", 1)}
			}
		})
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		resp, err := client.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d (log %v)", resp.StatusCode, srv.events())
		}
		c, err := ParseDigest(srv.accepted())
		if err != nil || c.Algorithm != AlgorithmSHA256 || c.NC != 1 {
			t.Errorf("client answered %+v, %v", c, err)
		}
	})
	t.Run("only the first of several challenges is read", func(t *testing.T) {
		srv := newDigestServer(t, func(s *digestServer) {
			s.challenge = func(nonce string, stale bool) []string {
				sha := strings.Replace(Challenge(nonce, stale), "algorithm=MD5", "algorithm=SHA-256", 1)
				return []string{sha, Challenge(nonce, stale)}
			}
		})
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		resp, err := client.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		c, _ := ParseDigest(srv.accepted())
		if resp.StatusCode != 200 || c.Algorithm != AlgorithmSHA256 {
			t.Errorf("status %d algorithm %q", resp.StatusCode, c.Algorithm)
		}
	})
	t.Run("two challenges in one header value break the client", func(t *testing.T) {
		srv := newDigestServer(t, func(s *digestServer) {
			s.challenge = func(nonce string, stale bool) []string {
				return []string{`Basic realm="x", ` + Challenge(nonce, stale)}
			}
		})
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		_, err := client.Get(srv.URL + "/x")
		if err == nil {
			t.Error("client accepted a combined challenge")
		}
	})
	t.Run("unknown challenge parameter breaks the client", func(t *testing.T) {
		srv := newDigestServer(t, func(s *digestServer) {
			s.challenge = func(nonce string, stale bool) []string {
				return []string{Challenge(nonce, stale) + `, charset=UTF-8`}
			}
		})
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		if _, err := client.Get(srv.URL + "/x"); err == nil {
			t.Error("client accepted a challenge with charset")
		}
	})
	t.Run("stale=true is not retried", func(t *testing.T) {
		// A server whose nonces are already expired when answered: the
		// client gets a stale challenge for its authenticated request and
		// returns that 401 to the caller without retrying.
		clock := newFakeClock()
		srv := newDigestServer(t, func(s *digestServer) {
			s.nonces = NewNonces([]byte("k"), time.Minute, clock.Now)
			s.before = func(r *http.Request) {
				if r.Header.Get("Authorization") != "" {
					clock.Add(2 * time.Minute)
				}
			}
		})
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		resp, err := client.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), "stale=true") {
			t.Errorf("status %d challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if diff := cmp.Diff([]string{"401 unauth", "401 stale"}, srv.events()); diff != "" {
			t.Errorf("server log (-want +got):\n%s", diff)
		}
	})
	t.Run("every request is challenged afresh with nc=1", func(t *testing.T) {
		srv := newDigestServer(t)
		client := &http.Client{Transport: digest.NewTransport(testPub, testPriv)}
		var auths []DigestCredentials
		for range 3 {
			resp, err := client.Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			c, _ := ParseDigest(srv.accepted())
			auths = append(auths, c)
		}
		if diff := cmp.Diff([]string{"401 unauth", "ok", "401 unauth", "ok", "401 unauth", "ok"}, srv.events()); diff != "" {
			t.Errorf("server log (-want +got):\n%s", diff)
		}
		for _, c := range auths {
			if c.NC != 1 || c.Qop != "auth" || c.Algorithm != AlgorithmMD5 {
				t.Errorf("client sent %+v", c)
			}
		}
		if auths[0].Nonce == auths[1].Nonce {
			t.Error("client reused a nonce")
		}
	})
}
