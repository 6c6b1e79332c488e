package console_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/console"
)

// checkHeaders checks the security headers every console answer carries.
func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": console.ContentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("%s: CSP %q allows inline script or lacks script-src 'self'", what, csp)
	}
}

func TestSecurityHeadersAndCookie(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		cookieName string
	}{
		{"http", false, "atlasx509_console"},
		{"https", true, "__Host-atlasx509_console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{tls: tc.tls})
			b := e.browser()
			signin := b.get("/console/signin")
			checkHeaders(t, "sign-in page", signin.header)
			for i, part := range strings.Split(signin.body, "<script")[1:] {
				if !strings.HasPrefix(part, ` src="/console/static/`) {
					t.Errorf("script %d of the sign-in page is inline or foreign: <script%.40s", i, part)
				}
			}
			resp, err := b.client.PostForm(e.srv.URL+"/console/signin", url.Values{"csrf": {signin.csrf(t)}, "kind": {"apiKey"},
				"publicKey": {e.boot.APIKey.PublicKey}, "privateKey": {e.boot.APIKey.PrivateKey}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var session *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == tc.cookieName {
					session = c
				}
			}
			if session == nil {
				t.Fatalf("no %s cookie set; got %v", tc.cookieName, resp.Cookies())
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure != tc.tls || session.Path != "/" {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Secure=%v, Path=/", session, tc.tls)
			}
			if !e.sessionExists(session.Value) {
				t.Error("the session is not in the store")
			}
			if p := b.get("/console/static/"); p.status != http.StatusNotFound {
				t.Errorf("the static directory is listed: status %d", p.status)
			}
			for _, path := range []string{"/console/projects", "/console/projects/" + e.boot.ProjectID, "/console/static/console.css", "/console/nowhere"} {
				checkHeaders(t, path, b.get(path).header)
			}
		})
	}
}

func TestSignOutDeletesTheSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	projects := b.signInBootstrap()
	token := b.cookie()
	if !e.sessionExists(token) {
		t.Fatal("no session row after sign-in")
	}
	// Another browser holding the same cookie (another replica would see
	// the same row).
	other := e.browser()
	u, _ := url.Parse(e.srv.URL + "/")
	other.client.Jar.SetCookies(u, []*http.Cookie{{Name: "atlasx509_console", Value: token, Path: "/"}})
	if p := other.get("/console/projects"); p.status != http.StatusOK {
		t.Fatalf("the copied cookie: status %d", p.status)
	}
	if p := b.post("/console/signout", url.Values{"csrf": {projects.csrf(t)}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d: %s", p.status, p.body)
	}
	if e.sessionExists(token) {
		t.Error("the session row survived sign-out")
	}
	if p := other.get("/console/projects"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/signin" {
		t.Errorf("the signed-out session still serves: status %d", p.status)
	}

	// Signing in again ends the session the new one replaces.
	b.signInBootstrap()
	first := b.cookie()
	b.signInBootstrap()
	if second := b.cookie(); second == first || e.sessionExists(first) || !e.sessionExists(second) {
		t.Errorf("after a second sign-in: the first session exists %v, the second %v", e.sessionExists(first), e.sessionExists(second))
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.signInBootstrap()
	token := b.cookie()
	// Requests within the idle timeout keep the session up to its lifetime.
	for elapsed := time.Duration(0); elapsed+app.ConsoleIdleTimeout/2 < app.ConsoleLifetime; elapsed += app.ConsoleIdleTimeout / 2 {
		e.clock.advance(app.ConsoleIdleTimeout / 2)
		if p := b.get("/console/projects"); p.status != http.StatusOK {
			t.Fatalf("after %v of activity: status %d", elapsed, p.status)
		}
	}
	e.clock.advance(app.ConsoleIdleTimeout / 2)
	if p := b.get("/console/projects"); p.status != http.StatusSeeOther {
		t.Errorf("past the lifetime: status %d, want a redirect to sign-in", p.status)
	}
	if e.sessionExists(token) {
		t.Error("the session past its lifetime is still stored")
	}

	b.signInBootstrap()
	token = b.cookie()
	e.clock.advance(app.ConsoleIdleTimeout)
	if p := b.get("/console/projects"); p.status != http.StatusSeeOther {
		t.Errorf("idle for the timeout: status %d, want a redirect to sign-in", p.status)
	}
	if e.sessionExists(token) {
		t.Error("the idle session is still stored")
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.signInBootstrap()
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"missing", url.Values{"name": {"csrf-less"}}},
		{"wrong", url.Values{"name": {"csrf-less"}, "csrf": {"AAAA"}}},
		{"of another session", url.Values{"name": {"csrf-less"}, "csrf": {func() string {
			o := e.browser()
			return o.signInBootstrap().csrf(t)
		}()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/console/projects", tc.form)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "security token") {
				t.Errorf("status %d, want 403 with the reason; body %s", p.status, p.body)
			}
		})
	}
	if p := b.get("/console/projects"); strings.Contains(p.body, "csrf-less") {
		t.Error("a form without its CSRF token created a project")
	}
	// The sign-in form has its own token.
	o := e.browser()
	p := o.post("/console/signin", url.Values{"kind": {"apiKey"}, "publicKey": {e.boot.APIKey.PublicKey}, "privateKey": {e.boot.APIKey.PrivateKey}})
	if p.status != http.StatusForbidden || o.cookie() != "" {
		t.Errorf("sign-in without its token: status %d, cookie %q", p.status, o.cookie())
	}
}

