package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/authz"
)

// credential is one API key or service account of the access page, with
// its organization roles and access list.
type credential struct {
	Kind        string // "apiKey" or "serviceAccount"
	ID          string
	Name        string // public key, or the account's name
	Description string
	// Roles are its organization roles; Projects its roles over
	// projects.
	Roles      []string
	Projects   []assignment
	AccessList []atlasx509.AccessListEntry
	// Secrets are a service account's secrets (their expiry only).
	Secrets []atlasx509.ServiceAccountSecret
}

// assignment is a credential's roles over one project.
type assignment struct {
	GroupID, Name string
	Roles         []string
}

// HasOrgRole reports whether the credential holds the organization role r.
func (c credential) HasOrgRole(r atlasx509.Role) bool { return slices.Contains(c.Roles, string(r)) }

// accessData is the access page's.
type accessData struct {
	Credentials  []credential
	OrgRoles     []atlasx509.Role
	ProjectRoles []atlasx509.Role
	// Projects are the organization's projects the signed-in principal
	// may assign a credential to.
	Projects []atlasx509.Project
	// SecretLifetimes are the lifetimes offered for a new service
	// account's secret, in hours (Atlas allows 8 to 8760).
	SecretLifetimes []lifetime
	// NewSecret is a secret just created, shown this once.
	NewSecret *newSecret
}

// lifetime is a choice of secret lifetime.
type lifetime struct {
	Hours int
	Label string
}

var secretLifetimes = []lifetime{{8, "8 hours"}, {24, "1 day"}, {168, "7 days"}, {720, "30 days"}, {2160, "90 days"}, {4320, "180 days"}, {8760, "365 days"}}

// newSecret is what a creation shows once: never stored in clear, never
// rendered again.
type newSecret struct {
	What, IDLabel, ID, SecretLabel, Secret string
}

func (h *handler) accessView(r *http.Request, s *session) (*view, error) {
	ctx, orgID := r.Context(), s.p.OrgID
	v := h.pageView(r, s, "API access")
	d := accessData{OrgRoles: atlasx509.OrgRoles, ProjectRoles: atlasx509.ProjectRoles, SecretLifetimes: secretLifetimes}
	projects, _, err := h.app.ListProjects(ctx, s.p, all)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, p := range projects {
		if p.OrgID != orgID {
			continue
		}
		names[p.ID] = p.Name
		if authz.Allowed(s.p, authz.ProjectAccessManage, orgID, p.ID) {
			d.Projects = append(d.Projects, p)
		}
	}
	// assigned adds the roles over groupID to c's assignments.
	assigned := func(c *credential, groupID string, roles ...string) {
		for i := range c.Projects {
			if c.Projects[i].GroupID == groupID {
				c.Projects[i].Roles = append(c.Projects[i].Roles, roles...)
				return
			}
		}
		name := names[groupID]
		if name == "" {
			name = groupID
		}
		c.Projects = append(c.Projects, assignment{GroupID: groupID, Name: name, Roles: roles})
	}
	keys, _, err := h.app.ListAPIKeys(ctx, s.p, orgID, all)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		c := credential{Kind: "apiKey", ID: k.Key.ID, Name: k.Key.PublicKey, Description: k.Key.Description}
		for _, ra := range k.Roles {
			if ra.GroupID == "" {
				c.Roles = append(c.Roles, string(ra.Role))
			} else {
				assigned(&c, ra.GroupID, string(ra.Role))
			}
		}
		if c.AccessList, err = h.app.ListAccessList(ctx, s.p, app.Credential{OrgID: orgID, Kind: atlasx509.PrincipalAPIKey, ID: k.Key.ID}); err != nil {
			return nil, err
		}
		d.Credentials = append(d.Credentials, c)
	}
	accounts, _, err := h.app.ListServiceAccounts(ctx, s.p, orgID, all)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		c := credential{Kind: "serviceAccount", ID: a.Account.ClientID, Name: a.Account.Name, Description: a.Account.Description, Secrets: a.Secrets}
		for _, r := range a.Roles {
			c.Roles = append(c.Roles, string(r))
		}
		groups, _, err := h.app.ListServiceAccountProjects(ctx, s.p, orgID, a.Account.ClientID, all)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			var roles []string
			// The roles over a project are read with the right to manage
			// its access; without it, the project alone is shown.
			if authz.Allowed(s.p, authz.ProjectAccessManage, orgID, g) {
				pd, err := h.app.GetProjectServiceAccount(ctx, s.p, g, a.Account.ClientID)
				if err != nil {
					return nil, err
				}
				for _, r := range pd.Roles {
					roles = append(roles, string(r))
				}
			}
			assigned(&c, g, roles...)
		}
		if c.AccessList, err = h.app.ListAccessList(ctx, s.p, app.Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: a.Account.ClientID}); err != nil {
			return nil, err
		}
		d.Credentials = append(d.Credentials, c)
	}
	v.Data = d
	return v, nil
}

