package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

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

func testListServiceAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, nil)
	// Created out of insertion order; sa2 and sa4 at the same instant (by
	// ClientID then); sa5 in another organization.
	sa1, sa2, sa3, sa4, sa5 := serviceAccount(1, 1), serviceAccount(2, 1), serviceAccount(3, 1), serviceAccount(4, 1), serviceAccount(5, 2)
	sa1.Created, sa2.Created, sa3.Created, sa4.Created, sa5.Created = at(3*time.Hour), at(time.Hour), at(0), at(time.Hour), at(-time.Hour)
	sa3.Description = ""
	insertAll(t, s, nil, []atlasx509.ServiceAccount{sa4, sa1, sa5, sa2, sa3}, nil, nil)

	tests := []struct {
		name  string
		orgID string
		page  store.Page
		want  []atlasx509.ServiceAccount
		count int
	}{
		{"all", id(1), store.Page{}, []atlasx509.ServiceAccount{sa3, sa2, sa4, sa1}, 4},
		{"limit", id(1), store.Page{Limit: 3}, []atlasx509.ServiceAccount{sa3, sa2, sa4}, 4},
		{"limit and offset", id(1), store.Page{Limit: 2, Offset: 1}, []atlasx509.ServiceAccount{sa2, sa4}, 4},
		{"offset without limit", id(1), store.Page{Offset: 3}, []atlasx509.ServiceAccount{sa1}, 4},
		{"offset past the end", id(1), store.Page{Limit: 2, Offset: 4}, nil, 4},
		{"other organization", id(2), store.Page{}, []atlasx509.ServiceAccount{sa5}, 1},
		{"unknown organization", id(99), store.Page{}, nil, 0},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListServiceAccounts(ctx, tc.orgID, tc.page)
			if err != nil {
				t.Errorf("%s: ListServiceAccounts: %v", tc.name, err)
				continue
			}
			checkList(t, tc.name+": ListServiceAccounts", tc.want, got)
			n, err := tx.CountServiceAccounts(ctx, tc.orgID)
			if err != nil || n != tc.count {
				t.Errorf("%s: CountServiceAccounts = %d, %v; want %d", tc.name, n, err, tc.count)
			}
		}
		return nil
	})
}

func testUpdateServiceAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, nil)
	sa1, sa2 := serviceAccount(1, 1), serviceAccount(2, 1)
	insertAll(t, s, nil, []atlasx509.ServiceAccount{sa1, sa2}, nil, nil)
	check := func(what string, want ...atlasx509.ServiceAccount) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, w := range want {
				got, err := tx.GetServiceAccount(ctx, w.ClientID)
				if err != nil {
					t.Errorf("%s: GetServiceAccount(%s): %v", what, w.ClientID, err)
					continue
				}
				if d := diff(w, got); d != "" {
					t.Errorf("%s: GetServiceAccount(%s) mismatch (-want +got):\n%s", what, w.ClientID, d)
				}
			}
			return nil
		})
	}

	// Only the name and description are written.
	arg := serviceAccount(3, 2)
	arg.ClientID = sa1.ClientID
	arg.Name, arg.Description = "new name", "new description"
	want := sa1
	want.Name, want.Description = arg.Name, arg.Description
	update(t, s, func(tx store.Tx) error { return tx.UpdateServiceAccount(ctx, arg) })
	check("after UpdateServiceAccount", want, sa2)

	// The same values again; then the other account's name (names are not
	// unique) and an empty description.
	update(t, s, func(tx store.Tx) error { return tx.UpdateServiceAccount(ctx, want) })
	want.Name, want.Description = sa2.Name, ""
	update(t, s, func(tx store.Tx) error { return tx.UpdateServiceAccount(ctx, want) })
	check("after a second update", want, sa2)

	missing := serviceAccount(9, 1)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateServiceAccount(ctx, missing) })
	wantIs(t, "UpdateServiceAccount(missing)", err, store.ErrNotFound)
	check("after a refused update", want, sa2)
}

func testDeleteServiceAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1 := project(1, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p1})
	sa1, sa2 := serviceAccount(1, 1), serviceAccount(2, 1)
	k := apiKey(1, 1)
	role := func(principalID, groupID string, r atlasx509.Role) atlasx509.RoleAssignment {
		return atlasx509.RoleAssignment{PrincipalID: principalID, PrincipalKind: kindOf(principalID), OrgID: id(1), GroupID: groupID, Role: r}
	}
	sa1Roles := []atlasx509.RoleAssignment{
		role(sa1.ClientID, "", atlasx509.RoleOrgMember),
		role(sa1.ClientID, p1.ID, atlasx509.RoleGroupOwner),
	}
	sa2Roles := []atlasx509.RoleAssignment{role(sa2.ClientID, p1.ID, atlasx509.RoleGroupReadOnly)}
	kRoles := []atlasx509.RoleAssignment{role(k.ID, p1.ID, atlasx509.RoleGroupOwner)}
	sa1Entries := []atlasx509.AccessListEntry{accessListEntry(sa1.ClientID, "198.51.100.0/24", t0)}
	sa2Entries := []atlasx509.AccessListEntry{accessListEntry(sa2.ClientID, "198.51.100.0/24", t0)}
	kEntries := []atlasx509.AccessListEntry{accessListEntry(k.ID, "198.51.100.0/24", t0)}
	var ras []atlasx509.RoleAssignment
	ras = append(append(append(ras, sa1Roles...), sa2Roles...), kRoles...)
	var entries []atlasx509.AccessListEntry
	entries = append(append(append(entries, sa1Entries...), sa2Entries...), kEntries...)
	insertAll(t, s, []atlasx509.APIKey{k}, []atlasx509.ServiceAccount{sa1, sa2}, ras, entries)

	sec1, sec2 := secret(1, sa1, t0), secret(2, sa1, at(time.Hour))
	sec3 := secret(3, sa2, t0)
	token := func(n int, sa atlasx509.ServiceAccount) atlasx509.OAuthToken {
		return atlasx509.OAuthToken{ID: fmt.Sprintf("jti-%d", n), ClientID: sa.ClientID, ExpiresAt: at(time.Hour), Created: t0}
	}
	tok1, tok2, tok3 := token(1, sa1), token(2, sa1), token(3, sa2)
	update(t, s, func(tx store.Tx) error {
		for _, sec := range []atlasx509.ServiceAccountSecret{sec1, sec2, sec3} {
			if err := tx.InsertServiceAccountSecret(ctx, sec); err != nil {
				return err
			}
		}
		for _, tok := range []atlasx509.OAuthToken{tok1, tok2, tok3} {
			if err := tx.InsertOAuthToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})

	// What app does to delete an account: its dependents, then its row.
	deleteAll(t, s, "delete sa1", []deleteStep{
		{"DeleteOAuthTokens", func(tx store.Tx) (int, error) { return tx.DeleteOAuthTokens(ctx, sa1.ClientID) }, 2},
		{"DeleteServiceAccountSecrets", func(tx store.Tx) (int, error) { return tx.DeleteServiceAccountSecrets(ctx, sa1.ClientID) }, 2},
		{"DeletePrincipalRoleAssignments", func(tx store.Tx) (int, error) { return tx.DeletePrincipalRoleAssignments(ctx, sa1.ClientID) }, len(sa1Roles)},
		{"DeleteAccessList", func(tx store.Tx) (int, error) { return tx.DeleteAccessList(ctx, sa1.ClientID) }, len(sa1Entries)},
		{"DeleteServiceAccount", func(tx store.Tx) (int, error) { return 1, tx.DeleteServiceAccount(ctx, sa1.ClientID) }, 1},
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteServiceAccount(ctx, sa1.ClientID) })
	wantIs(t, "DeleteServiceAccount of a deleted account", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteServiceAccount(ctx, "mdb_sa_id_missing") })
	wantIs(t, "DeleteServiceAccount(missing)", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetServiceAccount(ctx, sa1.ClientID)
		wantIs(t, "GetServiceAccount(deleted)", err, store.ErrNotFound)
		for _, tok := range []atlasx509.OAuthToken{tok1, tok2} {
			_, err := tx.GetOAuthToken(ctx, tok.ID)
			wantIs(t, "GetOAuthToken of a deleted account", err, store.ErrNotFound)
		}
		if l, err := tx.ListServiceAccountSecrets(ctx, sa1.ClientID); err != nil || len(l) != 0 {
			t.Errorf("ListServiceAccountSecrets(deleted) = %+v, %v; want none", l, err)
		}
		if l, err := tx.ListRoleAssignments(ctx, sa1.ClientID); err != nil || len(l) != 0 {
			t.Errorf("ListRoleAssignments(deleted) = %+v, %v; want none", l, err)
		}
		if l, err := tx.ListAccessListEntries(ctx, sa1.ClientID); err != nil || len(l) != 0 {
			t.Errorf("ListAccessListEntries(deleted) = %+v, %v; want none", l, err)
		}
		if n, err := tx.CountServiceAccounts(ctx, id(1)); err != nil || n != 1 {
			t.Errorf("CountServiceAccounts = %d, %v; want 1", n, err)
		}

		// The other account and the API key are untouched.
		got, err := tx.GetServiceAccount(ctx, sa2.ClientID)
		if err != nil {
			return err
		}
		if d := diff(sa2, got); d != "" {
			t.Errorf("other account changed by DeleteServiceAccount (-want +got):\n%s", d)
		}
		gotSecrets, err := tx.ListServiceAccountSecrets(ctx, sa2.ClientID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ServiceAccountSecret{sec3}, gotSecrets); d != "" {
			t.Errorf("secrets of the other account (-want +got):\n%s", d)
		}
		gotToken, err := tx.GetOAuthToken(ctx, tok3.ID)
		if err != nil {
			return err
		}
		if d := diff(tok3, gotToken); d != "" {
			t.Errorf("token of the other account (-want +got):\n%s", d)
		}
		for _, p := range []struct {
			id      string
			roles   []atlasx509.RoleAssignment
			entries []atlasx509.AccessListEntry
		}{{sa2.ClientID, sa2Roles, sa2Entries}, {k.ID, kRoles, kEntries}} {
			gotRoles, err := tx.ListRoleAssignments(ctx, p.id)
			if err != nil {
				return err
			}
			if d := diff(p.roles, gotRoles); d != "" {
				t.Errorf("roles of %s changed by DeleteServiceAccount (-want +got):\n%s", p.id, d)
			}
			gotEntries, err := tx.ListAccessListEntries(ctx, p.id)
			if err != nil {
				return err
			}
			if d := diff(p.entries, gotEntries); d != "" {
				t.Errorf("access list of %s changed by DeleteServiceAccount (-want +got):\n%s", p.id, d)
			}
		}
		return nil
	})

	// The rows are gone, not hidden: the account re-created under the same
	// client id has nothing, and its secrets, tokens, roles and entries can
	// be inserted again.
	insertAll(t, s, nil, []atlasx509.ServiceAccount{sa1}, nil, nil)
	view(t, s, func(tx store.Tx) error {
		if l, err := tx.ListServiceAccountSecrets(ctx, sa1.ClientID); err != nil || len(l) != 0 {
			t.Errorf("ListServiceAccountSecrets of a re-created account = %+v, %v; want none", l, err)
		}
		_, err := tx.GetOAuthToken(ctx, tok1.ID)
		wantIs(t, "GetOAuthToken of a re-created account", err, store.ErrNotFound)
		return nil
	})
	insertAll(t, s, nil, nil, sa1Roles, sa1Entries)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertServiceAccountSecret(ctx, sec1); err != nil {
			return err
		}
		return tx.InsertOAuthToken(ctx, tok1)
	})
}

