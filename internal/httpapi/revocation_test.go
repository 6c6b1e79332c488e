package httpapi

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// issueSerial issues a one-month certificate to username and returns its
// serial as the list's _id and the revocation path write it.
func (e *env) issueSerial(username string) string {
	e.t.Helper()
	cert, _ := e.issue(username, 1)
	return cert.SerialNumber.String()
}

// certList lists a user's certificates through the route, with query q.
func (e *env) certList(username, q string) (atlasapi.Paginated[atlasapi.UserCert], string) {
	e.t.Helper()
	body := e.mustDo(http.StatusOK, "GET", e.group()+"/databaseUsers/"+username+"/certs"+q, "")
	var page atlasapi.Paginated[atlasapi.UserCert]
	if err := json.Unmarshal(body, &page); err != nil {
		e.t.Fatal(err)
	}
	return page, string(body)
}

// serials returns the _id of each list item, in order.
func serials(page atlasapi.Paginated[atlasapi.UserCert]) []string {
	out := []string{}
	for _, c := range page.Results {
		out = append(out, strconv.FormatInt(c.ID, 10))
	}
	return out
}

// TestRevocationErrors: every refused revocation answers an Atlas error and
// revokes nothing.
func TestRevocationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	e.createUser(managedUserBody("bob"))
	a1, a2, b1 := e.issueSerial("alice"), e.issueSerial("alice"), e.issueSerial("bob")
	other := e.createProject("other")
	og := "/api/atlas/v1.0/groups/" + other
	e.mustDo(http.StatusCreated, "POST", og+"/databaseUsers", managedUserBody("alice"))
	unknownGroup := "/api/atlas/v1.0/groups/" + strings.Repeat("0", 23) + "1"
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown serial", "DELETE", g + "/databaseUsers/alice/certs/12345", 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial of another user", "DELETE", g + "/databaseUsers/alice/certs/" + b1, 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial of another project", "DELETE", og + "/databaseUsers/alice/certs/" + a1, 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial zero", "DELETE", g + "/databaseUsers/alice/certs/0", 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"negative serial", "DELETE", g + "/databaseUsers/alice/certs/-" + a1, 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial with a sign", "DELETE", g + "/databaseUsers/alice/certs/%2B" + a1, 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial with a leading zero", "DELETE", g + "/databaseUsers/alice/certs/0" + a1, 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial not a number", "DELETE", g + "/databaseUsers/alice/certs/abc", 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial in hex", "DELETE", g + "/databaseUsers/alice/certs/0x10", 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"serial beyond int64", "DELETE", g + "/databaseUsers/alice/certs/9223372036854775808", 404, "CERTIFICATE_DOES_NOT_EXIST"},
		{"unknown user", "DELETE", g + "/databaseUsers/nobody/certs/" + a1, 404, "USERNAME_NOT_FOUND"},
		{"unknown user, bad serial", "DELETE", g + "/databaseUsers/nobody/certs/abc", 404, "USERNAME_NOT_FOUND"},
		{"unknown user, all", "DELETE", g + "/databaseUsers/nobody/certs", 404, "USERNAME_NOT_FOUND"},
		{"unknown reason", "DELETE", g + "/databaseUsers/alice/certs/" + a1 + "?reason=compromised", 400, "INVALID_QUERY_PARAMETER"},
		{"empty reason", "DELETE", g + "/databaseUsers/alice/certs/" + a1 + "?reason=", 400, "INVALID_QUERY_PARAMETER"},
		{"reason in another case", "DELETE", g + "/databaseUsers/alice/certs/" + a1 + "?reason=KeyCompromise", 400, "INVALID_QUERY_PARAMETER"},
		{"reason as a code", "DELETE", g + "/databaseUsers/alice/certs/" + a1 + "?reason=1", 400, "INVALID_QUERY_PARAMETER"},
		{"reason twice", "DELETE", g + "/databaseUsers/alice/certs/" + a1 + "?reason=superseded&reason=superseded", 400, "INVALID_QUERY_PARAMETER"},
		{"RFC reason the API does not take", "DELETE", g + "/databaseUsers/alice/certs?reason=certificateHold", 400, "INVALID_QUERY_PARAMETER"},
		{"unknown group", "DELETE", unknownGroup + "/databaseUsers/alice/certs/" + a1, 404, "GROUP_NOT_FOUND"},
		{"invalid group", "DELETE", "/api/atlas/v1.0/groups/xyz/databaseUsers/alice/certs", 404, "INVALID_GROUP_ID"},
		{"bad includeRevoked", "GET", g + "/databaseUsers/alice/certs?includeRevoked=yes", 400, "INVALID_QUERY_PARAMETER"},
		{"CRL of an unknown group", "GET", unknownGroup + "/userSecurity/managedX509/crl", 404, "GROUP_NOT_FOUND"},
		{"CRL of an invalid group", "GET", "/api/atlas/v1.0/groups/xyz/userSecurity/managedX509/crl", 404, "INVALID_GROUP_ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(tc.method, tc.path, "")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			if got := apiError(t, rec).ErrorCode; got != tc.code {
				t.Errorf("errorCode %q, want %q", got, tc.code)
			}
		})
	}
	page, _ := e.certList("alice", "?includeRevoked=true")
	if d := cmp.Diff([]string{a1, a2}, serials(page)); d != "" || strings.Contains(page.Results[0].RevokedAt, "T") {
		t.Errorf("a refused revocation changed alice's certificates (-want +got):\n%s", d)
	}
}

