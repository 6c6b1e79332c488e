package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas/mongodbatlas"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
)

// newAtlasClient returns the official Go client pointed at s with the
// bootstrap API key. The client's paths already start with
// "api/atlas/v1.0/", so its base URL is the server root.
func newAtlasClient(tb testing.TB, s *testServer) *mongodbatlas.Client {
	tb.Helper()
	t := digest.NewTransport(s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey)
	c, err := mongodbatlas.New(&http.Client{Transport: t, Timeout: 60 * time.Second}, mongodbatlas.SetBaseURL(s.URL+"/"))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// wantAtlasError fails unless err is the Atlas error (status, code) as the
// official client decodes it.
func wantAtlasError(tb testing.TB, err error, status int, code string) {
	tb.Helper()
	var e *mongodbatlas.ErrorResponse
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T), want *mongodbatlas.ErrorResponse %d %s", err, err, status, code)
	}
	if e.HTTPCode != status || e.ErrorCode != code || e.Response.StatusCode != status || e.Reason != http.StatusText(status) || e.Detail == "" {
		tb.Errorf("got error %d/%d %q %q %q, want %d %s", e.Response.StatusCode, e.HTTPCode, e.ErrorCode, e.Reason, e.Detail, status, code)
	}
	if got := e.Response.Header.Get("X-Error-Code"); got != code {
		tb.Errorf("X-Error-Code %q, want %q", got, code)
	}
}

