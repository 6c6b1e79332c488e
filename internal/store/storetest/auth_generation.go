package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// testAuthGeneration checks that every change to what authenticates or
// authorizes a credential makes the credentials generation larger, in the
// change's transaction, and that reads, new credentials, new tokens and the
// use counts of access list entries leave it alone.
func testAuthGeneration(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{project(1, 1)})
	key, sa := apiKey(1, 1), serviceAccount(1, 1)
	sec := secret(1, sa, t0)
	tok := atlasx509.OAuthToken{ID: "jti-1", ClientID: sa.ClientID, ExpiresAt: at(time.Hour), Created: t0}
	old := atlasx509.OAuthToken{ID: "jti-0", ClientID: sa.ClientID, ExpiresAt: at(-time.Hour), Created: at(-2 * time.Hour)}
	role := atlasx509.RoleAssignment{PrincipalID: key.ID, PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: id(1), Role: atlasx509.RoleOrgOwner}
	entry := accessListEntry(key.ID, "10.0.0.0/8", t0)

	generation := func() int64 {
		t.Helper()
		var n int64
		view(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.AuthGeneration(ctx)
			return err
		})
		return n
	}
	steps := []struct {
		name   string
		change func(tx store.Tx) error
		grows  bool
	}{
		{"new API key, account, secret and tokens", func(tx store.Tx) error {
			if err := tx.InsertAPIKey(ctx, key); err != nil {
				return err
			}
			if err := tx.InsertServiceAccount(ctx, sa); err != nil {
				return err
			}
			if err := tx.InsertServiceAccountSecret(ctx, sec); err != nil {
				return err
			}
			if err := tx.InsertOAuthToken(ctx, old); err != nil {
				return err
			}
			return tx.InsertOAuthToken(ctx, tok)
		}, false},
		{"reads", func(tx store.Tx) error {
			if _, err := tx.GetOAuthToken(ctx, tok.ID); err != nil {
				return err
			}
			_, err := tx.ListRoleAssignments(ctx, key.ID)
			return err
		}, false},
		{"role assigned", func(tx store.Tx) error { return tx.InsertRoleAssignment(ctx, role) }, true},
		{"access list entry added", func(tx store.Tx) error { return tx.InsertAccessListEntry(ctx, entry) }, true},
		{"access list entry used", func(tx store.Tx) error {
			return tx.RecordAccessListUse(ctx, key.ID, entry.CIDR, 3, at(time.Minute), "10.1.2.3")
		}, false},
		{"access list entry removed", func(tx store.Tx) error { return tx.DeleteAccessListEntry(ctx, key.ID, entry.CIDR) }, true},
		{"role removed", func(tx store.Tx) error {
			_, err := tx.DeleteRoleAssignments(ctx, key.ID, id(1), "")
			return err
		}, true},
		{"API key changed", func(tx store.Tx) error {
			k := key
			k.Description = "changed"
			return tx.UpdateAPIKey(ctx, k)
		}, true},
		{"token revoked", func(tx store.Tx) error { return tx.RevokeOAuthToken(ctx, tok.ID) }, true},
		{"expired token records deleted", func(tx store.Tx) error {
			_, err := tx.DeleteOAuthTokensExpiredBefore(ctx, t0)
			return err
		}, true},
		{"secret deleted", func(tx store.Tx) error { return tx.DeleteServiceAccountSecret(ctx, sa.ClientID, sec.ID) }, true},
		{"tokens deleted", func(tx store.Tx) error {
			_, err := tx.DeleteOAuthTokens(ctx, sa.ClientID)
			return err
		}, true},
		{"account deleted", func(tx store.Tx) error { return tx.DeleteServiceAccount(ctx, sa.ClientID) }, true},
		{"API key deleted", func(tx store.Tx) error { return tx.DeleteAPIKey(ctx, key.ID) }, true},
	}
	before := generation()
	if before < 1 {
		t.Errorf("AuthGeneration of a new store = %d, want at least 1", before)
	}
	for _, st := range steps {
		var inside int64
		update(t, s, func(tx store.Tx) error {
			if err := st.change(tx); err != nil {
				return err
			}
			var err error
			inside, err = tx.AuthGeneration(ctx)
			return err
		})
		after := generation()
		if after != inside {
			t.Errorf("%s: the generation read in the change's transaction is %d, after its commit %d", st.name, inside, after)
		}
		if grew := after > before; grew != st.grows {
			t.Errorf("%s: generation %d, then %d; want it to grow: %v", st.name, before, after, st.grows)
		}
		if after < before {
			t.Errorf("%s: generation went back from %d to %d", st.name, before, after)
		}
		before = after
	}

	// A change that rolls back leaves the generation as it was.
	key2 := apiKey(2, 1)
	insertAll(t, s, []atlasx509.APIKey{key2}, nil, nil, nil)
	before = generation()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteAPIKey(ctx, key2.ID); err != nil {
			return err
		}
		return errRollback
	})
	wantIs(t, "Update that fails", err, errRollback)
	if after := generation(); after != before {
		t.Errorf("a rolled back deletion moved the generation from %d to %d", before, after)
	}
}