// TestRevocation revokes one certificate, then all, through both API
// versions, and checks the lists.
func TestRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	e.createUser(managedUserBody("bob"))
	a1, a2, a3, b1 := e.issueSerial("alice"), e.issueSerial("alice"), e.issueSerial("alice"), e.issueSerial("bob")

	rec := e.do("DELETE", g+"/databaseUsers/alice/certs/"+a1+"?reason=keyCompromise", "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("revoke: %d %q", rec.Code, rec.Body.String())
	}
	page, body := e.certList("alice", "")
	if d := cmp.Diff([]string{a2, a3}, serials(page)); d != "" || *page.TotalCount != 2 {
		t.Errorf("default list after a revocation (totalCount %d) (-want +got):\n%s", *page.TotalCount, d)
	}
	if strings.Contains(body, "revoke") || strings.Contains(body, "revocation") {
		t.Errorf("the default list mentions revocation: %s", body)
	}
	page, body = e.certList("alice", "?includeRevoked=true")
	if d := cmp.Diff([]string{a1, a2, a3}, serials(page)); d != "" || *page.TotalCount != 3 {
		t.Fatalf("list with includeRevoked (totalCount %d) (-want +got):\n%s", *page.TotalCount, d)
	}
	first := page.Results[0]
	if !first.Revoked || first.RevocationReason != "keyCompromise" || !timeRE.MatchString(first.RevokedAt) {
		t.Errorf("revoked item %+v", first)
	}
	if strings.Count(body, `"revoked":true`) != 1 || strings.Count(body, `"revokedAt"`) != 1 || strings.Count(body, `"revocationReason"`) != 1 {
		t.Errorf("revocation fields on unrevoked items: %s", body)
	}
	if !strings.Contains(body, "includeRevoked=true") {
		t.Errorf("links lose includeRevoked: %s", body)
	}

	// Again, for another reason: 204, and the first revocation stands.
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+a1+"?reason=superseded", "")
	again, _ := e.certList("alice", "?includeRevoked=true")
	if d := cmp.Diff(first, again.Results[0]); d != "" {
		t.Errorf("revoking again changed the revocation (-first +again):\n%s", d)
	}

	// All of alice's, on v2 as the SDK sends it.
	req := httptest.NewRequest("DELETE", "/api/atlas/v2/groups/"+e.boot.ProjectID+"/databaseUsers/alice/certs?reason=affiliationChanged", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("v2 revoke all: %d %s", rec.Code, rec.Body.String())
	}
	page, _ = e.certList("alice", "")
	if len(page.Results) != 0 || *page.TotalCount != 0 {
		t.Errorf("default list after revoking all: %+v", page)
	}
	page, _ = e.certList("alice", "?includeRevoked=true")
	var reasons []string
	for _, c := range page.Results {
		reasons = append(reasons, c.RevocationReason)
	}
	if d := cmp.Diff([]string{"keyCompromise", "affiliationChanged", "affiliationChanged"}, reasons); d != "" {
		t.Errorf("reasons after revoking all (-want +got):\n%s", d)
	}
	// Revoking all again, and a user without certificates: 204.
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs", "")
	e.createUser(scramUserBody("carol"))
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/carol/certs", "")

	// Bob's certificate is untouched; the CRL lists alice's three.
	page, _ = e.certList("bob", "")
	if d := cmp.Diff([]string{b1}, serials(page)); d != "" {
		t.Errorf("bob's list (-want +got):\n%s", d)
	}
	crls := e.crls()
	if len(crls) != 1 {
		t.Fatalf("%d CRLs, want 1", len(crls))
	}
	got := map[string]int{}
	for _, entry := range crls[0].RevokedCertificateEntries {
		got[entry.SerialNumber.String()] = entry.ReasonCode
	}
	if d := cmp.Diff(map[string]int{a1: 1, a2: 3, a3: 3}, got); d != "" {
		t.Errorf("CRL entries, serial → reason (-want +got):\n%s", d)
	}

	// Under envelope the status travels in the body.
	rec = e.do("DELETE", g+"/databaseUsers/bob/certs/"+b1+"?envelope=true", "")
	if rec.Code != http.StatusOK || compact(t, rec.Body.Bytes()) != `{"content":null,"status":204}` {
		t.Errorf("enveloped revocation: %d %s", rec.Code, rec.Body.String())
	}
}

