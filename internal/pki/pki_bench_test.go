package pki

import (
	"context"
	"crypto"
	"math/big"
	"strconv"
	"testing"
	"time"
)

// The benchmarks document two choices by numbers:
//
//   - BenchmarkSignOnly: the CA key type. Every issued certificate costs one
//     CA signature, so the CA key sets the ceiling of issuance; ECDSA P-256
//     is the fastest of the three measured.
//   - BenchmarkGenerateKey: the leaf key type. RSA 4096 (Atlas's choice and
//     our default) dominates the cost of an answer, which is why leaf keys
//     come from a KeySource that a pool can fill ahead of requests.
//
// Run: go test -run x -bench . -benchtime 200x ./internal/pki/
// (RSA key generation varies widely per key: use more iterations for it.)

// BenchmarkIssueLeaf measures one whole issuance without I/O: a P-256 leaf
// key, a certificate signed by the P-256 project CA, and the PEM answer.
func BenchmarkIssueLeaf(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		key, err := Generator{}.NewKey(ctx, ECDSAP256)
		if err != nil {
			b.Fatal(err)
		}
		serial, err := RandomSerial(nil)
		if err != nil {
			b.Fatal(err)
		}
		der, err := testCA.IssueLeaf(LeafRequest{Username: "user389", Months: 3, Now: now, Serial: serial, Key: key}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := EncodeCertAndKeyPEM(der, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignOnly measures IssueLeaf alone (a prepared P-256 leaf key)
// for each CA key type considered.
func BenchmarkSignOnly(b *testing.B) {
	for _, caType := range []KeyType{ECDSAP256, RSA2048, RSA4096} {
		b.Run("CA="+string(caType), func(b *testing.B) {
			ca := testCA
			if caType != ECDSAP256 {
				var err error
				if ca, err = newCAOfType(caType, now); err != nil {
					b.Fatal(err)
				}
			}
			key := testLeafKey[ECDSAP256]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ca.IssueLeaf(LeafRequest{Username: "user389", Months: 3, Now: now, Serial: 1, Key: key}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignature measures the raw CA signature of a SHA-256 digest, the
// part of BenchmarkSignOnly that depends on the CA key type.
func BenchmarkSignature(b *testing.B) {
	digest := make([]byte, 32)
	for _, caType := range []KeyType{ECDSAP256, RSA2048, RSA4096} {
		b.Run("CA="+string(caType), func(b *testing.B) {
			var key crypto.Signer = testCA.Signer
			if caType != ECDSAP256 {
				var err error
				if key, err = (Generator{}).NewKey(context.Background(), caType); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if _, err := key.Sign(nil, digest, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerateKey measures leaf key generation per key type.
func BenchmarkGenerateKey(b *testing.B) {
	ctx := context.Background()
	for _, kt := range KeyTypes() {
		b.Run(string(kt), func(b *testing.B) {
			for b.Loop() {
				if _, err := (Generator{}).NewKey(ctx, kt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignCRL measures SignCRL for a CRL with 10 000 revoked
// certificates against an empty CRL, both with the P-256 project CA: the
// cost of a CRL signing on a project with many revocations. The entries
// alternate between the unspecified reason (no extension) and
// keyCompromise.
//
// Run: go test -run x -bench SignCRL ./internal/pki/
func BenchmarkSignCRL(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		entries := make([]RevokedCert, n)
		for i := range entries {
			entries[i] = RevokedCert{Serial: int64(1_000_000_007 * (i + 1)), RevokedAt: now, Reason: (i % 2) * ReasonKeyCompromise}
		}
		req := CRLRequest{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(7 * 24 * time.Hour), Entries: entries}
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := testCA.SignCRL(req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
