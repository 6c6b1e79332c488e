package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// advance moves the clock by d and gives e a token of an organization owner
// valid at the new time (tokens and secrets expire with the clock).
func (e *env) advance(c *testkit.Clock, d time.Duration) {
	e.t.Helper()
	c.Add(d)
	ctx := context.Background()
	now := c.Now()
	id, secret := "mdb_sa_id_"+atlasx509.NewID(now), "mdb_sa_sk_"+atlasx509.NewID(now)
	sum := sha256.Sum256([]byte(secret))
	err := e.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertServiceAccount(ctx, atlasx509.ServiceAccount{ClientID: id, OrgID: e.boot.OrgID, Name: "t", Created: now}); err != nil {
			return err
		}
		if err := tx.InsertServiceAccountSecret(ctx, atlasx509.ServiceAccountSecret{ID: atlasx509.NewID(now), ClientID: id, Hash: sum[:], ExpiresAt: now.Add(time.Hour), Created: now}); err != nil {
			return err
		}
		return tx.InsertRoleAssignment(ctx, atlasx509.RoleAssignment{PrincipalID: id, PrincipalKind: atlasx509.PrincipalServiceAccount, OrgID: e.boot.OrgID, Role: atlasx509.RoleOrgOwner})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.app.IssueToken(ctx, id, secret)
	if err != nil {
		e.t.Fatal(err)
	}
	e.token = tok.AccessToken
}

// newClockEnv is an env on a settable clock, with CRLs valid for validity.
func newClockEnv(t *testing.T, validity time.Duration) (*env, *testkit.Clock) {
	c := testkit.NewClock()
	e := newEnvWith(t, func(cfg *app.Config) { cfg.Now, cfg.CRLValidity = c.Now, validity })
	return e, c
}

// cas fetches the CA route and parses its certificates, in order.
func (e *env) cas() []*x509.Certificate {
	e.t.Helper()
	body := e.mustDo(http.StatusOK, "GET", e.group()+"/userSecurity/managedX509/ca", "")
	var out []*x509.Certificate
	for rest := body; len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			e.t.Fatalf("CA route: %q", body)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// checkCRLs checks that the CRL route holds one CRL per CA of the CA route,
// in the same order, each a v2 CRL signed by its CA with its authority key
// identifier, current at now and valid for validity, and returns them.
func checkCRLs(t *testing.T, e *env, now time.Time, validity time.Duration) []*x509.RevocationList {
	t.Helper()
	cas, crls := e.cas(), e.crls()
	if len(crls) != len(cas) || len(cas) == 0 {
		t.Fatalf("%d CRLs for %d CAs", len(crls), len(cas))
	}
	for i, crl := range crls {
		if err := crl.CheckSignatureFrom(cas[i]); err != nil {
			t.Errorf("CRL %d does not verify against CA %d: %v", i, i, err)
		}
		if !bytes.Equal(crl.AuthorityKeyId, cas[i].SubjectKeyId) || len(crl.AuthorityKeyId) == 0 {
			t.Errorf("CRL %d: authority key identifier %x, CA subject key identifier %x", i, crl.AuthorityKeyId, cas[i].SubjectKeyId)
		}
		if !bytes.Equal(crl.RawIssuer, cas[i].RawSubject) {
			t.Errorf("CRL %d: issuer %s, CA %s", i, crl.Issuer, cas[i].Subject)
		}
		if crl.ThisUpdate.After(now) || !crl.NextUpdate.After(now) || crl.NextUpdate.Sub(crl.ThisUpdate) != validity {
			t.Errorf("CRL %d: thisUpdate %v nextUpdate %v at %v, want a validity of %v", i, crl.ThisUpdate, crl.NextUpdate, now, validity)
		}
		if crl.Number == nil || crl.Number.Sign() <= 0 {
			t.Errorf("CRL %d: number %v", i, crl.Number)
		}
		// A v2 CRL: TBSCertList starts with version INTEGER 1.
		if !bytes.Contains(crl.RawTBSRevocationList[:8], []byte{0x02, 0x01, 0x01}) {
			t.Errorf("CRL %d is not v2: %x", i, crl.RawTBSRevocationList[:8])
		}
	}
	return crls
}

func crlSerials(crl *x509.RevocationList) []string {
	out := []string{}
	for _, e := range crl.RevokedCertificateEntries {
		out = append(out, e.SerialNumber.String())
	}
	return out
}

var etagRE = regexp.MustCompile(`^"[0-9a-f]{64}"$`)

// TestCRLRoute: the CRL route on a project without a CA creates it as the
// CA route does; a CRL is stored and served again until a revocation or
// half its validity; ETag and 304.
func TestCRLRoute(t *testing.T) {
	t.Parallel()
	const validity = 48 * time.Hour
	e, clock := newClockEnv(t, validity)
	g := e.group()

	rec := e.do("GET", g+"/userSecurity/managedX509/crl", "")
	etag := rec.Header().Get("ETag")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-pem-file" || !etagRE.MatchString(etag) {
		t.Fatalf("first CRL: %d %q %q %s", rec.Code, rec.Header().Get("Content-Type"), etag, rec.Body.String())
	}
	crls := checkCRLs(t, e, clock.Now(), validity)
	if len(crls[0].RevokedCertificateEntries) != 0 {
		t.Errorf("CRL of a new project lists %v", crlSerials(crls[0]))
	}
	first := crls[0].Number

	// Served again as stored, and 304 on a matching If-None-Match.
	for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
		req := newRequest(e, "GET", g+"/userSecurity/managedX509/crl")
		req.Header.Set("If-None-Match", inm)
		rec := e.serve(req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q, ETag %q", inm, rec.Code, rec.Body.String(), rec.Header().Get("ETag"))
		}
	}
	req := newRequest(e, "GET", g+"/userSecurity/managedX509/crl")
	req.Header.Set("If-None-Match", `"0000"`)
	if rec := e.serve(req); rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match of another body: %d, ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
	// (thisUpdate is backdated, and half the validity counts from it.)
	e.advance(clock, validity/2-app.CRLBackdate-time.Second)
	if crls := checkCRLs(t, e, clock.Now(), validity); crls[0].Number.Cmp(first) != 0 {
		t.Errorf("CRL signed anew before half its validity: number %v, then %v", first, crls[0].Number)
	}

	// A revocation: a new CRL at once, listing it.
	e.createUser(managedUserBody("alice"))
	a1, a2 := e.issueSerial("alice"), e.issueSerial("alice")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+a1+"?reason=keyCompromise", "")
	crls = checkCRLs(t, e, clock.Now(), validity)
	if d := cmp.Diff([]string{a1}, crlSerials(crls[0])); d != "" || crls[0].Number.Cmp(first) <= 0 {
		t.Errorf("CRL after a revocation: number %v (before %v), serials (-want +got):\n%s", crls[0].Number, first, d)
	}
	entry := crls[0].RevokedCertificateEntries[0]
	if entry.ReasonCode != 1 || entry.RevocationTime.After(crls[0].ThisUpdate) || clock.Now().Sub(entry.RevocationTime) > app.CRLBackdate+time.Second {
		t.Errorf("entry %+v at %v", entry, clock.Now())
	}
	afterRevocation := crls[0].Number
	if rec := e.do("GET", g+"/userSecurity/managedX509/crl", ""); rec.Header().Get("ETag") == etag {
		t.Errorf("the ETag did not change with the CRL")
	}

	// Half the validity passes: signed anew, with a greater number.
	e.advance(clock, validity/2)
	crls = checkCRLs(t, e, clock.Now(), validity)
	if crls[0].Number.Cmp(afterRevocation) <= 0 || !crls[0].ThisUpdate.Equal(clock.Now().Add(-app.CRLBackdate).Truncate(time.Second)) {
		t.Errorf("after half the validity: number %v (before %v), thisUpdate %v", crls[0].Number, afterRevocation, crls[0].ThisUpdate)
	}

	// Once the revoked certificate has expired (one month), it leaves the CRL.
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+a2, "")
	e.advance(clock, 32*24*time.Hour)
	crls = checkCRLs(t, e, clock.Now(), validity)
	if len(crls[0].RevokedCertificateEntries) != 0 {
		t.Errorf("expired certificates still listed: %v", crlSerials(crls[0]))
	}
	// Under envelope the PEM is the JSON string "content".
	if rec := e.do("GET", g+"/userSecurity/managedX509/crl?envelope=true", ""); rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"content":"-----BEGIN X509 CRL-----\n`)) {
		t.Errorf("enveloped CRL: %d %s", rec.Code, rec.Body.String())
	}
}

