package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
)

// authenticated wraps an Atlas route: the caller must present an API key by
// Digest or a service account's Bearer token. A request without credentials
// (which every Digest client sends first) is answered 401 with a challenge
// before its body is read, so it has no effect.
func (s *server) authenticated(h handlerFunc) http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		header := r.Header.Get("Authorization")
		var (
			p   atlasx509.Principal
			err error
		)
		switch {
		case header == "":
			err = &app.AuthError{Reason: "no credentials"}
		case hasScheme(header, "Digest"):
			p, err = s.app.AuthenticateDigest(r.Context(), header, r.Method, r.RequestURI)
		case hasScheme(header, "Bearer"):
			token, _ := bearerToken(r)
			p, err = s.app.AuthenticateBearer(r.Context(), token)
		default:
			err = &app.AuthError{Reason: "unsupported authorization scheme"}
		}
		if err != nil {
			return err
		}
		logState(r).principal = p.ID
		if err := checkQuery(r); err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

func hasScheme(header, scheme string) bool {
	return len(header) > len(scheme) && strings.EqualFold(header[:len(scheme)], scheme) && header[len(scheme)] == ' '
}
