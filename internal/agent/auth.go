package agent

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/mongodb-forks/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DigestClient returns a client that authenticates as an API key with HTTP
// Digest over base's transport, as Atlas API keys do.
func DigestClient(base *http.Client, publicKey, privateKey string) *http.Client {
	return &http.Client{
		Transport: digest.NewTransportWithHTTPRoundTripper(publicKey, privateKey, transport(base)),
		Timeout:   base.Timeout,
	}
}

// OAuthClient returns a client that authenticates as a service account: it
// gets an access token from baseURL's /api/oauth/token with the client
// credentials grant (client id and secret in Basic auth), sends it as a
// Bearer token, gets a new one shortly before it expires, and once more
// when the server answers 401 (a token revoked or a server restarted with
// other signing keys).
func OAuthClient(base *http.Client, baseURL, clientID, clientSecret string) *http.Client {
	cfg := &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		TokenURL:     strings.TrimRight(baseURL, "/") + "/api/oauth/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, base)
	t := &bearerTransport{next: transport(base), newSource: func() oauth2.TokenSource { return cfg.TokenSource(ctx) }}
	t.source = t.newSource()
	return &http.Client{Transport: t, Timeout: base.Timeout}
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// bearerTransport adds a service account's access token to each request and
// retries a bodiless request once with a new token after a 401.
type bearerTransport struct {
	next      http.RoundTripper
	newSource func() oauth2.TokenSource

	mu     sync.Mutex
	source oauth2.TokenSource // reuses its token until shortly before expiry
}

// RoundTrip implements http.RoundTripper.
func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	src := t.source
	t.mu.Unlock()
	resp, err := t.send(req, src)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.Body != nil {
		return resp, err
	}
	resp.Body.Close()
	t.mu.Lock()
	if t.source == src {
		t.source = t.newSource()
	}
	src = t.source
	t.mu.Unlock()
	return t.send(req, src)
}

func (t *bearerTransport) send(req *http.Request, src oauth2.TokenSource) (*http.Response, error) {
	tok, err := src.Token()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	return t.next.RoundTrip(r)
}
