package app

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestCredentialCacheReplicas runs two apps on one database, as two
// replicas do, each keeping the credentials it verified. A revocation, a
// role change or a deletion made through one takes effect on the other's
// very next request: no cached credential outlives a change in the store.
func TestCredentialCacheReplicas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	kr := testkit.Keyring(t)
	open := func() *App {
		t.Helper()
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		a, err := New(ctx, Config{Store: st, Keyring: kr, Keys: testkit.FastKeys{}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1 := open()
	boot, err := a1.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a2 := open()
	replicas := []*App{a1, a2}
	owner := atlasx509.Principal{ID: boot.APIKey.ID, Kind: atlasx509.PrincipalAPIKey, OrgID: boot.OrgID,
		Roles: []atlasx509.RoleAssignment{{PrincipalID: boot.APIKey.ID, OrgID: boot.OrgID, Role: atlasx509.RoleOrgOwner}}}
	sa := boot.ServiceAccount

	t.Run("Bearer", func(t *testing.T) {
		tok, err := a1.IssueToken(ctx, sa.ClientID, sa.ClientSecret)
		if err != nil {
			t.Fatal(err)
		}
		bearer := func(a *App) error {
			_, err := a.AuthenticateBearer(ctx, tok.AccessToken)
			return err
		}
		for range 2 { // the second time from each replica's cache
			for i, a := range replicas {
				if err := bearer(a); err != nil {
					t.Fatalf("replica %d before revocation: %v", i+1, err)
				}
			}
		}
		if err := a1.RevokeToken(ctx, sa.ClientID, sa.ClientSecret, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		for i, a := range []*App{a2, a1} {
			if err := bearer(a); err == nil {
				t.Errorf("replica %d accepts the token revoked through replica 1", i+1)
			}
		}
	})

	t.Run("Digest", func(t *testing.T) {
		role := func(name string) *[]string { return &[]string{name} }
		key, err := a1.CreateAPIKey(ctx, owner, boot.OrgID, APIKeyInput{Desc: ptr("replicas"), Roles: role("ORG_MEMBER")})
		if err != nil {
			t.Fatal(err)
		}
		ha1 := auth.HA1("MD5", key.Key.PublicKey, auth.Realm, key.PrivateKey)
		const uri = "/api/atlas/v1.0/orgs"
		digest := func(a *App) ([]atlasx509.Role, error) {
			p, err := a.AuthenticateDigest(ctx, digestHeader(key.Key.PublicKey, a.nonces.New(), uri, ha1), "GET", uri)
			var roles []atlasx509.Role
			for _, r := range p.Roles {
				roles = append(roles, r.Role)
			}
			return roles, err
		}
		check := func(stage string, want []atlasx509.Role, wantErr bool) {
			t.Helper()
			for i, a := range []*App{a2, a1, a2} {
				roles, err := digest(a)
				if (err != nil) != wantErr {
					t.Errorf("%s: replica %d: error %v, want an error: %v", stage, i%2+1, err, wantErr)
				}
				if d := cmp.Diff(want, roles); err == nil && d != "" {
					t.Errorf("%s: replica %d: roles (-want +got):\n%s", stage, i%2+1, d)
				}
			}
		}
		check("created", []atlasx509.Role{atlasx509.RoleOrgMember}, false)
		if _, err := a1.UpdateAPIKey(ctx, owner, boot.OrgID, key.Key.ID, APIKeyInput{Roles: role("ORG_READ_ONLY")}); err != nil {
			t.Fatal(err)
		}
		check("roles changed through replica 1", []atlasx509.Role{atlasx509.RoleOrgReadOnly}, false)
		if err := a1.DeleteAPIKey(ctx, owner, boot.OrgID, key.Key.ID); err != nil {
			t.Fatal(err)
		}
		check("deleted through replica 1", nil, true)
	})
}

// TestBearerCacheExpiry checks that a token the cache has seen still ends
// at its expiry, and its secret's.
func TestBearerCacheExpiry(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		after time.Duration // from minting to the last request
	}{
		{"token expired", auth.DefaultTokenTTL + auth.TokenLeeway + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testkit.FastKeys{})
			sa := f.boot.ServiceAccount
			tok, err := f.app.IssueToken(ctx, sa.ClientID, sa.ClientSecret)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); err != nil {
					t.Fatalf("fresh token: %v", err)
				}
			}
			f.clock.Add(auth.DefaultTokenTTL - time.Second)
			if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); err != nil {
				t.Fatalf("a second before its expiry: %v", err)
			}
			f.clock.Add(tc.after - auth.DefaultTokenTTL + time.Second)
			if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); err == nil {
				t.Errorf("%s after minting: accepted", tc.after)
			}
		})
	}
}

// TestCredentialCacheBounded checks that the cache never holds more than
// maxCachedCredentials entries of a kind, and keeps the one just put.
func TestCredentialCacheBounded(t *testing.T) {
	var c credCache
	for i := range maxCachedCredentials + 1 {
		c.putAPIKey(fmt.Sprint(i), cachedAPIKey{generation: 1})
		c.putToken(fmt.Sprint(i), cachedToken{generation: 1})
	}
	if len(c.keys) > maxCachedCredentials || len(c.tokens) > maxCachedCredentials {
		t.Errorf("%d keys and %d tokens cached, want at most %d", len(c.keys), len(c.tokens), maxCachedCredentials)
	}
	last := fmt.Sprint(maxCachedCredentials)
	if _, ok := c.apiKey(last, 1); !ok {
		t.Error("the last API key put is not cached")
	}
	if _, ok := c.token(last); !ok {
		t.Error("the last token put is not cached")
	}
}