// TestDeleteUserRevokes: deleting a user revokes its unexpired
// certificates (cessationOfOperation); a new user of the same name starts
// with none, and cannot revoke the old ones.
func TestDeleteUserRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	a1, a2 := e.issueSerial("alice"), e.issueSerial("alice")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+a1+"?reason=keyCompromise", "")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/$external/alice", "")

	got := map[string]int{}
	for _, entry := range e.crls()[0].RevokedCertificateEntries {
		got[entry.SerialNumber.String()] = entry.ReasonCode
	}
	if d := cmp.Diff(map[string]int{a1: 1, a2: 5}, got); d != "" {
		t.Errorf("CRL after deleting the user, serial → reason (-want +got):\n%s", d)
	}

	e.createUser(managedUserBody("alice"))
	for _, q := range []string{"", "?includeRevoked=true"} {
		if page, _ := e.certList("alice", q); len(page.Results) != 0 || *page.TotalCount != 0 {
			t.Errorf("list%s of a re-created user: %+v", q, page)
		}
	}
	rec := e.do("DELETE", g+"/databaseUsers/alice/certs/"+a2, "")
	if rec.Code != http.StatusNotFound || apiError(t, rec).ErrorCode != "CERTIFICATE_DOES_NOT_EXIST" {
		t.Errorf("revoking the old user's certificate as the new user: %d %s", rec.Code, rec.Body.String())
	}
	a3 := e.issueSerial("alice")
	if page, _ := e.certList("alice", ""); len(page.Results) != 1 || serials(page)[0] != a3 {
		t.Errorf("list of the re-created user after an issuance: %+v", page)
	}
}

// TestRevokeAllPathOfAUserNamedCerts: DELETE …/databaseUsers/admin/certs is
// Atlas's deleteDatabaseUser when the user "certs" exists in "admin", and
// a revocation of all of user "admin"'s certificates otherwise.
func TestRevokeAllPathOfAUserNamedCerts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	rec := e.do("DELETE", g+"/databaseUsers/admin/certs", "")
	if rec.Code != http.StatusNotFound || apiError(t, rec).ErrorCode != "USERNAME_NOT_FOUND" {
		t.Errorf("without either user: %d %s", rec.Code, rec.Body.String())
	}
	e.createUser(scramUserBody("certs"))
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/admin/certs", "")
	e.mustDo(http.StatusNotFound, "GET", g+"/databaseUsers/admin/certs%2Fx", "")
	if n := e.userCount(); n != 0 {
		t.Errorf("user certs not deleted: %d users", n)
	}
}

// crls fetches the CRL route and parses every CRL in it, in order.
func (e *env) crls() []*x509.RevocationList {
	e.t.Helper()
	body := e.mustDo(http.StatusOK, "GET", e.group()+"/userSecurity/managedX509/crl", "")
	var out []*x509.RevocationList
	for rest := body; len(rest) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "X509 CRL" {
			e.t.Fatalf("CRL route: not a sequence of X509 CRL blocks: %q", body)
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, crl)
	}
	return out
}
