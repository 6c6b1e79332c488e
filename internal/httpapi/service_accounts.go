package httpapi

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// serviceAccountView is the wire shape of a service account
// (OrgServiceAccount or GroupServiceAccount, which share it).
func serviceAccountView(_ *http.Request, d app.ServiceAccountDetails) atlasapi.ServiceAccount {
	v := atlasapi.ServiceAccount{
		ClientID: d.Account.ClientID, CreatedAt: formatTime(d.Account.Created),
		Description: d.Account.Description, Name: d.Account.Name,
		Roles: make([]string, 0, len(d.Roles)), Secrets: make([]atlasapi.ServiceAccountSecret, 0, len(d.Secrets)),
	}
	for _, r := range d.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	for _, sec := range d.Secrets {
		value := ""
		if sec.ID == d.NewSecretID {
			value = d.NewSecret
		}
		v.Secrets = append(v.Secrets, secretView(sec, value))
	}
	return v
}

// secretView is the wire shape of a secret; value is the clear secret,
// only in the answer that created it.
func secretView(s atlasx509.ServiceAccountSecret, value string) atlasapi.ServiceAccountSecret {
	return atlasapi.ServiceAccountSecret{CreatedAt: formatTime(s.Created), ExpiresAt: formatTime(s.ExpiresAt), ID: s.ID,
		MaskedSecretValue: atlasapi.MaskedSecretValue, Secret: value}
}

// decodeServiceAccountInput reads the body that creates a service account.
func decodeServiceAccountInput(r *http.Request) (app.ServiceAccountInput, error) {
	var req atlasapi.ServiceAccountRequest
	if err := decodeBody(r, &req, false); err != nil {
		return app.ServiceAccountInput{}, err
	}
	return app.ServiceAccountInput{Name: req.Name, Description: req.Description, Roles: req.Roles,
		SecretExpiresAfterHours: req.SecretExpiresAfterHours}, nil
}

// decodeServiceAccountUpdate reads the body that changes a service account.
func decodeServiceAccountUpdate(r *http.Request) (app.ServiceAccountInput, error) {
	var req atlasapi.ServiceAccountUpdateRequest
	if err := decodeBody(r, &req, false); err != nil {
		return app.ServiceAccountInput{}, err
	}
	return app.ServiceAccountInput{Name: req.Name, Description: req.Description, Roles: req.Roles}, nil
}

func (s *server) handleListServiceAccounts(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialList(s, w, r, "orgId", s.app.ListServiceAccounts, serviceAccountView)
}

func (s *server) handleCreateServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialCreate(s, w, r, "orgId", http.StatusCreated, decodeServiceAccountInput, s.app.CreateServiceAccount, serviceAccountView)
}

func (s *server) handleGetServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialGet(s, w, r, "orgId", "clientId", s.app.GetServiceAccount, serviceAccountView)
}

func (s *server) handleUpdateServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialUpdate(s, w, r, "orgId", "clientId", decodeServiceAccountUpdate, s.app.UpdateServiceAccount, serviceAccountView)
}

func (s *server) handleDeleteServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialDelete(s, w, r, "orgId", "clientId", s.app.DeleteServiceAccount)
}

