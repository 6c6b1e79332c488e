package httpapi

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
)

// The handlers of API keys and service accounts, at an organization and at
// a project, have five shapes: list, create, get, update and delete. Each
// helper below serves one shape: scope names the path value of the
// organization or project ("orgId", "groupId"), id that of the credential,
// and view makes the wire shape of what the use case returns.

// credentialView makes the wire shape V of the details D of a credential.
type credentialView[D, V any] func(r *http.Request, d D) V

func serveCredentialList[D, V any](s *server, w http.ResponseWriter, r *http.Request, scope string,
	list func(context.Context, atlasx509.Principal, string, app.ListOptions) ([]D, int, error), view credentialView[D, V]) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	ds, total, err := list(r.Context(), principal(r), r.PathValue(scope), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewPage(r, lp, ds, total, view))
}

func serveCredentialCreate[In, D, V any](s *server, w http.ResponseWriter, r *http.Request, scope string, status int,
	decode func(*http.Request) (In, error), create func(context.Context, atlasx509.Principal, string, In) (D, error), view credentialView[D, V]) error {
	in, err := decode(r)
	if err != nil {
		return err
	}
	d, err := create(r.Context(), principal(r), r.PathValue(scope), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, status, view(r, d))
}

func serveCredentialGet[D, V any](s *server, w http.ResponseWriter, r *http.Request, scope, id string,
	get func(context.Context, atlasx509.Principal, string, string) (D, error), view credentialView[D, V]) error {
	d, err := get(r.Context(), principal(r), r.PathValue(scope), r.PathValue(id))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, view(r, d))
}

func serveCredentialUpdate[In, D, V any](s *server, w http.ResponseWriter, r *http.Request, scope, id string,
	decode func(*http.Request) (In, error), update func(context.Context, atlasx509.Principal, string, string, In) (D, error), view credentialView[D, V]) error {
	in, err := decode(r)
	if err != nil {
		return err
	}
	d, err := update(r.Context(), principal(r), r.PathValue(scope), r.PathValue(id), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, view(r, d))
}

func serveCredentialDelete(s *server, w http.ResponseWriter, r *http.Request, scope, id string,
	del func(context.Context, atlasx509.Principal, string, string) error) error {
	if err := del(r.Context(), principal(r), r.PathValue(scope), r.PathValue(id)); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

// serveAccessListPage answers a page of a credential's access list, each
// entry in the shape view makes. The list is short (read whole).
func serveAccessListPage[V any](s *server, w http.ResponseWriter, r *http.Request, entries []atlasx509.AccessListEntry,
	view func(atlasx509.AccessListEntry) V) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	views := make([]V, 0, len(entries))
	for _, e := range app.PageOf(entries, lp.ListOptions) {
		views = append(views, view(e))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, len(entries)))
}

// decodeAccessList reads the body that adds entries to an access list, an
// array of the wire shape T.
func decodeAccessList[T any](r *http.Request, input func(T) app.AccessListInput) ([]app.AccessListInput, error) {
	var req []T
	if err := decodeBody(r, &req, false); err != nil {
		return nil, err
	}
	in := make([]app.AccessListInput, 0, len(req))
	for _, e := range req {
		in = append(in, input(e))
	}
	return in, nil
}

// serveAccessListDelete removes the entry of the path's ipAddress from the
// access list of c; the caller's own address is protected.
func (s *server) serveAccessListDelete(w http.ResponseWriter, r *http.Request, c app.Credential) error {
	caller, _ := netip.ParseAddr(logState(r).source)
	if err := s.app.DeleteAccessListEntry(r.Context(), principal(r), c, r.PathValue("ipAddress"), caller); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
