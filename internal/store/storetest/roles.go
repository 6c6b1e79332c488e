package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// kindOf returns the kind of a fixture principal: service account client
// ids start with mdb_sa_id_, the others are API key ids.
func kindOf(principalID string) atlasx509.PrincipalKind {
	if strings.HasPrefix(principalID, "mdb_sa_id_") {
		return atlasx509.PrincipalServiceAccount
	}
	return atlasx509.PrincipalAPIKey
}

// roleOf returns a fixture role assignment, of the kind kindOf tells.
func roleOf(principalID, orgID, groupID string, role atlasx509.Role) atlasx509.RoleAssignment {
	return atlasx509.RoleAssignment{PrincipalID: principalID, PrincipalKind: kindOf(principalID), OrgID: orgID, GroupID: groupID, Role: role}
}

func testRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := project(1, 1), project(2, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2})
	principal := id(500)
	ra := func(orgID, groupID string, role atlasx509.Role) atlasx509.RoleAssignment {
		return roleOf(principal, orgID, groupID, role)
	}
	r1 := ra(id(2), p2.ID, atlasx509.RoleGroupReadOnly)
	r2 := ra(id(1), "", atlasx509.RoleOrgOwner)
	r3 := ra(id(1), p1.ID, atlasx509.RoleGroupOwner)
	r4 := ra(id(1), "", atlasx509.RoleOrgMember)
	r5 := ra(id(2), "", atlasx509.RoleOrgReadOnly)
	r6 := ra(id(1), p1.ID, atlasx509.RoleGroupClusterManager)
	other := roleOf(id(501), id(1), "", atlasx509.RoleOrgOwner)
	account := roleOf("mdb_sa_id_0001", id(1), p1.ID, atlasx509.RoleGroupOwner)
	update(t, s, func(tx store.Tx) error {
		for _, r := range []atlasx509.RoleAssignment{r1, r2, r3, other, r4, r5, r6, account} {
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
	noKind := ra(id(1), p2.ID, atlasx509.RoleGroupOwner)
	noKind.PrincipalKind = 0
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertRoleAssignment(ctx, noKind) })
	wantInternal(t, "InsertRoleAssignment of no principal kind", err)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRoleAssignments(ctx, principal)
		if err != nil {
			return err
		}
		// OrgID, then GroupID ("" first), then Role.
		if d := diff([]atlasx509.RoleAssignment{r4, r2, r6, r3, r5, r1}, got); d != "" {
			t.Errorf("ListRoleAssignments mismatch (-want +got):\n%s", d)
		}
		got, err = tx.ListRoleAssignments(ctx, account.PrincipalID)
		if err != nil {
			return err
		}
		// The kind comes back as stored.
		if d := diff([]atlasx509.RoleAssignment{account}, got); d != "" {
			t.Errorf("ListRoleAssignments of a service account mismatch (-want +got):\n%s", d)
		}
		got, err = tx.ListRoleAssignments(ctx, id(999))
		if err != nil || len(got) != 0 {
			t.Errorf("ListRoleAssignments(unknown) = %+v, %v; want none", got, err)
		}
		return nil
	})
}

func testListProjectPrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3 := project(1, 1), project(2, 1), project(3, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3})
	// Principals whose order is not insertion order, of both kinds; two
	// roles of one principal over p1; organization roles and roles over
	// other projects that must not be listed.
	a, b, c := id(501), id(502), id(503)
	sa, sb := "mdb_sa_id_0001", "mdb_sa_id_0002"
	insertAll(t, s, nil, nil, []atlasx509.RoleAssignment{
		roleOf(c, id(1), p1.ID, atlasx509.RoleGroupOwner),
		roleOf(a, id(1), "", atlasx509.RoleOrgOwner),
		roleOf(sb, id(1), p1.ID, atlasx509.RoleGroupReadOnly),
		roleOf(a, id(1), p1.ID, atlasx509.RoleGroupReadOnly),
		roleOf(a, id(1), p2.ID, atlasx509.RoleGroupOwner),
		roleOf(b, id(1), "", atlasx509.RoleOrgMember),
		roleOf(sa, id(1), p1.ID, atlasx509.RoleGroupOwner),
		roleOf(sa, id(1), p1.ID, atlasx509.RoleGroupReadOnly),
		roleOf(a, id(2), p3.ID, atlasx509.RoleGroupReadOnly),
		roleOf(a, id(1), p1.ID, atlasx509.RoleGroupClusterManager),
		roleOf(sb, id(1), "", atlasx509.RoleOrgMember),
	}, nil)

	keys, accounts := atlasx509.PrincipalAPIKey, atlasx509.PrincipalServiceAccount
	view(t, s, func(tx store.Tx) error {
		for _, l := range []struct {
			groupID string
			kind    atlasx509.PrincipalKind
			page    store.Page
			want    []string
		}{
			{p1.ID, keys, store.Page{}, []string{a, c}},
			{p1.ID, accounts, store.Page{}, []string{sa, sb}},
			{p1.ID, keys, store.Page{Limit: 1}, []string{a}},
			{p1.ID, keys, store.Page{Limit: 1, Offset: 1}, []string{c}},
			{p1.ID, accounts, store.Page{Offset: 1}, []string{sb}},
			{p1.ID, keys, store.Page{Limit: 5, Offset: 2}, nil},
			{p2.ID, keys, store.Page{}, []string{a}},
			{p2.ID, accounts, store.Page{}, nil},
			{p3.ID, keys, store.Page{}, []string{a}},
			{id(99), keys, store.Page{}, nil},
			// Organization roles are over no project.
			{"", keys, store.Page{}, nil},
			{"", accounts, store.Page{}, nil},
		} {
			what := fmt.Sprintf("ListProjectPrincipals(%q, %v, %+v)", l.groupID, l.kind, l.page)
			got, err := tx.ListProjectPrincipals(ctx, l.groupID, l.kind, l.page)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			checkList(t, what, l.want, got)
			if l.page != (store.Page{}) {
				continue
			}
			n, err := tx.CountProjectPrincipals(ctx, l.groupID, l.kind)
			if err != nil || n != len(l.want) {
				t.Errorf("CountProjectPrincipals(%q, %v) = %d, %v; want %d", l.groupID, l.kind, n, err, len(l.want))
			}
		}
		_, err := tx.ListProjectPrincipals(ctx, p1.ID, keys, store.Page{Limit: -1})
		if err == nil {
			t.Error("ListProjectPrincipals with a negative limit: no error")
		}
		return nil
	})
}

func testListPrincipalProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3, p4 := project(1, 1), project(2, 1), project(3, 2), project(4, 1)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3, p4})
	principal, other := "mdb_sa_id_0001", id(501)
	insertAll(t, s, nil, nil, []atlasx509.RoleAssignment{
		roleOf(principal, id(1), p2.ID, atlasx509.RoleGroupOwner),
		roleOf(principal, id(1), "", atlasx509.RoleOrgMember),
		roleOf(principal, id(1), p1.ID, atlasx509.RoleGroupOwner),
		roleOf(principal, id(1), p1.ID, atlasx509.RoleGroupReadOnly),
		roleOf(principal, id(2), p3.ID, atlasx509.RoleGroupReadOnly),
		roleOf(other, id(1), p4.ID, atlasx509.RoleGroupReadOnly),
	}, nil)
	view(t, s, func(tx store.Tx) error {
		for _, l := range []struct {
			principal, orgID string
			page             store.Page
			want             []string
		}{
			{principal, id(1), store.Page{}, []string{p1.ID, p2.ID}},
			{principal, id(1), store.Page{Limit: 1}, []string{p1.ID}},
			{principal, id(1), store.Page{Limit: 1, Offset: 1}, []string{p2.ID}},
			{principal, id(1), store.Page{Offset: 2}, nil},
			{principal, id(2), store.Page{}, []string{p3.ID}},
			{principal, id(99), store.Page{}, nil},
			{other, id(1), store.Page{}, []string{p4.ID}},
			{id(999), id(1), store.Page{}, nil},
		} {
			what := fmt.Sprintf("ListPrincipalProjects(%q, %q, %+v)", l.principal, l.orgID, l.page)
			got, err := tx.ListPrincipalProjects(ctx, l.principal, l.orgID, l.page)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			checkList(t, what, l.want, got)
			if l.page != (store.Page{}) {
				continue
			}
			n, err := tx.CountPrincipalProjects(ctx, l.principal, l.orgID)
			if err != nil || n != len(l.want) {
				t.Errorf("CountPrincipalProjects(%q, %q) = %d, %v; want %d", l.principal, l.orgID, n, err, len(l.want))
			}
		}
		return nil
	})
}

func testDeleteRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3 := project(1, 1), project(2, 1), project(3, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3})
	principal, other := id(500), id(501)
	ra := roleOf
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
		wantCount(t, s, step.name+": DeleteRoleAssignments", step.want, func(tx store.Tx) (int, error) {
			return tx.DeleteRoleAssignments(ctx, step.principal, step.org, step.groupID)
		})
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

	// DeletePrincipalRoleAssignments removes every role of the principal,
	// in every organization, and none of another.
	deleteAll := func(tx store.Tx) (int, error) { return tx.DeletePrincipalRoleAssignments(ctx, principal) }
	wantCount(t, s, "DeletePrincipalRoleAssignments", 4, deleteAll)
	wantCount(t, s, "DeletePrincipalRoleAssignments again", 0, deleteAll)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRoleAssignments(ctx, principal)
		if err != nil {
			return err
		}
		checkList(t, "ListRoleAssignments after DeletePrincipalRoleAssignments", nil, got)
		got, err = tx.ListRoleAssignments(ctx, other)
		if err != nil {
			return err
		}
		checkList(t, "ListRoleAssignments(other principal) after DeletePrincipalRoleAssignments", otherRoles, got)
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

	view(t, s, func(tx store.Tx) error {
		// Strictly after: edge (ExpiresAt == t0) and future, revoked or not.
		for _, c := range []struct {
			client string
			at     time.Time
			want   int
		}{{sa.ClientID, t0, 1}, {sa.ClientID, at(-time.Microsecond), 2}, {sa.ClientID, at(-2 * time.Hour), 4}, {"mdb_sa_id_missing", at(-2 * time.Hour), 0}} {
			n, err := tx.CountOAuthTokens(ctx, c.client, c.at)
			if err != nil || n != c.want {
				t.Errorf("CountOAuthTokens(%s, %v) = %d, %v; want %d", c.client, c.at, n, err, c.want)
			}
		}
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
	wantCount(t, s, "DeleteOAuthTokensExpiredBefore(t0)", 2, func(tx store.Tx) (int, error) {
		return tx.DeleteOAuthTokensExpiredBefore(ctx, t0)
	})
	view(t, s, func(tx store.Tx) error {
		for _, gone := range []string{past.ID, revoked.ID} {
			_, err := tx.GetOAuthToken(ctx, gone)
			wantIs(t, "GetOAuthToken of a deleted token", err, store.ErrNotFound)
		}
		get(tx, edge)
		get(tx, future)
		return nil
	})
	wantCount(t, s, "DeleteOAuthTokensExpiredBefore(t0) again", 0, func(tx store.Tx) (int, error) {
		return tx.DeleteOAuthTokensExpiredBefore(ctx, t0)
	})
}
