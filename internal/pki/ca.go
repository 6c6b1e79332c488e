package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
	"unicode/utf8"
)

// CAValidity is the lifetime of a project CA in calendar years, counted
// from its creation with time.AddDate.
const CAValidity = 10

// Backdate is how far before the issue time a certificate becomes valid, as
// Atlas does, so that a client whose clock is a little behind accepts it.
const Backdate = time.Hour

// The organization and unit of every project CA's subject. Atlas's CAs say
// "O=MongoDB Inc"; we do not claim to be MongoDB Inc.
const (
	CAOrganization       = "atlasx509"
	CAOrganizationalUnit = "Atlas"
)

// ErrKeyMismatch reports a CA private key that does not belong to the CA
// certificate it was stored with.
var ErrKeyMismatch = errors.New("pki: CA private key does not match the CA certificate")

var (
	oidCommonName         = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrganizationalUnit = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidOrganization       = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// CA is a project's certificate authority, ready to sign.
type CA struct {
	Cert   *x509.Certificate
	Signer crypto.Signer
}

// NewCA creates the certificate authority of project groupID: an ECDSA P-256
// key and a self-signed certificate valid from now−Backdate to now plus
// CAValidity years. It returns the certificate DER and the private key in
// PKCS#8 DER; the caller seals the key before storing it.
//
// The CA key is ECDSA P-256 because every issued certificate costs one CA
// signature. Measured on the 2-core reference machine (BenchmarkSignOnly,
// BenchmarkSignature), signing a certificate takes about 0.11 ms with a
// P-256 CA, 0.8 ms with RSA 2048 and 6 ms with RSA 4096 (the bare
// signatures: 23 µs, 0.75 ms, 5–7 ms). Leaf keys stay RSA 4096 by default
// as Atlas issues them; TLS stacks accept an ECDSA CA over an RSA leaf.
//
// The subject, which is also the issuer of every leaf, is
// CN=<groupID>, OU=Atlas, O=atlasx509 in this DER order, the order of Atlas's
// issuer. rnd supplies the serial number; nil means crypto/rand.
func NewCA(groupID string, now time.Time, rnd io.Reader) (certDER, keyPKCS8 []byte, err error) {
	if groupID == "" || !utf8.ValidString(groupID) {
		return nil, nil, fmt.Errorf("pki: invalid group id %q for a CA", groupID)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	subject, err := asn1.Marshal(caSubject(groupID))
	if err != nil {
		return nil, nil, fmt.Errorf("pki: CA subject: %w", err)
	}
	serial, err := randomPositive(rnd, 16)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	now = now.Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.AddDate(CAValidity, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          ski,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	certDER, err = x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create CA certificate: %w", err)
	}
	keyPKCS8, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: encode CA key: %w", err)
	}
	return certDER, keyPKCS8, nil
}

// caSubject is the distinguished name of project groupID's CA, one attribute
// per RDN in the order CN, OU, O. pkix.Name would emit O, OU, CN.
func caSubject(groupID string) pkix.RDNSequence {
	return pkix.RDNSequence{
		{{Type: oidCommonName, Value: groupID}},
		{{Type: oidOrganizationalUnit, Value: CAOrganizationalUnit}},
		{{Type: oidOrganization, Value: CAOrganization}},
	}
}

// ParseCA parses a CA certificate and its PKCS#8 private key, as NewCA made
// them. It fails with ErrKeyMismatch when the key is not the certificate's,
// and when the certificate is not a CA allowed to sign certificates.
func ParseCA(certDER, keyPKCS8 []byte) (*CA, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("pki: parse CA certificate: %w", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: certificate %q is not a CA that may sign certificates", cert.Subject)
	}
	if len(cert.SubjectKeyId) == 0 {
		// Leaves name their issuer by this key identifier.
		return nil, fmt.Errorf("pki: CA certificate %q has no subject key identifier", cert.Subject)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyPKCS8)
	if err != nil {
		return nil, fmt.Errorf("pki: parse CA key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: CA key of type %T cannot sign", key)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	return &CA{Cert: cert, Signer: signer}, nil
}

// subjectKeyID returns the key identifier of pub by RFC 7093 section 2
// method 1: the leftmost 160 bits of the SHA-256 hash of the subjectPublicKey
// BIT STRING value.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: encode public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("pki: decode public key: %v", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

// maxZeroDraws bounds the retries of a random value that came out zero: a
// sound source yields zero with probability 2^-63 or less, so repeated
// zeros mean a broken source, not bad luck.
const maxZeroDraws = 4

// randomPositive returns a random positive integer of n bytes with the top
// bit cleared, so that its DER encoding is exactly n bytes or shorter and
// never negative.
func randomPositive(rnd io.Reader, n int) (*big.Int, error) {
	b := make([]byte, n)
	for range maxZeroDraws {
		if _, err := io.ReadFull(rnd, b); err != nil {
			return nil, fmt.Errorf("pki: random serial: %w", err)
		}
		b[0] &= 0x7f
		if v := new(big.Int).SetBytes(b); v.Sign() > 0 {
			return v, nil
		}
	}
	return nil, errors.New("pki: random serial: the random source returns only zeros")
}
