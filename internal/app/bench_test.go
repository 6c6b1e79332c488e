package app

import (
	"context"
	"crypto"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// BenchmarkCreateDatabaseUserCertificate measures a whole issuance without
// HTTP: checks, leaf key, one durable SQLite transaction (CA from cache,
// signature, record) and PEM encoding. Compare with BenchmarkIssueLeaf in
// internal/pki, the same crypto without the store.
func BenchmarkCreateDatabaseUserCertificate(b *testing.B) {
	for _, kt := range []pki.KeyType{pki.ECDSAP256, pki.RSA2048} {
		b.Run(string(kt), func(b *testing.B) {
			f := newFixture(b, pki.Generator{})
			f.clock = nil
			f.app.now = time.Now
			ctx := context.Background()
			// Spread over users so the per-user certificate cap is never reached.
			const users = 64
			for i := 0; i < users; i++ {
				f.managedUser(b, fmt.Sprintf("user%d", i))
			}
			f.app.keys = fixedType{kt}
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := f.app.CreateDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, fmt.Sprintf("user%d", i%users), nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// fixedType generates keys of one type whatever is asked.
type fixedType struct{ t pki.KeyType }

func (f fixedType) NewKey(ctx context.Context, _ pki.KeyType) (crypto.Signer, error) {
	return pki.Generator{}.NewKey(ctx, f.t)
}

// BenchmarkAuthenticateBearer measures the per-request cost of a Bearer token.
func BenchmarkAuthenticateBearer(b *testing.B) {
	f := newFixture(b, testkit.FastKeys{})
	f.app.now = time.Now
	ctx := context.Background()
	tok, err := f.app.IssueToken(ctx, f.boot.ServiceAccount.ClientID, f.boot.ServiceAccount.ClientSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticateDigest measures a Digest-authenticated request's
// authentication: parse, nonce check, key lookup, unseal, verify, accept.
func BenchmarkAuthenticateDigest(b *testing.B) {
	f := newFixture(b, testkit.FastKeys{})
	f.app.now = time.Now
	f.app.nonces = auth.NewNonces([]byte("benchmark nonce key 0123456789ab"), auth.DefaultNonceTTL, time.Now)
	ctx := context.Background()
	pub, priv := f.boot.APIKey.PublicKey, f.boot.APIKey.PrivateKey
	ha1 := auth.HA1("MD5", pub, auth.Realm, priv)
	uri := "/api/atlas/v1.0/groups/" + f.boot.ProjectID
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		header := digestHeader(pub, f.app.nonces.New(), uri, ha1)
		if _, err := f.app.AuthenticateDigest(ctx, header, "GET", uri); err != nil {
			b.Fatal(err)
		}
	}
}

// digestHeader builds the Authorization header a Digest client sends for GET uri.
func digestHeader(username, nonce, uri, ha1 string) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	const cnonce, nc = "0a4f113b", "00000001"
	resp := h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + h("GET:"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
		username, auth.Realm, nonce, uri, resp, nc, cnonce)
}