// TestCRLGenerations: with two CA generations, both routes list both, in
// the same order, and each CRL is its CA's; a revocation re-signs only the
// CRL of the CA that signed the certificate; an older CA leaves both once
// nothing it signed is valid.
func TestCRLGenerations(t *testing.T) {
	t.Parallel()
	const validity = 24 * time.Hour
	e, clock := newClockEnv(t, validity)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	ca1 := e.cas()[0]
	// Close to the end of the first CA, a short certificate still fits in
	// it, a long one needs a second generation.
	e.advance(clock, ca1.NotAfter.Sub(clock.Now())-300*24*time.Hour)
	short, _ := e.issue("alice", 1)
	e.issue("alice", 1) // keeps the first CA listed once short is revoked
	long, _ := e.issue("alice", 24)
	cas := e.cas()
	if len(cas) != 2 || !bytes.Equal(cas[1].Raw, ca1.Raw) {
		t.Fatalf("CA route after a second generation: %d CAs", len(cas))
	}
	if !bytes.Equal(short.AuthorityKeyId, cas[1].SubjectKeyId) || !bytes.Equal(long.AuthorityKeyId, cas[0].SubjectKeyId) {
		t.Fatalf("certificates not from the expected CAs")
	}
	for _, tc := range []struct {
		cert          *x509.Certificate
		moved, stayed int // indexes in the routes' order
	}{{long, 0, 1}, {short, 1, 0}} {
		before := checkCRLs(t, e, clock.Now(), validity)
		e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+tc.cert.SerialNumber.String(), "")
		after := checkCRLs(t, e, clock.Now(), validity)
		if !bytes.Equal(after[tc.stayed].Raw, before[tc.stayed].Raw) {
			t.Errorf("revoking serial %v changed CRL %d", tc.cert.SerialNumber, tc.stayed)
		}
		if after[tc.moved].Number.Cmp(before[tc.moved].Number) <= 0 ||
			cmp.Diff([]string{tc.cert.SerialNumber.String()}, crlSerials(after[tc.moved])) != "" {
			t.Errorf("CRL %d after revoking serial %v: number %v (before %v), %v", tc.moved, tc.cert.SerialNumber,
				after[tc.moved].Number, before[tc.moved].Number, crlSerials(after[tc.moved]))
		}
	}
	// Once the first CA's last certificate has expired, both routes drop it.
	e.advance(clock, 32*24*time.Hour)
	if crls := checkCRLs(t, e, clock.Now(), validity); len(crls) != 1 {
		t.Errorf("%d CRLs after the first CA's certificates expired, want 1", len(crls))
	}
}

// newRequest is a request of the bootstrap service account.
func newRequest(e *env, method, path string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	return req
}

// serve serves req through the handler.
func (e *env) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}
