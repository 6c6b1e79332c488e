package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
	"github.com/atlasx509/atlasx509/internal/store"
)

// TestRateLimitChargesOnlyCallersWithAccess: a credential without access to
// a project, hammering its routes, does not drain the project's bucket; the
// project's own owner still gets through.
func TestRateLimitChargesOnlyCallersWithAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{
		X509:          ratelimit.Rule{Name: setX509, Capacity: 3, Refill: 1, Period: time.Hour},
		DatabaseUsers: ratelimit.Rule{Name: setDatabaseUsers, Capacity: 3, Refill: 1, Period: time.Hour},
	}})
	other := e.secondOrg()
	// Read-only on another project of the victim's organization, and
	// owner of another organization: neither reaches the victim project.
	p2 := e.createProject("Elsewhere")
	reader := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: p2, Role: atlasx509.RoleGroupReadOnly})
	for _, tok := range []string{other.token, reader} {
		for i := 0; i < 10; i++ {
			rec := e.doAs(tok, "GET", e.group()+"/databaseUsers/alice/certs", "")
			if rec.Code != http.StatusNotFound {
				t.Fatalf("attacker request %d: %d %s", i, rec.Code, rec.Body.String())
			}
			if rec := e.doAs(tok, "POST", e.group()+"/databaseUsers", managedUserBody("mallory")); rec.Code != http.StatusNotFound {
				t.Fatalf("attacker create %d: %d %s", i, rec.Code, rec.Body.String())
			}
		}
	}
	e.createUser(managedUserBody("alice"))
	if rec := e.do("POST", e.group()+"/databaseUsers/alice/certs", `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("the owner's issuance: %d %s", rec.Code, rec.Body.String())
	}
}

// TestTokenMintingIsBounded: a service account mints at most the rate's
// capacity at once and at most app.MaxLiveTokens unexpired tokens; others,
// and guesses of its secret, are not affected.
func TestTokenMintingIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{TokenMints: ratelimit.Rule{Name: "mints", Capacity: 2, Refill: 1, Period: time.Hour}}})
	a := e.createAccount("ORG_MEMBER")
	b := e.createAccount("ORG_MEMBER")
	for i := 0; i < 5; i++ { // wrong secrets do not spend a's allowance
		if _, code := e.tokenFor(a.ClientID, "mdb_sa_sk_wrong"); code != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d", code)
		}
	}
	for i := 0; i < 2; i++ {
		if _, code := e.tokenFor(a.ClientID, a.Secrets[0].Secret); code != http.StatusOK {
			t.Fatalf("mint %d: %d", i, code)
		}
	}
	req := httptest.NewRequest("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(a.ClientID, a.Secrets[0].Secret)
	rec := recorder(e.handler, req)
	var oe atlasapi.OAuthError
	json.Unmarshal(rec.Body.Bytes(), &oe)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || oe.Error != "invalid_request" {
		t.Fatalf("third mint: %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	if _, code := e.tokenFor(b.ClientID, b.Secrets[0].Secret); code != http.StatusOK {
		t.Fatalf("another client: %d", code)
	}

	// Live tokens: b holds MaxLiveTokens unexpired records (one just minted).
	ctx := context.Background()
	now := time.Now().UTC()
	err := e.store.Update(ctx, func(tx store.Tx) error {
		for i := 1; i < app.MaxLiveTokens; i++ {
			tok := atlasx509.OAuthToken{ID: fmt.Sprintf("t%d", i), ClientID: b.ClientID, ExpiresAt: now.Add(time.Hour), Created: now}
			if err := tx.InsertOAuthToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.withHandler(Options{})
	if _, code := e.tokenFor(b.ClientID, b.Secrets[0].Secret); code != http.StatusTooManyRequests {
		t.Fatalf("mint past %d live tokens: %d", app.MaxLiveTokens, code)
	}
	if _, code := e.tokenFor(a.ClientID, a.Secrets[0].Secret); code != http.StatusOK {
		t.Fatalf("a under its bound: %d", code)
	}
}

// TestOAuthEndpointsAreAudited: a wrong secret, an issued token and a
// revocation each leave audit lines naming the client id, never a secret.
func TestOAuthEndpointsAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buf lines
	e.withHandler(Options{Audit: audit.New(&buf)})
	sa := e.boot.ServiceAccount
	if _, code := e.tokenFor(sa.ClientID, "mdb_sa_sk_wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	tok, code := e.tokenFor(sa.ClientID, sa.ClientSecret)
	if code != http.StatusOK {
		t.Fatalf("mint: %d", code)
	}
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req := httptest.NewRequest("POST", "/api/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sa.ClientID, sa.ClientSecret)
	if rec := recorder(e.handler, req); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
	}
	type row struct {
		Phase, Operation, Principal, Outcome string
		Status                               int
	}
	var got []row
	for _, ev := range buf.events(t) {
		got = append(got, row{ev.Phase, ev.Operation, ev.Principal, ev.Outcome, ev.Status})
	}
	want := []row{
		{"response", "createAccessToken", sa.ClientID, "denied", 401},
		{"request", "createAccessToken", sa.ClientID, "", 0},
		{"response", "createAccessToken", sa.ClientID, "allowed", 200},
		{"request", "revokeAccessToken", sa.ClientID, "", 0},
		{"response", "revokeAccessToken", sa.ClientID, "allowed", 200},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
	for _, secret := range []string{sa.ClientSecret, tok, "mdb_sa_sk_wrong"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the audit trail holds a secret")
		}
	}
}

// caCount counts the managed CA generations of a project in the store.
func (e *env) caCount(groupID string) int {
	e.t.Helper()
	ctx := context.Background()
	var n int
	err := e.store.View(ctx, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(ctx, groupID)
		n = len(cas)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestReadsNeverCreateACA: a project has its CA from creation; a project
// without one (made before CAs were created with projects) answers the CA
// and CRL routes empty, from a read-only caller, and writes nothing.
func TestReadsNeverCreateACA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if n := e.caCount(e.boot.ProjectID); n != 1 {
		t.Errorf("bootstrap project: %d CAs", n)
	}
	created := e.createProject("Fresh")
	if n := e.caCount(created); n != 1 {
		t.Errorf("created project: %d CAs", n)
	}
	legacy := e.secondOrg() // inserted in the store directly: no CA
	reader := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, Role: atlasx509.RoleOrgReadOnly})
	for _, c := range []struct{ token, group string }{{other(legacy), legacy.projectID}, {reader, e.boot.ProjectID}} {
		for _, suffix := range []string{"/userSecurity/managedX509/ca", "/userSecurity/managedX509/crl"} {
			rec := e.doAs(c.token, "GET", "/api/atlas/v1.0/groups/"+c.group+suffix, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", suffix, rec.Code, rec.Body.String())
			}
			if c.group == legacy.projectID && rec.Body.Len() != 0 {
				t.Errorf("GET %s of a project without a CA: %q", suffix, rec.Body.String())
			}
		}
	}
	if n := e.caCount(legacy.projectID); n != 0 {
		t.Errorf("reads created %d CAs", n)
	}
	// The first issuance creates it.
	if rec := e.doAs(legacy.token, "POST", "/api/atlas/v1.0/groups/"+legacy.projectID+"/databaseUsers", managedUserBody("alice")); rec.Code != http.StatusCreated {
		t.Fatalf("create user: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.doAs(legacy.token, "POST", "/api/atlas/v1.0/groups/"+legacy.projectID+"/databaseUsers/alice/certs", `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("issue: %d %s", rec.Code, rec.Body.String())
	}
	if n := e.caCount(legacy.projectID); n != 1 {
		t.Errorf("after the first issuance: %d CAs", n)
	}
}