func (s *server) handleCreateServiceAccountSecret(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.ServiceAccountSecretRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	sec, err := s.app.CreateServiceAccountSecret(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId"), req.SecretExpiresAfterHours)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusCreated, secretView(sec.Secret, sec.Value))
}

func (s *server) handleDeleteServiceAccountSecret(w http.ResponseWriter, r *http.Request) error {
	err := s.app.DeleteServiceAccountSecret(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId"), r.PathValue("secretId"))
	if err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

func (s *server) handleListServiceAccountProjects(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	groups, total, err := s.app.ListServiceAccountProjects(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId"), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.ServiceAccountGroup, 0, len(groups))
	for _, g := range groups {
		views = append(views, atlasapi.ServiceAccountGroup{GroupID: g})
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

// serviceAccountCredential names the service account of the request's path.
func serviceAccountCredential(r *http.Request) app.Credential {
	return app.Credential{OrgID: r.PathValue("orgId"), Kind: atlasx509.PrincipalServiceAccount, ID: r.PathValue("clientId")}
}

// serviceAccountEntriesPage answers a page of a service account's access list.
func (s *server) serviceAccountEntriesPage(w http.ResponseWriter, r *http.Request, entries []atlasx509.AccessListEntry) error {
	return serveAccessListPage(s, w, r, entries, func(e atlasx509.AccessListEntry) atlasapi.ServiceAccountAccessListEntry {
		v := atlasapi.ServiceAccountAccessListEntry{CIDRBlock: atlasCIDR(e.CIDR), CreatedAt: formatTime(e.Created),
			RequestCount: e.UseCount, LastUsedAddress: atlasAddrText(e.LastUsedAddress)}
		if e.LastUsed != nil {
			v.LastUsedAt = formatTime(*e.LastUsed)
		}
		if p, err := netip.ParsePrefix(e.CIDR); err == nil && p.IsSingleIP() {
			v.IPAddress = atlasAddr(p.Addr())
		}
		return v
	})
}

func (s *server) handleListServiceAccountAccessList(w http.ResponseWriter, r *http.Request) error {
	entries, err := s.app.ListAccessList(r.Context(), principal(r), serviceAccountCredential(r))
	if err != nil {
		return err
	}
	return s.serviceAccountEntriesPage(w, r, entries)
}

func (s *server) handleCreateServiceAccountAccessList(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseList(r); err != nil {
		return err
	}
	in, err := decodeAccessList(r, func(e atlasapi.ServiceAccountAccessListRequest) app.AccessListInput {
		return app.AccessListInput{IPAddress: e.IPAddress, CIDRBlock: e.CIDRBlock}
	})
	if err != nil {
		return err
	}
	entries, err := s.app.AddAccessList(r.Context(), principal(r), serviceAccountCredential(r), in)
	if err != nil {
		return err
	}
	return s.serviceAccountEntriesPage(w, r, entries)
}

func (s *server) handleDeleteServiceAccountAccessListEntry(w http.ResponseWriter, r *http.Request) error {
	return s.serveAccessListDelete(w, r, serviceAccountCredential(r))
}

func (s *server) handleListProjectServiceAccounts(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialList(s, w, r, "groupId", s.app.ListProjectServiceAccounts, serviceAccountView)
}

func (s *server) handleCreateProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialCreate(s, w, r, "groupId", http.StatusCreated, decodeServiceAccountInput, s.app.CreateProjectServiceAccount, serviceAccountView)
}

func (s *server) handleGetProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialGet(s, w, r, "groupId", "clientId", s.app.GetProjectServiceAccount, serviceAccountView)
}

func (s *server) handleUpdateProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialUpdate(s, w, r, "groupId", "clientId", decodeServiceAccountUpdate, s.app.UpdateProjectServiceAccount, serviceAccountView)
}

func (s *server) handleDeleteProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	return serveCredentialDelete(s, w, r, "groupId", "clientId", s.app.RemoveProjectServiceAccount)
}

// handleAddProjectServiceAccount serves POST …/serviceAccounts/{clientId}:invite.
// ServeMux cannot match a literal suffix inside a segment, so the route
// takes the whole segment and splits it here.
func (s *server) handleAddProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	clientID, action, ok := strings.Cut(r.PathValue("clientIdAction"), ":")
	if !ok || action != "invite" {
		return notFound(r)
	}
	var req atlasapi.ServiceAccountRoleAssignment
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	var names []string
	if req.Roles != nil {
		names = *req.Roles
	}
	d, err := s.app.AddProjectServiceAccount(r.Context(), principal(r), r.PathValue("groupId"), clientID, names)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(r, d))
}
