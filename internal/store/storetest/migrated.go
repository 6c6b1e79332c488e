package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// CheckMigratedFromVersion1 checks a store that a driver opened on a
// database the first schema wrote, holding: organization o1; its project p1
// (name "project"); a database user "temp" of p1 whose DeleteAfterDate is
// deleteAfter; API key k1 with ORG_OWNER over o1 and GROUP_OWNER over p1;
// service account s1 with GROUP_READ_ONLY over p1; and a GROUP_OWNER role
// of "gone", a credential that does not exist. Each row was created at
// created. Its rows survive, projects get the later columns' defaults,
// every role keeps its credential and kind (the orphan role is dropped), and
// the later methods work on the migrated rows.
func CheckMigratedFromVersion1(t *testing.T, s store.Store, created, deleteAfter time.Time) {
	t.Helper()
	ctx := t.Context()
	// Projects from before 00005 keep answering withDefaultAlertsSettings true.
	want := atlasx509.Project{ID: "p1", OrgID: "o1", Name: "project", Created: created, WithDefaultAlertsSettings: true}
	err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.GetProject(ctx, "p1")
		if err != nil {
			return err
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GetProject of a migrated project (-want +got):\n%s", d)
		}
		// Every role keeps its credential, whose kind is backfilled.
		for _, c := range []struct {
			kind atlasx509.PrincipalKind
			want []string
		}{{atlasx509.PrincipalAPIKey, []string{"k1"}}, {atlasx509.PrincipalServiceAccount, []string{"s1"}}} {
			ids, err := tx.ListProjectPrincipals(ctx, "p1", c.kind, store.Page{})
			if err != nil {
				return err
			}
			if d := cmp.Diff(c.want, ids); d != "" {
				t.Errorf("ListProjectPrincipals(p1, %v) of a migrated project (-want +got):\n%s", c.kind, d)
			}
		}
		ras, err := tx.ListRoleAssignments(ctx, "k1")
		if err != nil {
			return err
		}
		wantRoles := []atlasx509.RoleAssignment{
			{PrincipalID: "k1", PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: "o1", Role: atlasx509.RoleOrgOwner},
			{PrincipalID: "k1", PrincipalKind: atlasx509.PrincipalAPIKey, OrgID: "o1", GroupID: "p1", Role: atlasx509.RoleGroupOwner},
		}
		if d := cmp.Diff(wantRoles, ras); d != "" {
			t.Errorf("ListRoleAssignments(k1) after the migration (-want +got):\n%s", d)
		}
		if ras, err := tx.ListRoleAssignments(ctx, "gone"); err != nil || len(ras) != 0 {
			t.Errorf("ListRoleAssignments of no credential = %+v, %v; want none", ras, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want.CustomerX509CAs, want.LeafKeyType = "PEM", "ECDSA_P256"
	var n int
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.UpdateProject(ctx, want); err != nil {
			return err
		}
		if err := tx.InsertAccessListEntry(ctx, atlasx509.AccessListEntry{PrincipalID: "k1", CIDR: "192.0.2.0/24", Created: created}); err != nil {
			return err
		}
		n, err = tx.DeleteExpiredDatabaseUsers(ctx, deleteAfter)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("DeleteExpiredDatabaseUsers of a migrated user = %d, want 1", n)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		got, err := tx.GetProject(ctx, "p1")
		if err != nil {
			return err
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GetProject after UpdateProject (-want +got):\n%s", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
