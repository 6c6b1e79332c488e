package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/audit"
)

// authenticated wraps an Atlas route: the caller must present an API key by
// Digest or a service account's Bearer token. A request without credentials
// (which every Digest client sends first) is answered 401 with a challenge
// before its body is read, so it has no effect. Then come the credential's
// access list, the route's rate limit (charged only to a caller that reaches
// the project) and, for a change, the audit intent. With unconfirmed (see
// route.unconfirmed), a principal verified before comes from the cache
// unconfirmed, and the handler calls confirmed when its use case answers
// app.ErrCredentialsChanged.
func (s *server) authenticated(op string, limit rateSet, unconfirmed bool, h handlerFunc) http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		rl := logState(r)
		rl.op = op
		header := r.Header.Get("Authorization")
		rl.presented = header != ""
		source, _ := netip.ParseAddr(rl.source)
		if rl.presented {
			// Refuse early while this address is failing too often.
			if d := s.guard.authFailures.Peek(failureScope(rl.source)); !d.Allowed {
				return tooManyRequests(w, r.URL.Path, s.guard.authFailures.Rule(), d)
			}
		}
		var (
			p       atlasx509.Principal
			confirm app.Confirm
			err     error
		)
		switch {
		case header == "":
			err = &app.AuthError{Reason: "no credentials"}
		case hasScheme(header, "Digest") && unconfirmed:
			p, confirm, err = s.app.AuthenticateDigestUnconfirmed(r.Context(), header, r.Method, r.RequestURI)
		case hasScheme(header, "Digest"):
			p, err = s.app.AuthenticateDigest(r.Context(), header, r.Method, r.RequestURI)
		case hasScheme(header, "Bearer") && unconfirmed:
			token, _ := bearerToken(r)
			p, confirm, err = s.app.AuthenticateBearerUnconfirmed(r.Context(), token)
		case hasScheme(header, "Bearer"):
			token, _ := bearerToken(r)
			p, err = s.app.AuthenticateBearer(r.Context(), token)
		default:
			err = &app.AuthError{Reason: "unsupported authorization scheme"}
		}
		if err != nil {
			return s.authFailed(rl, err)
		}
		rl.principal, rl.principalKind = p.ID, p.Kind.String()
		p.RemoteAddress = source.Unmap()
		var confirmed func(context.Context) (atlasx509.Principal, error)
		if confirm != nil {
			confirmed = func(ctx context.Context) (atlasx509.Principal, error) {
				p, err := confirm(ctx)
				if err != nil {
					return p, s.authFailed(rl, err)
				}
				p.RemoteAddress = source.Unmap()
				if !p.AllowedFrom(source) {
					return p, notOnAccessList(source)
				}
				return p, nil
			}
		}
		if !p.AllowedFrom(source) {
			if confirmed == nil {
				return notOnAccessList(source)
			}
			// An unconfirmed principal's access list may be an old one:
			// the store decides.
			if p, err = confirmed(r.Context()); err != nil {
				return err
			}
			confirmed = nil
		}
		if confirmed != nil {
			r = r.WithContext(context.WithValue(r.Context(), confirmKey, confirmed))
		}
		s.app.RecordAccessListUse(p, source) // counted in memory, written in batches
		if err := checkQuery(r); err != nil {
			return err
		}
		// Only a caller that reaches the project spends its bucket: anyone
		// else is answered 404 by the use case, and must not starve the
		// project's own callers.
		// (A disabled limit costs nothing: not even the store read of
		// ReachesProject for a caller with an organization-wide role.)
		if s.guard.limited(limit) && s.app.ReachesProject(r.Context(), p, r.PathValue("groupId")) {
			if err := s.guard.rateLimit(w, r, limit, r.PathValue("groupId")); err != nil {
				return err
			}
		}
		if privileged(r.Method) {
			ev := audit.Event{RequestID: rl.id, Principal: p.ID, PrincipalKind: rl.principalKind, Operation: op,
				Method: r.Method, Path: r.URL.Path, GroupID: r.PathValue("groupId"), OrgID: r.PathValue("orgId"), Source: rl.source}
			if err := s.guard.audit.Intent(ev); err != nil {
				return &atlasx509.Error{Kind: atlasx509.KindInternal, Err: err} // fail closed
			}
			rl.intent = true
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// authFailed counts a failed authentication against the caller's address
// (a stale Digest nonce is no failure) and returns err.
func (s *server) authFailed(rl *requestLog, err error) error {
	var ae *app.AuthError
	if errors.As(err, &ae) && rl.presented && !ae.Stale {
		s.guard.authFailures.Take(failureScope(rl.source))
	}
	return err
}

// confirmed returns r's principal confirmed from the store, with its access
// list checked again: for a handler whose use case answered
// app.ErrCredentialsChanged. It fails as authentication does when the
// credentials no longer authenticate the request.
func confirmed(r *http.Request) (atlasx509.Principal, error) {
	confirm, ok := r.Context().Value(confirmKey).(func(context.Context) (atlasx509.Principal, error))
	if !ok {
		// Only a principal authenticated unconfirmed can be refused so.
		return atlasx509.Principal{}, &atlasx509.Error{Kind: atlasx509.KindInternal, Err: app.ErrCredentialsChanged}
	}
	return confirm(r.Context())
}

func hasScheme(header, scheme string) bool {
	return len(header) > len(scheme) && strings.EqualFold(header[:len(scheme)], scheme) && header[len(scheme)] == ' '
}