func testDeleteServiceAccountSecret(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	sa1, sa2 := serviceAccount(1, 1), serviceAccount(2, 1)
	sec1, sec2, sec3 := secret(1, sa1, t0), secret(2, sa1, at(time.Hour)), secret(3, sa2, t0)
	insertAll(t, s, nil, []atlasx509.ServiceAccount{sa1, sa2}, nil, nil)
	update(t, s, func(tx store.Tx) error {
		for _, sec := range []atlasx509.ServiceAccountSecret{sec1, sec2, sec3} {
			if err := tx.InsertServiceAccountSecret(ctx, sec); err != nil {
				return err
			}
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteServiceAccountSecret(ctx, sa1.ClientID, sec1.ID) })
	for _, tc := range []struct {
		name               string
		clientID, secretID string
	}{
		{"deleted secret", sa1.ClientID, sec1.ID},
		{"secret of another account", sa1.ClientID, sec3.ID},
		{"unknown secret", sa1.ClientID, id(99)},
		{"unknown account", "mdb_sa_id_missing", sec2.ID},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteServiceAccountSecret(ctx, tc.clientID, tc.secretID) })
		wantIs(t, "DeleteServiceAccountSecret, "+tc.name, err, store.ErrNotFound)
	}
	view(t, s, func(tx store.Tx) error {
		for _, l := range []struct {
			clientID string
			want     []atlasx509.ServiceAccountSecret
		}{
			{sa1.ClientID, []atlasx509.ServiceAccountSecret{sec2}},
			{sa2.ClientID, []atlasx509.ServiceAccountSecret{sec3}},
		} {
			got, err := tx.ListServiceAccountSecrets(ctx, l.clientID)
			if err != nil {
				return err
			}
			if d := diff(l.want, got); d != "" {
				t.Errorf("ListServiceAccountSecrets(%s) after DeleteServiceAccountSecret (-want +got):\n%s", l.clientID, d)
			}
		}
		if _, err := tx.GetServiceAccount(ctx, sa1.ClientID); err != nil {
			t.Errorf("GetServiceAccount after DeleteServiceAccountSecret: %v", err)
		}
		return nil
	})

	// The last secret can go too; the id is then free again.
	update(t, s, func(tx store.Tx) error { return tx.DeleteServiceAccountSecret(ctx, sa1.ClientID, sec2.ID) })
	update(t, s, func(tx store.Tx) error { return tx.InsertServiceAccountSecret(ctx, sec1) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListServiceAccountSecrets(ctx, sa1.ClientID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ServiceAccountSecret{sec1}, got); d != "" {
			t.Errorf("ListServiceAccountSecrets after re-inserting a deleted id (-want +got):\n%s", d)
		}
		return nil
	})
}
