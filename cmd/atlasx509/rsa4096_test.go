package main

import (
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

// TestDefaultLeafKey is the one test that runs the binary's own key source:
// leaf keys are RSA 4096, generated inline, returned as unencrypted PKCS#8.
func TestDefaultLeafKey(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an RSA 4096 key (seconds under -race); skipped with -short")
	}
	t.Parallel()
	s := startServer(t, serverOptions{defaultKeys: true})
	c := s.digestClient()
	gid := s.Bootstrap.ProjectID
	createManagedUser(t, c, s.URL, gid, "user389")
	before := time.Now()
	r := do(t, c, "POST", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/user389/certs", `{"monthsUntilExpiration":3}`)
	after := time.Now()
	mustStatus(t, r, http.StatusCreated, "issue with the default key source")
	is := parseCertAndKey(t, r.Body) // checks the PRIVATE KEY (PKCS#8) block and that it matches
	key, ok := is.Key.(*rsa.PrivateKey)
	if !ok || key.N.BitLen() != 4096 {
		t.Fatalf("leaf key %T, want RSA 4096", is.Key)
	}
	if _, err := x509.ParsePKCS1PrivateKey(is.KeyBlock); err == nil {
		t.Error("the key block parses as PKCS#1; want PKCS#8")
	}
	if err := key.Validate(); err != nil {
		t.Errorf("RSA key: %v", err)
	}
	roots := x509.NewCertPool()
	for _, ca := range parseCAs(t, fetchCAPEM(t, c, s.URL, gid)) {
		roots.AddCert(ca)
	}
	checkLeaf(t, is, "user389", 3, before, after, roots)
	requireLintClean(t, "RSA 4096 leaf", is.Cert.Raw, nil)
	if n := len(r.Body); n < 4500 || n > 5600 {
		t.Errorf("answer is %d bytes; Atlas's RSA 4096 answer is about 5073", n)
	}
}
