package console

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/httpapi"
	"github.com/atlasx509/atlasx509/internal/pki"
)

// all is the largest page the use cases serve: the console shows lists
// whole, up to that many.
var all = app.ListOptions{PageNum: 1, ItemsPerPage: 500}

func (h *handler) routes() {
	m := h.mux
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	m.HandleFunc("GET /console/static/{file}", func(w http.ResponseWriter, r *http.Request) { files.ServeHTTP(w, r) }) // files only, no listing
	m.HandleFunc("GET /console/{$}", h.home)
	m.HandleFunc("GET /console/signin", h.signInPage)
	m.HandleFunc("POST /console/signin", h.signIn)
	m.Handle("POST /console/signout", h.authed("signOut", h.signOut))
	m.Handle("GET /console/projects", h.authed("listProjects", h.projects))
	m.Handle("POST /console/projects", h.authed("createProject", h.createProject))
	m.Handle("POST /console/projects/{groupId}/rename", h.authed("updateProject", h.renameProject))
	m.Handle("POST /console/projects/{groupId}/delete", h.authed("deleteProject", h.deleteProject))
	m.Handle("GET /console/projects/{groupId}", h.authed("databaseAccess", h.project))
	m.Handle("POST /console/projects/{groupId}/users", h.authed("createDatabaseUser", h.createUser))
	m.Handle("GET /console/projects/{groupId}/user", h.authed("getDatabaseUser", h.user))
	m.Handle("POST /console/projects/{groupId}/user/roles", h.authed("updateDatabaseUser", h.updateRoles))
	m.Handle("POST /console/projects/{groupId}/user/delete", h.authed("deleteDatabaseUser", h.deleteUser))
	m.Handle("POST /console/projects/{groupId}/user/certs", h.authed("createDatabaseUserCertificate", h.issueCertificate))
	m.Handle("POST /console/projects/{groupId}/user/revoke", h.authed("revokeDatabaseUserCertificate", h.revokeCertificate))
	m.Handle("GET /console/projects/{groupId}/ca.pem", h.authed("getManagedX509CA", h.caBundle))
	m.Handle("GET /console/projects/{groupId}/crl.pem", h.authed("getManagedX509CRL", h.crl))
	m.Handle("POST /console/projects/{groupId}/keytype", h.authed("updateManagedX509", h.setKeyType))
	m.Handle("POST /console/projects/{groupId}/rotate", h.authed("rotateManagedX509CA", h.rotateCA))
	m.Handle("GET /console/projects/{groupId}/events", h.authed("listGroupEvents", h.events))
	m.Handle("GET /console/access", h.authed("listCredentials", h.access))
	m.Handle("POST /console/access/apiKey", h.authed("createApiKey", h.createAPIKey))
	m.Handle("POST /console/access/apiKey/{id}/delete", h.authed("deleteApiKey", h.deleteAPIKey))
	m.Handle("POST /console/access/serviceAccount", h.authed("createServiceAccount", h.createServiceAccount))
	m.Handle("POST /console/access/serviceAccount/{id}/delete", h.authed("deleteServiceAccount", h.deleteServiceAccount))
	m.Handle("POST /console/access/serviceAccount/{id}/secrets", h.authed("createServiceAccountSecret", h.createSecret))
	m.Handle("POST /console/access/serviceAccount/{id}/secrets/delete", h.authed("deleteServiceAccountSecret", h.deleteSecret))
	m.Handle("POST /console/access/apiKey/{id}/roles", h.authed("updateApiKey", h.updateOrgRoles(false)))
	m.Handle("POST /console/access/serviceAccount/{id}/roles", h.authed("updateServiceAccount", h.updateOrgRoles(true)))
	m.Handle("POST /console/access/apiKey/{id}/projects", h.authed("updateApiKeyRoles", h.assignProject(false)))
	m.Handle("POST /console/access/serviceAccount/{id}/projects", h.authed("addProjectServiceAccount", h.assignProject(true)))
	m.Handle("POST /console/access/apiKey/{id}/projects/{groupId}/remove", h.authed("removeProjectApiKey", h.removeProject(false)))
	m.Handle("POST /console/access/serviceAccount/{id}/projects/{groupId}/remove", h.authed("deleteProjectServiceAccount", h.removeProject(true)))
	m.Handle("POST /console/access/{kind}/{id}/accesslist", h.authed("createAccessListEntry", h.addAccessEntry))
	m.Handle("POST /console/access/{kind}/{id}/accesslist/delete", h.authed("deleteAccessListEntry", h.deleteAccessEntry))
	m.Handle("/console/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, nil, http.StatusNotFound, "There is no such page.")
	}))
}

