package httpapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

func TestDatabaseUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	body := `{"username":"app user/1","databaseName":"admin","password":"correct horse","description":"for the app",
		"roles":[{"roleName":"readWrite","databaseName":"app","collectionName":"orders"}],
		"scopes":[{"name":"Cluster0","type":"CLUSTER"}],"labels":[{"key":"team","value":"payments"}]}`
	got := e.mustDo(http.StatusCreated, "POST", g+"/databaseUsers", body)
	want := `{"awsIAMType":"NONE","databaseName":"admin","description":"for the app","groupId":"` + e.boot.ProjectID + `",` +
		`"labels":[{"key":"team","value":"payments"}],"ldapAuthType":"NONE",` +
		`"links":[{"href":"http://example.com` + g + `/databaseUsers/admin/app%20user%2F1","rel":"self"}],` +
		`"oidcAuthType":"NONE","roles":[{"collectionName":"orders","databaseName":"app","roleName":"readWrite"}],` +
		`"scopes":[{"name":"Cluster0","type":"CLUSTER"}],"username":"app user/1","x509Type":"NONE"}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("create answer (-want +got):\n%s", diff)
	}
	if strings.Contains(string(got), "password") || strings.Contains(string(got), "correct horse") {
		t.Error("the answer reveals the password")
	}
	// The escaped path segment is one username, "/" included.
	if diff := cmp.Diff(want, string(e.mustDo(http.StatusOK, "GET", g+"/databaseUsers/admin/app%20user%2F1", ""))); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	patched := e.mustDo(http.StatusOK, "PATCH", g+"/databaseUsers/admin/app%20user%2F1", `{"description":"","roles":[{"roleName":"read","databaseName":"app"}],"scopes":null}`)
	var u atlasapi.DatabaseUser
	if err := json.Unmarshal(patched, &u); err != nil {
		t.Fatal(err)
	}
	if u.Description != "" || len(u.Roles) != 1 || u.Roles[0].RoleName != "read" || len(u.Scopes) != 1 || len(u.Labels) != 1 {
		t.Errorf("after PATCH: %+v", u)
	}
	list := e.mustDo(http.StatusOK, "GET", g+"/databaseUsers", "")
	var page atlasapi.Paginated[atlasapi.DatabaseUser]
	if err := json.Unmarshal(list, &page); err != nil {
		t.Fatal(err)
	}
	if page.TotalCount == nil || *page.TotalCount != 1 || len(page.Results) != 1 || page.Results[0].Description != "" {
		t.Errorf("list: %s", list)
	}
	// A password user keeps a SCRAM-SHA-256 verifier, never the password.
	var stored atlasx509.DatabaseUser
	e.store.View(context.Background(), func(tx store.Tx) error {
		stored, _ = tx.GetDatabaseUser(context.Background(), e.boot.ProjectID, "admin", "app user/1")
		return nil
	})
	if !strings.HasPrefix(stored.SCRAMCredential, "SCRAM-SHA-256$15000$") || strings.Contains(stored.SCRAMCredential, "correct horse") {
		t.Errorf("stored credential %q", stored.SCRAMCredential)
	}
	rec := e.do("DELETE", g+"/databaseUsers/admin/app%20user%2F1", "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("delete: %d %q", rec.Code, rec.Body.String())
	}
	if e.do("GET", g+"/databaseUsers/admin/app%20user%2F1", "").Code != http.StatusNotFound {
		t.Error("user still there after delete")
	}
}

// issue issues a certificate for username and returns the parsed certificate.
func (e *env) issue(username string, months int) (*x509.Certificate, []byte) {
	e.t.Helper()
	body := e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/"+username+"/certs", fmt.Sprintf(`{"monthsUntilExpiration":%d}`, months))
	block, rest := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		e.t.Fatalf("answer does not start with a certificate: %q", body)
	}
	keyBlock, rest := pem.Decode(rest)
	if keyBlock == nil || keyBlock.Type != "PRIVATE KEY" || len(rest) != 0 {
		e.t.Fatalf("answer does not end with one PKCS#8 key: %q", body)
	}
	if _, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes); err != nil {
		e.t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		e.t.Fatal(err)
	}
	return cert, body
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	start := time.Now().UTC().Truncate(time.Second)
	cert, _ := e.issue("alice", 3)
	if cert.Subject.String() != "CN=alice" || cert.Issuer.CommonName != e.boot.ProjectID {
		t.Errorf("subject %q issuer %q", cert.Subject, cert.Issuer)
	}
	if d := cert.NotBefore.Sub(start.Add(-time.Hour)); d < 0 || d > 5*time.Second {
		t.Errorf("notBefore %v, want about %v", cert.NotBefore, start.Add(-time.Hour))
	}
	if want := pki.AddMonths(cert.NotBefore.Add(time.Hour), 3); !cert.NotAfter.Equal(want) {
		t.Errorf("notAfter %v, want %v", cert.NotAfter, want)
	}
	// The CA route gives what a mongod must trust; the leaf verifies against it.
	caPEM := e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/ca", "")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CA route: %q", caPEM)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("leaf does not verify against the CA route: %v", err)
	}
	// Default months is 3 when the body is empty or omits it.
	rec := e.do("POST", g+"/databaseUsers/alice/certs", `{}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("default months: %d %s", rec.Code, rec.Body.String())
	}
	e.issue("alice", 24)

	list := e.mustDo(http.StatusOK, "GET", g+"/databaseUsers/alice/certs?itemsPerPage=2", "")
	var page atlasapi.Paginated[atlasapi.UserCert]
	if err := json.Unmarshal(list, &page); err != nil {
		t.Fatal(err)
	}
	if page.TotalCount == nil || *page.TotalCount != 3 || len(page.Results) != 2 {
		t.Fatalf("page 1: %s", list)
	}
	base := "http://example.com" + g + "/databaseUsers/alice/certs"
	wantLinks := []atlasapi.Link{
		{Href: base + "?includeCount=true&pageNum=1&itemsPerPage=2", Rel: "self"},
		{Href: base + "?includeCount=true&itemsPerPage=2&pageNum=2", Rel: "next"},
	}
	if diff := cmp.Diff(wantLinks, page.Links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	first := page.Results[0]
	if first.ID != cert.SerialNumber.Int64() || first.Subject != "CN=alice" || first.GroupID != e.boot.ProjectID ||
		first.NotAfter != formatTime(cert.NotAfter) || first.CreatedAt != formatTime(cert.NotBefore) {
		t.Errorf("first item %+v does not describe the first certificate (serial %d)", first, cert.SerialNumber)
	}
	list = e.mustDo(http.StatusOK, "GET", g+"/databaseUsers/alice/certs?itemsPerPage=2&pageNum=2&includeCount=false", "")
	page = atlasapi.Paginated[atlasapi.UserCert]{}
	json.Unmarshal(list, &page)
	if page.TotalCount != nil || len(page.Results) != 1 || len(page.Links) != 2 || page.Links[1].Rel != "previous" {
		t.Errorf("page 2: %s", list)
	}
	if strings.Contains(string(list), "totalCount") {
		t.Errorf("includeCount=false still sends totalCount: %s", list)
	}
	// Deleting the user revokes its certificates: a new user of the same
	// name lists none.
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/$external/alice", "")
	e.createUser(managedUserBody("alice"))
	list = e.mustDo(http.StatusOK, "GET", g+"/databaseUsers/alice/certs", "")
	if !strings.Contains(string(list), `"results":[]`) || !strings.Contains(string(list), `"totalCount":0`) {
		t.Errorf("certificates of a deleted user came back: %s", list)
	}
}

