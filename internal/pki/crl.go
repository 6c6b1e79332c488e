package pki

import (
	"cmp"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"
)

// PEMTypeCRL is the PEM block type of a certificate revocation list.
const PEMTypeCRL = "X509 CRL"

// RFC 5280 section 5.3.1 CRLReason codes that the revocation API accepts.
// The others (cACompromise, certificateHold, removeFromCRL,
// privilegeWithdrawn, aACompromise) have no meaning for a project CA's
// client certificates.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
)

// reasonNames maps each accepted reason code to its API name, the RFC 5280
// ASN.1 identifier.
var reasonNames = map[int]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
}

// ErrRevocationReason reports a revocation reason that is not one of the
// accepted names or codes. The caller maps it to a 400.
var ErrRevocationReason = errors.New("pki: revocation reason must be one of unspecified, keyCompromise, " +
	"affiliationChanged, superseded, cessationOfOperation")

// ParseRevocationReason returns the RFC 5280 reason code of an API reason
// name: unspecified (0), keyCompromise (1), affiliationChanged (3),
// superseded (4) or cessationOfOperation (5). The match is exact and
// case-sensitive; anything else, including "", is ErrRevocationReason. The
// caller applies the default (unspecified) when the parameter is absent.
func ParseRevocationReason(name string) (int, error) {
	for code, n := range reasonNames {
		if n == name {
			return code, nil
		}
	}
	return 0, ErrRevocationReason
}

// RevocationReasonName returns the API name of an accepted reason code, and
// "" for any other code.
func RevocationReasonName(code int) string {
	return reasonNames[code]
}

// RevokedCert is one entry of a CRL.
type RevokedCert struct {
	// Serial is the revoked certificate's serial number; it must be positive.
	Serial int64
	// RevokedAt is the revocation time, written at second precision; it
	// must not be after the CRL's ThisUpdate.
	RevokedAt time.Time
	// Reason is an accepted RFC 5280 CRLReason code (see ReasonUnspecified
	// and the following constants); 0, unspecified, emits no reason code
	// extension, as RFC 5280 section 5.3.1 asks.
	Reason int
}

// CRLRequest describes one CRL to sign.
type CRLRequest struct {
	// Number is the CRL number: non-negative, at most 20 octets, and
	// growing with every CRL the CA signs (the caller persists it).
	Number *big.Int
	// ThisUpdate and NextUpdate bound the CRL's validity, at second
	// precision. ThisUpdate must not be before any entry's RevokedAt, and
	// NextUpdate must be after ThisUpdate.
	ThisUpdate, NextUpdate time.Time
	// Entries are the revoked certificates, in any order; serials must be
	// unique.
	Entries []RevokedCert
}

// SignCRL signs a v2 CRL with ca: the CA's subject as issuer, an authority
// key identifier from the CA certificate's subject key identifier, the CRL
// number, thisUpdate and nextUpdate, and one entry per revoked certificate
// ordered by serial (so that the same request gives the same content),
// with a reason code extension unless the reason is unspecified. An empty
// Entries omits the revokedCertificates field, as RFC 5280 section 5.1.2.6
// requires. It is signed with the CA's signature algorithm and returned as
// DER. rnd is passed to the signer; nil means crypto/rand.
func (ca *CA) SignCRL(req CRLRequest, rnd io.Reader) ([]byte, error) {
	if ca == nil || ca.Cert == nil || ca.Signer == nil {
		return nil, errors.New("pki: SignCRL needs a CA certificate and signer")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := checkCRLRequest(req); err != nil {
		return nil, err
	}
	entries := slices.Clone(req.Entries)
	slices.SortFunc(entries, func(a, b RevokedCert) int { return cmp.Compare(a.Serial, b.Serial) })
	revoked := make([]x509.RevocationListEntry, len(entries))
	for i, e := range entries {
		if i > 0 && entries[i-1].Serial == e.Serial {
			return nil, fmt.Errorf("pki: CRL lists serial %d twice", e.Serial)
		}
		revoked[i] = x509.RevocationListEntry{
			SerialNumber:   big.NewInt(e.Serial),
			RevocationTime: e.RevokedAt.UTC().Truncate(time.Second),
			ReasonCode:     e.Reason,
		}
	}
	der, err := x509.CreateRevocationList(rnd, &x509.RevocationList{
		SignatureAlgorithm:        ca.Cert.SignatureAlgorithm,
		RevokedCertificateEntries: revoked,
		Number:                    req.Number,
		ThisUpdate:                req.ThisUpdate.UTC().Truncate(time.Second),
		NextUpdate:                req.NextUpdate.UTC().Truncate(time.Second),
	}, ca.Cert, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("pki: sign CRL: %w", err)
	}
	return der, nil
}

// checkCRLRequest refuses a request that would make a CRL RFC 5280 forbids
// or a verifier misreads.
func checkCRLRequest(req CRLRequest) error {
	if req.Number == nil || req.Number.Sign() < 0 {
		return errors.New("pki: CRL number must be non-negative")
	}
	if req.ThisUpdate.IsZero() || !req.NextUpdate.Truncate(time.Second).After(req.ThisUpdate.Truncate(time.Second)) {
		return errors.New("pki: CRL nextUpdate must be after a non-zero thisUpdate")
	}
	for _, e := range req.Entries {
		if e.Serial <= 0 {
			return fmt.Errorf("pki: CRL entry serial %d: %w", e.Serial, ErrSerial)
		}
		if _, ok := reasonNames[e.Reason]; !ok {
			return fmt.Errorf("pki: CRL entry serial %d reason %d: %w", e.Serial, e.Reason, ErrRevocationReason)
		}
		if e.RevokedAt.IsZero() || e.RevokedAt.Truncate(time.Second).After(req.ThisUpdate.Truncate(time.Second)) {
			return fmt.Errorf("pki: CRL entry serial %d: revocation time %s is zero or after thisUpdate %s",
				e.Serial, e.RevokedAt.UTC().Format(time.RFC3339), req.ThisUpdate.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// CRLPEM encodes one CRL DER as an "X509 CRL" PEM block.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeCRL, Bytes: der})
}
