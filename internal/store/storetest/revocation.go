package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// errRollback makes an Update roll back.
var errRollback = errors.New("roll back")

// revoke runs RevokeCertificates in its own Update.
func revoke(t *testing.T, s store.Store, r store.Revocation) (int, error) {
	t.Helper()
	var n int
	err := s.Update(t.Context(), func(tx store.Tx) error {
		var err error
		n, err = tx.RevokeCertificates(t.Context(), r)
		return err
	})
	return n, err
}

// checkRevoked checks that the revoked list of CA (groupID, gen), valid at
// the zero time, holds exactly serials, each revoked at revokedAt for reason
// (unless reason is negative: then any time and reason).
func checkRevoked(t *testing.T, s store.Store, what, groupID string, gen int, serials []int64, revokedAt time.Time, reason int) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRevokedCertificates(t.Context(), groupID, gen, time.Time{})
		if err != nil {
			return err
		}
		var gotSerials []int64
		for _, c := range got {
			gotSerials = append(gotSerials, c.Serial)
			if c.RevokedAt == nil {
				t.Errorf("%s: certificate %d listed as revoked has no RevokedAt", what, c.Serial)
			} else if reason >= 0 && (!c.RevokedAt.Equal(revokedAt) || c.RevokedAt.Location() != time.UTC || c.RevocationReason != reason) {
				t.Errorf("%s: certificate %d revoked at %v for reason %d; want %v, %d", what, c.Serial, c.RevokedAt, c.RevocationReason, revokedAt, reason)
			}
		}
		if d := diff(serials, gotSerials); d != "" {
			t.Errorf("%s: ListRevokedCertificates(%s, %d) serials (-want +got):\n%s", what, groupID, gen, d)
		}
		return nil
	})
}

// revocationSeqs returns the RevocationSeq of a project's CAs by generation.
func revocationSeqs(t *testing.T, s store.Store, groupID string) map[int]int64 {
	t.Helper()
	seqs := map[int]int64{}
	view(t, s, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(t.Context(), groupID)
		for _, ca := range cas {
			seqs[ca.Generation] = ca.RevocationSeq
		}
		return err
	})
	return seqs
}

// revocationFixture seeds projects A and B with users alice and bob in A,
// alice in B, and certificates: alice's 1, 2 (CA 1) and 3 (CA 2), and 4
// expired; bob's 5; and B's alice's 1.
type revocationFixture struct {
	pa, pb     atlasx509.Project
	a1, a2, a3 atlasx509.Certificate
}

func seedRevocation(t *testing.T, s store.Store) revocationFixture {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	alice, bob, alb := user(pa, "alice"), user(pa, "bob"), user(pb, "alice")
	a1, a2, a3 := certificate(alice, 1, time.Hour), certificate(alice, 2, 2*time.Hour), certificate(alice, 3, 3*time.Hour)
	a3.CAGeneration = 2
	expired := certificate(alice, 4, -time.Hour)
	b5, other := certificate(bob, 5, time.Hour), certificate(alb, 1, time.Hour)
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{alice, bob, alb}, nil)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertProjectCA(ctx, projectCA(pa, 2)); err != nil {
			return err
		}
		for _, c := range []atlasx509.Certificate{a1, a2, a3, expired, b5, other} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	return revocationFixture{pa: pa, pb: pb, a1: a1, a2: a2, a3: a3}
}

func testRevokeCertificatesNotFound(t *testing.T, s store.Store) {
	f := seedRevocation(t, s)
	pa, pb := f.pa, f.pb
	when := at(time.Minute)
	for _, tc := range []struct {
		name string
		r    store.Revocation
	}{
		{"unknown serial", store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 99, At: when}},
		{"serial of another user", store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 5, At: when}},
		{"serial in another project", store.Revocation{GroupID: pb.ID, Username: "alice", Serial: 2, At: when}},
		{"expired certificate", store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 4, At: when}},
		{"NotAfter equal to At", store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 1, At: f.a1.NotAfter}},
		{"unknown user", store.Revocation{GroupID: pa.ID, Username: "nobody", Serial: 1, At: when}},
	} {
		n, err := revoke(t, s, tc.r)
		wantIs(t, "RevokeCertificates, "+tc.name, err, store.ErrNotFound)
		if n != 0 {
			t.Errorf("RevokeCertificates, %s = %d, want 0", tc.name, n)
		}
	}
	if d := diff(map[int]int64{1: 0, 2: 0}, revocationSeqs(t, s, pa.ID)); d != "" {
		t.Errorf("RevocationSeq after refused revocations (-want +got):\n%s", d)
	}
	checkRevoked(t, s, "after refused revocations", pa.ID, 1, nil, time.Time{}, -1)
}

func testRevokeCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRevocation(t, s)
	pa, pb, a1, a2, a3 := f.pa, f.pb, f.a1, f.a2, f.a3
	when := at(time.Minute)
	// One certificate: it leaves the default list and count, shows with
	// IncludeRevoked, and only its CA's sequence moves.
	if n, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 2, At: when, Reason: 1}); err != nil || n != 1 {
		t.Fatalf("RevokeCertificates(serial 2) = %d, %v; want 1", n, err)
	}
	revokedA2 := a2
	revokedA2.RevokedAt, revokedA2.RevocationReason = &when, 1
	checkCertificates := func(what string, unrevoked, all []atlasx509.Certificate) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, inc := range []bool{false, true} {
				want := unrevoked
				if inc {
					want = all
				}
				f := store.CertificateFilter{GroupID: pa.ID, Username: "alice", ValidAt: t0, IncludeRevoked: inc}
				got, err := tx.ListCertificates(ctx, f, store.Page{})
				if err != nil {
					return err
				}
				checkList(t, what+": ListCertificates", want, got)
				if n, err := tx.CountCertificates(ctx, f); err != nil || n != len(want) {
					t.Errorf("%s: CountCertificates(IncludeRevoked %v) = %d, %v; want %d", what, inc, n, err, len(want))
				}
			}
			return nil
		})
	}
	checkCertificates("after revoking serial 2", []atlasx509.Certificate{a1, a3}, []atlasx509.Certificate{a1, revokedA2, a3})
	if d := diff(map[int]int64{1: 1, 2: 0}, revocationSeqs(t, s, pa.ID)); d != "" {
		t.Errorf("RevocationSeq after one revocation (-want +got):\n%s", d)
	}

	// Again, later and for another reason: nothing changes.
	if n, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 2, At: at(2 * time.Minute), Reason: 4}); err != nil || n != 0 {
		t.Errorf("RevokeCertificates(serial 2) again = %d, %v; want 0, nil", n, err)
	}
	checkCertificates("after revoking serial 2 again", []atlasx509.Certificate{a1, a3}, []atlasx509.Certificate{a1, revokedA2, a3})
	if d := diff(map[int]int64{1: 1, 2: 0}, revocationSeqs(t, s, pa.ID)); d != "" {
		t.Errorf("RevocationSeq after a repeated revocation (-want +got):\n%s", d)
	}

	// All of alice's: the two unrevoked unexpired ones, of both CAs.
	later := at(3 * time.Minute)
	if n, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", At: later, Reason: 5}); err != nil || n != 2 {
		t.Errorf("RevokeCertificates(all of alice's) = %d, %v; want 2", n, err)
	}
	revokedA1, revokedA3 := a1, a3
	revokedA1.RevokedAt, revokedA1.RevocationReason = &later, 5
	revokedA3.RevokedAt, revokedA3.RevocationReason = &later, 5
	checkCertificates("after revoking all", nil, []atlasx509.Certificate{revokedA1, revokedA2, revokedA3})
	if d := diff(map[int]int64{1: 2, 2: 1}, revocationSeqs(t, s, pa.ID)); d != "" {
		t.Errorf("RevocationSeq after revoking all (-want +got):\n%s", d)
	}
	if n, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", At: later}); err != nil || n != 0 {
		t.Errorf("RevokeCertificates(all of alice's) again = %d, %v; want 0, nil", n, err)
	}
	if n, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "nobody", At: later}); err != nil || n != 0 {
		t.Errorf("RevokeCertificates(all of an unknown user's) = %d, %v; want 0, nil", n, err)
	}

	// Bob's and the other project's certificates are untouched.
	checkRevoked(t, s, "CA 1 of A", pa.ID, 1, []int64{1, 2}, time.Time{}, -1)
	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			groupID, username string
		}{{pa.ID, "bob"}, {pb.ID, "alice"}} {
			n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: c.groupID, Username: c.username, ValidAt: t0})
			if err != nil || n != 1 {
				t.Errorf("CountCertificates(%s, %s) = %d, %v; want 1 unrevoked", c.groupID, c.username, n, err)
			}
		}
		return nil
	})
	if d := diff(map[int]int64{1: 0}, revocationSeqs(t, s, pb.ID)); d != "" {
		t.Errorf("RevocationSeq of another project (-want +got):\n%s", d)
	}
}

func testListRevokedCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	alice := user(p, "alice")
	c1, c2, c3 := certificate(alice, 30, time.Hour), certificate(alice, 10, 2*time.Hour), certificate(alice, 20, 3*time.Hour)
	c4 := certificate(alice, 40, 3*time.Hour)
	c4.CAGeneration = 2
	unrevoked := certificate(alice, 50, 3*time.Hour)
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{alice}, nil)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertProjectCA(ctx, projectCA(p, 2)); err != nil {
			return err
		}
		for _, c := range []atlasx509.Certificate{c1, c2, c3, c4} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			if _, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: p.ID, Username: "alice", Serial: c.Serial, At: t0, Reason: 3}); err != nil {
				return err
			}
		}
		return tx.InsertCertificate(ctx, unrevoked)
	})
	for _, tc := range []struct {
		name    string
		gen     int
		validAt time.Time
		want    []int64
	}{
		{"all of CA 1, by serial", 1, t0, []int64{10, 20, 30}},
		{"first expired", 1, at(90 * time.Minute), []int64{10, 20}},
		{"NotAfter equal to validAt is expired", 1, c2.NotAfter, []int64{20}},
		{"all expired", 1, at(4 * time.Hour), nil},
		{"CA 2", 2, t0, []int64{40}},
		{"unknown CA", 3, t0, nil},
	} {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListRevokedCertificates(ctx, p.ID, tc.gen, tc.validAt)
			if err != nil {
				return err
			}
			var serials []int64
			for _, c := range got {
				serials = append(serials, c.Serial)
			}
			if d := diff(tc.want, serials); d != "" {
				t.Errorf("%s: ListRevokedCertificates serials (-want +got):\n%s", tc.name, d)
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRevokedCertificates(ctx, p.ID, 2, t0)
		if err != nil {
			return err
		}
		want := c4
		want.RevokedAt, want.RevocationReason = &t0, 3
		if d := diff([]atlasx509.Certificate{want}, got); d != "" {
			t.Errorf("ListRevokedCertificates record (-want +got):\n%s", d)
		}
		return nil
	})
}

func testAllocateCRLNumber(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	alice := user(pa, "alice")
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{alice}, []atlasx509.Certificate{certificate(alice, 1, time.Hour)})
	allocate := func(groupID string, gen int) (int64, int64, error) {
		var number, seq int64
		err := s.Update(ctx, func(tx store.Tx) error {
			var err error
			number, seq, err = tx.AllocateCRLNumber(ctx, groupID, gen)
			return err
		})
		return number, seq, err
	}
	for i, want := range []int64{1, 2, 3} {
		number, seq, err := allocate(pa.ID, 1)
		if err != nil || number != want || seq != 0 {
			t.Errorf("AllocateCRLNumber #%d = %d, %d, %v; want %d, 0", i+1, number, seq, err, want)
		}
	}
	if number, _, err := allocate(pb.ID, 1); err != nil || number != 1 {
		t.Errorf("AllocateCRLNumber of another project's CA = %d, %v; want 1 (numbers are per CA)", number, err)
	}
	_, _, err := allocate(pa.ID, 2)
	wantIs(t, "AllocateCRLNumber of an unknown generation", err, store.ErrNotFound)
	// A rolled back allocation leaves the counter alone.
	err = s.Update(ctx, func(tx store.Tx) error {
		if _, _, err := tx.AllocateCRLNumber(ctx, pa.ID, 1); err != nil {
			return err
		}
		return errRollback
	})
	wantIs(t, "rolled back AllocateCRLNumber", err, errRollback)
	if _, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 1, At: t0}); err != nil {
		t.Fatal(err)
	}
	if number, seq, err := allocate(pa.ID, 1); err != nil || number != 4 || seq != 1 {
		t.Errorf("AllocateCRLNumber after a revocation = %d, %d, %v; want 4, 1", number, seq, err)
	}
	view(t, s, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(ctx, pa.ID)
		if err != nil || len(cas) != 1 || cas[0].CRLNumber != 4 || cas[0].RevocationSeq != 1 {
			t.Errorf("ListProjectCAs = %+v, %v; want CRLNumber 4, RevocationSeq 1", cas, err)
		}
		return nil
	})
}

