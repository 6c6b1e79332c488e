package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
)

// fuzzCANow is the clock of FuzzCustomerCAs.
var fuzzCANow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func fuzzCert(tb testing.TB, cn string, isCA bool, notAfter time.Time) string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.AddDate(-2, 0, 0), NotAfter: notAfter, BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// fuzzCRL returns a PEM CRL that ca (made by fuzzSignedCA) signs with
// key, valid until nextUpdate.
func fuzzCRL(tb testing.TB, ca *x509.Certificate, key *ecdsa.PrivateKey, nextUpdate time.Time) string {
	tb.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: nextUpdate.AddDate(0, -1, 0), NextUpdate: nextUpdate}, ca, key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
}

// fuzzSignedCA returns a CA that can sign CRLs, as PEM, certificate and key.
func fuzzSignedCA(tb testing.TB, cn string) (string, *x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: fuzzCANow.AddDate(-1, 0, 0), NotAfter: fuzzCANow.AddDate(2, 0, 0), BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), c, key
}

// FuzzCustomerCAs fuzzes the parsing of the customer CA bundle of
// self-managed X.509 (PATCH …/userSecurity) and of its CRLs
// (customerX509.crls, an extension), checked against the bundle accepted:
// a refusal is a client error (400), and what is accepted is re-encoded to
// canonical PEM (CA certificates; CRLs one of them signed, not past their
// nextUpdate) that is itself accepted unchanged.
func FuzzCustomerCAs(f *testing.F) {
	ca := fuzzCert(f, "Root", true, fuzzCANow.AddDate(1, 0, 0))
	for _, s := range []string{ca, ca + "\r\n" + ca, "  \n" + ca + "\n\n", fuzzCert(f, "Leaf", false, fuzzCANow.AddDate(1, 0, 0)),
		fuzzCert(f, "Old", true, fuzzCANow), strings.Replace(ca, "CERTIFICATE", "PRIVATE KEY", 2), ca + "trailing", "", " ",
		"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"} {
		f.Add(s, "")
	}
	signing, signingCert, signingKey := fuzzSignedCA(f, "CRL Root")
	_, otherCert, otherKey := fuzzSignedCA(f, "Other Root")
	crl := fuzzCRL(f, signingCert, signingKey, fuzzCANow.AddDate(0, 0, 7))
	for _, crls := range []string{crl, crl + crl, " \n" + crl + "\n", fuzzCRL(f, signingCert, signingKey, fuzzCANow),
		fuzzCRL(f, otherCert, otherKey, fuzzCANow.AddDate(0, 0, 7)), strings.ReplaceAll(crl, "X509 CRL", "CERTIFICATE"),
		crl + "trailing", " ", "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"} {
		f.Add(signing, crls)
		f.Add(signing+ca, crls)
	}
	f.Add("", crl)
	a := &App{now: func() time.Time { return fuzzCANow }}
	clientError := func(t *testing.T, what string, err error) {
		var e *atlasx509.Error
		if !errors.As(err, &e) || e.Kind != atlasx509.KindInvalid || e.Code == "" {
			t.Fatalf("%s: %v is not a client error", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, cas, crls string) {
		out, err := a.checkCustomerCAs(cas)
		if err != nil {
			clientError(t, "checkCustomerCAs", err)
			return
		}
		if out == "" {
			if strings.TrimSpace(cas) != "" {
				t.Fatalf("accepted %q as no bundle", cas)
			}
		} else {
			again, err := a.checkCustomerCAs(out)
			if err != nil || again != out {
				t.Fatalf("re-encoded bundle %q: %q, %v", out, again, err)
			}
		}
		var authorities []*x509.Certificate
		for rest := []byte(out); ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil || !c.IsCA {
				t.Fatalf("accepted a certificate that is not a CA: %v", err)
			}
			authorities = append(authorities, c)
		}
		if out != "" && (len(authorities) == 0 || len(authorities) > maxCustomerCAs) {
			t.Fatalf("accepted %d certificates", len(authorities))
		}

		gotCRLs, err := checkCustomerCRLs(crls, out, fuzzCANow)
		if err != nil {
			clientError(t, "checkCustomerCRLs", err)
			return
		}
		if gotCRLs == "" {
			if strings.TrimSpace(crls) != "" {
				t.Fatalf("accepted %q as no CRLs", crls)
			}
			return
		}
		if again, err := checkCustomerCRLs(gotCRLs, out, fuzzCANow); err != nil || again != gotCRLs {
			t.Fatalf("re-encoded CRLs %q: %q, %v", gotCRLs, again, err)
		}
		n := 0
		for rest := []byte(gotCRLs); ; n++ {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			c, err := x509.ParseRevocationList(b.Bytes)
			if err != nil || b.Type != "X509 CRL" {
				t.Fatalf("accepted a block that is not a CRL: %s %v", b.Type, err)
			}
			if signer(c, authorities) == nil {
				t.Fatalf("accepted a CRL that no CA of the bundle signed")
			}
			if !c.NextUpdate.IsZero() && !fuzzCANow.Before(c.NextUpdate) {
				t.Fatalf("accepted a CRL past its nextUpdate %v", c.NextUpdate)
			}
		}
		if n == 0 || n > maxCustomerCAs {
			t.Fatalf("accepted %d CRLs", n)
		}
	})
}
