package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
)

// PEM block types written by this package.
const (
	PEMTypeCertificate = "CERTIFICATE"
	PEMTypePrivateKey  = "PRIVATE KEY"
)

// EncodeCertAndKeyPEM returns the body of Atlas's create-certificate answer:
// the certificate PEM block followed by the unencrypted PKCS#8 private key
// PEM block, 64-character lines, each block ending in a newline and no blank
// line between them. The caller must pass the key that certDER certifies.
func EncodeCertAndKeyPEM(certDER []byte, key crypto.Signer) ([]byte, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode private key: %w", err)
	}
	// The key lives on only in the answer: clear this copy.
	defer clear(keyDER)
	// One buffer of the answer's size: base64 of 64-character lines, each
	// with its newline, and the BEGIN and END lines.
	var out bytes.Buffer
	out.Grow(pemLen(PEMTypeCertificate, len(certDER)) + pemLen(PEMTypePrivateKey, len(keyDER)))
	if err := pem.Encode(&out, &pem.Block{Type: PEMTypeCertificate, Bytes: certDER}); err != nil {
		return nil, err
	}
	if err := pem.Encode(&out, &pem.Block{Type: PEMTypePrivateKey, Bytes: keyDER}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// pemLen is the length of the PEM block of n bytes of type typ.
func pemLen(typ string, n int) int {
	b64 := base64.StdEncoding.EncodedLen(n)
	return b64 + (b64+63)/64 + len("-----BEGIN -----\n-----END -----\n") + 2*len(typ)
}

// CertPEM returns der as one CERTIFICATE PEM block.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeCertificate, Bytes: der})
}

// SubjectDN returns the subject of username's certificate as the RFC 2253
// string that mongod derives from it, which is the name of the user mongod
// authenticates in $external (for example "CN=alice").
//
// It follows MongoDB's escapeRfc2253 (src/mongo/util/net/ssl_manager.cpp)
// byte for byte rather than (pkix.Name).String(), which agrees on ASCII
// names but differs in two cases: mongod writes every byte ≥ 0x80 as \XX
// (upper-case hex; "josé" gives "CN=jos\C3\A9") where Go keeps UTF-8, and
// mongod leaves the trailing space of a two-byte value such as "a " bare
// where Go escapes it. Both escape , + " \ < > ; anywhere, a leading space
// or #, and a trailing space.
func SubjectDN(username string) string {
	return "CN=" + escapeRFC2253(username)
}

// escapeRFC2253 escapes an attribute value as MongoDB's escapeRfc2253 does.
func escapeRFC2253(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	i := 0
	if s != "" && (s[0] == ' ' || s[0] == '#') {
		b.WriteByte('\\')
		b.WriteByte(s[0])
		i = 1
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			b.WriteByte('\\')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0f])
			continue
		case strings.IndexByte(`,+"\<>;`, c) >= 0:
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	out := b.String()
	// mongod escapes a final space only when its output so far is longer
	// than two bytes; keep that quirk so that the names match.
	if len(out) > 2 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1] + `\ `
	}
	return out
}
