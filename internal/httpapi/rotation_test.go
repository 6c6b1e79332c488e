package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// rotatePath is the rotation route of a project path g.
const rotatePath = "/userSecurity/managedX509/ca:rotate"

// managedDoc decodes a managed X.509 document.
func managedDoc(tb testing.TB, body []byte) atlasapi.ManagedX509 {
	tb.Helper()
	var doc atlasapi.ManagedX509
	if err := json.Unmarshal(body, &doc); err != nil {
		tb.Fatalf("managed X.509 document: %v: %s", err, body)
	}
	return doc
}

// caSummary is what a test compares of a document's generation: all but
// the times.
type caSummary struct {
	Generation, Unexpired int
	Active                bool
	Fingerprint           string
}

func summarize(doc atlasapi.ManagedX509) []caSummary {
	out := []caSummary{}
	for _, ca := range doc.Cas {
		if !timeRE.MatchString(ca.NotBefore) || !timeRE.MatchString(ca.NotAfter) {
			panic("managed X.509 document times not in Atlas's format: " + ca.NotBefore + " " + ca.NotAfter)
		}
		out = append(out, caSummary{ca.Generation, ca.UnexpiredCertificates, ca.Active, ca.Sha256Fingerprint})
	}
	return out
}

// caRoute fetches the CA route of the bootstrap project and parses it, in order.
func (e *env) caRoute() ([]*x509.Certificate, []byte) {
	e.t.Helper()
	body := e.mustDo(http.StatusOK, "GET", e.group()+"/userSecurity/managedX509/ca", "")
	var out []*x509.Certificate
	for rest := body; len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			e.t.Fatalf("CA route: not a sequence of CERTIFICATE blocks: %q", body)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out, body
}

