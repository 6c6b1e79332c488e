package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
)

func notFound(r *http.Request) error {
	return atlasx509.Errorf(atlasx509.KindNotFound, "RESOURCE_NOT_FOUND", "Cannot find resource %s.", r.URL.Path)
}

// errorf builds the error of a status that has no use-case meaning.
func errorf(status int) error {
	switch status {
	case http.StatusMethodNotAllowed:
		return &atlasx509.Error{Kind: atlasx509.KindMethodNotAllowed, Code: "METHOD_NOT_ALLOWED", Detail: "The method is not allowed for this resource."}
	default:
		return &atlasx509.Error{Kind: atlasx509.KindInternal}
	}
}
