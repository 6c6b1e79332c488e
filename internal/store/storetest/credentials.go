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
			got, err = tx.GetAPIKey(ctx, want.ID)
			if err != nil {
				t.Errorf("GetAPIKey(%s): %v", want.ID, err)
				continue
			}
			if d := diff(want, got); d != "" {
				t.Errorf("GetAPIKey(%s) mismatch (-want +got):\n%s", want.ID, d)
			}
			if got.SealedHA1MD5 == nil || got.SealedHA1SHA256 == nil {
				t.Errorf("GetAPIKey(%s) returned nil byte slices", want.ID)
			}
		}
		_, err := tx.GetAPIKeyByPublicKey(ctx, "missing")
		wantIs(t, "GetAPIKeyByPublicKey(missing)", err, store.ErrNotFound)
		_, err = tx.GetAPIKeyByPublicKey(ctx, k1.ID)
		wantIs(t, "GetAPIKeyByPublicKey(an id)", err, store.ErrNotFound)
		_, err = tx.GetAPIKey(ctx, id(99))
		wantIs(t, "GetAPIKey(missing)", err, store.ErrNotFound)
		_, err = tx.GetAPIKey(ctx, k1.PublicKey)
		wantIs(t, "GetAPIKey(a public key)", err, store.ErrNotFound)
		return nil
	})
}

// insertAll inserts API keys, service accounts, role assignments and access
// list entries, in that order, failing the test on error.
func insertAll(t *testing.T, s store.Store, keys []atlasx509.APIKey, sas []atlasx509.ServiceAccount,
	ras []atlasx509.RoleAssignment, entries []atlasx509.AccessListEntry) {
	t.Helper()
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.InsertAPIKey(ctx, k); err != nil {
				return fmt.Errorf("insert API key %s: %w", k.ID, err)
			}
		}
		for _, sa := range sas {
			if err := tx.InsertServiceAccount(ctx, sa); err != nil {
				return fmt.Errorf("insert service account %s: %w", sa.ClientID, err)
			}
		}
		for _, ra := range ras {
			if err := tx.InsertRoleAssignment(ctx, ra); err != nil {
				return fmt.Errorf("insert role assignment %+v: %w", ra, err)
			}
		}
		for _, e := range entries {
			if err := tx.InsertAccessListEntry(ctx, e); err != nil {
				return fmt.Errorf("insert access list entry %+v: %w", e, err)
			}
		}
		return nil
	})
}

func testListAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, nil)
	// Created out of insertion order; k2 and k4 at the same instant (by ID
	// then); k5 in another organization.
	k1, k2, k3, k4, k5 := apiKey(1, 1), apiKey(2, 1), apiKey(3, 1), apiKey(4, 1), apiKey(5, 2)
	k1.Created, k2.Created, k3.Created, k4.Created, k5.Created = at(3*time.Hour), at(time.Hour), at(0), at(time.Hour), at(-time.Hour)
	k3.SealedHA1MD5 = nil
	insertAll(t, s, []atlasx509.APIKey{k1, k5, k4, k3, k2}, nil, nil, nil)
	want3 := k3
	want3.SealedHA1MD5 = []byte{}

	tests := []struct {
		name  string
		orgID string
		page  store.Page
		want  []atlasx509.APIKey
		count int
	}{
		{"all", id(1), store.Page{}, []atlasx509.APIKey{want3, k2, k4, k1}, 4},
		{"limit", id(1), store.Page{Limit: 3}, []atlasx509.APIKey{want3, k2, k4}, 4},
		{"limit and offset", id(1), store.Page{Limit: 2, Offset: 1}, []atlasx509.APIKey{k2, k4}, 4},
		{"offset without limit", id(1), store.Page{Offset: 3}, []atlasx509.APIKey{k1}, 4},
		{"offset past the end", id(1), store.Page{Limit: 2, Offset: 4}, nil, 4},
		{"other organization", id(2), store.Page{}, []atlasx509.APIKey{k5}, 1},
		{"unknown organization", id(99), store.Page{}, nil, 0},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListAPIKeys(ctx, tc.orgID, tc.page)
			if err != nil {
				t.Errorf("%s: ListAPIKeys: %v", tc.name, err)
				continue
			}
			checkList(t, tc.name+": ListAPIKeys", tc.want, got)
			n, err := tx.CountAPIKeys(ctx, tc.orgID)
			if err != nil || n != tc.count {
				t.Errorf("%s: CountAPIKeys = %d, %v; want %d", tc.name, n, err, tc.count)
			}
		}
		return nil
	})
}

func testUpdateAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, nil)
	k1, k2 := apiKey(1, 1), apiKey(2, 1)
	insertAll(t, s, []atlasx509.APIKey{k1, k2}, nil, nil, nil)

	// Only the description is written.
	arg := apiKey(3, 2)
	arg.ID = k1.ID
	arg.Description = "new description"
	want := k1
	want.Description = arg.Description
	update(t, s, func(tx store.Tx) error { return tx.UpdateAPIKey(ctx, arg) })
	check := func(what string, want ...atlasx509.APIKey) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, w := range want {
				got, err := tx.GetAPIKey(ctx, w.ID)
				if err != nil {
					t.Errorf("%s: GetAPIKey(%s): %v", what, w.ID, err)
					continue
				}
				if d := diff(w, got); d != "" {
					t.Errorf("%s: GetAPIKey(%s) mismatch (-want +got):\n%s", what, w.ID, d)
				}
			}
			_, err := tx.GetAPIKeyByPublicKey(ctx, arg.PublicKey)
			wantIs(t, what+": GetAPIKeyByPublicKey(public key of the update argument)", err, store.ErrNotFound)
			return nil
		})
	}
	check("after UpdateAPIKey", want, k2)

	// The same description again, and an empty one.
	update(t, s, func(tx store.Tx) error { return tx.UpdateAPIKey(ctx, want) })
	want.Description = ""
	update(t, s, func(tx store.Tx) error { return tx.UpdateAPIKey(ctx, want) })
	check("after clearing the description", want, k2)

	missing := apiKey(9, 1)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateAPIKey(ctx, missing) })
	wantIs(t, "UpdateAPIKey(missing)", err, store.ErrNotFound)
	check("after a refused update", want, k2)
}

// accessListEntry returns a fixture access list entry of principalID.
func accessListEntry(principalID, cidr string, created time.Time) atlasx509.AccessListEntry {
	return atlasx509.AccessListEntry{PrincipalID: principalID, CIDR: cidr, Comment: "from " + cidr, Created: created}
}

func testDeleteAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := project(1, 1), project(2, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2})
	k1, k2 := apiKey(1, 1), apiKey(2, 1)
	sa := serviceAccount(1, 1)
	role := func(principalID, orgID, groupID string, r atlasx509.Role) atlasx509.RoleAssignment {
		return atlasx509.RoleAssignment{PrincipalID: principalID, OrgID: orgID, GroupID: groupID, Role: r}
	}
	// k1 holds roles in both organizations (an invited key).
	k1Roles := []atlasx509.RoleAssignment{
		role(k1.ID, id(1), "", atlasx509.RoleOrgOwner),
		role(k1.ID, id(1), p1.ID, atlasx509.RoleGroupOwner),
		role(k1.ID, id(2), p2.ID, atlasx509.RoleGroupReadOnly),
	}
	k2Roles := []atlasx509.RoleAssignment{
		role(k2.ID, id(1), "", atlasx509.RoleOrgMember),
		role(k2.ID, id(1), p1.ID, atlasx509.RoleGroupReadOnly),
	}
	saRoles := []atlasx509.RoleAssignment{role(sa.ClientID, id(1), p1.ID, atlasx509.RoleGroupOwner)}
	k1Entries := []atlasx509.AccessListEntry{
		accessListEntry(k1.ID, "192.0.2.7/32", at(time.Second)),
		accessListEntry(k1.ID, "2001:db8::/48", at(2*time.Second)),
	}
	k2Entries := []atlasx509.AccessListEntry{accessListEntry(k2.ID, "192.0.2.7/32", at(time.Second))}
	saEntries := []atlasx509.AccessListEntry{accessListEntry(sa.ClientID, "192.0.2.7/32", at(time.Second))}
	var ras []atlasx509.RoleAssignment
	ras = append(append(append(ras, k1Roles...), k2Roles...), saRoles...)
	var entries []atlasx509.AccessListEntry
	entries = append(append(append(entries, k1Entries...), k2Entries...), saEntries...)
	insertAll(t, s, []atlasx509.APIKey{k1, k2}, []atlasx509.ServiceAccount{sa}, ras, entries)

	update(t, s, func(tx store.Tx) error { return tx.DeleteAPIKey(ctx, k1.ID) })
	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteAPIKey(ctx, k1.ID) })
	wantIs(t, "DeleteAPIKey of a deleted key", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteAPIKey(ctx, id(99)) })
	wantIs(t, "DeleteAPIKey(missing)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteAPIKey(ctx, k2.PublicKey) })
	wantIs(t, "DeleteAPIKey(a public key)", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetAPIKey(ctx, k1.ID)
		wantIs(t, "GetAPIKey(deleted)", err, store.ErrNotFound)
		_, err = tx.GetAPIKeyByPublicKey(ctx, k1.PublicKey)
		wantIs(t, "GetAPIKeyByPublicKey(deleted)", err, store.ErrNotFound)
		for _, c := range []struct {
			what string
			f    func() (int, error)
			want int
		}{
			{"CountAPIKeys", func() (int, error) { return tx.CountAPIKeys(ctx, id(1)) }, 1},
			{"len(ListRoleAssignments(deleted key))", func() (int, error) {
				l, err := tx.ListRoleAssignments(ctx, k1.ID)
				return len(l), err
			}, 0},
			{"len(ListAccessListEntries(deleted key))", func() (int, error) {
				l, err := tx.ListAccessListEntries(ctx, k1.ID)
				return len(l), err
			}, 0},
		} {
			if n, err := c.f(); err != nil || n != c.want {
				t.Errorf("%s after DeleteAPIKey = %d, %v; want %d", c.what, n, err, c.want)
			}
		}
		got, err := tx.GetAPIKey(ctx, k2.ID)
		if err != nil {
			return err
		}
		if d := diff(k2, got); d != "" {
			t.Errorf("other key changed by DeleteAPIKey (-want +got):\n%s", d)
		}
		for _, p := range []struct {
			id      string
			roles   []atlasx509.RoleAssignment
			entries []atlasx509.AccessListEntry
		}{{k2.ID, k2Roles, k2Entries}, {sa.ClientID, saRoles, saEntries}} {
			gotRoles, err := tx.ListRoleAssignments(ctx, p.id)
			if err != nil {
				return err
			}
			if d := diff(p.roles, gotRoles); d != "" {
				t.Errorf("roles of %s changed by DeleteAPIKey (-want +got):\n%s", p.id, d)
			}
			gotEntries, err := tx.ListAccessListEntries(ctx, p.id)
			if err != nil {
				return err
			}
			if d := diff(p.entries, gotEntries); d != "" {
				t.Errorf("access list of %s changed by DeleteAPIKey (-want +got):\n%s", p.id, d)
			}
		}
		return nil
	})

	// The rows are gone, not hidden: a key re-created with the same id
	// starts with no role and no access list entry, and the entries can be
	// inserted again.
	insertAll(t, s, []atlasx509.APIKey{k1}, nil, nil, nil)
	view(t, s, func(tx store.Tx) error {
		if l, err := tx.ListRoleAssignments(ctx, k1.ID); err != nil || len(l) != 0 {
			t.Errorf("ListRoleAssignments of a re-created key = %+v, %v; want none", l, err)
		}
		if l, err := tx.ListAccessListEntries(ctx, k1.ID); err != nil || len(l) != 0 {
			t.Errorf("ListAccessListEntries of a re-created key = %+v, %v; want none", l, err)
		}
		return nil
	})
	insertAll(t, s, nil, nil, k1Roles, k1Entries)
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
		return atlasx509.RoleAssignment{PrincipalID: principalID, OrgID: id(1), GroupID: groupID, Role: r}
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

	update(t, s, func(tx store.Tx) error { return tx.DeleteServiceAccount(ctx, sa1.ClientID) })
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

func testListProjectRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3 := project(1, 1), project(2, 1), project(3, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3})
	ra := func(principalID, orgID, groupID string, role atlasx509.Role) atlasx509.RoleAssignment {
		return atlasx509.RoleAssignment{PrincipalID: principalID, OrgID: orgID, GroupID: groupID, Role: role}
	}
	// Principals whose order is not insertion order; two roles of one
	// principal over p1; organization roles and roles over other projects
	// that must not be listed.
	a, b, c := id(501), id(502), "mdb_sa_id_0003"
	r1 := ra(c, id(1), p1.ID, atlasx509.RoleGroupOwner)
	r2 := ra(a, id(1), p1.ID, atlasx509.RoleGroupReadOnly)
	r3 := ra(b, id(1), p1.ID, atlasx509.RoleGroupOwner)
	r4 := ra(a, id(1), p1.ID, atlasx509.RoleGroupClusterManager)
	orgRoles := []atlasx509.RoleAssignment{ra(a, id(1), "", atlasx509.RoleOrgOwner), ra(b, id(1), "", atlasx509.RoleOrgMember)}
	r5 := ra(a, id(1), p2.ID, atlasx509.RoleGroupOwner)
	r6 := ra(a, id(2), p3.ID, atlasx509.RoleGroupReadOnly)
	insertAll(t, s, nil, nil, []atlasx509.RoleAssignment{r1, orgRoles[0], r2, r5, r3, r6, orgRoles[1], r4}, nil)

	view(t, s, func(tx store.Tx) error {
		for _, l := range []struct {
			groupID string
			want    []atlasx509.RoleAssignment
		}{
			// By principal, then role.
			{p1.ID, []atlasx509.RoleAssignment{r4, r2, r3, r1}},
			{p2.ID, []atlasx509.RoleAssignment{r5}},
			{p3.ID, []atlasx509.RoleAssignment{r6}},
			{id(99), nil},
			// Organization roles are over no project.
			{"", nil},
		} {
			got, err := tx.ListProjectRoleAssignments(ctx, l.groupID)
			if err != nil {
				t.Errorf("ListProjectRoleAssignments(%q): %v", l.groupID, err)
				continue
			}
			checkList(t, fmt.Sprintf("ListProjectRoleAssignments(%q)", l.groupID), l.want, got)
		}
		return nil
	})
}

func testDeleteRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3 := project(1, 1), project(2, 1), project(3, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3})
	principal, other := id(500), id(501)
	ra := func(principalID, orgID, groupID string, role atlasx509.Role) atlasx509.RoleAssignment {
		return atlasx509.RoleAssignment{PrincipalID: principalID, OrgID: orgID, GroupID: groupID, Role: role}
	}
	org1a := ra(principal, id(1), "", atlasx509.RoleOrgMember)
	org1b := ra(principal, id(1), "", atlasx509.RoleOrgOwner)
	org2 := ra(principal, id(2), "", atlasx509.RoleOrgReadOnly)
	p1a := ra(principal, id(1), p1.ID, atlasx509.RoleGroupClusterManager)
	p1b := ra(principal, id(1), p1.ID, atlasx509.RoleGroupOwner)
	p2a := ra(principal, id(1), p2.ID, atlasx509.RoleGroupReadOnly)
	p3a := ra(principal, id(2), p3.ID, atlasx509.RoleGroupOwner)
	otherRoles := []atlasx509.RoleAssignment{
		ra(other, id(1), "", atlasx509.RoleOrgOwner),
		ra(other, id(1), p1.ID, atlasx509.RoleGroupOwner),
	}
	insertAll(t, s, nil, nil, append([]atlasx509.RoleAssignment{org1a, org1b, org2, p1a, p1b, p2a, p3a}, otherRoles...), nil)

	steps := []struct {
		name                    string
		principal, org, groupID string
		want                    int
		remaining               []atlasx509.RoleAssignment // of principal, in ListRoleAssignments order
	}{
		{"project of another organization", principal, id(2), p1.ID, 0,
			[]atlasx509.RoleAssignment{org1a, org1b, p1a, p1b, p2a, org2, p3a}},
		{"unknown principal", id(999), id(1), "", 0,
			[]atlasx509.RoleAssignment{org1a, org1b, p1a, p1b, p2a, org2, p3a}},
		{"organization roles", principal, id(1), "", 2,
			[]atlasx509.RoleAssignment{p1a, p1b, p2a, org2, p3a}},
		{"organization roles again", principal, id(1), "", 0,
			[]atlasx509.RoleAssignment{p1a, p1b, p2a, org2, p3a}},
		{"project roles", principal, id(1), p1.ID, 2,
			[]atlasx509.RoleAssignment{p2a, org2, p3a}},
		{"project roles again", principal, id(1), p1.ID, 0,
			[]atlasx509.RoleAssignment{p2a, org2, p3a}},
		{"roles in the other organization", principal, id(2), p3.ID, 1,
			[]atlasx509.RoleAssignment{p2a, org2}},
	}
	for _, step := range steps {
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteRoleAssignments(ctx, step.principal, step.org, step.groupID)
			return err
		})
		if n != step.want {
			t.Errorf("%s: DeleteRoleAssignments = %d, want %d", step.name, n, step.want)
		}
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListRoleAssignments(ctx, principal)
			if err != nil {
				return err
			}
			checkList(t, step.name+": ListRoleAssignments", step.remaining, got)
			got, err = tx.ListRoleAssignments(ctx, other)
			if err != nil {
				return err
			}
			checkList(t, step.name+": ListRoleAssignments(other principal)", otherRoles, got)
			return nil
		})
	}
	// A deleted role can be assigned again.
	insertAll(t, s, nil, nil, []atlasx509.RoleAssignment{org1b, p1b}, nil)
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
	past, edge, future := token(1, at(-time.Microsecond)), token(2, t0), token(3, at(time.Hour))
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
