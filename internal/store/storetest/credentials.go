package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func apiKey(n, orgN int) atlasx509.APIKey {
	return atlasx509.APIKey{
		ID:              id(2000 + n),
		OrgID:           id(orgN),
		PublicKey:       fmt.Sprintf("pubkey%02d", n),
		Description:     fmt.Sprintf("key %d", n),
		SealedHA1MD5:    []byte(fmt.Sprintf("md5 %d", n)),
		SealedHA1SHA256: []byte(fmt.Sprintf("sha256 %d\x00\xff", n)),
		Created:         at(time.Duration(n) * time.Second),
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, nil)
	k1, k2 := apiKey(1, 1), apiKey(2, 2)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertAPIKey(ctx, k1); err != nil {
			return err
		}
		return tx.InsertAPIKey(ctx, k2)
	})

	samePublicKey := apiKey(3, 2)
	samePublicKey.PublicKey = k1.PublicKey
	sameID := apiKey(4, 1)
	sameID.ID = k1.ID
	unknownOrg := apiKey(5, 99)
	emptyHA1 := apiKey(6, 1)
	emptyHA1.SealedHA1MD5, emptyHA1.SealedHA1SHA256 = nil, []byte{}
	tests := []struct {
		name    string
		k       atlasx509.APIKey
		wantErr error
	}{
		{"same public key", samePublicKey, store.ErrConflict},
		{"same id", sameID, store.ErrConflict},
		{"unknown organization", unknownOrg, errInternal},
		{"empty HA1 values", emptyHA1, nil},
	}
	for _, tc := range tests {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertAPIKey(ctx, tc.k) })
		checkErr(t, "InsertAPIKey, "+tc.name, err, tc.wantErr)
	}

	wantEmpty := emptyHA1
	wantEmpty.SealedHA1MD5 = []byte{}
	view(t, s, func(tx store.Tx) error {
		for _, want := range []atlasx509.APIKey{k1, k2, wantEmpty} {
			got, err := tx.GetAPIKeyByPublicKey(ctx, want.PublicKey)
			if err != nil {
				t.Errorf("GetAPIKeyByPublicKey(%s): %v", want.PublicKey, err)
				continue
			}
			if d := diff(want, got); d != "" {
				t.Errorf("GetAPIKeyByPublicKey(%s) mismatch (-want +got):\n%s", want.PublicKey, d)
			}
		}
		_, err := tx.GetAPIKeyByPublicKey(ctx, "missing")
		wantIs(t, "GetAPIKeyByPublicKey(missing)", err, store.ErrNotFound)
		_, err = tx.GetAPIKeyByPublicKey(ctx, k1.ID)
		wantIs(t, "GetAPIKeyByPublicKey(an id)", err, store.ErrNotFound)
		return nil
	})
}

func serviceAccount(n, orgN int) atlasx509.ServiceAccount {
	return atlasx509.ServiceAccount{
		ClientID:    fmt.Sprintf("mdb_sa_id_%024x", n),
		OrgID:       id(orgN),
		Name:        fmt.Sprintf("sa %d", n),
		Description: fmt.Sprintf("service account %d", n),
		Created:     at(time.Duration(n) * time.Second),
	}
}

func secret(n int, sa atlasx509.ServiceAccount, created time.Time) atlasx509.ServiceAccountSecret {
	return atlasx509.ServiceAccountSecret{
		ID:        id(3000 + n),
		ClientID:  sa.ClientID,
		Hash:      []byte(fmt.Sprintf("hash %d", n)),
		ExpiresAt: created.Add(90 * 24 * time.Hour),
		Created:   created,
	}
}

func testServiceAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	sa1, sa2 := serviceAccount(1, 1), serviceAccount(2, 1)
	// Secrets inserted out of order; s2 and s3 created at the same instant.
	s1 := secret(1, sa1, at(3*time.Hour))
	s2 := secret(2, sa1, at(1*time.Hour))
	s3 := secret(3, sa1, at(1*time.Hour))
	s4 := secret(4, sa2, at(0))
	s4.Hash = nil
	update(t, s, func(tx store.Tx) error {
		for _, sa := range []atlasx509.ServiceAccount{sa1, sa2} {
			if err := tx.InsertServiceAccount(ctx, sa); err != nil {
				return err
			}
		}
		for _, sec := range []atlasx509.ServiceAccountSecret{s3, s1, s4, s2} {
			if err := tx.InsertServiceAccountSecret(ctx, sec); err != nil {
				return err
			}
		}
		return nil
	})

	sameClient := serviceAccount(1, 1)
	sameClient.Name = "other"
	unknownOrg := serviceAccount(3, 99)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertServiceAccount(ctx, sameClient) })
	wantIs(t, "InsertServiceAccount of a taken client id", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertServiceAccount(ctx, unknownOrg) })
	wantInternal(t, "InsertServiceAccount of an unknown organization", err)
	sameSecret := secret(1, sa2, t0)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertServiceAccountSecret(ctx, sameSecret) })
	wantIs(t, "InsertServiceAccountSecret of a taken id", err, store.ErrConflict)
	unknownClient := secret(9, serviceAccount(9, 1), t0)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertServiceAccountSecret(ctx, unknownClient) })
	wantInternal(t, "InsertServiceAccountSecret of an unknown client", err)

	view(t, s, func(tx store.Tx) error {
		for _, want := range []atlasx509.ServiceAccount{sa1, sa2} {
			got, err := tx.GetServiceAccount(ctx, want.ClientID)
			if err != nil {
				return err
			}
			if d := diff(want, got); d != "" {
				t.Errorf("GetServiceAccount mismatch (-want +got):\n%s", d)
			}
		}
		_, err := tx.GetServiceAccount(ctx, "mdb_sa_id_missing")
		wantIs(t, "GetServiceAccount(missing)", err, store.ErrNotFound)

		want4 := s4
		want4.Hash = []byte{}
		lists := []struct {
			clientID string
			want     []atlasx509.ServiceAccountSecret
		}{
			{sa1.ClientID, []atlasx509.ServiceAccountSecret{s2, s3, s1}},
			{sa2.ClientID, []atlasx509.ServiceAccountSecret{want4}},
			{"mdb_sa_id_missing", nil},
		}
		for _, l := range lists {
			got, err := tx.ListServiceAccountSecrets(ctx, l.clientID)
			if err != nil {
				t.Errorf("ListServiceAccountSecrets(%s): %v", l.clientID, err)
				continue
			}
			checkList(t, "ListServiceAccountSecrets("+l.clientID+")", l.want, got)
		}
		return nil
	})
}

func testRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := project(1, 1), project(2, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2})
	principal := id(500)
	ra := func(orgID, groupID string, role atlasx509.Role) atlasx509.RoleAssignment {
		return atlasx509.RoleAssignment{PrincipalID: principal, OrgID: orgID, GroupID: groupID, Role: role}
	}
	r1 := ra(id(2), p2.ID, atlasx509.RoleGroupReadOnly)
	r2 := ra(id(1), "", atlasx509.RoleOrgOwner)
	r3 := ra(id(1), p1.ID, atlasx509.RoleGroupOwner)
	r4 := ra(id(1), "", atlasx509.RoleOrgMember)
	r5 := ra(id(2), "", atlasx509.RoleOrgReadOnly)
	r6 := ra(id(1), p1.ID, atlasx509.RoleGroupClusterManager)
	other := atlasx509.RoleAssignment{PrincipalID: id(501), OrgID: id(1), Role: atlasx509.RoleOrgOwner}
	update(t, s, func(tx store.Tx) error {
		for _, r := range []atlasx509.RoleAssignment{r1, r2, r3, other, r4, r5, r6} {
			if err := tx.InsertRoleAssignment(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertRoleAssignment(ctx, r3) })
	wantIs(t, "InsertRoleAssignment of a held role", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertRoleAssignment(ctx, ra(id(99), "", atlasx509.RoleOrgOwner)) })
	wantInternal(t, "InsertRoleAssignment in an unknown organization", err)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRoleAssignments(ctx, principal)
		if err != nil {
			return err
		}
		// OrgID, then GroupID ("" first), then Role.
		if d := diff([]atlasx509.RoleAssignment{r4, r2, r6, r3, r5, r1}, got); d != "" {
			t.Errorf("ListRoleAssignments mismatch (-want +got):\n%s", d)
		}
		got, err = tx.ListRoleAssignments(ctx, id(999))
		if err != nil || len(got) != 0 {
			t.Errorf("ListRoleAssignments(unknown) = %+v, %v; want none", got, err)
		}
		return nil
	})
}

func testOAuthTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	sa := serviceAccount(1, 1)
	token := func(n int, expiresAt time.Time) atlasx509.OAuthToken {
		return atlasx509.OAuthToken{
			ID:        fmt.Sprintf("jti-%d", n),
			ClientID:  sa.ClientID,
			ExpiresAt: expiresAt,
			Created:   expiresAt.Add(-time.Hour),
		}
	}
	past, edge, future := token(1, at(-time.Nanosecond)), token(2, t0), token(3, at(time.Hour))
	revoked := token(4, at(-time.Hour))
	revoked.Revoked = true
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertServiceAccount(ctx, sa); err != nil {
			return err
		}
		for _, tok := range []atlasx509.OAuthToken{past, edge, future, revoked} {
			if err := tx.InsertOAuthToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertOAuthToken(ctx, past) })
	wantIs(t, "InsertOAuthToken of a taken id", err, store.ErrConflict)
	unknownClient := token(5, t0)
	unknownClient.ClientID = "mdb_sa_id_missing"
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertOAuthToken(ctx, unknownClient) })
	wantInternal(t, "InsertOAuthToken of an unknown client", err)

	get := func(tx store.Tx, want atlasx509.OAuthToken) {
		t.Helper()
		got, err := tx.GetOAuthToken(ctx, want.ID)
		if err != nil {
			t.Errorf("GetOAuthToken(%s): %v", want.ID, err)
			return
		}
		if d := diff(want, got); d != "" {
			t.Errorf("GetOAuthToken(%s) mismatch (-want +got):\n%s", want.ID, d)
		}
	}
	view(t, s, func(tx store.Tx) error {
		for _, tok := range []atlasx509.OAuthToken{past, edge, future, revoked} {
			get(tx, tok)
		}
		_, err := tx.GetOAuthToken(ctx, "missing")
		wantIs(t, "GetOAuthToken(missing)", err, store.ErrNotFound)
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.RevokeOAuthToken(ctx, future.ID) })
	update(t, s, func(tx store.Tx) error { return tx.RevokeOAuthToken(ctx, future.ID) }) // again: no error
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RevokeOAuthToken(ctx, "missing") })
	wantIs(t, "RevokeOAuthToken(missing)", err, store.ErrNotFound)
	future.Revoked = true
	view(t, s, func(tx store.Tx) error {
		get(tx, future)
		get(tx, edge) // not revoked by the others
		return nil
	})

	// Strictly before t0: past and revoked go, edge (ExpiresAt == t0) stays.
	var n int
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteOAuthTokensExpiredBefore(ctx, t0)
		return err
	})
	if n != 2 {
		t.Errorf("DeleteOAuthTokensExpiredBefore(t0) = %d, want 2", n)
	}
	view(t, s, func(tx store.Tx) error {
		for _, gone := range []string{past.ID, revoked.ID} {
			_, err := tx.GetOAuthToken(ctx, gone)
			wantIs(t, "GetOAuthToken of a deleted token", err, store.ErrNotFound)
		}
		get(tx, edge)
		get(tx, future)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteOAuthTokensExpiredBefore(ctx, t0)
		return err
	})
	if n != 0 {
		t.Errorf("DeleteOAuthTokensExpiredBefore(t0) again = %d, want 0", n)
	}
}
