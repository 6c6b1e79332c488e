package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/audit"
)

// handleToken is the OAuth 2.0 token endpoint (client credentials grant).
// The client authenticates with HTTP Basic, as Atlas requires, or with
// client_id and client_secret in the form (RFC 6749 §2.3.1).
func (s *server) handleToken(w http.ResponseWriter, r *http.Request) error {
	logState(r).op = "createAccessToken"
	limitOAuthBody(w, r)
	if err := s.checkAuthFailures(w, r); err != nil {
		return writeOAuthError(w, r, err)
	}
	id, secret, err := clientCredentials(r)
	if err != nil {
		return s.writeOAuthError(w, r, err)
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return writeOAuthError(w, r, &app.OAuthError{Status: 400, Code: "invalid_request", Description: "grant_type is required."})
	default:
		return writeOAuthError(w, r, &app.OAuthError{Status: 400, Code: "unsupported_grant_type", Description: "Only client_credentials is supported."})
	}
	admit := func() error {
		d := s.guard.tokenMints.Take(id)
		if !d.Allowed {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(d.RetryAfter.Seconds())), 1)))
			return &app.OAuthError{Status: http.StatusTooManyRequests, Code: "invalid_request", Description: "Too many access tokens minted by this client; reuse the one you hold, or retry later."}
		}
		return s.oauthIntent(r, id)
	}
	tok, err := s.app.IssueTokenAdmitted(r.Context(), id, secret, admit)
	if err != nil {
		return s.writeOAuthError(w, r, err)
	}
	return writeOAuthJSON(w, http.StatusOK, atlasapi.TokenResponse{AccessToken: tok.AccessToken, ExpiresIn: tok.ExpiresIn, TokenType: "Bearer"})
}

// handleRevoke revokes an access token (RFC 7009): 200 whether or not the
// token was known.
func (s *server) handleRevoke(w http.ResponseWriter, r *http.Request) error {
	logState(r).op = "revokeAccessToken"
	limitOAuthBody(w, r)
	if err := s.checkAuthFailures(w, r); err != nil {
		return writeOAuthError(w, r, err)
	}
	id, secret, err := clientCredentials(r)
	if err != nil {
		return s.writeOAuthError(w, r, err)
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return writeOAuthError(w, r, &app.OAuthError{Status: 400, Code: "invalid_request", Description: "token is required."})
	}
	admit := func() error { return s.oauthIntent(r, id) }
	if err := s.app.RevokeTokenAdmitted(r.Context(), id, secret, token, admit); err != nil {
		return s.writeOAuthError(w, r, err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// oauthIntent records the audit intent of a token's mint or revocation by
// client id, once the client has authenticated; an error refuses the change
// (the trail fails closed).
func (s *server) oauthIntent(r *http.Request, clientID string) error {
	rl := logState(r)
	ev := audit.Event{RequestID: rl.id, Principal: clientID, PrincipalKind: rl.principalKind, Operation: rl.op,
		Method: r.Method, Path: r.URL.Path, Source: rl.source}
	if err := s.guard.audit.Intent(ev); err != nil {
		return &app.OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Err: err}
	}
	rl.intent = true
	return nil
}

// The OAuth endpoints take requests before any authentication, and their
// forms are a few hundred bytes: they read at most oauthMaxBody, within
// oauthReadTimeout, so that a slow body cannot hold them for the API's
// minute.
const (
	oauthMaxBody     = 4 << 10
	oauthReadTimeout = 10 * time.Second
)

// limitOAuthBody bounds the body of an OAuth request in size and time.
func limitOAuthBody(w http.ResponseWriter, r *http.Request) {
	// ErrNotSupported from a writer without a connection is of no matter.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(oauthReadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, oauthMaxBody)
}

// clientCredentials parses the form and returns the client's id and secret;
// the request's log state then names the client, so that the audit trail
// records a refused or a successful request by the id it claimed.
func clientCredentials(r *http.Request) (id, secret string, err error) {
	if err := r.ParseForm(); err != nil {
		return "", "", &app.OAuthError{Status: 400, Code: "invalid_request", Description: "The request body is not a valid form.", Err: err}
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	rl := logState(r)
	rl.presented = id != "" || secret != ""
	if id == "" {
		return "", "", &app.OAuthError{Status: 401, Code: "invalid_client", Description: "Invalid credentials provided."}
	}
	rl.principal, rl.principalKind = id, atlasx509.PrincipalServiceAccount.String()
	return id, secret, nil
}

// checkAuthFailures refuses a client address that failed to authenticate
// too often, as the API routes do.
func (s *server) checkAuthFailures(w http.ResponseWriter, r *http.Request) error {
	d := s.guard.authFailures.Peek(failureScope(logState(r).source))
	if d.Allowed {
		return nil
	}
	retry := int(math.Ceil(d.RetryAfter.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(retry, 1)))
	return &app.OAuthError{Status: http.StatusTooManyRequests, Code: "invalid_request", Description: "Too many failed authentications from this address; retry later."}
}

// writeOAuthError writes err and counts a client that failed to
// authenticate against its address.
func (s *server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) error {
	var oe *app.OAuthError
	if errors.As(err, &oe) && oe.Code == "invalid_client" {
		s.guard.authFailures.Take(failureScope(logState(r).source))
	}
	return writeOAuthError(w, r, err)
}

func writeOAuthError(w http.ResponseWriter, r *http.Request, err error) error {
	logState(r).err = err
	var oe *app.OAuthError
	if !errors.As(err, &oe) {
		oe = &app.OAuthError{Status: 500, Code: "server_error"}
	}
	if oe.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="MMS Public API"`)
	}
	desc := oe.Description
	if oe.Status >= 500 {
		desc = "" // never internal text
	}
	return writeOAuthJSON(w, oe.Status, atlasapi.OAuthError{Error: oe.Code, ErrorDescription: desc})
}

func writeOAuthJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(b)
	return nil
}