// notices are the confirmations a redirect may ask for (?ok=…); only
// these texts are ever shown.
var notices = map[string]string{
	"projectCreated":    "Project created.",
	"projectRenamed":    "Project renamed.",
	"projectDeleted":    "Project deleted.",
	"userAdded":         "Database user added.",
	"userUpdated":       "Roles saved.",
	"userDeleted":       "Database user deleted.",
	"revoked":           "Certificate revoked.",
	"keyType":           "Key type saved.",
	"credentialDeleted": "Credential deleted.",
	"accessAdded":       "Access list entry added.",
	"accessDeleted":     "Access list entry removed.",
	"rolesChanged":      "Organization roles saved.",
	"projectAssigned":   "Project roles saved.",
	"projectRemoved":    "Removed from the project.",
	"rotated":           "A new CA generation signs new certificates.",
	"secretDeleted":     "Secret deleted.",
}

func seeOther(w http.ResponseWriter, r *http.Request, path, notice string) error {
	if notice != "" {
		path += sep(path) + "ok=" + notice
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func (h *handler) pageView(r *http.Request, s *session, title string) *view {
	v := h.newView(s, title)
	v.Notice = notices[r.URL.Query().Get("ok")]
	v.GroupID = r.PathValue("groupId")
	return v
}

func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/projects", http.StatusSeeOther)
}

// signInData is the sign-in page's.
type signInData struct {
	Token string
}

// signInPage shows the sign-in form, also to a signed-in browser (to sign
// in with another credential, which ends the current session).
func (h *handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.renderSignIn(w, http.StatusOK, "", nil)
}

// renderSignIn shows the sign-in form with a fresh sign-in CSRF token, the
// same value in a cookie of the form's own (a session does not exist yet).
func (h *handler) renderSignIn(w http.ResponseWriter, status int, msg string, form map[string]string) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signInCookieName, Value: token, Path: "/console/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	v := h.newView(nil, "Sign in")
	v.Data = signInData{Token: token}
	if msg != "" {
		v.Errs["signin."] = msg
	}
	if form != nil {
		v.Form = form
	}
	h.render(w, status, "signin", v)
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.renderSignIn(w, http.StatusBadRequest, "The form could not be read.", nil)
		return
	}
	c, _ := r.Cookie(signInCookieName)
	posted := r.PostFormValue("csrf")
	if c == nil || posted == "" || subtle.ConstantTimeCompare([]byte(posted), []byte(c.Value)) != 1 {
		h.renderSignIn(w, http.StatusForbidden, "The form's security token is missing or wrong. Try again.", nil)
		return
	}
	kind := r.PostFormValue("kind")
	keep := map[string]string{"kind": kind, "publicKey": r.PostFormValue("publicKey"), "clientId": r.PostFormValue("clientId")}
	if retry, blocked := h.gate.SignInBlocked(r); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		h.renderSignIn(w, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d seconds.", int(retry.Seconds())+1), keep)
		return
	}
	var creds app.ConsoleCredentials
	if kind == "serviceAccount" {
		creds.ClientID, creds.ClientSecret = strings.TrimSpace(r.PostFormValue("clientId")), r.PostFormValue("clientSecret")
	} else {
		creds.PublicKey, creds.PrivateKey = strings.TrimSpace(r.PostFormValue("publicKey")), r.PostFormValue("privateKey")
	}
	if old, err := r.Cookie(h.cookieName()); err == nil {
		h.app.ConsoleSignOut(r.Context(), old.Value) // a new sign-in ends the session it replaces
	}
	token, p, err := h.app.ConsoleSignIn(r.Context(), creds, h.gate.ClientAddr(r))
	var ae *app.AuthError
	var e *atlasx509.Error
	switch {
	case errors.As(err, &ae):
		h.gate.SignInFailed(r)
		h.renderSignIn(w, http.StatusUnauthorized, "These credentials are not valid.", keep)
		return
	case errors.As(err, &e) && e.Kind != atlasx509.KindInternal:
		h.renderSignIn(w, status(e.Kind), e.Detail, keep)
		return
	case err != nil:
		h.renderFault(w, r, nil, err)
		return
	}
	if err := h.gate.Begin(r, p, "console.signIn", ""); err != nil {
		h.app.ConsoleSignOut(r.Context(), token)
		h.renderFault(w, r, nil, err)
		return
	}
	h.setCookie(w, token)
	http.SetCookie(w, &http.Cookie{Name: signInCookieName, Value: "", Path: "/console/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/console/projects", http.StatusSeeOther)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.app.ConsoleSignOut(r.Context(), s.token); err != nil {
		return err
	}
	h.clearCookie(w)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}