func TestFailedSignInsShareTheAPILimit(t *testing.T) {
	e := newEnv(t, envOptions{authFailures: 2})
	b := e.browser()
	for i := range 2 {
		form := b.get("/console/signin")
		p := b.post("/console/signin", url.Values{"csrf": {form.csrf(t)}, "kind": {"apiKey"}, "publicKey": {e.boot.APIKey.PublicKey}, "privateKey": {"wrong"}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "not valid") {
			t.Fatalf("wrong key %d: status %d", i, p.status)
		}
	}
	form := b.get("/console/signin")
	p := b.post("/console/signin", url.Values{"csrf": {form.csrf(t)}, "kind": {"apiKey"}, "publicKey": {e.boot.APIKey.PublicKey}, "privateKey": {e.boot.APIKey.PrivateKey}})
	if p.status != http.StatusTooManyRequests || b.cookie() != "" {
		t.Errorf("right key after the limit: status %d, cookie %q; want 429 and no session", p.status, b.cookie())
	}
	// The API refuses the same address too: the limit is one.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/atlas/v1.0/groups", nil)
	req.Header.Set("Authorization", "Bearer nonsense")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("API after failed console sign-ins: status %d, want 429", resp.StatusCode)
	}
}

func TestServiceAccountSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	form := b.get("/console/signin")
	p := b.post("/console/signin", url.Values{"csrf": {form.csrf(t)}, "kind": {"serviceAccount"},
		"clientId": {e.boot.ServiceAccount.ClientID}, "clientSecret": {e.boot.ServiceAccount.ClientSecret}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	if p := b.get("/console/projects"); p.status != http.StatusOK || !strings.Contains(p.body, e.boot.ServiceAccount.ClientID) {
		t.Errorf("projects as the service account: status %d", p.status)
	}
}

// TestDatabaseAccess walks the main flow over plain HTTP: add a MANAGED
// user, see a refused form's detail next to its field, issue a certificate
// download, change roles, delete.
func TestDatabaseAccess(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	csrf := b.signInBootstrap().csrf(t)
	g := "/console/projects/" + e.boot.ProjectID

	bad := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"MANAGED"}, "username": {"alice"}, "roles": {"nosuchrole@app"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="roles-err"`) || !strings.Contains(bad.body, "nosuchrole") {
		t.Errorf("invalid role: status %d, want 400 with the detail next to roles; body %s", bad.status, bad.body)
	}
	p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"MANAGED"}, "username": {"alice"}, "roles": {"readWrite@app"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("add user: status %d: %s", p.status, p.body)
	}
	userPage := b.get(p.header.Get("Location"))
	if !strings.Contains(userPage.body, "readWrite@app") {
		t.Errorf("the user page lacks the role: %s", userPage.body)
	}

	cert := b.post(g+"/user/certs", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"alice"}, "months": {"3"}})
	if cert.status != http.StatusOK || cert.header.Get("Content-Disposition") != `attachment; filename="alice.pem"` || cert.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("certificate: status %d, headers %v", cert.status, cert.header)
	}
	checkCertificate(t, []byte(cert.body), []byte(b.get(g+"/ca.pem").body), "alice")
	if p := b.post(g+"/user/certs", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"alice"}, "months": {"25"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="months-err"`) {
		t.Errorf("25 months: status %d, want 400 with the detail next to months", p.status)
	}

	p = b.post(g+"/user/roles", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"alice"}, "roles": {"read@reporting, readWrite@app"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("roles: status %d: %s", p.status, p.body)
	}
	u, err := e.app.GetDatabaseUser(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, "$external", "alice")
	if err != nil || len(u.Roles) != 2 || u.Roles[0].RoleName != "read" {
		t.Errorf("roles after the change: %+v, %v", u.Roles, err)
	}
	p = b.post(g+"/user/delete", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"alice"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete: status %d: %s", p.status, p.body)
	}
	if _, err := e.app.GetDatabaseUser(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, "$external", "alice"); err == nil {
		t.Error("the user survived its deletion")
	}
}

