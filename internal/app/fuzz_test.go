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

// FuzzCustomerCAs fuzzes the parsing of the customer CA bundle of
// self-managed X.509 (PATCH …/userSecurity): a refusal is a client error
// (400), and a bundle accepted is re-encoded to canonical PEM of CA
// certificates that is itself accepted unchanged.
func FuzzCustomerCAs(f *testing.F) {
	ca := fuzzCert(f, "Root", true, fuzzCANow.AddDate(1, 0, 0))
	for _, s := range []string{ca, ca + "\r\n" + ca, "  \n" + ca + "\n\n", fuzzCert(f, "Leaf", false, fuzzCANow.AddDate(1, 0, 0)),
		fuzzCert(f, "Old", true, fuzzCANow), strings.Replace(ca, "CERTIFICATE", "PRIVATE KEY", 2), ca + "trailing", "", " ",
		"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"} {
		f.Add(s)
	}
	a := &App{now: func() time.Time { return fuzzCANow }}
	f.Fuzz(func(t *testing.T, cas string) {
		out, err := a.checkCustomerCAs(cas)
		if err != nil {
			var e *atlasx509.Error
			if !errors.As(err, &e) || e.Kind != atlasx509.KindInvalid || e.Code == "" {
				t.Fatalf("checkCustomerCAs: %v is not a client error", err)
			}
			return
		}
		if out == "" {
			if strings.TrimSpace(cas) != "" {
				t.Fatalf("accepted %q as no bundle", cas)
			}
			return
		}
		again, err := a.checkCustomerCAs(out)
		if err != nil || again != out {
			t.Fatalf("re-encoded bundle %q: %q, %v", out, again, err)
		}
		n := 0
		for rest := []byte(out); ; n++ {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil || !c.IsCA {
				t.Fatalf("accepted a certificate that is not a CA: %v", err)
			}
		}
		if n == 0 || n > maxCustomerCAs {
			t.Fatalf("accepted %d certificates", n)
		}
	})
}
