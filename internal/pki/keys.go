// Package pki creates the per-project certificate authorities of managed
// X.509 and issues their client certificates.
//
// It is pure crypto: no I/O, no globals, no clock. Randomness (an io.Reader)
// and the time are parameters, and keys come in as crypto.Signer so that a
// key pool or a KMS can supply them. Note that from Go 1.26 the standard
// library ignores the reader passed to key generation and signing (unless
// GODEBUG=cryptocustomrand=1) and always uses a secure source; the reader
// given here still supplies every serial number.
package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
)

// KeyType names the algorithm and size of an issued certificate's key.
type KeyType string

// Key types a project may choose for its leaf certificates.
const (
	RSA2048   KeyType = "RSA2048"
	RSA3072   KeyType = "RSA3072"
	RSA4096   KeyType = "RSA4096"
	ECDSAP256 KeyType = "ECDSA_P256"
	ECDSAP384 KeyType = "ECDSA_P384"
)

// DefaultKeyType is the leaf key type used unless a project chooses another:
// RSA 4096, as Atlas issues.
const DefaultKeyType = RSA4096

// ErrKeyType reports an unknown key type name.
var ErrKeyType = errors.New("pki: unknown key type")

// KeyTypes returns every supported key type, the default first.
func KeyTypes() []KeyType {
	return []KeyType{RSA4096, RSA2048, RSA3072, ECDSAP256, ECDSAP384}
}

// ParseKeyType returns the key type named s, which must be spelled exactly as
// one of the constants (for example "RSA4096" or "ECDSA_P256").
func ParseKeyType(s string) (KeyType, error) {
	for _, t := range KeyTypes() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %v)", ErrKeyType, s, KeyTypes())
}

// KeySource supplies private keys for new leaf certificates. The server uses
// it to obtain one key per issued certificate; an implementation may generate
// keys ahead of time, but must never hand out the same key twice.
type KeySource interface {
	NewKey(ctx context.Context, t KeyType) (crypto.Signer, error)
}

// Generator is a KeySource that generates each key when asked.
type Generator struct {
	// Rand is the entropy source; nil means crypto/rand. Go 1.26 ignores it
	// for key generation unless GODEBUG=cryptocustomrand=1.
	Rand io.Reader
}

// NewKey generates a key of type t. It returns ctx's error without
// generating when ctx is already done; a generation that has started (up to
// about a second for RSA 4096) runs to completion.
func (g Generator) NewKey(ctx context.Context, t KeyType) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rnd := g.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	return generateKey(t, rnd)
}

// generateKey generates a private key of type t from rnd.
func generateKey(t KeyType, rnd io.Reader) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch t {
	case RSA2048:
		key, err = rsa.GenerateKey(rnd, 2048)
	case RSA3072:
		key, err = rsa.GenerateKey(rnd, 3072)
	case RSA4096:
		key, err = rsa.GenerateKey(rnd, 4096)
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rnd)
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rnd)
	default:
		return nil, fmt.Errorf("%w %q", ErrKeyType, string(t))
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generate %s key: %w", t, err)
	}
	return key, nil
}