// fingerprint is the sha256Fingerprint of a CA certificate.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// verifies reports whether leaf chains to one of cas as a client certificate.
func verifies(leaf *x509.Certificate, cas ...*x509.Certificate) bool {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

// checkRoutesAgree checks that the CA route, the CRL route and the document
// list the same generations in the same order: the document's
// fingerprints are the CA route's certificates, and the i-th CRL is
// signed by the i-th CA and names it by its authority key identifier. It
// returns the CA route's certificates.
func (e *env) checkRoutesAgree(what string, want []caSummary) []*x509.Certificate {
	e.t.Helper()
	doc := managedDoc(e.t, e.mustDo(http.StatusOK, "GET", e.group()+"/userSecurity/managedX509", ""))
	got := summarize(doc)
	cas, _ := e.caRoute()
	crls := e.crls()
	if len(cas) != len(want) || len(crls) != len(want) {
		e.t.Fatalf("%s: CA route holds %d CAs, CRL route %d CRLs; want %d of each", what, len(cas), len(crls), len(want))
	}
	for i := range want {
		want[i].Fingerprint = fingerprint(cas[i])
		if err := crls[i].CheckSignatureFrom(cas[i]); err != nil {
			e.t.Errorf("%s: CRL %d is not signed by CA %d: %v", what, i, i, err)
		}
		if !bytes.Equal(crls[i].AuthorityKeyId, cas[i].SubjectKeyId) {
			e.t.Errorf("%s: CRL %d names another CA than CA %d", what, i, i)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		e.t.Errorf("%s: document's CAs (-want +got):\n%s", what, d)
	}
	return cas
}

// TestRotateCA: rotation keeps old certificates valid through the CA route
// and issues new ones from the new CA; the old generation leaves the CA
// route, the CRL route and the document once its last certificate is
// revoked.
func TestRotateCA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	old1, _ := e.issue("alice", 1)
	old2, _ := e.issue("alice", 3)
	before := e.checkRoutesAgree("before rotating", []caSummary{{Generation: 1, Unexpired: 2, Active: true}})

	doc := managedDoc(t, e.mustDo(http.StatusOK, "POST", g+rotatePath, ""))
	cas := e.checkRoutesAgree("after rotating", []caSummary{
		{Generation: 2, Unexpired: 0, Active: true}, {Generation: 1, Unexpired: 2}})
	if d := cmp.Diff(summarize(managedDoc(t, e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509", ""))), summarize(doc)); d != "" {
		t.Errorf("rotation's answer differs from the document (-get +rotate):\n%s", d)
	}
	if !cas[1].Equal(before[0]) || cas[0].Equal(before[0]) {
		t.Fatal("the CA route does not hold the new CA first, then the old one")
	}

	// Old certificates still verify through the CA route; a new one chains
	// to the new CA only.
	for _, c := range []*x509.Certificate{old1, old2} {
		if !verifies(c, cas...) {
			t.Errorf("old certificate %s does not verify against the CA route after rotation", c.SerialNumber)
		}
	}
	fresh, _ := e.issue("alice", 1)
	if !verifies(fresh, cas[0]) || verifies(fresh, cas[1]) || !bytes.Equal(fresh.AuthorityKeyId, cas[0].SubjectKeyId) {
		t.Error("a certificate issued after rotation is not signed by the new CA")
	}
	e.checkRoutesAgree("after issuing", []caSummary{{Generation: 2, Unexpired: 1, Active: true}, {Generation: 1, Unexpired: 2}})

	// Revoking one old certificate keeps the old CA; revoking the last
	// retires it everywhere.
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+old1.SerialNumber.String(), "")
	e.checkRoutesAgree("after revoking one old certificate", []caSummary{{Generation: 2, Unexpired: 1, Active: true}, {Generation: 1, Unexpired: 1}})
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+old2.SerialNumber.String(), "")
	cas = e.checkRoutesAgree("after revoking the last old certificate", []caSummary{{Generation: 2, Unexpired: 1, Active: true}})
	if verifies(old2, cas...) {
		t.Error("the retired CA is still trusted through the CA route")
	}

	// Rotating on v2, as the SDK sends it: the new CA signs, the one
	// before stays for its certificate, the active one is listed without any.
	req := httptest.NewRequest("POST", "/api/atlas/v2/groups/"+e.boot.ProjectID+rotatePath, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/api/atlas/v2/groups/") {
		t.Fatalf("v2 rotation: %d %s", rec.Code, rec.Body.String())
	}
	e.checkRoutesAgree("after a second rotation", []caSummary{{Generation: 3, Unexpired: 0, Active: true}, {Generation: 2, Unexpired: 1}})
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs", "")
	e.checkRoutesAgree("after revoking all", []caSummary{{Generation: 3, Unexpired: 0, Active: true}})
}

// TestRotateCAFirst: a created project lists its first CA at once; rotating
// a project that has no CA yet (one created before projects came with
// their CA) creates its first; the document of such a project lists none.
func TestRotateCAFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fresh := "/api/atlas/v1.0/groups/" + e.createProject("fresh")
	if got := summarize(managedDoc(t, e.mustDo(http.StatusOK, "GET", fresh+"/userSecurity/managedX509", ""))); len(got) != 1 || got[0].Generation != 1 || !got[0].Active {
		t.Errorf("document of a created project: %+v", got)
	}
	legacy := e.secondOrg() // inserted without a CA
	e.token = legacy.token
	p := "/api/atlas/v1.0/groups/" + legacy.projectID
	if got := managedDoc(t, e.mustDo(http.StatusOK, "GET", p+"/userSecurity/managedX509", "")); len(got.Cas) != 0 {
		t.Errorf("document of a project without a CA: %+v", got)
	}
	got := summarize(managedDoc(t, e.mustDo(http.StatusOK, "POST", p+rotatePath, "")))
	if len(got) != 1 || got[0].Generation != 1 || !got[0].Active || got[0].Unexpired != 0 {
		t.Errorf("first rotation: %+v", got)
	}
	// PATCH answers the same document.
	patched := summarize(managedDoc(t, e.mustDo(http.StatusOK, "PATCH", p+"/userSecurity/managedX509", `{"leafKeyType":"ECDSA_P256"}`)))
	if d := cmp.Diff(got, patched); d != "" {
		t.Errorf("PATCH's document (-rotate +patch):\n%s", d)
	}
}

