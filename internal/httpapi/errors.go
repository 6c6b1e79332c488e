package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
)

func notFound(r *http.Request) error {
	return app.ErrResourceNotFound(r.URL.Path)
}

// errorf builds the error of a status that has no use-case meaning.
func errorf(status int) error {
	switch status {
	case http.StatusMethodNotAllowed:
		return app.ErrMethodNotAllowed()
	default:
		return &atlasx509.Error{Kind: atlasx509.KindInternal}
	}
}
