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
func serviceAccountView(d app.ServiceAccountDetails) atlasapi.ServiceAccount {
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

func serviceAccountViews(ds []app.ServiceAccountDetails) []atlasapi.ServiceAccount {
	out := make([]atlasapi.ServiceAccount, 0, len(ds))
	for _, d := range ds {
		out = append(out, serviceAccountView(d))
	}
	return out
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
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	sas, total, err := s.app.ListServiceAccounts(r.Context(), principal(r), r.PathValue("orgId"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, serviceAccountViews(sas), total))
}

func (s *server) handleCreateServiceAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeServiceAccountInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.CreateServiceAccount(r.Context(), principal(r), r.PathValue("orgId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusCreated, serviceAccountView(d))
}

func (s *server) handleGetServiceAccount(w http.ResponseWriter, r *http.Request) error {
	d, err := s.app.GetServiceAccount(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(d))
}

func (s *server) handleUpdateServiceAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeServiceAccountUpdate(r)
	if err != nil {
		return err
	}
	d, err := s.app.UpdateServiceAccount(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(d))
}

func (s *server) handleDeleteServiceAccount(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteServiceAccount(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("clientId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
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
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	views := make([]atlasapi.ServiceAccountAccessListEntry, 0, len(entries))
	for _, e := range app.PageOf(entries, lp.ListOptions) {
		v := atlasapi.ServiceAccountAccessListEntry{CIDRBlock: e.CIDR, CreatedAt: formatTime(e.Created)}
		if p, err := netip.ParsePrefix(e.CIDR); err == nil && p.IsSingleIP() {
			v.IPAddress = p.Addr().String()
		}
		views = append(views, v)
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, len(entries)))
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
	var req []atlasapi.ServiceAccountAccessListRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := make([]app.AccessListInput, 0, len(req))
	for _, e := range req {
		in = append(in, app.AccessListInput{IPAddress: e.IPAddress, CIDRBlock: e.CIDRBlock})
	}
	entries, err := s.app.AddAccessList(r.Context(), principal(r), serviceAccountCredential(r), in)
	if err != nil {
		return err
	}
	return s.serviceAccountEntriesPage(w, r, entries)
}

func (s *server) handleDeleteServiceAccountAccessListEntry(w http.ResponseWriter, r *http.Request) error {
	caller, _ := netip.ParseAddr(logState(r).source)
	if err := s.app.DeleteAccessListEntry(r.Context(), principal(r), serviceAccountCredential(r), r.PathValue("ipAddress"), caller); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

func (s *server) handleListProjectServiceAccounts(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	sas, total, err := s.app.ListProjectServiceAccounts(r.Context(), principal(r), r.PathValue("groupId"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, serviceAccountViews(sas), total))
}

func (s *server) handleCreateProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeServiceAccountInput(r)
	if err != nil {
		return err
	}
	d, err := s.app.CreateProjectServiceAccount(r.Context(), principal(r), r.PathValue("groupId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusCreated, serviceAccountView(d))
}

func (s *server) handleGetProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	d, err := s.app.GetProjectServiceAccount(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(d))
}

func (s *server) handleUpdateProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeServiceAccountUpdate(r)
	if err != nil {
		return err
	}
	d, err := s.app.UpdateProjectServiceAccount(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("clientId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(d))
}

func (s *server) handleDeleteProjectServiceAccount(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.RemoveProjectServiceAccount(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("clientId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
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
	return s.writeJSON(w, r, http.StatusOK, serviceAccountView(d))
}