func TestEnvelopeAndPretty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	rec := e.do("POST", g+"/databaseUsers?envelope=true", managedUserBody("alice"))
	if rec.Code != http.StatusOK {
		t.Fatalf("enveloped create: status %d", rec.Code)
	}
	var env struct {
		Content atlasapi.DatabaseUser `json:"content"`
		Status  int                   `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Status != 201 || env.Content.Username != "alice" {
		t.Errorf("enveloped create: %v %s", err, rec.Body.String())
	}
	list := e.mustDo(http.StatusOK, "GET", g+"/databaseUsers?envelope=true", "")
	if !strings.Contains(string(list), `"status":200`) || !strings.Contains(string(list), `"results":[`) {
		t.Errorf("enveloped list: %s", list)
	}
	pretty := e.mustDo(http.StatusOK, "GET", g+"?pretty=true", "")
	if !strings.Contains(string(pretty), "\n  \"clusterCount\": 0,") {
		t.Errorf("pretty: %s", pretty)
	}
	rec = e.do("POST", g+"/databaseUsers/alice/certs?envelope=true", `{"monthsUntilExpiration":1}`)
	var certEnv struct {
		Content string `json:"content"`
		Status  int    `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &certEnv); err != nil || certEnv.Status != 201 || !strings.HasPrefix(certEnv.Content, "-----BEGIN CERTIFICATE-----\n") {
		t.Errorf("enveloped certificate: %v %.100s", err, rec.Body.String())
	}
	rec = e.do("DELETE", g+"/databaseUsers/$external/alice?envelope=true", "")
	if rec.Code != http.StatusOK || compact(t, rec.Body.Bytes()) != `{"content":null,"status":204}` {
		t.Errorf("enveloped delete: %d %s", rec.Code, rec.Body.String())
	}
	rec = e.do("GET", g+"/databaseUsers/admin/nobody?pretty=true", "")
	if !strings.Contains(rec.Body.String(), "\n  \"errorCode\": \"USERNAME_NOT_FOUND\"") {
		t.Errorf("pretty error: %s", rec.Body.String())
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := e.mustDo(http.StatusOK, "POST", "/api/atlas/v1.0/groups", `{"name":"Payments","orgId":"`+e.boot.OrgID+`","withDefaultAlertsSettings":true}`)
	var p atlasapi.Group
	if err := json.Unmarshal(body, &p); err != nil || !atlasx509.ValidID(p.ID) || p.Name != "Payments" || p.OrgID != e.boot.OrgID {
		t.Fatalf("create project: %v %s", err, body)
	}
	list := e.mustDo(http.StatusOK, "GET", "/api/atlas/v1.0/groups", "")
	var page atlasapi.Paginated[atlasapi.Group]
	json.Unmarshal(list, &page)
	if page.TotalCount == nil || *page.TotalCount != 2 {
		t.Errorf("list projects: %s", list)
	}
	e.mustDo(http.StatusOK, "GET", "/api/atlas/v1.0/groups/"+p.ID, "")
	// A project's users, CAs and certificates go with it.
	pg := "/api/atlas/v1.0/groups/" + p.ID
	e.mustDo(http.StatusCreated, "POST", pg+"/databaseUsers", managedUserBody("bob"))
	e.mustDo(http.StatusCreated, "POST", pg+"/databaseUsers/bob/certs", `{}`)
	e.mustDo(http.StatusNoContent, "DELETE", pg, "")
	if rec := e.do("GET", pg, ""); rec.Code != http.StatusNotFound {
		t.Errorf("deleted project answers %d", rec.Code)
	}
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(context.Background(), p.ID)
		if len(cas) != 0 {
			t.Errorf("CAs of a deleted project remain: %d", len(cas))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFirstIssuancesRace issues the first certificates of a project
// concurrently: exactly one CA must come out and every leaf must verify.
func TestFirstIssuancesRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(managedUserBody("alice"))
	const n = 8
	var wg sync.WaitGroup
	results := make([][]byte, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := e.do("POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":2}`)
			if rec.Code == http.StatusCreated {
				results[i] = rec.Body.Bytes()
			} else {
				t.Errorf("issuance %d: %d %s", i, rec.Code, rec.Body.String())
			}
		}()
	}
	wg.Wait()
	caPEM := e.mustDo(http.StatusOK, "GET", e.group()+"/userSecurity/managedX509/ca", "")
	if c := strings.Count(string(caPEM), "BEGIN CERTIFICATE"); c != 1 {
		t.Fatalf("%d CAs after racing first issuances, want 1", c)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	serials := map[string]bool{}
	for _, r := range results {
		block, _ := pem.Decode(r)
		if block == nil {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Error(err)
		}
		serials[cert.SerialNumber.String()] = true
	}
	if len(serials) != n {
		t.Errorf("%d distinct serials for %d certificates", len(serials), n)
	}
}

func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if rec := e.do("GET", e.group(), ""); rec.Code != http.StatusOK {
		t.Fatalf("token refused before revocation: %d", rec.Code)
	}
	if err := e.app.RevokeToken(ctx, e.boot.ServiceAccount.ClientID, e.boot.ServiceAccount.ClientSecret, e.token); err != nil {
		t.Fatal(err)
	}
	if rec := e.do("GET", e.group(), ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("revoked token answered %d", rec.Code)
	}
}

// TestRouteTable checks that every row of the route table is complete and
// pins the table to testdata/golden/routes.txt, one line per operation, so
// that a change of a route's permission, resource versions, rate-limit set
// or audit shows in review as a diff of that file (a route put in a
// rate-limit set by mistake among them). Run with -update after a
// deliberate change.
func TestRouteTable(t *testing.T) {
	t.Parallel()
	routes := (&server{}).atlasRoutes()
	seenOp, seenPattern := map[string]bool{}, map[string]bool{}
	widths := []int{70, 36, 22, 12, 19}
	var out strings.Builder
	out.WriteString(columns(widths, "method path", "operationId", "permission", "v2 versions", "rate-limit set", "audit"))
	for _, rt := range routes {
		where := fmt.Sprintf("%s %s (%s)", rt.method, rt.path, rt.op)
		if rt.op == "" || seenOp[rt.op] {
			t.Errorf("%s: the operationId is empty or used by another row", where)
		}
		if seenPattern[rt.method+" "+rt.path] {
			t.Errorf("%s: another row has the same method and path", where)
		}
		seenOp[rt.op], seenPattern[rt.method+" "+rt.path] = true, true
		if !authz.Known(rt.perm) {
			t.Errorf("%s: permission %q has no row in the role table", where, rt.perm)
		}
		if len(rt.versions) == 0 || !slices.IsSortedFunc(rt.versions, func(a, b resourceVersion) int { return strings.Compare(a.date, b.date) }) {
			t.Errorf("%s: v2 resource versions %v are missing or not oldest first", where, rt.versions)
		}
		switch rt.limit {
		case setDatabaseUsers, setX509, noRateLimit:
		default:
			t.Errorf("%s: rate-limit set %q is not one the guard knows (name noRateLimit for none)", where, rt.limit)
		}
		audit := "-" // reads are not audited
		if privileged(rt.method) {
			audit = rt.op
		}
		out.WriteString(columns(widths, rt.method+" "+rt.path, rt.op, string(rt.perm), versionsString(rt.versions), string(rt.limit), audit))
	}
	checkGolden(t, "routes.txt", []byte(out.String()))
}

// versionsString lists resource versions as the route table golden shows them.
func versionsString(versions []resourceVersion) string {
	var parts []string
	for _, v := range versions {
		s := v.date
		if v.gone {
			s += " (gone)"
		}
		if !v.deprecated.IsZero() {
			s += " (deprecated " + v.deprecated.Format(time.DateOnly)
			if !v.sunset.IsZero() {
				s += ", sunset " + v.sunset.Format(time.DateOnly)
			}
			s += ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := e.doAs("", "GET", path, ""); rec.Code != 200 {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	e.store.Close() // the database goes away
	if rec := e.doAs("", "GET", "/readyz", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed: %d", rec.Code)
	}
	if rec := e.doAs("", "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("/healthz is liveness and stays 200: %d", rec.Code)
	}
}
