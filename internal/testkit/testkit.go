// Package testkit holds what the tests of several packages share: a fast
// leaf key source, a fresh store and keyring for an app under test, and a
// throwaway PostgreSQL database. It is imported by tests only.
package testkit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
	"github.com/atlasx509/atlasx509/internal/store/storetest"
)

// FastKeys is a pki.KeySource that hands out a fresh ECDSA P-256 key
// whatever type is asked for: the server's RSA 4096 keys take about a
// second each (far more under -race), which would make every test that
// issues a certificate slow. A few end-to-end tests keep the real source.
type FastKeys struct{}

// NewKey returns a new ECDSA P-256 key, or ctx's error once ctx is done.
func (FastKeys) NewKey(ctx context.Context, _ pki.KeyType) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// Store opens a new SQLite store in a temporary directory of tb, closed
// when tb ends, and wraps it in storetest.Retrying: every Update fn runs
// twice, so that a use case that is not safe to retry fails its test.
// A benchmark (tb a *testing.B) gets the store unwrapped, so that it
// measures what a request costs.
func Store(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "atlasx509.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	if _, ok := tb.(*testing.B); ok {
		return st
	}
	return storetest.Retrying(st)
}

// Keyring returns a keyring with a random key.
func Keyring(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	kr, err := keyring.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}