func testSaveCRL(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa := project(1, 1)
	alice := user(pa, "alice")
	seedUsers(t, s, []atlasx509.Project{pa}, []atlasx509.DatabaseUser{alice}, []atlasx509.Certificate{certificate(alice, 1, time.Hour)})
	if _, err := revoke(t, s, store.Revocation{GroupID: pa.ID, Username: "alice", Serial: 1, At: t0}); err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetCRL(ctx, pa.ID, 1)
		wantIs(t, "GetCRL before any", err, store.ErrNotFound)
		return nil
	})
	crl := func(number int64, der string) atlasx509.CRL {
		return atlasx509.CRL{GroupID: pa.ID, Generation: 1, Number: number, ThisUpdate: at(time.Duration(number) * time.Minute),
			NextUpdate: at(time.Duration(number)*time.Minute + 168*time.Hour), RevocationSeq: number / 2, DER: []byte(der)}
	}
	save := func(c atlasx509.CRL) bool {
		t.Helper()
		var stored bool
		update(t, s, func(tx store.Tx) error {
			var err error
			stored, err = tx.SaveCRL(ctx, c)
			return err
		})
		return stored
	}
	checkCRL := func(what string, want atlasx509.CRL) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetCRL(ctx, pa.ID, 1)
			if err != nil {
				return err
			}
			if d := diff(want, got); d != "" {
				t.Errorf("%s: GetCRL (-want +got):\n%s", what, d)
			}
			return nil
		})
	}
	if !save(crl(2, "two")) {
		t.Errorf("SaveCRL of the first CRL did not store it")
	}
	checkCRL("first", crl(2, "two"))
	if save(crl(1, "one")) || save(crl(2, "two again")) {
		t.Errorf("SaveCRL stored a CRL whose number is not greater than the stored one's")
	}
	checkCRL("after older ones", crl(2, "two"))
	if !save(crl(4, "four")) {
		t.Errorf("SaveCRL of a newer CRL did not store it")
	}
	checkCRL("newer", crl(4, "four"))
	empty := crl(5, "")
	empty.DER = nil
	save(empty)
	empty.DER = []byte{}
	checkCRL("empty DER", empty)
	err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.SaveCRL(ctx, atlasx509.CRL{GroupID: pa.ID, Generation: 9, Number: 1, ThisUpdate: t0, NextUpdate: t0, DER: []byte("x")})
		return err
	})
	checkErr(t, "SaveCRL of an unknown CA", err, errInternal)

	// A deleted project takes its CAs, certificates and CRLs along.
	update(t, s, func(tx store.Tx) error { return tx.DeleteProject(ctx, pa.ID) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetCRL(ctx, pa.ID, 1)
		wantIs(t, "GetCRL of a deleted project", err, store.ErrNotFound)
		got, err := tx.ListRevokedCertificates(ctx, pa.ID, 1, time.Time{})
		if err != nil || len(got) != 0 {
			t.Errorf("ListRevokedCertificates of a deleted project = %+v, %v; want none", got, err)
		}
		return nil
	})
}

func testDeleteDeletedUsersCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	alice, bob := user(p, "alice"), user(p, "bob")
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{alice, bob}, []atlasx509.Certificate{
		certificate(alice, 1, time.Hour), certificate(alice, 2, 3*time.Hour),
		certificate(bob, 3, time.Hour), certificate(bob, 4, -time.Hour),
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteDatabaseUser(ctx, p.ID, alice.DatabaseName, "alice", t0) })
	purge := func(at time.Time) int {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteDeletedUsersCertificates(ctx, at)
			return err
		})
		return n
	}
	for _, tc := range []struct {
		name    string
		at      time.Time
		want    int
		revoked []int64
	}{
		{"none expired yet", at(30 * time.Minute), 0, []int64{1, 2}},
		{"NotAfter equal to the argument is expired", at(time.Hour), 1, []int64{2}},
		{"again", at(time.Hour), 0, []int64{2}},
		{"far in the future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1, nil},
	} {
		if n := purge(tc.at); n != tc.want {
			t.Errorf("%s: DeleteDeletedUsersCertificates = %d, want %d", tc.name, n, tc.want)
		}
		checkRevoked(t, s, tc.name, p.ID, 1, tc.revoked, t0, store.ReasonCessationOfOperation)
	}
	// A live user's records stay, expired or not.
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "bob"})
		if err != nil || n != 2 {
			t.Errorf("CountCertificates(bob, from the zero time) = %d, %v; want 2", n, err)
		}
		return nil
	})
}
