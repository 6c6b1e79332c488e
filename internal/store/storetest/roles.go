package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

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