func (h *handler) access(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.accessView(r, s)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "access", v)
	return nil
}

func (h *handler) accessFailed(w http.ResponseWriter, r *http.Request, s *session, form string, err error) error {
	v, verr := h.accessView(r, s)
	if verr != nil {
		return err
	}
	return h.formFailed(w, r, v, "access", form, err, "desc", "name", "roles", "address", "groupId")
}

// postedRoles are the role names ticked in a form.
func postedRoles(r *http.Request) []string {
	roles := []string{}
	for _, v := range r.PostForm["roles"] {
		if v = strings.TrimSpace(v); v != "" {
			roles = append(roles, v)
		}
	}
	return roles
}

// showSecret renders the access page with a secret just created: the only
// time it is shown (the page is not cached, and no link leads back to it).
func (h *handler) showSecret(w http.ResponseWriter, r *http.Request, s *session, secret newSecret) error {
	v, err := h.accessView(r, s)
	if err != nil {
		return err
	}
	d := v.Data.(accessData)
	d.NewSecret = &secret
	v.Data = d
	h.render(w, http.StatusOK, "access", v)
	return nil
}

func (h *handler) createAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	desc, roles := strings.TrimSpace(r.PostFormValue("desc")), postedRoles(r)
	k, err := h.app.CreateAPIKey(r.Context(), s.p, s.p.OrgID, app.APIKeyInput{Desc: &desc, Roles: &roles})
	if err != nil {
		return h.accessFailed(w, r, s, "apiKey", err)
	}
	return h.showSecret(w, r, s, newSecret{What: "API key", IDLabel: "Public key", ID: k.Key.PublicKey, SecretLabel: "Private key", Secret: k.PrivateKey})
}

func (h *handler) deleteAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if err := h.app.DeleteAPIKey(r.Context(), s.p, s.p.OrgID, id); err != nil {
		return h.accessFailed(w, r, s, "cred-"+id, err)
	}
	return seeOther(w, r, "/console/access", "credentialDeleted")
}

func (h *handler) createServiceAccount(w http.ResponseWriter, r *http.Request, s *session) error {
	name, desc, roles := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("desc")), postedRoles(r)
	in := app.ServiceAccountInput{Name: &name, Description: &desc, Roles: &roles, SecretExpiresAfterHours: postedHours(r)}
	sa, err := h.app.CreateServiceAccount(r.Context(), s.p, s.p.OrgID, in)
	if err != nil {
		return h.accessFailed(w, r, s, "serviceAccount", err)
	}
	return h.showSecret(w, r, s, newSecret{What: "service account", IDLabel: "Client ID", ID: sa.Account.ClientID, SecretLabel: "Client secret", Secret: sa.NewSecret})
}

func (h *handler) deleteServiceAccount(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if err := h.app.DeleteServiceAccount(r.Context(), s.p, s.p.OrgID, id); err != nil {
		return h.accessFailed(w, r, s, "cred-"+id, err)
	}
	return seeOther(w, r, "/console/access", "credentialDeleted")
}

// postedHours is the secret lifetime chosen in a form; nil when absent
// (the use case says it is required).
func postedHours(r *http.Request) *int {
	hours, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil {
		return nil
	}
	return &hours
}

func (h *handler) createSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	secret, err := h.app.CreateServiceAccountSecret(r.Context(), s.p, s.p.OrgID, id, postedHours(r))
	if err != nil {
		return h.accessFailed(w, r, s, "cred-"+id, err)
	}
	return h.showSecret(w, r, s, newSecret{What: "secret", IDLabel: "Client ID", ID: id, SecretLabel: "Client secret", Secret: secret.Value})
}

