package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
)

// credential is one API key or service account of the access page, with
// its organization roles and access list.
type credential struct {
	Kind        string // "apiKey" or "serviceAccount"
	ID          string
	Name        string // public key, or the account's name
	Description string
	Roles       []string
	AccessList  []atlasx509.AccessListEntry
	// Secrets are a service account's secrets (their expiry only).
	Secrets []atlasx509.ServiceAccountSecret
}

// accessData is the access page's.
type accessData struct {
	Credentials []credential
	OrgRoles    []atlasx509.Role
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
	d := accessData{OrgRoles: atlasx509.OrgRoles, SecretLifetimes: secretLifetimes}
	keys, _, err := h.app.ListAPIKeys(ctx, s.p, orgID, all)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		c := credential{Kind: "apiKey", ID: k.Key.ID, Name: k.Key.PublicKey, Description: k.Key.Description}
		for _, ra := range k.Roles {
			c.Roles = append(c.Roles, roleText(ra.Role, ra.GroupID))
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
		if c.AccessList, err = h.app.ListAccessList(ctx, s.p, app.Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: a.Account.ClientID}); err != nil {
			return nil, err
		}
		d.Credentials = append(d.Credentials, c)
	}
	v.Data = d
	return v, nil
}

// roleText names a role, with its project when it is a project role.
func roleText(r atlasx509.Role, groupID string) string {
	if groupID == "" {
		return string(r)
	}
	return string(r) + " (project " + groupID + ")"
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
	return h.formFailed(w, r, v, "access", form, err, "desc", "name", "roles", "address")
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
