package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// oauthPost posts form to path with HTTP Basic client authentication.
func oauthPost(tb testing.TB, base, path, clientID, secret string, form url.Values) response {
	tb.Helper()
	req, err := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	return doReq(tb, http.DefaultClient, req)
}

// doReq sends req and reads the whole answer.
func doReq(tb testing.TB, c *http.Client, req *http.Request) response {
	tb.Helper()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// bearerGet sends GET path with an OAuth access token.
func bearerGet(tb testing.TB, base, path, token string) response {
	tb.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return doReq(tb, http.DefaultClient, req)
}

// TestOAuthServiceAccount drives the bootstrap service account through
// golang.org/x/oauth2/clientcredentials as the Atlas SDK does, then revokes
// its token.
func TestOAuthServiceAccount(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	sa := s.Bootstrap.ServiceAccount
	cfg := clientcredentials.Config{
		ClientID:     sa.ClientID,
		ClientSecret: sa.ClientSecret,
		TokenURL:     s.URL + "/api/oauth/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.Background()
	before := time.Now()
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials token: %v", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("token %+v", tok)
	}
	if d := tok.Expiry.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("token expires in %v, want 1h", d)
	}

	// The token answers the API through the oauth2 client.
	r := doReq(t, cfg.Client(ctx), mustRequest(t, "GET", s.URL+apiV1+"/groups"))
	mustStatus(t, r, http.StatusOK, "GET /groups with the service account's token")
	var page atlasapi.Paginated[atlasapi.Group]
	decodeJSON(t, r.Body, &page)
	if len(page.Results) != 1 || page.Results[0].ID != s.Bootstrap.ProjectID {
		t.Errorf("the service account sees %+v, want the bootstrap project", page.Results)
	}

	// The token writes too: the service account holds ORG_OWNER.
	gid := s.Bootstrap.ProjectID
	req := mustRequest(t, "POST", s.URL+apiV1+"/groups/"+gid+"/databaseUsers")
	req.Body = io.NopCloser(strings.NewReader(`{"username":"sa-user","databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"read","databaseName":"app"}]}`))
	req.Header.Set("Content-Type", "application/json")
	mustStatus(t, doReq(t, cfg.Client(ctx), req), http.StatusCreated, "create a user with the token")
	req = mustRequest(t, "POST", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/sa-user/certs")
	req.Body = io.NopCloser(strings.NewReader(`{"monthsUntilExpiration":1}`))
	req.Header.Set("Content-Type", "application/json")
	r = doReq(t, cfg.Client(ctx), req)
	mustStatus(t, r, http.StatusCreated, "issue a certificate with the token")
	parseCertAndKey(t, r.Body)

	// The raw token answer: expires_in exactly 3600, token_type Bearer,
	// whatever the sub-second part of the clock: five tokens 210 ms apart
	// cover a whole second.
	var second string
	for i := range 5 {
		if i > 0 {
			time.Sleep(210 * time.Millisecond)
		}
		r = oauthPost(t, s.URL, "/api/oauth/token", sa.ClientID, sa.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		mustStatus(t, r, http.StatusOK, "token")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("token answer Content-Type %q, want JSON", ct)
		}
		var tr atlasapi.TokenResponse
		decodeJSON(t, r.Body, &tr)
		if tr.ExpiresIn != 3600 || tr.TokenType != "Bearer" || tr.AccessToken == "" {
			t.Errorf("token answer at %s: expires_in %d, token_type %q; want 3600 and Bearer", time.Now().Format("15:04:05.000"), tr.ExpiresIn, tr.TokenType)
		}
		second = tr.AccessToken
	}
	mustStatus(t, bearerGet(t, s.URL, apiV1+"/groups", second), http.StatusOK, "GET /groups with the second token")

	// Revoke the first token: 200, then refused at once; the second token
	// still works.
	r = oauthPost(t, s.URL, "/api/oauth/revoke", sa.ClientID, sa.ClientSecret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
	mustStatus(t, r, http.StatusOK, "revoke")
	r = bearerGet(t, s.URL, apiV1+"/groups", tok.AccessToken)
	mustStatus(t, r, http.StatusUnauthorized, "GET /groups with the revoked token")
	var apiErr atlasapi.ApiError
	decodeJSON(t, r.Body, &apiErr)
	if apiErr.Error != 401 || r.Header.Get("X-Error-Code") != apiErr.ErrorCode {
		t.Errorf("revoked token answer %s (X-Error-Code %q)", r.Body, r.Header.Get("X-Error-Code"))
	}
	mustStatus(t, bearerGet(t, s.URL, apiV1+"/groups", second), http.StatusOK, "GET /groups with the token that was not revoked")

	// A wrong secret, and a grant other than client_credentials.
	r = oauthPost(t, s.URL, "/api/oauth/token", sa.ClientID, sa.ClientSecret+"x", url.Values{"grant_type": {"client_credentials"}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	r = oauthPost(t, s.URL, "/api/oauth/token", "mdb_sa_id_nobody", "secret", url.Values{"grant_type": {"client_credentials"}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	r = oauthPost(t, s.URL, "/api/oauth/revoke", sa.ClientID, "wrong", url.Values{"token": {second}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	mustStatus(t, bearerGet(t, s.URL, apiV1+"/groups", second), http.StatusOK, "GET /groups after a refused revocation")
	r = oauthPost(t, s.URL, "/api/oauth/token", sa.ClientID, sa.ClientSecret, url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}})
	wantOAuthError(t, r, http.StatusBadRequest, "unsupported_grant_type")

	// The Digest-only API key cannot be used as an OAuth client.
	r = oauthPost(t, s.URL, "/api/oauth/token", s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey, url.Values{"grant_type": {"client_credentials"}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
}

func mustRequest(tb testing.TB, method, url string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(tb testing.TB, r response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Errorf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	var e atlasapi.OAuthError
	decodeJSON(tb, r.Body, &e)
	if diff := cmp.Diff(code, e.Error); diff != "" {
		tb.Errorf("OAuth error code (-want +got):\n%s", diff)
	}
	if code == "invalid_client" && e.ErrorDescription != "Invalid credentials provided." {
		tb.Errorf("invalid_client description %q, want Atlas's %q", e.ErrorDescription, "Invalid credentials provided.")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want JSON", ct)
	}
}