func (h *handler) deleteSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if err := h.app.DeleteServiceAccountSecret(r.Context(), s.p, s.p.OrgID, id, r.PostFormValue("secretId")); err != nil {
		return h.accessFailed(w, r, s, "cred-"+id, err)
	}
	return seeOther(w, r, "/console/access", "secretDeleted")
}

// credentialOf is the credential a form names by kind and id.
func credentialOf(r *http.Request, s *session) app.Credential {
	kind := atlasx509.PrincipalAPIKey
	if r.PathValue("kind") == "serviceAccount" {
		kind = atlasx509.PrincipalServiceAccount
	}
	return app.Credential{OrgID: s.p.OrgID, Kind: kind, ID: r.PathValue("id")}
}

func (h *handler) addAccessEntry(w http.ResponseWriter, r *http.Request, s *session) error {
	address := strings.TrimSpace(r.PostFormValue("address"))
	in := app.AccessListInput{IPAddress: &address}
	if strings.Contains(address, "/") {
		in = app.AccessListInput{CIDRBlock: &address}
	}
	if _, err := h.app.AddAccessList(r.Context(), s.p, credentialOf(r, s), []app.AccessListInput{in}); err != nil {
		return h.accessFailed(w, r, s, "cred-"+r.PathValue("id"), err)
	}
	return seeOther(w, r, "/console/access", "accessAdded")
}

func (h *handler) deleteAccessEntry(w http.ResponseWriter, r *http.Request, s *session) error {
	err := h.app.DeleteAccessListEntry(r.Context(), s.p, credentialOf(r, s), r.PostFormValue("cidr"), h.gate.ClientAddr(r))
	if err != nil {
		return h.accessFailed(w, r, s, "cred-"+r.PathValue("id"), err)
	}
	return seeOther(w, r, "/console/access", "accessDeleted")
}

// updateOrgRoles replaces a credential's organization roles (Atlas
// updateApiKey, or updateServiceAccount when sa).
func (h *handler) updateOrgRoles(sa bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id, roles := r.PathValue("id"), postedRoles(r)
		var err error
		if sa {
			_, err = h.app.UpdateServiceAccount(r.Context(), s.p, s.p.OrgID, id, app.ServiceAccountInput{Roles: &roles})
		} else {
			_, err = h.app.UpdateAPIKey(r.Context(), s.p, s.p.OrgID, id, app.APIKeyInput{Roles: &roles})
		}
		if err != nil {
			return h.accessFailed(w, r, s, "roles-"+id, err)
		}
		return seeOther(w, r, "/console/access", "rolesChanged")
	}
}

// assignProject assigns a credential to the project posted with the
// project roles ticked, replacing those it had there (Atlas
// updateApiKeyRoles, or addProjectServiceAccount when sa).
func (h *handler) assignProject(sa bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id, groupID, roles := r.PathValue("id"), strings.TrimSpace(r.PostFormValue("groupId")), postedRoles(r)
		var err error
		if sa {
			_, err = h.app.AddProjectServiceAccount(r.Context(), s.p, groupID, id, roles)
		} else {
			_, err = h.app.UpdateProjectAPIKeyRoles(r.Context(), s.p, groupID, id, app.APIKeyInput{Roles: &roles})
		}
		if err != nil {
			return h.accessFailed(w, r, s, "assign-"+id, err)
		}
		return seeOther(w, r, "/console/access", "projectAssigned")
	}
}

// removeProject removes a credential from a project (Atlas
// removeProjectApiKey, or deleteProjectServiceAccount when sa).
func (h *handler) removeProject(sa bool) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id, groupID := r.PathValue("id"), r.PathValue("groupId")
		var err error
		if sa {
			err = h.app.RemoveProjectServiceAccount(r.Context(), s.p, groupID, id)
		} else {
			err = h.app.RemoveProjectAPIKey(r.Context(), s.p, groupID, id)
		}
		if err != nil {
			return h.accessFailed(w, r, s, "assign-"+id, err)
		}
		return seeOther(w, r, "/console/access", "projectRemoved")
	}
}