func other(o otherOrg) string { return o.token }

// TestRoleBeforeBody: a caller without the route's role, or without access
// to the project, is answered 401 or 404 whatever is wrong with its body:
// nothing of the body is derived, parsed or judged before the role.
func TestRoleBeforeBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(scramUserBody("carol"))
	reader := e.tokenWithRoles(roleOn(e, "GROUP_READ_ONLY"))
	outsider := e.secondOrg().token
	g := e.group()
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", g + "/databaseUsers/admin/carol", `{"password":"short"}`},
		{"PATCH", g + "/databaseUsers/admin/carol", `{"password":"a long enough password"}`},
		{"PATCH", g + "/userSecurity", `{"customerX509":{"cas":"not a PEM"}}`},
		{"PATCH", g, `{"name":""}`},
		{"PATCH", g, `{"tags":[{"key":"","value":""}]}`},
		{"PATCH", g + "/settings", `{"isNotASetting":true}`},
		{"PATCH", g + "/userSecurity/managedX509", `{"leafKeyType":"DSA"}`},
		{"PATCH", g + "/userSecurity/managedX509", `{}`},
	} {
		for _, who := range []struct {
			token string
			code  int
		}{{reader, http.StatusUnauthorized}, {outsider, http.StatusNotFound}} {
			if rec := e.doAs(who.token, c.method, c.path, c.body); rec.Code != who.code {
				t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, rec.Code, rec.Body.String(), who.code)
			}
		}
	}
}