// bootPrincipal is the bootstrap API key's principal.
func bootPrincipal(t *testing.T, e *env) atlasx509.Principal {
	t.Helper()
	var p atlasx509.Principal
	_, p, err := e.app.ConsoleSignIn(context.Background(), app.ConsoleCredentials{PublicKey: e.boot.APIKey.PublicKey, PrivateKey: e.boot.APIKey.PrivateKey}, mustAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCertificate checks a downloaded PEM: a certificate for CN=user
// that chains to the CA bundle, then its private key.
func checkCertificate(t *testing.T, file, caBundle []byte, user string) {
	t.Helper()
	block, rest := pem.Decode(file)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("the download does not start with a certificate: %q", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != user {
		t.Errorf("CN %q, want %q", cert.Subject.CommonName, user)
	}
	if key, _ := pem.Decode(rest); key == nil || key.Type != "PRIVATE KEY" {
		t.Errorf("no PKCS#8 private key after the certificate")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatal("the CA bundle holds no certificate")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the certificate does not chain to the project CA: %v", err)
	}
}

func TestRoleHidesAndRefuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	owner := bootPrincipal(t, e)
	roles := []string{"GROUP_READ_ONLY"}
	desc := "read only"
	key, err := e.app.CreateProjectAPIKey(ctx, owner, e.boot.ProjectID, app.APIKeyInput{Desc: &desc, Roles: &roles})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.browser()
	csrf := admin.signInBootstrap().csrf(t)
	g := "/console/projects/" + e.boot.ProjectID
	if p := admin.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"MANAGED"}, "username": {"bob"}, "roles": {"read@app"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add bob: %d", p.status)
	}

	b := e.browser()
	b.signIn(key.Key.PublicKey, key.PrivateKey)
	project := b.get(g)
	if project.status != http.StatusOK {
		t.Fatalf("project page: %d", project.status)
	}
	for _, hidden := range []string{`id="add-user"`, `/keytype"`, `id="rotate"`} {
		if strings.Contains(project.body, hidden) {
			t.Errorf("a read-only key sees %s", hidden)
		}
	}
	bob := b.get(g + "/user?db=%24external&name=bob")
	for _, hidden := range []string{`id="issue"`, `id="edit-roles"`, `id="delete-user"`} {
		if strings.Contains(bob.body, hidden) {
			t.Errorf("a read-only key sees %s", hidden)
		}
	}
	csrf = project.csrf(t)
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{g + "/users", url.Values{"auth": {"MANAGED"}, "username": {"mallory"}, "roles": {"read@app"}}},
		{g + "/user/certs", url.Values{"db": {"$external"}, "name": {"bob"}, "months": {"3"}}},
		{g + "/user/roles", url.Values{"db": {"$external"}, "name": {"bob"}, "roles": {"root@admin"}}},
		{g + "/user/delete", url.Values{"db": {"$external"}, "name": {"bob"}}},
		{g + "/keytype", url.Values{"keyType": {"ECDSA_P256"}}},
		{g + "/rotate", url.Values{}},
	} {
		tc.form.Set("csrf", csrf)
		if p := b.post(tc.path, tc.form); p.status != http.StatusForbidden {
			t.Errorf("POST %s by a read-only key: status %d, want 403", tc.path, p.status)
		}
	}
	u, err := e.app.GetDatabaseUser(ctx, owner, e.boot.ProjectID, "$external", "bob")
	if err != nil || len(u.Roles) != 1 || u.Roles[0].RoleName != "read" {
		t.Errorf("bob after the refused posts: %+v, %v", u, err)
	}
	if _, err := e.app.GetDatabaseUser(ctx, owner, e.boot.ProjectID, "$external", "mallory"); err == nil {
		t.Error("a refused post created mallory")
	}
}

