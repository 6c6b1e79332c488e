package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sync"
	"testing"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// checkRotationAcrossReplicas rotates the project CA on several replicas
// at once while they issue certificates, and checks that every rotation
// answers 200, that the replicas' CA routes agree with each other and with
// the managed X.509 document, that every certificate answered before,
// during or after the rotations verifies against that CA route (a mongod
// following it refuses none), and that one issued afterwards comes from
// the active CA. users are managed users of the project.
func checkRotationAcrossReplicas(t *testing.T, c *replicaClient, rs []*replica, g string, users []string) {
	t.Helper()
	var (
		mu    sync.Mutex
		certs []*x509.Certificate
		wg    sync.WaitGroup
	)
	issue := func(r *replica, user string) *x509.Certificate {
		st, body := c.do(r, "POST", g+"/databaseUsers/"+user+"/certs", `{"monthsUntilExpiration":1}`)
		if st != 201 {
			t.Errorf("issuance on %s: %d %s", r.base, st, body)
			return nil
		}
		block, _ := pem.Decode([]byte(body))
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Errorf("answer is not a certificate: %v", err)
			return nil
		}
		mu.Lock()
		certs = append(certs, cert)
		mu.Unlock()
		return cert
	}
	issue(rs[0], users[0])
	for i := range 3 * len(rs) {
		r := rs[i%len(rs)]
		wg.Add(2)
		go func() {
			defer wg.Done()
			if st, body := c.do(r, "POST", g+"/userSecurity/managedX509/ca:rotate", ""); st != 200 {
				t.Errorf("rotation on %s: %d %s", r.base, st, body)
			}
		}()
		go func() {
			defer wg.Done()
			issue(r, users[i%len(users)])
		}()
	}
	wg.Wait()
	after := issue(rs[len(rs)-1], users[0])

	var first []byte
	for _, r := range rs {
		st, body := c.do(r, "GET", g+"/userSecurity/managedX509/ca", "")
		if st != 200 {
			t.Fatalf("CA route on %s: %d %s", r.base, st, body)
		}
		if first == nil {
			first = []byte(body)
		} else if body != string(first) {
			t.Errorf("the CA routes of two replicas differ after the rotations")
		}
	}
	pool := x509.NewCertPool()
	var cas []*x509.Certificate
	for rest := first; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		cas = append(cas, ca)
		pool.AddCert(ca)
	}
	for _, cert := range certs {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("certificate %s does not verify against the CA route after the rotations: %v", cert.SerialNumber, err)
		}
	}
	if after != nil && !bytes.Equal(after.AuthorityKeyId, cas[0].SubjectKeyId) {
		t.Error("a certificate issued after the rotations is not from the active CA")
	}
	st, body := c.do(rs[0], "GET", g+"/userSecurity/managedX509", "")
	var doc atlasapi.ManagedX509
	if err := json.Unmarshal([]byte(body), &doc); st != 200 || err != nil || len(doc.Cas) != len(cas) {
		t.Fatalf("managed X.509 document: %d %v: %s (CA route holds %d)", st, err, body, len(cas))
	}
	for i, ca := range doc.Cas {
		if want := fmt.Sprintf("%x", sha256.Sum256(cas[i].Raw)); ca.Sha256Fingerprint != want || ca.Active != (i == 0) {
			t.Errorf("document's CA %d %+v is not the CA route's (fingerprint %s)", i, ca, want)
		}
	}
	t.Logf("after %d concurrent rotations: generation %d active, %d generations listed", 3*len(rs), doc.Cas[0].Generation, len(doc.Cas))
}