// projectsData is the projects page's.
type projectsData struct {
	Projects []atlasx509.Project
}

func (h *handler) projectsView(r *http.Request, s *session) (*view, error) {
	v := h.pageView(r, s, "Projects")
	projects, _, err := h.app.ListProjects(r.Context(), s.p, all)
	if err != nil {
		return nil, err
	}
	v.Data = projectsData{Projects: projects}
	return v, nil
}

func (h *handler) projects(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.projectsView(r, s)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "projects", v)
	return nil
}

// projectsFailed shows the projects page again with err next to form's field.
func (h *handler) projectsFailed(w http.ResponseWriter, r *http.Request, s *session, form string, err error) error {
	v, verr := h.projectsView(r, s)
	if verr != nil {
		return err // the use case's refusal, not the page's
	}
	return h.formFailed(w, r, v, "projects", form, err, "name")
}

func (h *handler) createProject(w http.ResponseWriter, r *http.Request, s *session) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	project, err := h.app.CreateProject(r.Context(), s.p, app.ProjectInput{Name: &name})
	if err != nil {
		return h.projectsFailed(w, r, s, "create", err)
	}
	return seeOther(w, r, "/console/projects/"+project.ID, "projectCreated")
}

func (h *handler) renameProject(w http.ResponseWriter, r *http.Request, s *session) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	id := r.PathValue("groupId")
	if _, err := h.app.UpdateProject(r.Context(), s.p, id, app.ProjectUpdateInput{Name: &name}); err != nil {
		return h.projectsFailed(w, r, s, "rename-"+id, err)
	}
	return seeOther(w, r, "/console/projects", "projectRenamed")
}

func (h *handler) deleteProject(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("groupId")
	if err := h.app.DeleteProject(r.Context(), s.p, id); err != nil {
		return h.projectsFailed(w, r, s, "delete-"+id, err)
	}
	return seeOther(w, r, "/console/projects", "projectDeleted")
}

// projectData is the Database Access page's.
type projectData struct {
	Project  atlasx509.Project
	Users    []atlasx509.DatabaseUser
	X509     app.ManagedX509
	KeyTypes []pki.KeyType
}

func (h *handler) projectView(r *http.Request, s *session) (*view, error) {
	ctx, id := r.Context(), r.PathValue("groupId")
	project, err := h.app.GetProject(ctx, s.p, id)
	if err != nil {
		return nil, err
	}
	v := h.pageView(r, s, project.Name+": Database Access")
	v.OrgID = project.OrgID
	users, _, err := h.app.ListDatabaseUsers(ctx, s.p, id, all)
	if err != nil {
		return nil, err
	}
	d := projectData{Project: project, Users: users, KeyTypes: pki.KeyTypes()}
	if d.X509, err = h.app.GetManagedX509(ctx, s.p, id); err != nil {
		return nil, err
	}
	v.Data = d
	return v, nil
}

func (h *handler) project(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.projectView(r, s)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "project", v)
	return nil
}

func (h *handler) projectFailed(w http.ResponseWriter, r *http.Request, s *session, form string, err error) error {
	v, verr := h.projectView(r, s)
	if verr != nil {
		return err // the use case's refusal, not the page's
	}
	return h.formFailed(w, r, v, "project", form, err, "username", "password", "roles", "keyType")
}

// errRolesSyntax is Atlas's error for a roles field the console cannot
// read (the field's label shows the syntax); what the roles may be is the
// use case's to say.
var errRolesSyntax = app.ErrInvalidAttribute("roles", nil)

