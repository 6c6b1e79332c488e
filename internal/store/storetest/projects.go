package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name  string
		value []byte
		want  []byte
	}{
		{"bytes", []byte{0, 1, 2, 0xff}, []byte{0, 1, 2, 0xff}},
		{"empty", []byte{}, []byte{}},
		{"nil", nil, []byte{}},
	}
	for _, tc := range tests {
		update(t, s, func(tx store.Tx) error { return tx.InsertSetting(ctx, tc.name, tc.value) })
	}
	for _, tc := range tests {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetSetting(ctx, tc.name)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("GetSetting(%q) mismatch (-want +got):\n%s", tc.name, d)
			}
			if got == nil {
				t.Errorf("GetSetting(%q) = nil, want a non-nil slice", tc.name)
			}
			return nil
		})
	}
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "bytes", []byte("other")) })
	wantIs(t, "InsertSetting of a taken name", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, "missing")
		wantIs(t, "GetSetting(missing)", err, store.ErrNotFound)
		got, err := tx.GetSetting(ctx, "bytes")
		if err != nil {
			return err
		}
		if d := diff([]byte{0, 1, 2, 0xff}, got); d != "" {
			t.Errorf("setting changed by a refused insert (-want +got):\n%s", d)
		}
		return nil
	})
}

func testOrganizations(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := org(1)
	seed(t, s, []atlasx509.Organization{o, org(2)}, nil)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetOrganization(ctx, o.ID)
		if err != nil {
			return err
		}
		if d := diff(o, got); d != "" {
			t.Errorf("GetOrganization mismatch (-want +got):\n%s", d)
		}
		_, err = tx.GetOrganization(ctx, id(99))
		wantIs(t, "GetOrganization(missing)", err, store.ErrNotFound)
		return nil
	})
	dup := o
	dup.Name = "another name"
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertOrganization(ctx, dup) })
	wantIs(t, "InsertOrganization of a taken id", err, store.ErrConflict)

	// UpdateOrganization writes the name and the alert flag, not Created.
	changed := o
	changed.Name, changed.SkipDefaultAlertsSettings = "renamed", true
	arg := changed
	arg.Created = at(99 * time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.UpdateOrganization(ctx, arg) })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateOrganization(ctx, org(99)) })
	wantIs(t, "UpdateOrganization(missing)", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		for _, want := range []atlasx509.Organization{changed, org(2)} {
			got, err := tx.GetOrganization(ctx, want.ID)
			if err != nil {
				return err
			}
			if d := diff(want, got); d != "" {
				t.Errorf("GetOrganization after UpdateOrganization (-want +got):\n%s", d)
			}
		}
		return nil
	})
}

// withSettings returns p with the optional fields set: self-managed X.509
// CAs, a leaf key type, the alerts flag, tags (in an order that is not
// sorted), settings and limits.
func withSettings(p atlasx509.Project) atlasx509.Project {
	p.CustomerX509CAs = "-----BEGIN CERTIFICATE-----\nMIIB" + p.ID + "\n-----END CERTIFICATE-----\n"
	p.CustomerX509CRLs = "-----BEGIN X509 CRL-----\nMIIB" + p.ID + "\n-----END X509 CRL-----\n"
	p.LeafKeyType = "ECDSA_P256"
	p.WithDefaultAlertsSettings = true
	p.Tags = []atlasx509.Tag{{Key: "team", Value: "payments"}, {Key: "env", Value: "prod ü"}}
	p.Settings = map[string]bool{"isDataExplorerEnabled": false, "isSchemaAdvisorEnabled": true}
	p.Limits = map[string]int64{"atlas.project.security.databaseAccess.users": 250}
	return p
}

func testProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := withSettings(project(1, 1))
	plain := project(6, 1) // CustomerX509CAs and LeafKeyType left ""
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p, plain})
	view(t, s, func(tx store.Tx) error {
		for _, want := range []atlasx509.Project{p, plain} {
			got, err := tx.GetProject(ctx, want.ID)
			if err != nil {
				return err
			}
			if d := diff(want, got); d != "" {
				t.Errorf("GetProject mismatch (-want +got):\n%s", d)
			}
		}
		_, err := tx.GetProject(ctx, id(99))
		wantIs(t, "GetProject(missing)", err, store.ErrNotFound)
		return nil
	})

	sameName := project(2, 1)
	sameName.Name = p.Name
	sameID := project(3, 2)
	sameID.ID = p.ID
	otherOrg := project(4, 2)
	otherOrg.Name = p.Name
	unknownOrg := project(5, 99)
	tests := []struct {
		name    string
		p       atlasx509.Project
		wantErr func(t *testing.T, what string, err error)
	}{
		{"same name in the organization", sameName, func(t *testing.T, what string, err error) { wantIs(t, what, err, store.ErrConflict) }},
		{"same id", sameID, func(t *testing.T, what string, err error) { wantIs(t, what, err, store.ErrConflict) }},
		{"same name in another organization", otherOrg, func(t *testing.T, what string, err error) {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		}},
		{"unknown organization", unknownOrg, wantInternal},
	}
	for _, tc := range tests {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertProject(ctx, tc.p) })
		tc.wantErr(t, "InsertProject, "+tc.name, err)
	}
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountProjects(ctx, store.ProjectFilter{OrgIDs: []string{id(1), id(2), id(99)}})
		if err != nil {
			return err
		}
		if n != 3 {
			t.Errorf("CountProjects = %d, want 3", n)
		}
		got, err := tx.GetProject(ctx, p.ID)
		if err != nil {
			return err
		}
		if d := diff(p, got); d != "" {
			t.Errorf("project changed by a refused insert (-want +got):\n%s", d)
		}
		return nil
	})
}

func testListProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Projects created out of insertion order, two with the same Created
	// (ordered by ID then), across three organizations; p3 has the
	// optional fields set.
	p1 := project(1, 1)
	p2 := project(2, 2)
	p3 := withSettings(project(3, 1))
	p4 := project(4, 3)
	p5 := project(5, 2)
	p1.Created = at(3 * time.Hour)
	p2.Created = at(1 * time.Hour)
	p3.Created = at(2 * time.Hour)
	p5.Created = at(2 * time.Hour)
	p4.Created = at(0)
	seed(t, s, []atlasx509.Organization{org(1), org(2), org(3)}, []atlasx509.Project{p1, p2, p3, p4, p5})

	orgs := func(ids ...string) store.ProjectFilter { return store.ProjectFilter{OrgIDs: ids} }
	groups := func(ids ...string) store.ProjectFilter { return store.ProjectFilter{GroupIDs: ids} }
	all := orgs(id(1), id(2), id(3))
	tests := []struct {
		name  string
		f     store.ProjectFilter
		page  store.Page
		want  []atlasx509.Project
		count int
	}{
		{"one organization", orgs(id(1)), store.Page{}, []atlasx509.Project{p3, p1}, 2},
		{"two organizations", orgs(id(1), id(2)), store.Page{}, []atlasx509.Project{p2, p3, p5, p1}, 4},
		{"all", orgs(id(3), id(2), id(1)), store.Page{}, []atlasx509.Project{p4, p2, p3, p5, p1}, 5},
		{"limit", all, store.Page{Limit: 2}, []atlasx509.Project{p4, p2}, 5},
		{"limit and offset", all, store.Page{Limit: 2, Offset: 2}, []atlasx509.Project{p3, p5}, 5},
		{"last page", all, store.Page{Limit: 2, Offset: 4}, []atlasx509.Project{p1}, 5},
		{"offset without limit", all, store.Page{Offset: 3}, []atlasx509.Project{p5, p1}, 5},
		{"offset past the end", all, store.Page{Limit: 2, Offset: 5}, nil, 5},
		{"duplicate organization ids", orgs(id(1), id(1)), store.Page{}, []atlasx509.Project{p3, p1}, 2},
		{"unknown organization", orgs(id(99)), store.Page{}, nil, 0},
		{"one project", groups(p5.ID), store.Page{}, []atlasx509.Project{p5}, 1},
		{"projects of several organizations", groups(p1.ID, p4.ID, p2.ID), store.Page{}, []atlasx509.Project{p4, p2, p1}, 3},
		{"duplicate and unknown project ids", groups(p1.ID, id(99), p1.ID, p5.ID), store.Page{}, []atlasx509.Project{p5, p1}, 2},
		{"an organization id among project ids", groups(id(1)), store.Page{}, nil, 0},
		{"a project id among organization ids", orgs(p1.ID), store.Page{}, nil, 0},
		// Both: the union, each project once.
		{"organization and projects", store.ProjectFilter{OrgIDs: []string{id(1)}, GroupIDs: []string{p2.ID, p1.ID}},
			store.Page{}, []atlasx509.Project{p2, p3, p1}, 3},
		{"organization and projects, paged", store.ProjectFilter{OrgIDs: []string{id(2)}, GroupIDs: []string{p5.ID, p1.ID, p4.ID, p2.ID}},
			store.Page{Limit: 2, Offset: 1}, []atlasx509.Project{p2, p5}, 4},
		{"organization and its own projects", store.ProjectFilter{OrgIDs: []string{id(1)}, GroupIDs: []string{p1.ID, p3.ID}},
			store.Page{}, []atlasx509.Project{p3, p1}, 2},
		{"unknown organization and a project", store.ProjectFilter{OrgIDs: []string{id(99)}, GroupIDs: []string{p3.ID}},
			store.Page{}, []atlasx509.Project{p3}, 1},
		{"no organization and no project", store.ProjectFilter{}, store.Page{}, nil, 0},
		{"empty lists", store.ProjectFilter{OrgIDs: []string{}, GroupIDs: []string{}}, store.Page{}, nil, 0},
	}
	for _, tc := range tests {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListProjects(ctx, tc.f, tc.page)
			if err != nil {
				t.Errorf("%s: ListProjects: %v", tc.name, err)
				return nil
			}
			checkList(t, tc.name+": ListProjects", tc.want, got)
			n, err := tx.CountProjects(ctx, tc.f)
			if err != nil {
				t.Errorf("%s: CountProjects: %v", tc.name, err)
			} else if n != tc.count {
				t.Errorf("%s: CountProjects = %d, want %d", tc.name, n, tc.count)
			}
			return nil
		})
	}
}