// TestProjectsRevocationAndEvents: create, rename and delete a project;
// revoke a certificate; the events page lists what happened, by whom.
func TestProjectsRevocationAndEvents(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	csrf := b.signInBootstrap().csrf(t)

	if p := b.post("/console/projects", url.Values{"csrf": {csrf}, "name": {"bad/name"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="new-name-err"`) {
		t.Errorf("a bad project name: status %d, want 400 with the detail next to the name", p.status)
	}
	p := b.post("/console/projects", url.Values{"csrf": {csrf}, "name": {"payments"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create project: status %d: %s", p.status, p.body)
	}
	g := p.header.Get("Location")
	g = g[:strings.Index(g, "?")]
	id := strings.TrimPrefix(g, "/console/projects/")
	if p := b.post(g+"/rename", url.Values{"csrf": {csrf}, "name": {"payments-eu"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rename: status %d: %s", p.status, p.body)
	}
	if p := b.get("/console/projects"); !strings.Contains(p.body, "payments-eu") {
		t.Error("the renamed project is not listed under its new name")
	}

	if p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"SCRAM"}, "username": {"app"}, "password": {"short"}, "roles": {"readWrite@app"}}); p.status != http.StatusBadRequest {
		t.Errorf("SCRAM user with a short password: status %d, want 400", p.status)
	}
	if p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"SCRAM"}, "username": {"app"}, "password": {"a-long-enough-password"}, "roles": {"readWrite@app"}}); p.status != http.StatusSeeOther {
		t.Errorf("SCRAM user: status %d: %s", p.status, p.body)
	}
	if p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"CUSTOMER"}, "username": {"CN=bob,OU=apps"}, "roles": {"read@app"}}); p.status != http.StatusSeeOther {
		t.Errorf("CUSTOMER user: status %d: %s", p.status, p.body)
	}
	if p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"MANAGED"}, "username": {"carol"}, "roles": {"read@app"}}); p.status != http.StatusSeeOther {
		t.Fatalf("MANAGED user: status %d: %s", p.status, p.body)
	}
	users := b.get(g)
	for _, want := range []string{"Password (SCRAM)", "Self-managed X.509", "CN=bob,OU=apps", "Certificate (managed X.509)"} {
		if !strings.Contains(users.body, want) {
			t.Errorf("the users list lacks %q", want)
		}
	}
	if p := b.post(g+"/user/certs", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"carol"}, "months": {"1"}}); p.status != http.StatusOK {
		t.Fatalf("certificate: status %d", p.status)
	}
	serial := regexp.MustCompile(`name="serial" value="(\d+)"`).FindStringSubmatch(b.get(g + "/user?db=%24external&name=carol").body)
	if serial == nil {
		t.Fatal("no revoke form for carol's certificate")
	}
	if p := b.post(g+"/user/revoke", url.Values{"csrf": {csrf}, "db": {"$external"}, "name": {"carol"}, "serial": {serial[1]}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d: %s", p.status, p.body)
	}
	if p := b.get(g + "/user?db=%24external&name=carol"); !strings.Contains(p.body, "Revoked") || strings.Contains(p.body, `name="serial"`) {
		t.Error("the revoked certificate is not shown revoked, or can be revoked again")
	}

	if p := b.post(g+"/rotate", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("rotate: status %d: %s", p.status, p.body)
	}
	if p := b.get(g); !strings.Contains(p.body, "generation 2") {
		t.Error("after the rotation, generation 2 is not the active CA")
	}

	events := b.get(g + "/events")
	for _, want := range []string{"MONGODB_USER_ADDED", "MONGODB_USER_X509_CERT_CREATED", "API key " + e.boot.APIKey.PublicKey} {
		if !strings.Contains(events.body, want) {
			t.Errorf("the events page lacks %q", want)
		}
	}
	if p := b.post(g+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete project: status %d: %s", p.status, p.body)
	}
	if p := b.get("/console/projects"); strings.Contains(p.body, id) {
		t.Error("the deleted project is still listed")
	}
}

// TestAudit: a change made in the console is in the audit trail as the
// API's are: the intent, then the outcome, with the caller and project; a
// refused one as denied.
func TestAudit(t *testing.T) {
	trail := &lockedWriter{w: &strings.Builder{}}
	e := newEnv(t, envOptions{audit: audit.New(trail)})
	b := e.browser()
	csrf := b.signInBootstrap().csrf(t)
	g := "/console/projects/" + e.boot.ProjectID
	if p := b.post(g+"/users", url.Values{"csrf": {csrf}, "auth": {"MANAGED"}, "username": {"dave"}, "roles": {"read@app"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add dave: %d", p.status)
	}
	var got []audit.Event
	for _, line := range strings.Split(strings.TrimSpace(trail.String()), "\n") {
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev.Operation == "console.createDatabaseUser" {
			got = append(got, ev)
		}
	}
	if len(got) != 2 {
		t.Fatalf("audit records of the console's user creation: %+v, want intent and outcome", got)
	}
	for _, ev := range got {
		if ev.Principal != e.boot.APIKey.ID || ev.GroupID != e.boot.ProjectID {
			t.Errorf("audit record %+v: want principal %s, groupId %s", ev, e.boot.APIKey.ID, e.boot.ProjectID)
		}
	}
	if got[0].Phase != "request" || got[1].Phase != "response" || got[1].Outcome != "allowed" || got[1].Status != http.StatusSeeOther {
		t.Errorf("audit records %+v: want the intent, then the allowed outcome", got)
	}
}

// lockedWriter serializes writes (the audit log writes from the handlers).
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
