package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// testIssuanceState checks that the one-statement read of an issuance says
// what the separate reads say: the project, its user (not a deleted one of
// the same name) and its newest CA.
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
	want := func(tx store.Tx, groupID, username string) (store.IssuanceState, error) {
		p, err := tx.GetProject(ctx, groupID)
		if err != nil {
			return store.IssuanceState{}, err
		}
		st := store.IssuanceState{OrgID: p.OrgID, CustomerX509CAs: p.CustomerX509CAs, LeafKeyType: p.LeafKeyType}
		if u, err := tx.FindDatabaseUser(ctx, groupID, username); err == nil {
			st.UserFound, st.UserX509Type = true, u.X509Type
			// No bound was set: it counts every certificate inserted
			// for this user, expired or not.
			if st.CertificateBound, err = tx.CountCertificates(ctx, store.CertificateFilter{GroupID: groupID, Username: username, IncludeRevoked: true}); err != nil {
				return st, err
			}
		}
		cas, err := tx.ListProjectCAs(ctx, groupID)
		if err != nil {
			return st, err
		}
		if len(cas) > 0 {
			st.CA = cas[0]
		}
		st.AuthGeneration, err = tx.AuthGeneration(ctx)
		return st, err
	}
	cases := []struct {
		name            string
		groupID, user   string
		wantType        string
		wantGeneration  int
		wantUserMissing bool
	}{
		{"alice", pa.ID, "alice", atlasx509.X509Managed, 2, false},
		{"new bob, not the deleted one", pa.ID, "bob", atlasx509.X509None, 2, false},
		{"no such user", pa.ID, "nobody", "", 2, true},
		{"same name in another project", pb.ID, "alice", atlasx509.X509Managed, 1, false},
		{"project without CA", pc.ID, "alice", "", 0, true},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range cases {
			got, err := tx.IssuanceState(ctx, tc.groupID, tc.user)
			if err != nil {
				t.Errorf("IssuanceState, %s: %v", tc.name, err)
				continue
			}
			w, err := want(tx, tc.groupID, tc.user)
			if err != nil {
				return err
			}
			if d := diff(w, got); d != "" {
				t.Errorf("IssuanceState, %s (-separate reads +got):\n%s", tc.name, d)
			}
			if got.UserX509Type != tc.wantType || got.CA.Generation != tc.wantGeneration || got.UserFound == tc.wantUserMissing {
				t.Errorf("IssuanceState, %s: x509Type %q, CA generation %d, user found %v; want %q, %d, %v",
					tc.name, got.UserX509Type, got.CA.Generation, got.UserFound, tc.wantType, tc.wantGeneration, !tc.wantUserMissing)
			}
		}
		_, err := tx.IssuanceState(ctx, id(1999), "alice")
		wantIs(t, "IssuanceState of an unknown project", err, store.ErrNotFound)
		return nil
	})

	// The bound: set to a count, then one more for each certificate
	// inserted; only the user's own.
	bound := func(groupID, username string) int {
		t.Helper()
		var st store.IssuanceState
		view(t, s, func(tx store.Tx) error {
			var err error
			st, err = tx.IssuanceState(ctx, groupID, username)
			return err
		})
		return st.CertificateBound
	}
	before := bound(pb.ID, "alice")
	update(t, s, func(tx store.Tx) error {
		if err := tx.SetCertificateBound(ctx, pa.ID, "alice", 7); err != nil {
			return err
		}
		wantIs(t, "SetCertificateBound of a missing user", tx.SetCertificateBound(ctx, pa.ID, "nobody", 1), store.ErrNotFound)
		return tx.InsertCertificate(ctx, atlasx509.Certificate{GroupID: pa.ID, Username: "alice", Serial: 9901, Subject: "CN=alice",
			CAGeneration: 2, NotBefore: t0, NotAfter: at(time.Hour), FingerprintSHA256: "f9901", Created: t0})
	})
	if got := bound(pa.ID, "alice"); got != 8 {
		t.Errorf("bound after SetCertificateBound 7 and one certificate: %d, want 8", got)
	}
	if got := bound(pb.ID, "alice"); got != before {
		t.Errorf("bound of the same name in another project: %d, was %d", got, before)
	}
}