// parseRoles reads "readWrite@app, read@reporting" (a collection as
// role@database.collection is not offered).
func parseRoles(s string) ([]atlasx509.DatabaseRole, error) {
	roles := []atlasx509.DatabaseRole{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		role, db, ok := strings.Cut(f, "@")
		if !ok || role == "" || db == "" {
			return nil, errRolesSyntax
		}
		roles = append(roles, atlasx509.DatabaseRole{RoleName: strings.TrimSpace(role), DatabaseName: strings.TrimSpace(db)})
	}
	return roles, nil
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("groupId")
	if err := h.gate.RateLimited(w, r, s.p, httpapi.RateDatabaseUsers, id); err != nil {
		return h.projectFailed(w, r, s, "add", err)
	}
	roles, err := parseRoles(r.PostFormValue("roles"))
	if err != nil {
		return h.projectFailed(w, r, s, "add", err)
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	in := app.DatabaseUserInput{Username: &username, GroupID: &id, Roles: &roles}
	db := "$external"
	switch r.PostFormValue("auth") {
	case "SCRAM":
		db = "admin"
		password := r.PostFormValue("password")
		in.Password = &password
	case "CUSTOMER":
		t := "CUSTOMER"
		in.X509Type = &t
	default:
		t := "MANAGED"
		in.X509Type = &t
	}
	in.DatabaseName = &db
	u, err := h.app.CreateDatabaseUser(r.Context(), s.p, id, in)
	if err != nil {
		return h.projectFailed(w, r, s, "add", err)
	}
	return seeOther(w, r, userPath(id, u), "userAdded")
}

func userPath(groupID string, u atlasx509.DatabaseUser) string {
	return "/console/projects/" + groupID + "/user?" + url.Values{"db": {u.DatabaseName}, "name": {u.Username}}.Encode()
}

// userData is a database user's page's.
type userData struct {
	User atlasx509.DatabaseUser
	// Certificates are the unexpired ones, revoked or not (as the API's
	// list with includeRevoked=true).
	Certificates []atlasx509.Certificate
	Path         string
}

func (h *handler) userView(r *http.Request, s *session) (*view, error) {
	ctx, id := r.Context(), r.PathValue("groupId")
	db, name := r.FormValue("db"), r.FormValue("name")
	project, err := h.app.GetProject(ctx, s.p, id)
	if err != nil {
		return nil, err
	}
	u, err := h.app.GetDatabaseUser(ctx, s.p, id, db, name)
	if err != nil {
		return nil, err
	}
	v := h.pageView(r, s, u.Username+": "+project.Name)
	v.OrgID = project.OrgID
	d := userData{User: u, Path: userPath(id, u)}
	if u.X509Type == "MANAGED" {
		if d.Certificates, _, err = h.app.ListDatabaseUserCertificates(ctx, s.p, id, u.Username, all, true); err != nil {
			return nil, err
		}
	}
	v.Data = d
	return v, nil
}

func (h *handler) user(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.userView(r, s)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "user", v)
	return nil
}

func (h *handler) userFailed(w http.ResponseWriter, r *http.Request, s *session, form string, err error) error {
	v, verr := h.userView(r, s)
	if verr != nil {
		return err // the use case's refusal, not the page's
	}
	return h.formFailed(w, r, v, "user", form, err, "roles", "months")
}

func (h *handler) updateRoles(w http.ResponseWriter, r *http.Request, s *session) error {
	id, db, name := r.PathValue("groupId"), r.PostFormValue("db"), r.PostFormValue("name")
	if err := h.gate.RateLimited(w, r, s.p, httpapi.RateDatabaseUsers, id); err != nil {
		return h.userFailed(w, r, s, "roles", err)
	}
	roles, err := parseRoles(r.PostFormValue("roles"))
	if err != nil {
		return h.userFailed(w, r, s, "roles", err)
	}
	u, err := h.app.UpdateDatabaseUser(r.Context(), s.p, id, db, name, app.DatabaseUserInput{Roles: &roles})
	if err != nil {
		return h.userFailed(w, r, s, "roles", err)
	}
	return seeOther(w, r, userPath(id, u), "userUpdated")
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request, s *session) error {
	id, db, name := r.PathValue("groupId"), r.PostFormValue("db"), r.PostFormValue("name")
	if err := h.gate.RateLimited(w, r, s.p, httpapi.RateDatabaseUsers, id); err != nil {
		return h.userFailed(w, r, s, "delete", err)
	}
	if err := h.app.DeleteDatabaseUser(r.Context(), s.p, id, db, name); err != nil {
		return h.userFailed(w, r, s, "delete", err)
	}
	return seeOther(w, r, "/console/projects/"+id, "userDeleted")
}

// issueCertificate answers the certificate and its key as the download
// <username>.pem; the key is never stored nor shown in a page.
func (h *handler) issueCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	id, name := r.PathValue("groupId"), r.PostFormValue("name")
	if err := h.gate.RateLimited(w, r, s.p, httpapi.RateX509, id); err != nil {
		return h.userFailed(w, r, s, "certs", err)
	}
	months, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("months")))
	if err != nil {
		return h.userFailed(w, r, s, "certs", app.ErrInvalidAttribute("months", err))
	}
	pem, err := h.app.CreateDatabaseUserCertificate(r.Context(), s.p, id, name, &months)
	if err != nil {
		return h.userFailed(w, r, s, "certs", err)
	}
	download(w, fileName(name)+".pem", "application/x-pem-file", pem)
	return nil
}

