package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// testIssuanceState checks that the one-statement read of an issuance says
// what the separate reads say: the project, its user, its newest CA and the
// count of the user's unexpired certificates, revoked or not, without those
// of a deleted user of the same name.
func testIssuanceState(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRevocation(t, s)
	pa, pb := f.pa, f.pb
	pc := project(3, 1) // no CA, no user
	seed(t, s, nil, []atlasx509.Project{pc})
	pa.CustomerX509CAs, pa.LeafKeyType = "-----BEGIN CERTIFICATE-----\n", "ECDSA_P256"
	update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateProject(ctx, pa); err != nil {
			return err
		}
		if _, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 2, At: at(time.Minute), Reason: 1}); err != nil {
			return err
		}
		// bob's certificate stays with the deleted bob; the new bob has none.
		if err := tx.DeleteDatabaseUser(ctx, pa.ID, atlasx509.DatabaseExternal, "bob", at(time.Minute)); err != nil {
			return err
		}
		bob := user(pa, "bob")
		bob.X509Type = atlasx509.X509None
		return tx.InsertDatabaseUser(ctx, bob)
	})

	// want reads what IssuanceState must say with the separate reads.
	want := func(tx store.Tx, groupID, username string, validAt time.Time) (store.IssuanceState, error) {
		p, err := tx.GetProject(ctx, groupID)
		if err != nil {
			return store.IssuanceState{}, err
		}
		st := store.IssuanceState{OrgID: p.OrgID, CustomerX509CAs: p.CustomerX509CAs, LeafKeyType: p.LeafKeyType}
		if u, err := tx.FindDatabaseUser(ctx, groupID, username); err == nil {
			st.UserFound, st.UserX509Type = true, u.X509Type
		}
		cas, err := tx.ListProjectCAs(ctx, groupID)
		if err != nil {
			return st, err
		}
		if len(cas) > 0 {
			st.CA = cas[0]
		}
		st.Unexpired, err = tx.CountCertificates(ctx, store.CertificateFilter{GroupID: groupID, Username: username, ValidAt: validAt, IncludeRevoked: true})
		return st, err
	}
	cases := []struct {
		name            string
		groupID, user   string
		validAt         time.Time
		wantUnexpired   int
		wantGeneration  int
		wantUserMissing bool
	}{
		{"alice, one revoked, one expired", pa.ID, "alice", at(0), 3, 2, false},
		{"alice later", pa.ID, "alice", at(90 * time.Minute), 2, 2, false},
		{"new bob, deleted bob's certificate not counted", pa.ID, "bob", at(0), 0, 2, false},
		{"no such user", pa.ID, "nobody", at(0), 0, 2, true},
		{"same name in another project", pb.ID, "alice", at(0), 1, 1, false},
		{"project without CA", pc.ID, "alice", at(0), 0, 0, true},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range cases {
			got, err := tx.IssuanceState(ctx, tc.groupID, tc.user, tc.validAt)
			if err != nil {
				t.Errorf("IssuanceState, %s: %v", tc.name, err)
				continue
			}
			w, err := want(tx, tc.groupID, tc.user, tc.validAt)
			if err != nil {
				return err
			}
			if d := diff(w, got); d != "" {
				t.Errorf("IssuanceState, %s (-separate reads +got):\n%s", tc.name, d)
			}
			if got.Unexpired != tc.wantUnexpired || got.CA.Generation != tc.wantGeneration || got.UserFound == tc.wantUserMissing {
				t.Errorf("IssuanceState, %s: %d unexpired, CA generation %d, user found %v; want %d, %d, %v",
					tc.name, got.Unexpired, got.CA.Generation, got.UserFound, tc.wantUnexpired, tc.wantGeneration, !tc.wantUserMissing)
			}
		}
		_, err := tx.IssuanceState(ctx, id(1999), "alice", at(0))
		wantIs(t, "IssuanceState of an unknown project", err, store.ErrNotFound)
		return nil
	})
}
