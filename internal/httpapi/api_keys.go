package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

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

// decodeAPIKeyInput reads the body that creates or changes an API key.
func decodeAPIKeyInput(r *http.Request) (app.APIKeyInput, error) {
	var req atlasapi.APIKeyRequest
	if err := decodeBody(r, &req, false); err != nil {
		return app.APIKeyInput{}, err
	}
	return app.APIKeyInput{Desc: req.Desc, Roles: req.Roles}, nil
}

func (s *server) handleListAPIKeys(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialList(s, w, r, "orgId", s.app.ListAPIKeys, apiKeyView)
}

func (s *server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialCreate(s, w, r, "orgId", http.StatusOK, decodeAPIKeyInput, s.app.CreateAPIKey, apiKeyView) // Atlas answers 200, not 201
}

func (s *server) handleGetAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialGet(s, w, r, "orgId", "apiUserId", s.app.GetAPIKey, apiKeyView)
}

func (s *server) handleUpdateAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialUpdate(s, w, r, "orgId", "apiUserId", decodeAPIKeyInput, s.app.UpdateAPIKey, apiKeyView)
}

func (s *server) handleDeleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialDelete(s, w, r, "orgId", "apiUserId", s.app.DeleteAPIKey)
}

func (s *server) handleListProjectAPIKeys(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialList(s, w, r, "groupId", s.app.ListProjectAPIKeys, apiKeyView)
}

func (s *server) handleCreateProjectAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialCreate(s, w, r, "groupId", http.StatusOK, decodeAPIKeyInput, s.app.CreateProjectAPIKey, apiKeyView)
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
	return serveCredentialUpdate(s, w, r, "groupId", "apiUserId", decodeAPIKeyInput, s.app.UpdateProjectAPIKeyRoles, apiKeyView)
}

func (s *server) handleRemoveProjectAPIKey(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialDelete(s, w, r, "groupId", "apiUserId", s.app.RemoveProjectAPIKey)
}

// apiKeyCredential names the API key of the request's path.
func apiKeyCredential(r *http.Request) app.Credential {
	return app.Credential{OrgID: r.PathValue("orgId"), Kind: atlasx509.PrincipalAPIKey, ID: r.PathValue("apiUserId")}
}

// accessEntryView is the wire shape of one entry of an API key's access list.
func accessEntryView(r *http.Request, c app.Credential, e atlasx509.AccessListEntry) atlasapi.AccessListEntry {
	v := atlasapi.AccessListEntry{CIDRBlock: atlasCIDR(e.CIDR), Created: formatTime(e.Created), Count: e.UseCount, LastUsedAddress: atlasAddrText(e.LastUsedAddress)}
	if e.LastUsed != nil {
		v.LastUsed = formatTime(*e.LastUsed)
	}
	segment := v.CIDRBlock // a network is named by its CIDR block, "/" escaped
	if p, err := netip.ParsePrefix(e.CIDR); err == nil && p.IsSingleIP() {
		v.IPAddress = atlasAddr(p.Addr())
		segment = v.IPAddress // and one address by itself
	}
	v.Links = selfLink(r, apiPrefix(r)+"/orgs/"+c.OrgID+"/apiKeys/"+c.ID+"/accessList/"+pathEscape(segment))
	return v
}

// accessListPage answers a page of an API key's access list.
func (s *server) accessListPage(w http.ResponseWriter, r *http.Request, c app.Credential, entries []atlasx509.AccessListEntry) error {
	return serveAccessListPage(s, w, r, entries, func(e atlasx509.AccessListEntry) atlasapi.AccessListEntry {
		return accessEntryView(r, c, e)
	})
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
	in, err := decodeAccessList(r, func(e atlasapi.AccessListRequest) app.AccessListInput {
		return app.AccessListInput{IPAddress: e.IPAddress, CIDRBlock: e.CIDRBlock}
	})
	if err != nil {
		return err
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
	return s.serveAccessListDelete(w, r, apiKeyCredential(r))
}

// atlasAddr writes an address as Atlas, a Java service, answers it: IPv4
// dotted, IPv6 as eight groups of lowercase hexadecimal without leading
// zeros and without "::" ("2001:db8:0:0:0:0:0:1"), the one IPv6 form that
// the patterns of Atlas's spec (ipAddress, cidrBlock) accept.
func atlasAddr(a netip.Addr) string {
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	b := a.As16()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
	}
	return strings.Join(groups, ":")
}

// atlasCIDR is a stored CIDR block in Atlas's form (see atlasAddr); text
// that is not a CIDR block is answered as it is.
func atlasCIDR(cidr string) string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return cidr
	}
	return atlasAddr(p.Addr()) + "/" + strconv.Itoa(p.Bits())
}

// atlasAddrText is a stored address in Atlas's form (see atlasAddr); ""
// and text that is not an address are answered as they are.
func atlasAddrText(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return atlasAddr(a)
}