// TestBodyContentType: a body is read only as application/json or Atlas's
// versioned JSON type; any other type, or none, is answered 415 and
// changes nothing. Requests without a body need no Content-Type.
func TestBodyContentType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	send := func(contentType, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", e.group()+"/databaseUsers", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		return recorder(e.handler, req)
	}
	for i, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json; charset=latin1", "application/vnd.atlas.latest+json", "application/jsonx"} {
		rec := send(ct, managedUserBody(fmt.Sprintf("u%d", i)))
		if rec.Code != http.StatusUnsupportedMediaType || apiError(t, rec).ErrorCode != "UNSUPPORTED_MEDIA_TYPE" {
			t.Errorf("Content-Type %q: %d %s", ct, rec.Code, rec.Body.String())
		}
	}
	if n := e.userCount(); n != 0 {
		t.Fatalf("%d users created", n)
	}
	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "application/vnd.atlas.2023-01-01+json", "application/vnd.atlas.2023-02-01+json;charset=utf-8"} {
		if rec := send(ct, managedUserBody(fmt.Sprintf("ok%d", i))); rec.Code != http.StatusCreated {
			t.Errorf("Content-Type %q: %d %s", ct, rec.Code, rec.Body.String())
		}
	}
	// No body, no Content-Type: a POST that needs none, a GET, a DELETE.
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/ok0/certs", "")
	e.mustDo(http.StatusOK, "GET", e.group()+"/databaseUsers", "")
	e.mustDo(http.StatusNoContent, "DELETE", e.group()+"/databaseUsers/$external/ok0", "")
}

// TestInvisibleCharacters: names and descriptions with Unicode format or
// bidirectional-control characters are refused (alice\u200b would get a
// certificate that reads CN=alice), and so is a body that is not UTF-8.
func TestInvisibleCharacters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := func(name, description string, labels ...atlasx509.Label) string {
		m := map[string]any{"username": name, "databaseName": "$external", "x509Type": "MANAGED",
			"roles": []map[string]string{{"roleName": "read", "databaseName": "app"}}}
		if description != "" {
			m["description"] = description
		}
		if labels != nil {
			m["labels"] = labels
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, c := range []struct{ name, body, path, code string }{
		{"zero width space", user("alice\u200b", ""), "/databaseUsers", "ATLAS_INVALID_USERNAME"},
		{"right-to-left override", user("\u202eecila", ""), "/databaseUsers", "ATLAS_INVALID_USERNAME"},
		{"byte order mark", user("\ufeffalice", ""), "/databaseUsers", "ATLAS_INVALID_USERNAME"},
		{"word joiner in a SCRAM user", `{"username":"bob\u2060","databaseName":"admin","password":"correct horse battery","roles":[{"roleName":"read","databaseName":"app"}]}`, "/databaseUsers", "ATLAS_INVALID_USERNAME"},
		{"escaped lone surrogate", `{"username":"bob\udc00","databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"read","databaseName":"app"}]}`, "/databaseUsers", "ATLAS_INVALID_USERNAME"},
		{"description", user("carol", "ok\u202e"), "/databaseUsers", "INVALID_ATTRIBUTE"},
		{"label key", user("dave", "", atlasx509.Label{Key: "k\u200d", Value: "v"}), "/databaseUsers", "INVALID_ATTRIBUTE"},
		{"label value", user("erin", "", atlasx509.Label{Key: "k", Value: "\u2066v"}), "/databaseUsers", "INVALID_ATTRIBUTE"},
		{"invalid UTF-8 in a name", "{\"username\":\"fr\xffed\",\"databaseName\":\"$external\",\"x509Type\":\"MANAGED\",\"roles\":[{\"roleName\":\"read\",\"databaseName\":\"app\"}]}", "/databaseUsers", "MALFORMED_JSON"},
		{"invalid UTF-8 in a description", "{\"username\":\"gina\",\"description\":\"\xc3\",\"databaseName\":\"$external\",\"x509Type\":\"MANAGED\",\"roles\":[{\"roleName\":\"read\",\"databaseName\":\"app\"}]}", "/databaseUsers", "MALFORMED_JSON"},
	} {
		rec := e.do("POST", e.group()+c.path, c.body)
		if rec.Code != http.StatusBadRequest || apiError(t, rec).ErrorCode != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.name, rec.Code, rec.Body.String(), c.code)
		}
	}
	if n := e.userCount(); n != 0 {
		t.Errorf("%d users created", n)
	}
	for _, c := range []struct{ name, method, path, body string }{
		{"API key description", "POST", "/api/atlas/v1.0/orgs/" + e.boot.OrgID + "/apiKeys", `{"desc":"ci\u200b","roles":["ORG_MEMBER"]}`},
		{"project tag", "PATCH", e.group(), `{"tags":[{"key":"team\u202e","value":"x"}]}`},
	} {
		if rec := e.do(c.method, c.path, c.body); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body.String())
		}
	}
	// Letters of every script are not what is refused.
	e.createUser(user("ünïcødé-名前", "ça va"))
}

