package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// apiKeyView is the wire shape of an API key; the private key is in clear
// only in the answer that created it.
func apiKeyView(r *http.Request, d app.APIKeyDetails) atlasapi.APIKey {
	v := atlasapi.APIKey{
		Desc: d.Key.Description, ID: d.Key.ID,
		Links:      selfLink(r, apiPrefix(r)+"/orgs/"+d.Key.OrgID+"/apiKeys/"+d.Key.ID),
		PrivateKey: atlasapi.MaskedPrivateKey, PublicKey: d.Key.PublicKey,
		Roles: make([]atlasapi.CloudAccessRoleAssignment, 0, len(d.Roles)),
	}
	if d.PrivateKey != "" {
		v.PrivateKey = d.PrivateKey
	}
	for _, ra := range d.Roles {
		role := atlasapi.CloudAccessRoleAssignment{RoleName: string(ra.Role)}
		if ra.GroupID != "" {
			role.GroupID = ra.GroupID
		} else {
			role.OrgID = ra.OrgID
		}
		v.Roles = append(v.Roles, role)
	}
	return v
}

func apiKeyViews(r *http.Request, ds []app.APIKeyDetails) []atlasapi.APIKey {
	out := make([]atlasapi.APIKey, 0, len(ds))
	for _, d := range ds {
		out = append(out, apiKeyView(r, d))
	}
	return out
}

// decodeAPIKeyInput reads the body that creates or changes an API key.
func decodeAPIKeyInput(r *http.Request) (app.APIKeyInput, error) {
	var req atlasapi.APIKeyRequest
	if err := decodeBody(r, &req, false); err != nil {
		return app.APIKeyInput{}, err
	}
	return app.APIKeyInput{Desc: req.Desc, Roles: req.Roles}, nil
}

func (s *server) handleListAPIKeys(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	keys, total, err := s.app.ListAPIKeys(r.Context(), principal(r), r.PathValue("orgId"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, apiKeyViews(r, keys), total))
}

func (s *server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeAPIKeyInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.CreateAPIKey(r.Context(), principal(r), r.PathValue("orgId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, apiKeyView(r, d)) // Atlas answers 200, not 201
}

func (s *server) handleGetAPIKey(w http.ResponseWriter, r *http.Request) error {
	d, err := s.app.GetAPIKey(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("apiUserId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, apiKeyView(r, d))
}

func (s *server) handleUpdateAPIKey(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeAPIKeyInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.UpdateAPIKey(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("apiUserId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, apiKeyView(r, d))
}

func (s *server) handleDeleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteAPIKey(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("apiUserId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

func (s *server) handleListProjectAPIKeys(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	keys, total, err := s.app.ListProjectAPIKeys(r.Context(), principal(r), r.PathValue("groupId"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, apiKeyViews(r, keys), total))
}

func (s *server) handleCreateProjectAPIKey(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeAPIKeyInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.CreateProjectAPIKey(r.Context(), principal(r), r.PathValue("groupId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, apiKeyView(r, d))
}

func (s *server) handleAddProjectAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req []atlasapi.UserAccessRoleAssignment
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	var names []string // the roles of every item are assigned
	for _, it := range req {
		if it.Roles != nil {
			names = append(names, *it.Roles...)
		}
	}
	if err := s.app.AssignProjectAPIKey(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("apiUserId"), names); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

func (s *server) handleUpdateAPIKeyRoles(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseList(r); err != nil { // Atlas lists pageNum, itemsPerPage and includeCount here
		return err
	}
	in, err := decodeAPIKeyInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.UpdateProjectAPIKeyRoles(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("apiUserId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, apiKeyView(r, d))
}

func (s *server) handleRemoveProjectAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.RemoveProjectAPIKey(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("apiUserId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

// apiKeyCredential names the API key of the request's path.
func apiKeyCredential(r *http.Request) app.Credential {
	return app.Credential{OrgID: r.PathValue("orgId"), Kind: atlasx509.PrincipalAPIKey, ID: r.PathValue("apiUserId")}
}

// accessEntryView is the wire shape of one entry of an API key's access list.
func accessEntryView(r *http.Request, c app.Credential, e atlasx509.AccessListEntry) atlasapi.AccessListEntry {
	v := atlasapi.AccessListEntry{CIDRBlock: e.CIDR, Created: formatTime(e.Created)}
	segment := e.CIDR // a network is named by its CIDR block, "/" escaped
	if p, err := netip.ParsePrefix(e.CIDR); err == nil && p.IsSingleIP() {
		v.IPAddress = p.Addr().String()
		segment = v.IPAddress // and one address by itself
	}
	v.Links = selfLink(r, apiPrefix(r)+"/orgs/"+c.OrgID+"/apiKeys/"+c.ID+"/accessList/"+pathEscape(segment))
	return v
}

// accessListPage answers a page of an API key's access list.
func (s *server) accessListPage(w http.ResponseWriter, r *http.Request, c app.Credential, entries []atlasx509.AccessListEntry) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	views := make([]atlasapi.AccessListEntry, 0, len(entries))
	for _, e := range app.PageOf(entries, lp.ListOptions) {
		views = append(views, accessEntryView(r, c, e))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, len(entries)))
}

func (s *server) handleListAPIKeyAccessList(w http.ResponseWriter, r *http.Request) error {
	c := apiKeyCredential(r)
	entries, err := s.app.ListAccessList(r.Context(), principal(r), c)
	if err != nil {
		return err
	}
	return s.accessListPage(w, r, c, entries)
}

func (s *server) handleCreateAPIKeyAccessList(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseList(r); err != nil {
		return err
	}
	var req []atlasapi.AccessListRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := make([]app.AccessListInput, 0, len(req))
	for _, e := range req {
		in = append(in, app.AccessListInput{IPAddress: e.IPAddress, CIDRBlock: e.CIDRBlock})
	}
	c := apiKeyCredential(r)
	entries, err := s.app.AddAccessList(r.Context(), principal(r), c, in)
	if err != nil {
		return err
	}
	return s.accessListPage(w, r, c, entries)
}

func (s *server) handleGetAPIKeyAccessList(w http.ResponseWriter, r *http.Request) error {
	c := apiKeyCredential(r)
	e, err := s.app.GetAccessListEntry(r.Context(), principal(r), c, r.PathValue("ipAddress"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, accessEntryView(r, c, e))
}

func (s *server) handleDeleteAPIKeyAccessListEntry(w http.ResponseWriter, r *http.Request) error {
	caller, _ := netip.ParseAddr(logState(r).source)
	if err := s.app.DeleteAccessListEntry(r.Context(), principal(r), apiKeyCredential(r), r.PathValue("ipAddress"), caller); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