// TestRotateCAErrors: a refused rotation answers an Atlas error and
// changes nothing.
func TestRotateCAErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(managedUserBody("alice"))
	e.issue("alice", 1)
	unknownGroup := "/api/atlas/v1.0/groups/" + strings.Repeat("0", 23) + "1"
	for _, tc := range []struct {
		name, role, path string
		status           int
		code             string
	}{
		{"read-only", "GROUP_READ_ONLY", e.group(), 401, "USER_UNAUTHORIZED"},
		{"database access admin", "GROUP_DATABASE_ACCESS_ADMIN", e.group(), 401, "USER_UNAUTHORIZED"},
		{"unknown group", "", unknownGroup, 404, "GROUP_NOT_FOUND"},
		{"invalid group", "", "/api/atlas/v1.0/groups/xyz", 404, "INVALID_GROUP_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := e.token
			if tc.role != "" {
				token = e.tokenWithRoles(roleOn(e, tc.role))
			}
			before := e.snapshot()
			rec := e.doAs(token, "POST", tc.path+rotatePath, "")
			if rec.Code != tc.status || apiError(t, rec).ErrorCode != tc.code {
				t.Errorf("status %d, want %d %s: %s", rec.Code, tc.status, tc.code, rec.Body.String())
			}
			if after := e.snapshot(); after != before {
				t.Errorf("a refused rotation changed the store: %+v, then %+v", before, after)
			}
		})
	}
	if rec := e.do("GET", e.group()+rotatePath, ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET on the rotation route: %d %s", rec.Code, rec.Body.String())
	}
}

// TestRotateCAOpenSSL: after a rotation, openssl verify -crl_check with the
// CA route as -CAfile and the CRL route as -CRLfile, as a mongod reads
// them, accepts the old and the new certificates and refuses a revoked one
// of either generation.
func TestRotateCAOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openssl is required in CI: %v", err)
		}
		t.Skipf("openssl not found: %v", err)
	}
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(name string) (string, string) {
		c, _ := e.issue("alice", 1)
		return write(name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), c.SerialNumber.String()
	}
	oldKept, _ := leaf("old-kept")
	oldRevoked, oldSerial := leaf("old-revoked")
	e.mustDo(http.StatusOK, "POST", g+rotatePath, "")
	newKept, _ := leaf("new-kept")
	newRevoked, newSerial := leaf("new-revoked")
	for _, s := range []string{oldSerial, newSerial} {
		e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+s+"?reason=keyCompromise", "")
	}
	_, caPEM := e.caRoute()
	caFile := write("ca.pem", caPEM)
	crlFile := write("crl.pem", e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/crl", ""))
	for _, tc := range []struct {
		name, file string
		ok         bool
	}{
		{"old certificate", oldKept, true},
		{"new certificate", newKept, true},
		{"revoked old certificate", oldRevoked, false},
		{"revoked new certificate", newRevoked, false},
	} {
		out, err := exec.Command(openssl, "verify", "-crl_check", "-purpose", "sslclient",
			"-CAfile", caFile, "-CRLfile", crlFile, tc.file).CombinedOutput()
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: openssl refuses it: %v\n%s", tc.name, err, out)
		case !tc.ok && err == nil:
			t.Errorf("%s: openssl accepts it:\n%s", tc.name, out)
		case !tc.ok && !strings.Contains(string(out), "certificate revoked"):
			t.Errorf("%s: openssl refuses it for another reason: %v\n%s", tc.name, err, out)
		}
	}
}
