package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testCountUnexpiredCertificatesByGeneration(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	alice, bob, alb := user(pa, "alice"), user(pa, "bob"), user(pb, "alice")
	c1, c2 := certificate(alice, 1, time.Hour), certificate(alice, 2, 2*time.Hour)
	c3, revoked := certificate(alice, 3, 3*time.Hour), certificate(alice, 4, 3*time.Hour)
	c3.CAGeneration, revoked.CAGeneration = 2, 2
	expired := certificate(alice, 5, -time.Hour)
	ofBob := certificate(bob, 6, 3*time.Hour)
	other := certificate(alb, 1, 3*time.Hour)
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{alice, bob, alb}, nil)
	update(t, s, func(tx store.Tx) error {
		for _, gen := range []int{2, 3} {
			if err := tx.InsertProjectCA(ctx, projectCA(pa, gen)); err != nil {
				return err
			}
		}
		for _, c := range []atlasx509.Certificate{c1, c2, c3, revoked, expired, ofBob, other} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		if _, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 4, At: t0}); err != nil {
			return err
		}
		// Deleting bob revokes his certificate: it no longer counts.
		return tx.DeleteDatabaseUser(ctx, pa.ID, bob.DatabaseName, "bob", t0)
	})
	for _, tc := range []struct {
		name    string
		groupID string
		at      time.Time
		want    map[int]int
	}{
		{"all unexpired", pa.ID, t0, map[int]int{1: 2, 2: 1}},
		{"before the expired one expired", pa.ID, at(-2 * time.Hour), map[int]int{1: 3, 2: 1}},
		{"first expired", pa.ID, at(90 * time.Minute), map[int]int{1: 1, 2: 1}},
		{"NotAfter equal to at is expired", pa.ID, c2.NotAfter, map[int]int{2: 1}},
		{"all expired", pa.ID, at(4 * time.Hour), map[int]int{}},
		{"another project", pb.ID, t0, map[int]int{1: 1}},
		{"unknown project", id(99), t0, map[int]int{}},
	} {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.CountUnexpiredCertificatesByGeneration(ctx, tc.groupID, tc.at)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("%s: CountUnexpiredCertificatesByGeneration (-want +got):\n%s", tc.name, d)
			}
			return nil
		})
	}
}