func testUpdateProject(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2, p3 := project(1, 1), project(2, 1), project(3, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{p1, p2, p3})
	check := func(what string, want ...atlasx509.Project) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, w := range want {
				got, err := tx.GetProject(ctx, w.ID)
				if err != nil {
					t.Errorf("%s: GetProject(%s): %v", what, w.ID, err)
					continue
				}
				if d := diff(w, got); d != "" {
					t.Errorf("%s: GetProject(%s) mismatch (-want +got):\n%s", what, w.ID, d)
				}
			}
			return nil
		})
	}

	// The mutable fields change; OrgID and Created are not written.
	changed := withSettings(p1)
	changed.Name = "renamed"
	arg := changed
	arg.OrgID = id(2)
	arg.Created = at(99 * time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.UpdateProject(ctx, arg) })
	check("after UpdateProject", changed, p2, p3)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListProjects(ctx, store.ProjectFilter{OrgIDs: []string{id(1)}}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Project{changed, p2}, got); d != "" {
			t.Errorf("ListProjects after UpdateProject (-want +got):\n%s", d)
		}
		return nil
	})

	// Unchanged values, and the project's own name, are no conflict.
	update(t, s, func(tx store.Tx) error { return tx.UpdateProject(ctx, changed) })

	taken := changed
	taken.Name = p2.Name
	taken.LeafKeyType = "must not be written"
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateProject(ctx, taken) })
	wantIs(t, "UpdateProject to a name taken in the organization", err, store.ErrConflict)
	unknown := project(9, 1)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateProject(ctx, unknown) })
	wantIs(t, "UpdateProject(missing)", err, store.ErrNotFound)
	check("after refused updates", changed, p2, p3)

	// A name of another organization is free; clearing the settings
	// stores "" again; the old name is free for a new project.
	cleared := changed
	cleared.Name = p3.Name
	cleared.CustomerX509CAs, cleared.CustomerX509CRLs, cleared.LeafKeyType = "", "", ""
	cleared.WithDefaultAlertsSettings, cleared.Tags, cleared.Settings, cleared.Limits = false, nil, nil, nil
	update(t, s, func(tx store.Tx) error { return tx.UpdateProject(ctx, cleared) })
	reused := project(4, 1)
	reused.Name = p1.Name
	update(t, s, func(tx store.Tx) error { return tx.InsertProject(ctx, reused) })
	check("after clearing", cleared, p2, p3, reused)
}

