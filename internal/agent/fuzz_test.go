package agent

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

// FuzzTrustFiles fuzzes what the agent accepts from the server before it
// writes mongod's files: the CA bundle and the CRLs. Neither parser may
// panic; a bundle accepted holds only CAs that sign CRLs; CRLs accepted
// are PEM X509 CRL blocks only, and cover every CA of the bundle.
func FuzzTrustFiles(f *testing.F) {
	ca1, ca2 := newCA(f), newCA(f)
	f.Add(caPEM(ca1), currentCRL(f, ca1, 1))
	f.Add(caPEM(ca1, ca2), append(currentCRL(f, ca2, 2, 7), currentCRL(f, ca1, 3)...))
	f.Add(caPEM(ca1), crl(f, ca1, 4, now.Add(time.Hour), now.Add(2*time.Hour)))
	f.Add(caPEM(ca1), crl(f, ca2, 5, now.Add(-time.Hour), now.Add(time.Hour)))
	f.Add(caPEM(ca1), []byte(nil))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"), []byte("junk"))
	f.Fuzz(func(t *testing.T, bundle, crls []byte) {
		cas, err := parseCABundle(bundle)
		if err != nil {
			if cas != nil {
				t.Fatalf("error %v with %d CAs", err, len(cas))
			}
			cas = []*x509.Certificate{ca1.Cert}
		} else {
			for _, c := range cas {
				if !c.IsCA || c.KeyUsage&x509.KeyUsageCRLSign == 0 {
					t.Fatalf("accepted %s, not a CA that signs CRLs", c.Subject)
				}
			}
		}
		if err := checkCRLs(crls, cas, now); err != nil {
			return
		}
		rest, n := crls, 0
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type != "X509 CRL" {
				t.Fatalf("accepted a %q block", b.Type)
			}
			n++
		}
		if n < len(cas) || len(bytes.TrimSpace(rest)) != 0 {
			t.Fatalf("accepted %d CRLs for %d CAs, %d bytes left", n, len(cas), len(rest))
		}
	})
}
