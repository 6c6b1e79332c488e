package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testProjectCAs(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{pa, pb})
	ca1, ca2, ca3 := projectCA(pa, 1), projectCA(pa, 2), projectCA(pa, 3)
	cb := projectCA(pb, 2)
	update(t, s, func(tx store.Tx) error {
		for _, ca := range []atlasx509.ProjectCA{ca2, cb, ca3, ca1} {
			if err := tx.InsertProjectCA(ctx, ca); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListProjectCAs(ctx, pa.ID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ProjectCA{ca3, ca2, ca1}, got); d != "" {
			t.Errorf("ListProjectCAs mismatch (-want +got):\n%s", d)
		}
		got, err = tx.ListProjectCAs(ctx, id(99))
		if err != nil || len(got) != 0 {
			t.Errorf("ListProjectCAs(unknown project) = %+v, %v; want none", got, err)
		}
		return nil
	})

	dup := projectCA(pa, 2)
	dup.CertDER = []byte("another")
	unknown := projectCA(pa, 4)
	unknown.GroupID = id(99)
	empty := projectCA(pb, 7)
	empty.CertDER, empty.SealedKey = nil, []byte{}
	tests := []struct {
		name    string
		ca      atlasx509.ProjectCA
		wantErr error
	}{
		{"same generation", dup, store.ErrConflict},
		{"unknown project", unknown, errInternal},
		{"empty bytes", empty, nil},
	}
	for _, tc := range tests {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertProjectCA(ctx, tc.ca) })
		checkErr(t, "InsertProjectCA, "+tc.name, err, tc.wantErr)
	}
	wantEmpty := empty
	wantEmpty.CertDER = []byte{}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListProjectCAs(ctx, pb.ID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ProjectCA{wantEmpty, cb}, got); d != "" {
			t.Errorf("ListProjectCAs(B) mismatch (-want +got):\n%s", d)
		}
		got, err = tx.ListProjectCAs(ctx, pa.ID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ProjectCA{ca3, ca2, ca1}, got); d != "" {
			t.Errorf("ListProjectCAs changed by a refused insert (-want +got):\n%s", d)
		}
		return nil
	})
}

func testCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	alice, bob, alb := user(pa, "alice"), user(pa, "bob"), user(pb, "alice")
	c1 := certificate(alice, 1, 24*time.Hour)
	// The X.509 "no well-defined expiration" date, 99991231235959Z.
	c2 := certificate(alice, 1<<62, 0)
	c2.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	c2.Created = at(time.Second)
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{alice, bob, alb},
		[]atlasx509.Certificate{c1, c2})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListCertificates(ctx, store.CertificateFilter{GroupID: pa.ID, Username: "alice", ValidAt: t0}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Certificate{c1, c2}, got); d != "" {
			t.Errorf("ListCertificates mismatch (-want +got):\n%s", d)
		}
		return nil
	})

	sameSerialOtherUser := certificate(bob, 1, time.Hour)
	sameSerialOtherProject := certificate(alb, 1, time.Hour)
	unknownUser := certificate(user(pa, "nobody"), 2, time.Hour)
	unknownCA := certificate(bob, 3, time.Hour)
	unknownCA.CAGeneration = 9
	tests := []struct {
		name    string
		c       atlasx509.Certificate
		wantErr error
	}{
		{"same serial", c1, store.ErrConflict},
		{"same serial, other user", sameSerialOtherUser, store.ErrConflict},
		{"same serial, other project", sameSerialOtherProject, nil},
		{"unknown user", unknownUser, errInternal},
		{"unknown CA generation", unknownCA, errInternal},
	}
	for _, tc := range tests {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, tc.c) })
		checkErr(t, "InsertCertificate, "+tc.name, err, tc.wantErr)
	}
	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			groupID, username string
			want              int
		}{{pa.ID, "alice", 2}, {pa.ID, "bob", 0}, {pb.ID, "alice", 1}, {pa.ID, "nobody", 0}} {
			n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: c.groupID, Username: c.username, ValidAt: t0})
			if err != nil || n != c.want {
				t.Errorf("CountCertificates(%s, %s) = %d, %v; want %d", c.groupID, c.username, n, err, c.want)
			}
		}
		return nil
	})
}

func testListCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	alice, bob := user(p, "alice"), user(p, "bob")
	// Serial order differs from creation order; c3 and c4 were created at
	// the same instant (so c4, of the lower serial, comes first).
	c1 := certificate(alice, 40, 1*time.Hour)
	c2 := certificate(alice, 30, 2*time.Hour)
	c3 := certificate(alice, 20, 3*time.Hour)
	c4 := certificate(alice, 10, 4*time.Hour)
	c1.Created, c2.Created, c3.Created, c4.Created = at(time.Microsecond), at(2*time.Microsecond), at(3*time.Microsecond), at(3*time.Microsecond)
	c4.CAGeneration = 2
	cb := certificate(bob, 50, 4*time.Hour)
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{alice, bob},
		nil)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertProjectCA(ctx, projectCA(p, 2)); err != nil {
			return err
		}
		for _, c := range []atlasx509.Certificate{c3, cb, c1, c4, c2} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		name    string
		validAt time.Time
		page    store.Page
		want    []atlasx509.Certificate
		count   int
	}{
		{"all valid", t0, store.Page{}, []atlasx509.Certificate{c1, c2, c4, c3}, 4},
		{"long ago", time.Time{}, store.Page{}, []atlasx509.Certificate{c1, c2, c4, c3}, 4},
		{"first expired", at(90 * time.Minute), store.Page{}, []atlasx509.Certificate{c2, c4, c3}, 3},
		{"NotAfter equal to validAt is expired", c2.NotAfter, store.Page{}, []atlasx509.Certificate{c4, c3}, 2},
		{"one microsecond before NotAfter", c2.NotAfter.Add(-time.Microsecond), store.Page{}, []atlasx509.Certificate{c2, c4, c3}, 3},
		{"all expired", at(5 * time.Hour), store.Page{}, nil, 0},
		{"page", t0, store.Page{Limit: 2, Offset: 1}, []atlasx509.Certificate{c2, c4}, 4},
		{"page of the valid ones", at(90 * time.Minute), store.Page{Limit: 2, Offset: 1}, []atlasx509.Certificate{c4, c3}, 3},
		{"offset past the end", t0, store.Page{Limit: 2, Offset: 4}, nil, 4},
		{"validAt in another zone", at(90 * time.Minute).In(time.FixedZone("UTC-7", -7*3600)), store.Page{}, []atlasx509.Certificate{c2, c4, c3}, 3},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "alice", ValidAt: tc.validAt}, tc.page)
			if err != nil {
				t.Errorf("%s: ListCertificates: %v", tc.name, err)
				continue
			}
			checkList(t, tc.name+": ListCertificates", tc.want, got)
			n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "alice", ValidAt: tc.validAt})
			if err != nil || n != tc.count {
				t.Errorf("%s: CountCertificates = %d, %v; want %d", tc.name, n, err, tc.count)
			}
		}
		got, err := tx.ListCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "bob", ValidAt: t0}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Certificate{cb}, got); d != "" {
			t.Errorf("ListCertificates(bob) mismatch (-want +got):\n%s", d)
		}
		return nil
	})
}