// TestListBounds: the lists of a database user are bounded in count and
// size, so one user cannot hold megabytes that every reader pays for.
func TestListBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := func(name string, edit func(m map[string]any)) string {
		m := map[string]any{"username": name, "databaseName": "$external", "x509Type": "MANAGED",
			"roles": []map[string]string{{"roleName": "read", "databaseName": "app"}}}
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	labels := func(n, size int) []atlasx509.Label {
		var out []atlasx509.Label
		for i := range n {
			out = append(out, atlasx509.Label{Key: fmt.Sprintf("k%d", i), Value: strings.Repeat("v", size)})
		}
		return out
	}
	roles := func(n int) []map[string]string {
		var out []map[string]string
		for i := range n {
			out = append(out, map[string]string{"roleName": "read", "databaseName": fmt.Sprintf("db%d", i)})
		}
		return out
	}
	scopes := func(n int) []map[string]string {
		var out []map[string]string
		for i := range n {
			out = append(out, map[string]string{"name": fmt.Sprintf("c%d", i), "type": "CLUSTER"})
		}
		return out
	}
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"51 labels", func(m map[string]any) { m["labels"] = labels(51, 1) }},
		{"labels over 8 KiB", func(m map[string]any) { m["labels"] = labels(40, 250) }},
		{"101 roles", func(m map[string]any) { m["roles"] = roles(101) }},
		{"101 scopes", func(m map[string]any) { m["scopes"] = scopes(101) }},
		{"a long collection name", func(m map[string]any) {
			m["roles"] = []map[string]string{{"roleName": "read", "databaseName": "app", "collectionName": strings.Repeat("c", 256)}}
		}},
	} {
		if rec := e.do("POST", e.group()+"/databaseUsers", body("u", c.edit)); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", c.name, rec.Code, truncate(rec.Body.Bytes()))
		}
	}
	if n := e.userCount(); n != 0 {
		t.Errorf("%d users created", n)
	}
	e.createUser(body("most", func(m map[string]any) {
		m["labels"], m["roles"], m["scopes"] = labels(50, 100), roles(100), scopes(100)
	}))
}

// TestLinksNeverReflectHost: links are built from the configured external
// URL, never from the request's Host header.
func TestLinksNeverReflectHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{ExternalURL: "https://atlas.internal.example:8443/"})
	for _, path := range []string{e.group(), e.group() + "/databaseUsers", "/api/atlas/v2/groups/" + e.boot.ProjectID} {
		req := httptest.NewRequest("GET", path, nil)
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		rec := recorder(e.handler, req)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || strings.Contains(body, "evil.example") || !strings.Contains(body, `"https://atlas.internal.example:8443/api/atlas/`) {
			t.Errorf("GET %s: %d %s", path, rec.Code, truncate(rec.Body.Bytes()))
		}
	}
}

// TestAuthFailuresPerIPv6Network: failed authentications are counted per
// IPv6 /64 (what one host usually holds), not per address.
func TestAuthFailuresPerIPv6Network(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{AuthFailures: ratelimit.Rule{Name: "auth", Capacity: 3, Refill: 1, Period: time.Hour}}})
	from := func(addr, token string) int {
		req := httptest.NewRequest("GET", e.group(), nil)
		req.RemoteAddr = "[" + addr + "]:40000"
		req.Header.Set("Authorization", "Bearer "+token)
		return recorder(e.handler, req).Code
	}
	for i := range 3 {
		if code := from(fmt.Sprintf("2001:db8:1:2::%x", i+1), "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := from("2001:db8:1:2:ffff::9", e.token); code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", code)
	}
	if code := from("2001:db8:1:3::1", e.token); code != http.StatusOK {
		t.Errorf("another /64: %d, want 200", code)
	}
	if code := from("192.0.2.7", e.token); code != http.StatusOK {
		t.Errorf("IPv4: %d, want 200", code)
	}
}

// deadlineRecorder is a recorder whose connection read deadline can be set,
// as a server connection's can.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	readDeadline time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error { d.readDeadline = t; return nil }

// TestTokenEndpointBody: the unauthenticated OAuth endpoints read a small
// body under a short read deadline, not the API's 1 MiB for a minute.
func TestTokenEndpointBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sa := e.boot.ServiceAccount
	for _, path := range []string{"/api/oauth/token", "/api/oauth/revoke"} {
		form := "grant_type=client_credentials&token=x&pad=" + strings.Repeat("a", 8<<10)
		req := httptest.NewRequest("POST", path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sa.ClientID, sa.ClientSecret)
		rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
		before := time.Now()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_request") {
			t.Errorf("%s with an 8 KiB form: %d %s", path, rec.Code, rec.Body.String())
		}
		if d := rec.readDeadline.Sub(before); d <= 0 || d > 15*time.Second {
			t.Errorf("%s: read deadline %v after the request, want at most 15s", path, d)
		}
	}
}
