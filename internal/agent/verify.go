package agent

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// parseCABundle parses a PEM bundle of CA certificates. It refuses an empty
// bundle, a block of another type, text outside the blocks, and a
// certificate that is not a CA allowed to sign CRLs: mongod would load none
// of them usefully.
func parseCABundle(data []byte) ([]*x509.Certificate, error) {
	var cas []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA bundle holds a %q PEM block, want only CERTIFICATE", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle certificate %d: %w", len(cas)+1, err)
		}
		if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
			return nil, fmt.Errorf("CA bundle certificate %d (%s) is not a CA that signs CRLs", len(cas)+1, cert.Subject)
		}
		cas = append(cas, cert)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("CA bundle has data that is not PEM")
	}
	if len(cas) == 0 {
		return nil, errors.New("CA bundle is empty")
	}
	return cas, nil
}

// checkCRLs checks a PEM file of CRLs against the CA bundle that will be
// written with it, as mongod's OpenSSL will see them on this host's clock:
// every CRL parses, is signed by a CA of the bundle, and is current
// (thisUpdate ≤ now < nextUpdate); and every CA of the bundle has a CRL, so
// that a verifier checking CRLs does not refuse that CA's certificates for
// want of one.
func checkCRLs(data []byte, cas []*x509.Certificate, now time.Time) error {
	covered := make([]bool, len(cas))
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "X509 CRL" {
			return fmt.Errorf("CRL file holds a %q PEM block, want only X509 CRL", block.Type)
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return fmt.Errorf("CRL %d: %w", n, err)
		}
		i := signerOf(crl, cas)
		if i < 0 {
			return fmt.Errorf("CRL %d (issuer %s) is signed by no CA of the bundle", n, crl.Issuer)
		}
		covered[i] = true
		if now.Before(crl.ThisUpdate) {
			return fmt.Errorf("CRL %d (issuer %s) is not valid before %s (this host's clock says %s)",
				n, crl.Issuer, crl.ThisUpdate.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if crl.NextUpdate.IsZero() || !now.Before(crl.NextUpdate) {
			return fmt.Errorf("CRL %d (issuer %s) expired at its nextUpdate %s", n, crl.Issuer, crl.NextUpdate.Format(time.RFC3339))
		}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return errors.New("CRL file has data that is not PEM")
	}
	for i, ok := range covered {
		if !ok {
			return fmt.Errorf("CA %d of the bundle (%s) has no CRL", i+1, cas[i].Subject)
		}
	}
	return nil
}

// signerOf returns the index of the CA that issued and signed crl, or -1.
func signerOf(crl *x509.RevocationList, cas []*x509.Certificate) int {
	for i, ca := range cas {
		if bytes.Equal(crl.RawIssuer, ca.RawSubject) && crl.CheckSignatureFrom(ca) == nil {
			return i
		}
	}
	return -1
}