func (h *handler) revokeCertificate(w http.ResponseWriter, r *http.Request, s *session) error {
	id, db, name := r.PathValue("groupId"), r.PostFormValue("db"), r.PostFormValue("name")
	reason, _ := app.ParseRevocationReason(nil, false)
	if err := h.app.RevokeDatabaseUserCertificate(r.Context(), s.p, id, name, r.PostFormValue("serial"), reason); err != nil {
		return h.userFailed(w, r, s, "revoke", err)
	}
	return seeOther(w, r, userPath(id, atlasx509.DatabaseUser{DatabaseName: db, Username: name}), "revoked")
}

func (h *handler) caBundle(w http.ResponseWriter, r *http.Request, s *session) error {
	pem, err := h.app.ProjectCAPEM(r.Context(), s.p, r.PathValue("groupId"))
	if err != nil {
		return err
	}
	download(w, "project-ca.pem", "application/x-pem-file", pem)
	return nil
}

func (h *handler) crl(w http.ResponseWriter, r *http.Request, s *session) error {
	pem, err := h.app.ProjectCRLPEM(r.Context(), s.p, r.PathValue("groupId"))
	if err != nil {
		return err
	}
	download(w, "project-crl.pem", "application/x-pem-file", pem)
	return nil
}

func (h *handler) setKeyType(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("groupId")
	kt := r.PostFormValue("keyType")
	if _, err := h.app.SetLeafKeyType(r.Context(), s.p, id, &kt); err != nil {
		return h.projectFailed(w, r, s, "keyType", err)
	}
	return seeOther(w, r, "/console/projects/"+id, "keyType")
}

func (h *handler) rotateCA(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("groupId")
	if _, err := h.app.RotateManagedX509CA(r.Context(), s.p, id); err != nil {
		return h.projectFailed(w, r, s, "rotate", err)
	}
	return seeOther(w, r, "/console/projects/"+id, "rotated")
}

// eventsData is the events page's.
type eventsData struct {
	Project atlasx509.Project
	Events  []atlasx509.Event
}

func (h *handler) events(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, id := r.Context(), r.PathValue("groupId")
	project, err := h.app.GetProject(ctx, s.p, id)
	if err != nil {
		return err
	}
	evs, _, err := h.app.ListGroupEvents(ctx, s.p, id, app.EventQuery{ListOptions: app.ListOptions{PageNum: 1, ItemsPerPage: 200}})
	if err != nil {
		return err
	}
	v := h.pageView(r, s, project.Name+": Events")
	v.OrgID = project.OrgID
	v.Data = eventsData{Project: project, Events: evs}
	h.render(w, http.StatusOK, "events", v)
	return nil
}

// download answers body as a file to save, never cached.
func download(w http.ResponseWriter, name, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

// fileName makes a username safe as a download's file name.
func fileName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "certificate"
	}
	return b.String()
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"roles": func(rs []atlasx509.DatabaseRole) string {
		var out []string
		for _, r := range rs {
			s := r.RoleName + "@" + r.DatabaseName
			if r.CollectionName != "" {
				s += "." + r.CollectionName
			}
			out = append(out, s)
		}
		return strings.Join(out, ", ")
	},
	"auth": func(u atlasx509.DatabaseUser) string {
		switch {
		case u.X509Type == "MANAGED":
			return "Certificate (managed X.509)"
		case u.X509Type == "CUSTOMER":
			return "Self-managed X.509"
		case u.AWSIAMType != "" && u.AWSIAMType != "NONE":
			return "AWS IAM"
		case u.LDAPAuthType != "" && u.LDAPAuthType != "NONE":
			return "LDAP"
		case u.OIDCAuthType != "" && u.OIDCAuthType != "NONE":
			return "OIDC"
		default:
			return "Password (SCRAM)"
		}
	},
	"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"userPath": func(groupID string, u atlasx509.DatabaseUser) string { return userPath(groupID, u) },
	"months": func() []int {
		m := make([]int, 24)
		for i := range m {
			m[i] = i + 1
		}
		return m
	},
	"isManaged": func(u atlasx509.DatabaseUser) bool { return u.X509Type == "MANAGED" },
}
