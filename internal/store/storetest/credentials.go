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
		return atlasx509.RoleAssignment{PrincipalID: principalID, PrincipalKind: kindOf(principalID), OrgID: orgID, GroupID: groupID, Role: r}
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

	// What app does to delete a key: its dependents, then its row.
	deleteAll(t, s, "delete k1", []deleteStep{
		{"DeletePrincipalRoleAssignments", func(tx store.Tx) (int, error) { return tx.DeletePrincipalRoleAssignments(ctx, k1.ID) }, len(k1Roles)},
		{"DeleteAccessList", func(tx store.Tx) (int, error) { return tx.DeleteAccessList(ctx, k1.ID) }, len(k1Entries)},
		{"DeleteAPIKey", func(tx store.Tx) (int, error) { return 1, tx.DeleteAPIKey(ctx, k1.ID) }, 1},
	})
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

// deleteStep is one deletion of deleteAll: n returns how many rows it
// deleted, which must be want.
type deleteStep struct {
	name string
	n    func(tx store.Tx) (int, error)
	want int
}

// deleteAll runs steps in one Update, as app deletes a credential, and
// checks each count.
func deleteAll(t *testing.T, s store.Store, what string, steps []deleteStep) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, st := range steps {
			n, err := st.n(tx)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", what, st.name, err)
			}
			if n != st.want {
				t.Errorf("%s: %s = %d, want %d", what, st.name, n, st.want)
			}
		}
		return nil
	})
}