// checkList compares a list result; an empty want matches any empty result.
func checkList[T any](t *testing.T, what string, want, got []T) {
	t.Helper()
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("%s = %+v, want none", what, got)
		}
		return
	}
	if d := diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func testDeleteProject(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	ua1, ua2, ub := user(pa, "alice"), user(pa, "bob"), user(pb, "alice")
	ua2.DatabaseName = atlasx509.DatabaseAdmin
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{ua1, ua2, ub},
		[]atlasx509.Certificate{
			certificate(ua1, 1, time.Hour), certificate(ua1, 2, time.Hour),
			certificate(ua2, 3, time.Hour), certificate(ub, 1, time.Hour),
		})
	principal := id(500)
	orgRole := atlasx509.RoleAssignment{PrincipalID: principal, PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: id(1), Role: atlasx509.RoleOrgMember}
	roleA := atlasx509.RoleAssignment{PrincipalID: principal, PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: id(1), GroupID: pa.ID, Role: atlasx509.RoleGroupOwner}
	roleA2 := atlasx509.RoleAssignment{PrincipalID: id(501), PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: id(1), GroupID: pa.ID, Role: atlasx509.RoleGroupReadOnly}
	roleB := atlasx509.RoleAssignment{PrincipalID: principal, PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: id(1), GroupID: pb.ID, Role: atlasx509.RoleGroupReadOnly}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertProjectCA(ctx, projectCA(pa, 2)); err != nil {
			return err
		}
		for _, ra := range []atlasx509.RoleAssignment{orgRole, roleA, roleA2, roleB} {
			if err := tx.InsertRoleAssignment(ctx, ra); err != nil {
				return err
			}
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteProject(ctx, pa.ID) })

	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteProject(ctx, pa.ID) })
	wantIs(t, "DeleteProject of a deleted project", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteProject(ctx, id(99)) })
	wantIs(t, "DeleteProject(missing)", err, store.ErrNotFound)

	// Project A is gone with everything of its own.
	checkGone := func(tx store.Tx) error {
		_, err := tx.GetProject(ctx, pa.ID)
		wantIs(t, "GetProject(deleted)", err, store.ErrNotFound)
		_, err = tx.FindDatabaseUser(ctx, pa.ID, "alice")
		wantIs(t, "FindDatabaseUser of a deleted project", err, store.ErrNotFound)
		counts := []struct {
			what string
			f    func() (int, error)
		}{
			{"CountDatabaseUsers(A)", func() (int, error) { return tx.CountDatabaseUsers(ctx, pa.ID) }},
			{"CountCertificates(A, alice)", func() (int, error) {
				return tx.CountCertificates(ctx, store.CertificateFilter{GroupID: pa.ID, Username: "alice", ValidAt: time.Time{}})
			}},
			{"CountCertificates(A, bob)", func() (int, error) {
				return tx.CountCertificates(ctx, store.CertificateFilter{GroupID: pa.ID, Username: "bob", ValidAt: time.Time{}})
			}},
			{"len(ListProjectCAs(A))", func() (int, error) {
				cas, err := tx.ListProjectCAs(ctx, pa.ID)
				return len(cas), err
			}},
			{"len(ListRoleAssignments(other principal))", func() (int, error) {
				ras, err := tx.ListRoleAssignments(ctx, id(501))
				return len(ras), err
			}},
		}
		for _, c := range counts {
			n, err := c.f()
			if err != nil {
				t.Errorf("%s: %v", c.what, err)
			} else if n != 0 {
				t.Errorf("%s = %d after DeleteProject, want 0", c.what, n)
			}
		}
		return nil
	}
	view(t, s, checkGone)

	// Project B and the organization role are untouched.
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetProject(ctx, pb.ID); err != nil {
			t.Errorf("GetProject(B): %v", err)
		}
		got, err := tx.FindDatabaseUser(ctx, pb.ID, "alice")
		if err != nil {
			return err
		}
		if d := diff(ub, got); d != "" {
			t.Errorf("user of B changed (-want +got):\n%s", d)
		}
		if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: pb.ID, Username: "alice", ValidAt: time.Time{}}); err != nil || n != 1 {
			t.Errorf("CountCertificates(B, alice) = %d, %v; want 1", n, err)
		}
		if cas, err := tx.ListProjectCAs(ctx, pb.ID); err != nil || len(cas) != 1 {
			t.Errorf("ListProjectCAs(B) = %d CAs, %v; want 1", len(cas), err)
		}
		ras, err := tx.ListRoleAssignments(ctx, principal)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.RoleAssignment{orgRole, roleB}, ras); d != "" {
			t.Errorf("ListRoleAssignments after DeleteProject (-want +got):\n%s", d)
		}
		return nil
	})

	// The rows are gone, not hidden: a project re-created with the same id
	// and name, and a user of the same name, start empty.
	seed(t, s, nil, []atlasx509.Project{pa})
	update(t, s, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, ua1) })
	view(t, s, func(tx store.Tx) error {
		if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: pa.ID, Username: "alice", ValidAt: time.Time{}}); err != nil || n != 0 {
			t.Errorf("CountCertificates of a re-created user = %d, %v; want 0", n, err)
		}
		if cas, err := tx.ListProjectCAs(ctx, pa.ID); err != nil || len(cas) != 0 {
			t.Errorf("ListProjectCAs of a re-created project = %d CAs, %v; want 0", len(cas), err)
		}
		if ras, err := tx.ListRoleAssignments(ctx, id(501)); err != nil || len(ras) != 0 {
			t.Errorf("ListRoleAssignments of a re-created project = %+v, %v; want none", ras, err)
		}
		return nil
	})
}