// TestOfficialClient drives the server with go.mongodb.org/atlas and the
// mongodb-forks Digest transport, exactly as Atlas automation does.
func TestOfficialClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newAtlasClient(t, s)
	ctx := context.Background()

	// Projects.
	all, _, err := c.Projects.GetAllProjects(ctx, nil)
	if err != nil {
		t.Fatalf("GetAllProjects: %v", err)
	}
	if all.TotalCount != 1 || len(all.Results) != 1 || all.Results[0].ID != s.Bootstrap.ProjectID || all.Results[0].OrgID != s.Bootstrap.OrgID {
		t.Fatalf("GetAllProjects on a new store: %+v", all)
	}
	p, resp, err := c.Projects.Create(ctx, &mongodbatlas.Project{Name: "e2e project", OrgID: s.Bootstrap.OrgID}, nil)
	if err != nil {
		t.Fatalf("Projects.Create: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !hex24.MatchString(p.ID) || p.Name != "e2e project" || p.OrgID != s.Bootstrap.OrgID {
		t.Fatalf("Projects.Create: %d %+v", resp.StatusCode, p)
	}
	if _, err := time.Parse(time.RFC3339, p.Created); err != nil {
		t.Errorf("project created %q: %v", p.Created, err)
	}
	got, _, err := c.Projects.GetOneProject(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetOneProject: %v", err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("GetOneProject differs from Create (-create +get):\n%s", diff)
	}
	all, _, err = c.Projects.GetAllProjects(ctx, nil)
	if err != nil {
		t.Fatalf("GetAllProjects: %v", err)
	}
	var ids []string
	for _, g := range all.Results {
		ids = append(ids, g.ID)
	}
	if diff := cmp.Diff([]string{s.Bootstrap.ProjectID, p.ID}, ids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" || all.TotalCount != 2 {
		t.Errorf("GetAllProjects: totalCount %d, ids (-want +got):\n%s", all.TotalCount, diff)
	}
	_, _, err = c.Projects.GetOneProject(ctx, "0123456789abcdef01234567")
	wantAtlasError(t, err, http.StatusNotFound, "GROUP_NOT_FOUND")
	_, _, err = c.Projects.GetOneProject(ctx, "not-an-id")
	wantAtlasError(t, err, http.StatusNotFound, "INVALID_GROUP_ID")

	// Database users. The username has a space, which the client escapes
	// on the users routes (and sends raw-parsed on the certs routes).
	gid := p.ID
	const username = "app user-1"
	newUser := &mongodbatlas.DatabaseUser{
		Username: username, DatabaseName: "$external", X509Type: "MANAGED", GroupID: gid,
		Roles: []mongodbatlas.Role{{RoleName: "readWrite", DatabaseName: "app"}},
	}
	u, resp, err := c.DatabaseUsers.Create(ctx, gid, newUser)
	if err != nil {
		t.Fatalf("DatabaseUsers.Create: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("DatabaseUsers.Create status %d, want 201", resp.StatusCode)
	}
	wantUser := &mongodbatlas.DatabaseUser{
		Username: username, DatabaseName: "$external", X509Type: "MANAGED", GroupID: gid,
		AWSIAMType: "NONE", LDAPAuthType: "NONE", OIDCAuthType: "NONE",
		Roles: []mongodbatlas.Role{{RoleName: "readWrite", DatabaseName: "app"}}, Scopes: []mongodbatlas.Scope{},
	}
	ignoreEmpty := cmpopts.EquateEmpty()
	if diff := cmp.Diff(wantUser, u, ignoreEmpty); diff != "" {
		t.Errorf("DatabaseUsers.Create (-want +got):\n%s", diff)
	}
	u, _, err = c.DatabaseUsers.Get(ctx, "$external", gid, username)
	if err != nil {
		t.Fatalf("DatabaseUsers.Get: %v", err)
	}
	if diff := cmp.Diff(wantUser, u, ignoreEmpty); diff != "" {
		t.Errorf("DatabaseUsers.Get (-want +got):\n%s", diff)
	}
	// The self link escapes the space and keeps "$", as Atlas's links do.
	raw := do(t, s.digestClient(), "GET", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/$external/app%20user-1", "")
	mustStatus(t, raw, http.StatusOK, "raw GET of the user")
	var view atlasapi.DatabaseUser
	decodeJSON(t, raw.Body, &view)
	wantLinks := []atlasapi.Link{{Href: s.URL + apiV1 + "/groups/" + gid + "/databaseUsers/$external/app%20user-1", Rel: "self"}}
	if diff := cmp.Diff(wantLinks, view.Links); diff != "" {
		t.Errorf("user links (-want +got):\n%s", diff)
	}
	scram := &mongodbatlas.DatabaseUser{
		Username: "scram-user", DatabaseName: "admin", Password: "correct horse battery", GroupID: gid,
		Roles: []mongodbatlas.Role{{RoleName: "read", DatabaseName: "app"}},
	}
	if _, _, err := c.DatabaseUsers.Create(ctx, gid, scram); err != nil {
		t.Fatalf("create a SCRAM user: %v", err)
	}
	users, _, err := c.DatabaseUsers.List(ctx, gid, nil)
	if err != nil {
		t.Fatalf("DatabaseUsers.List: %v", err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username+"@"+u.DatabaseName)
	}
	if diff := cmp.Diff([]string{"app user-1@$external", "scram-user@admin"}, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("DatabaseUsers.List (-want +got):\n%s", diff)
	}
	update := *wantUser
	update.Roles = []mongodbatlas.Role{{RoleName: "read", DatabaseName: "app"}, {RoleName: "read", DatabaseName: "reports"}}
	u, _, err = c.DatabaseUsers.Update(ctx, gid, username, &update)
	if err != nil {
		t.Fatalf("DatabaseUsers.Update: %v", err)
	}
	if diff := cmp.Diff(&update, u, ignoreEmpty); diff != "" {
		t.Errorf("DatabaseUsers.Update (-want +got):\n%s", diff)
	}
	_, _, err = c.DatabaseUsers.Get(ctx, "$external", gid, "nobody")
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")

	// Certificates, through the client and the raw PEM it returns.
	caCerts := parseCAs(t, fetchCAPEM(t, s.digestClient(), s.URL, gid))
	roots := x509.NewCertPool()
	for _, ca := range caCerts {
		roots.AddCert(ca)
	}
	serials := map[int64]time.Time{} // serial → notAfter
	for _, months := range []int{3, 24} {
		before := time.Now()
		uc, resp, err := c.X509AuthDBUsers.CreateUserCertificate(ctx, gid, username, months)
		after := time.Now()
		if err != nil {
			t.Fatalf("CreateUserCertificate(%d): %v", months, err)
		}
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("CreateUserCertificate status %d, want 201", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("CreateUserCertificate Content-Type %q, want application/json (Atlas v1.0)", ct)
		}
		is := parseCertAndKey(t, []byte(uc.Certificate))
		checkLeaf(t, is, username, months, before, after, roots)
		if _, ok := is.Key.(*ecdsa.PrivateKey); !ok {
			t.Errorf("leaf key %T, want the test key source's ECDSA key", is.Key)
		}
		serials[is.Cert.SerialNumber.Int64()] = is.Cert.NotAfter
		if !is.Cert.SerialNumber.IsInt64() || is.Cert.SerialNumber.Sign() <= 0 {
			t.Errorf("serial %v is not a positive int64", is.Cert.SerialNumber)
		}
	}
	list, _, err := c.X509AuthDBUsers.GetUserCertificates(ctx, gid, username, nil)
	if err != nil {
		t.Fatalf("GetUserCertificates: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("GetUserCertificates: %d items, want 2: %+v", len(list), list)
	}
	for _, item := range list {
		if item.ID == nil {
			t.Fatalf("certificate without _id: %+v", item)
		}
		notAfter, ok := serials[*item.ID]
		if !ok {
			t.Errorf("listed serial %d was not issued (issued %v)", *item.ID, serials)
			continue
		}
		if item.GroupID != gid || item.Subject != "CN="+username || item.NotAfter != notAfter.UTC().Format(time.RFC3339) {
			t.Errorf("list item %+v: want groupId %s, subject CN=%s, notAfter %s", item, gid, username, notAfter.UTC().Format(time.RFC3339))
		}
		created, err := time.Parse(time.RFC3339, item.CreatedAt)
		if err != nil || created.Location() != time.UTC {
			t.Errorf("createdAt %q is not an ISO 8601 UTC time: %v", item.CreatedAt, err)
		}
	}

	// Certificate errors.
	_, _, err = c.X509AuthDBUsers.CreateUserCertificate(ctx, gid, username, 25)
	wantAtlasError(t, err, http.StatusBadRequest, "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS")
	_, _, err = c.X509AuthDBUsers.CreateUserCertificate(ctx, gid, "scram-user", 3)
	wantAtlasError(t, err, http.StatusBadRequest, "USER_NOT_MANAGED_X509")
	_, _, err = c.X509AuthDBUsers.CreateUserCertificate(ctx, gid, "nobody", 3)
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")
	_, _, err = c.X509AuthDBUsers.GetUserCertificates(ctx, gid, "nobody", nil)
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")
	_, _, err = c.X509AuthDBUsers.CreateUserCertificate(ctx, "0123456789abcdef01234567", username, 3)
	wantAtlasError(t, err, http.StatusNotFound, "GROUP_NOT_FOUND")
	_, _, err = c.X509AuthDBUsers.CreateUserCertificate(ctx, "bad", username, 3)
	wantAtlasError(t, err, http.StatusNotFound, "INVALID_GROUP_ID")
	if list, _, err := c.X509AuthDBUsers.GetUserCertificates(ctx, gid, username, nil); err != nil || len(list) != 2 {
		t.Errorf("refused requests changed the certificate list: %d items, %v", len(list), err)
	}

	// Delete: the user and its certificate records go.
	resp, err = c.DatabaseUsers.Delete(ctx, "$external", gid, username)
	if err != nil {
		t.Fatalf("DatabaseUsers.Delete: %v", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DatabaseUsers.Delete status %d, want 204", resp.StatusCode)
	}
	_, _, err = c.DatabaseUsers.Get(ctx, "$external", gid, username)
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")
	_, err = c.DatabaseUsers.Delete(ctx, "$external", gid, username)
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")
	_, _, err = c.X509AuthDBUsers.GetUserCertificates(ctx, gid, username, nil)
	wantAtlasError(t, err, http.StatusNotFound, "USERNAME_NOT_FOUND")

	// Delete the project.
	resp, err = c.Projects.Delete(ctx, gid)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("Projects.Delete: %v", err)
	}
	_, _, err = c.Projects.GetOneProject(ctx, gid)
	wantAtlasError(t, err, http.StatusNotFound, "GROUP_NOT_FOUND")
	_, _, err = c.DatabaseUsers.List(ctx, gid, nil)
	wantAtlasError(t, err, http.StatusNotFound, "GROUP_NOT_FOUND")
}

// checkLeaf checks an issued certificate against the managed X.509 rules of
// SPEC.md: subject CN=<username>, issued by the project CA for client
// authentication, valid from issue−1h to issue+months calendar months.
// before and after bracket the request.
func checkLeaf(tb testing.TB, is issued, username string, months int, before, after time.Time, roots *x509.CertPool) {
	tb.Helper()
	c := is.Cert
	if got := c.Subject.String(); got != "CN="+username {
		tb.Errorf("subject %q, want CN=%s", got, username)
	}
	if len(c.Subject.Names) != 1 {
		tb.Errorf("subject has %d attributes, want CN only", len(c.Subject.Names))
	}
	// The issue time is notBefore + 1h, at second precision.
	issue := c.NotBefore.Add(time.Hour)
	if issue.Before(before.Truncate(time.Second)) || issue.After(after) {
		tb.Errorf("issue time (notBefore + 1h) %v is not within the request [%v, %v]", issue, before, after)
	}
	if want := pki.AddMonths(issue.UTC(), months); !c.NotAfter.Equal(want) {
		tb.Errorf("notAfter %v, want issue + %d months = %v", c.NotAfter, months, want)
	}
	if issue.Day() <= 28 && !c.NotAfter.Equal(issue.AddDate(0, months, 0)) {
		tb.Errorf("notAfter %v, want %v", c.NotAfter, issue.AddDate(0, months, 0))
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature {
		tb.Errorf("key usage %v, want digitalSignature only", c.KeyUsage)
	}
	if diff := cmp.Diff([]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, c.ExtKeyUsage); diff != "" {
		tb.Errorf("extended key usage (-want +got):\n%s", diff)
	}
	critical := map[string]bool{}
	for _, e := range c.Extensions {
		critical[e.Id.String()] = e.Critical
	}
	if !critical["2.5.29.15"] || !critical["2.5.29.37"] {
		tb.Errorf("key usage and extended key usage must be critical: %v", critical)
	}
	if c.IsCA || len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) != 0 {
		tb.Errorf("leaf is a CA or has subject alternative names")
	}
	if len(c.SubjectKeyId) == 0 || len(c.AuthorityKeyId) == 0 {
		tb.Errorf("leaf lacks subject or authority key identifier")
	}
	if roots != nil {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: issue}); err != nil {
			tb.Errorf("leaf does not verify against the project CA: %v", err)
		}
	}
}
