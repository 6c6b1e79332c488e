package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// sendWithAuth sends method path with the Authorization value auth (none if empty).
func sendWithAuth(tb testing.TB, base, method, path, auth, body string) response {
	tb.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return doReq(tb, http.DefaultClient, req)
}

// TestDigestEdgeCases checks the Digest behaviour the official clients rely
// on, with hand-computed Authorization headers.
func TestDigestEdgeCases(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	key := s.Bootstrap.APIKey
	usersPath := apiV1 + "/groups/" + s.Bootstrap.ProjectID + "/databaseUsers"
	groupsPath := apiV1 + "/groups"

	t.Run("unauthenticated first request has no effect", func(t *testing.T) {
		body := `{"username":"ghost","databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"read","databaseName":"app"}]}`
		r := sendWithAuth(t, s.URL, "POST", usersPath, "", body)
		mustStatus(t, r, http.StatusUnauthorized, "unauthenticated POST databaseUsers")
		values := r.Header.Values("WWW-Authenticate")
		if len(values) != 1 || !challengeRE.MatchString(values[0]) || !strings.HasSuffix(values[0], "stale=false") {
			t.Errorf("WWW-Authenticate %q, want exactly one Atlas-shaped challenge with stale=false", values)
		}
		var e atlasapi.ApiError
		decodeJSON(t, r.Body, &e)
		want := atlasapi.ApiError{Detail: "You are not authorized for this resource.", Error: 401, ErrorCode: "UNEXPECTED_ERROR", Parameters: []any{}, Reason: "Unauthorized"}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("401 body (-want +got):\n%s", diff)
		}
		if got := r.Header.Get("X-Error-Code"); got != "UNEXPECTED_ERROR" {
			t.Errorf("X-Error-Code %q, want UNEXPECTED_ERROR", got)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		list := do(t, s.digestClient(), "GET", s.URL+usersPath, "")
		mustStatus(t, list, http.StatusOK, "list users")
		var page atlasapi.Paginated[atlasapi.DatabaseUser]
		decodeJSON(t, list.Body, &page)
		for _, u := range page.Results {
			if u.Username == "ghost" {
				t.Fatal("the unauthenticated POST created the user")
			}
		}
		if page.TotalCount == nil || *page.TotalCount != 0 {
			t.Errorf("totalCount %v, want 0", page.TotalCount)
		}
	})

	t.Run("replayed authorization is refused", func(t *testing.T) {
		p := digestParams{Username: key.PublicKey, Password: key.PrivateKey, Realm: "MMS Public API", Nonce: challenge(t, s.URL),
			Method: "GET", URI: groupsPath, Algorithm: "MD5", NC: 1, Cnonce: "0a4f113b"}
		auth := p.authorization()
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, auth, ""), http.StatusOK, "first use of the nonce")
		r := sendWithAuth(t, s.URL, "GET", groupsPath, auth, "")
		mustStatus(t, r, http.StatusUnauthorized, "the same Authorization header again")
		if !challengeRE.MatchString(r.Header.Get("WWW-Authenticate")) {
			t.Errorf("replay answer has challenge %q", r.Header.Get("WWW-Authenticate"))
		}
		// RFC 7616: the same nonce with a higher count is a new request.
		p.NC = 2
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), ""), http.StatusOK, "the nonce with nc=2")
		p.NC = 1
		p.Cnonce = "ffffffff"
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), ""), http.StatusUnauthorized, "the nonce with nc=1 and a new cnonce")
	})

	t.Run("wrong password", func(t *testing.T) {
		p := digestParams{Username: key.PublicKey, Password: key.PrivateKey + "x", Realm: "MMS Public API", Nonce: challenge(t, s.URL),
			Method: "GET", URI: groupsPath, Algorithm: "MD5", NC: 1, Cnonce: "abcdef01"}
		r := sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), "")
		mustStatus(t, r, http.StatusUnauthorized, "wrong password")
		if got := r.Header.Get("X-Error-Code"); got != "UNEXPECTED_ERROR" {
			t.Errorf("X-Error-Code %q", got)
		}
		// A wrong password must not burn the nonce for the real key holder.
		p.Password = key.PrivateKey
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), ""), http.StatusOK, "right password, same nonce")
	})

	t.Run("unknown public key", func(t *testing.T) {
		p := digestParams{Username: "nobodyxx", Password: key.PrivateKey, Realm: "MMS Public API", Nonce: challenge(t, s.URL),
			Method: "GET", URI: groupsPath, Algorithm: "MD5", NC: 1, Cnonce: "abcdef01"}
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), ""), http.StatusUnauthorized, "unknown public key")
	})

	t.Run("uri of another resource", func(t *testing.T) {
		p := digestParams{Username: key.PublicKey, Password: key.PrivateKey, Realm: "MMS Public API", Nonce: challenge(t, s.URL),
			Method: "GET", URI: usersPath, Algorithm: "MD5", NC: 1, Cnonce: "abcdef01"}
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath, p.authorization(), ""), http.StatusUnauthorized, "digest computed for another URI")
	})

	t.Run("curl-style SHA-256", func(t *testing.T) {
		p := digestParams{Username: key.PublicKey, Password: key.PrivateKey, Realm: "MMS Public API", Nonce: challenge(t, s.URL),
			Method: "GET", URI: groupsPath + "?pretty=true", Algorithm: "SHA-256", NC: 1, Cnonce: "MTIzNDU2"}
		r := sendWithAuth(t, s.URL, "GET", groupsPath+"?pretty=true", p.authorization(), "")
		mustStatus(t, r, http.StatusOK, "SHA-256 digest")
		var page atlasapi.Paginated[atlasapi.Group]
		decodeJSON(t, r.Body, &page)
		if len(page.Results) != 1 || page.Results[0].ID != s.Bootstrap.ProjectID {
			t.Errorf("groups %s", r.Body)
		}
		// A SHA-256 answer computed with MD5's HA1 must fail.
		p.Nonce = challenge(t, s.URL)
		auth := strings.Replace(p.authorization(), "algorithm=SHA-256", "algorithm=MD5", 1)
		mustStatus(t, sendWithAuth(t, s.URL, "GET", groupsPath+"?pretty=true", auth, ""), http.StatusUnauthorized, "SHA-256 response labelled MD5")
	})

	t.Run("authenticated POST through the official transport", func(t *testing.T) {
		createManagedUser(t, s.digestClient(), s.URL, s.Bootstrap.ProjectID, "alice")
		r := do(t, s.digestClient(), "GET", s.URL+usersPath+"/$external/alice", "")
		mustStatus(t, r, http.StatusOK, "get alice")
	})
}
