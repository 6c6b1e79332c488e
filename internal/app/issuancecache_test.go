package app

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/pem"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestIssuanceCacheChangesNoAnswer: after an issuance has filled the cache
// of issuance states, a change that refuses the next issuance is answered
// as it is by a server whose cache is empty, and records nothing.
func TestIssuanceCacheChangesNoAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		// change runs after the first issuance; it returns the principal
		// of the second.
		change   func(t *testing.T, f *fixture) atlasx509.Principal
		wantCode string
	}{
		{"user deleted", func(t *testing.T, f *fixture) atlasx509.Principal {
			if err := f.app.DeleteDatabaseUser(ctx, f.owner, f.boot.ProjectID, "$external", "alice"); err != nil {
				t.Fatal(err)
			}
			return f.owner
		}, "USERNAME_NOT_FOUND"},
		{"user recreated with a password", func(t *testing.T, f *fixture) atlasx509.Principal {
			if err := f.app.DeleteDatabaseUser(ctx, f.owner, f.boot.ProjectID, "$external", "alice"); err != nil {
				t.Fatal(err)
			}
			roles := []atlasx509.DatabaseRole{{RoleName: "read", DatabaseName: "app"}}
			if _, err := f.app.CreateDatabaseUser(ctx, f.owner, f.boot.ProjectID, DatabaseUserInput{
				Username: str("alice"), DatabaseName: str("admin"), Password: str("correct horse battery"), Roles: &roles,
			}); err != nil {
				t.Fatal(err)
			}
			return f.owner
		}, "USER_NOT_MANAGED_X509"},
		{"customer X.509 turned on", func(t *testing.T, f *fixture) atlasx509.Principal {
			der, _, err := pki.NewCA("000000000000000000000000", f.clock.Now(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			cas := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
			if _, err := f.app.UpdateUserSecurity(ctx, f.owner, f.boot.ProjectID, UserSecurityInput{CustomerX509CAs: &cas}); err != nil {
				t.Fatal(err)
			}
			return f.owner
		}, atlasx509.ErrorCode(advancedX509())},
		{"caller without a role in the project", func(t *testing.T, f *fixture) atlasx509.Principal {
			return atlasx509.Principal{ID: "0123456789abcdef01234567", Kind: atlasx509.PrincipalAPIKey, OrgID: f.boot.OrgID}
		}, ""}, // whatever a server with an empty cache answers
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// cold answers without the cache; warm after an issuance by
			// the owner filled it.
			answer := func(warm bool) string {
				f := newFixture(t, testkit.FastKeys{})
				f.managedUser(t, "alice")
				if warm {
					f.issue(t, "alice", 3)
					if _, ok := f.app.issuance.get(f.boot.ProjectID, "alice"); !ok {
						t.Fatal("an issuance left no state in the cache")
					}
				}
				p := tt.change(t, f)
				count := func() int {
					var n int
					f.store.View(ctx, func(tx store.Tx) error {
						var err error
						n, err = tx.CountCertificates(ctx, store.CertificateFilter{GroupID: f.boot.ProjectID, Username: "alice", IncludeRevoked: true})
						return err
					})
					return n
				}
				before := count()
				_, err := f.app.CreateDatabaseUserCertificate(ctx, p, f.boot.ProjectID, "alice", nil)
				if err == nil {
					t.Fatal("issued after the change")
				}
				if after := count(); after != before {
					t.Errorf("warm %v: a refused issuance changed the records from %d to %d", warm, before, after)
				}
				if _, ok := f.app.issuance.get(f.boot.ProjectID, "alice"); ok && p.ID == f.owner.ID {
					t.Errorf("warm %v: a refused issuance left its user's state in the cache", warm)
				}
				return atlasx509.ErrorCode(err)
			}
			cold, warm := answer(false), answer(true)
			if tt.wantCode != "" && cold != tt.wantCode {
				t.Errorf("with an empty cache: error code %q, want %q", cold, tt.wantCode)
			}
			if warm != cold || cold == "" {
				t.Errorf("error code %q after a cached issuance, %q without", warm, cold)
			}
		})
	}
}

// TestIssuanceCacheKeyTypeChangedElsewhere: a leaf key type changed by
// another replica, which this one's cache does not know of, still decides
// the key of this replica's next certificate: its write transaction finds
// the change, and the issuance starts over with a key of the new type.
func TestIssuanceCacheKeyTypeChangedElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys := &askedKeys{}
	f := newFixture(t, keys)
	other, err := New(ctx, Config{Store: f.store, Keyring: f.app.keyring, Keys: testkit.FastKeys{}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.managedUser(t, "alice")
	f.issue(t, "alice", 3)
	kt := "ECDSA_P256"
	if _, err := other.SetLeafKeyType(ctx, f.owner, f.boot.ProjectID, &kt); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.app.issuance.get(f.boot.ProjectID, "alice"); !ok {
		t.Fatal("the first replica's cache lost its state")
	}
	f.issue(t, "alice", 3)
	// The second issuance made a key of the old type from its cache, then
	// one of the new type once its write transaction found the change.
	want := []pki.KeyType{pki.RSA4096, pki.RSA4096, pki.ECDSAP256}
	if diff := cmp.Diff(want, keys.types()); diff != "" {
		t.Errorf("key types asked (-want +got):\n%s", diff)
	}
	var certs []atlasx509.Certificate
	f.store.View(ctx, func(tx store.Tx) error {
		certs, err = tx.ListCertificates(ctx, store.CertificateFilter{GroupID: f.boot.ProjectID, Username: "alice"}, store.Page{Limit: 10})
		return err
	})
	if len(certs) != 2 {
		t.Errorf("%d records, want 2 (the thrown-away certificate is not recorded)", len(certs))
	}
}

// askedKeys is a fast key source that records the key types asked of it.
type askedKeys struct {
	mu    sync.Mutex
	asked []pki.KeyType
}

func (k *askedKeys) NewKey(ctx context.Context, t pki.KeyType) (crypto.Signer, error) {
	k.mu.Lock()
	k.asked = append(k.asked, t)
	k.mu.Unlock()
	return testkit.FastKeys{}.NewKey(ctx, t)
}

func (k *askedKeys) types() []pki.KeyType {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.asked)
}
