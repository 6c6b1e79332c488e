package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// fullUser returns a database user with every field set.
func fullUser(p atlasx509.Project, username string) atlasx509.DatabaseUser {
	deleteAfter := at(48 * time.Hour)
	return atlasx509.DatabaseUser{
		GroupID:      p.ID,
		Username:     username,
		DatabaseName: atlasx509.DatabaseAdmin,
		Roles: []atlasx509.DatabaseRole{
			{RoleName: "readWrite", DatabaseName: "sales", CollectionName: "orders"},
			{RoleName: "read", DatabaseName: "admin"},
		},
		Scopes: []atlasx509.UserScope{{Name: "Cluster0", Type: "CLUSTER"}, {Name: "lake", Type: "DATA_LAKE"}},
		Labels: []atlasx509.Label{{Key: "team", Value: "blue"}, {Key: "env", Value: "prod \"quoted\" é"}},
		// A user with every kind of authentication is not valid for Atlas,
		// but the store keeps what it is given.
		X509Type:        atlasx509.X509Customer,
		AWSIAMType:      atlasx509.AWSIAMRole,
		LDAPAuthType:    atlasx509.LDAPGroup,
		OIDCAuthType:    atlasx509.OIDCIdPGroup,
		Description:     "a user with every field",
		DeleteAfterDate: &deleteAfter,
		SCRAMCredential: "SCRAM-SHA-256$15000:c2FsdA==$c3RvcmVk:c2VydmVy",
		Created:         at(time.Hour),
		Updated:         at(2 * time.Hour),
	}
}

func testDatabaseUserRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p})

	minimal := atlasx509.DatabaseUser{
		GroupID:      p.ID,
		Username:     "minimal",
		DatabaseName: atlasx509.DatabaseExternal,
		Created:      t0,
		Updated:      t0,
	}
	minimalWant := minimal
	minimalWant.Roles = []atlasx509.DatabaseRole{}
	minimalWant.Scopes = []atlasx509.UserScope{}
	minimalWant.Labels = []atlasx509.Label{}
	empty := user(p, "empty-slices")

	tests := []struct {
		name string
		in   atlasx509.DatabaseUser
		want atlasx509.DatabaseUser
	}{
		{"every field", fullUser(p, "full"), fullUser(p, "full")},
		{"nil slices", minimal, minimalWant},
		{"empty slices", empty, empty},
	}
	for _, tc := range tests {
		update(t, s, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, tc.in) })
	}
	for _, tc := range tests {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetDatabaseUser(ctx, tc.in.GroupID, tc.in.DatabaseName, tc.in.Username)
			if err != nil {
				t.Errorf("%s: GetDatabaseUser: %v", tc.name, err)
				return nil
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("%s: GetDatabaseUser mismatch (-want +got):\n%s", tc.name, d)
			}
			if got.Roles == nil || got.Scopes == nil || got.Labels == nil {
				t.Errorf("%s: GetDatabaseUser returned nil slices: %+v", tc.name, got)
			}
			got, err = tx.FindDatabaseUser(ctx, tc.in.GroupID, tc.in.Username)
			if err != nil {
				t.Errorf("%s: FindDatabaseUser: %v", tc.name, err)
				return nil
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("%s: FindDatabaseUser mismatch (-want +got):\n%s", tc.name, d)
			}
			return nil
		})
	}

	notFound := []struct {
		name                     string
		groupID, database, uname string
	}{
		{"other database", p.ID, atlasx509.DatabaseExternal, "full"},
		{"other project", id(99), atlasx509.DatabaseAdmin, "full"},
		{"unknown username", p.ID, atlasx509.DatabaseAdmin, "nobody"},
		{"username case", p.ID, atlasx509.DatabaseAdmin, "FULL"},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range notFound {
			_, err := tx.GetDatabaseUser(ctx, tc.groupID, tc.database, tc.uname)
			wantIs(t, "GetDatabaseUser, "+tc.name, err, store.ErrNotFound)
		}
		_, err := tx.FindDatabaseUser(ctx, p.ID, "nobody")
		wantIs(t, "FindDatabaseUser(unknown)", err, store.ErrNotFound)
		_, err = tx.FindDatabaseUser(ctx, id(99), "full")
		wantIs(t, "FindDatabaseUser(other project)", err, store.ErrNotFound)
		return nil
	})
}

func testDatabaseUserConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	alice := user(pa, "alice")
	seedUsers(t, s, []atlasx509.Project{pa, pb}, []atlasx509.DatabaseUser{alice}, nil)

	otherDB := alice
	otherDB.DatabaseName = atlasx509.DatabaseAdmin
	otherProject := alice
	otherProject.GroupID = pb.ID
	unknownProject := alice
	unknownProject.GroupID = id(99)
	tests := []struct {
		name    string
		u       atlasx509.DatabaseUser
		wantErr error // nil, ErrConflict, or errInternal
	}{
		{"same username and database", alice, store.ErrConflict},
		{"same username in another database", otherDB, store.ErrConflict},
		{"same username in another project", otherProject, nil},
		{"unknown project", unknownProject, errInternal},
	}
	for _, tc := range tests {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, tc.u) })
		checkErr(t, "InsertDatabaseUser, "+tc.name, err, tc.wantErr)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(ctx, pa.ID, "alice")
		if err != nil {
			return err
		}
		if d := diff(alice, got); d != "" {
			t.Errorf("user changed by a refused insert (-want +got):\n%s", d)
		}
		return nil
	})
}

// errInternal stands for "an error other than ErrNotFound and ErrConflict"
// in tables of expected errors.
var errInternal = fmt.Errorf("internal error")

// checkErr checks err against want: nil, errInternal or a sentinel.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch want {
	case nil:
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	case errInternal:
		wantInternal(t, what, err)
	default:
		wantIs(t, what, err, want)
	}
}

func testListDatabaseUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	names := []string{"mallory", "Bob", "alice", "carol", "dave", "bob"}
	var users []atlasx509.DatabaseUser
	for i, n := range names {
		u := user(pa, n)
		if i%2 == 0 {
			u.DatabaseName = atlasx509.DatabaseAdmin
		}
		users = append(users, u)
	}
	other := user(pb, "aaron")
	seedUsers(t, s, []atlasx509.Project{pa, pb}, append(users, other), nil)
	byName := map[string]atlasx509.DatabaseUser{}
	for _, u := range users {
		byName[u.Username] = u
	}
	sorted := func(names ...string) []atlasx509.DatabaseUser {
		var out []atlasx509.DatabaseUser
		for _, n := range names {
			out = append(out, byName[n])
		}
		return out
	}
	// Byte order: upper case before lower case.
	tests := []struct {
		name string
		page store.Page
		want []atlasx509.DatabaseUser
	}{
		{"all", store.Page{}, sorted("Bob", "alice", "bob", "carol", "dave", "mallory")},
		{"first page", store.Page{Limit: 4}, sorted("Bob", "alice", "bob", "carol")},
		{"second page", store.Page{Limit: 4, Offset: 4}, sorted("dave", "mallory")},
		{"middle", store.Page{Limit: 2, Offset: 1}, sorted("alice", "bob")},
		{"past the end", store.Page{Limit: 4, Offset: 6}, nil},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListDatabaseUsers(ctx, pa.ID, tc.page)
			if err != nil {
				t.Errorf("%s: ListDatabaseUsers: %v", tc.name, err)
				continue
			}
			checkList(t, tc.name+": ListDatabaseUsers", tc.want, got)
		}
		counts := []struct {
			groupID string
			want    int
		}{{pa.ID, 6}, {pb.ID, 1}, {id(99), 0}}
		for _, c := range counts {
			n, err := tx.CountDatabaseUsers(ctx, c.groupID)
			if err != nil || n != c.want {
				t.Errorf("CountDatabaseUsers(%s) = %d, %v; want %d", c.groupID, n, err, c.want)
			}
		}
		got, err := tx.ListDatabaseUsers(ctx, id(99), store.Page{})
		if err != nil || len(got) != 0 {
			t.Errorf("ListDatabaseUsers(unknown project) = %+v, %v; want none", got, err)
		}
		return nil
	})
}

func testUpdateDatabaseUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	full := fullUser(p, "alice")
	bob := user(p, "bob")
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{full, bob}, nil)

	changed := full
	changed.Roles = []atlasx509.DatabaseRole{{RoleName: "atlasAdmin", DatabaseName: "admin"}}
	changed.Scopes = nil
	changed.Labels = []atlasx509.Label{{Key: "k", Value: "v"}}
	changed.X509Type = atlasx509.X509None
	changed.AWSIAMType = atlasx509.AWSIAMNone
	changed.LDAPAuthType = atlasx509.LDAPNone
	changed.OIDCAuthType = atlasx509.OIDCNone
	changed.Description = "changed"
	changed.DeleteAfterDate = nil
	changed.SCRAMCredential = ""
	changed.Created = at(-time.Hour)
	changed.Updated = at(5 * time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.UpdateDatabaseUser(ctx, changed) })

	want := changed
	want.Scopes = []atlasx509.UserScope{}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetDatabaseUser(ctx, p.ID, full.DatabaseName, "alice")
		if err != nil {
			return err
		}
		if d := diff(want, got); d != "" {
			t.Errorf("after UpdateDatabaseUser (-want +got):\n%s", d)
		}
		got, err = tx.FindDatabaseUser(ctx, p.ID, "bob")
		if err != nil {
			return err
		}
		if d := diff(bob, got); d != "" {
			t.Errorf("another user changed by UpdateDatabaseUser (-want +got):\n%s", d)
		}
		return nil
	})

	// Setting DeleteAfterDate back.
	later := at(72 * time.Hour)
	want.DeleteAfterDate = &later
	update(t, s, func(tx store.Tx) error { return tx.UpdateDatabaseUser(ctx, want) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(ctx, p.ID, "alice")
		if err != nil {
			return err
		}
		if d := diff(want, got); d != "" {
			t.Errorf("after UpdateDatabaseUser (-want +got):\n%s", d)
		}
		return nil
	})

	otherDB := want
	otherDB.DatabaseName = atlasx509.DatabaseExternal
	otherDB.Description = "must not be written"
	unknown := want
	unknown.Username = "nobody"
	otherProject := want
	otherProject.GroupID = id(99)
	for name, u := range map[string]atlasx509.DatabaseUser{
		"other database": otherDB, "unknown username": unknown, "other project": otherProject,
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateDatabaseUser(ctx, u) })
		wantIs(t, "UpdateDatabaseUser, "+name, err, store.ErrNotFound)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(ctx, p.ID, "alice")
		if err != nil {
			return err
		}
		if d := diff(want, got); d != "" {
			t.Errorf("user changed by a refused update (-want +got):\n%s", d)
		}
		return nil
	})
}

func testDeleteDatabaseUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	alice, bob := user(p, "alice"), user(p, "bob")
	bob.DatabaseName = atlasx509.DatabaseAdmin
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{alice, bob}, []atlasx509.Certificate{
		certificate(alice, 1, time.Hour), certificate(alice, 2, time.Hour), certificate(bob, 3, time.Hour),
	})

	for name, args := range map[string][3]string{
		"other database":   {p.ID, atlasx509.DatabaseAdmin, "alice"},
		"unknown username": {p.ID, atlasx509.DatabaseExternal, "nobody"},
		"other project":    {id(99), atlasx509.DatabaseExternal, "alice"},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteDatabaseUser(ctx, args[0], args[1], args[2], t0) })
		wantIs(t, "DeleteDatabaseUser, "+name, err, store.ErrNotFound)
	}

	update(t, s, func(tx store.Tx) error {
		return tx.DeleteDatabaseUser(ctx, p.ID, atlasx509.DatabaseExternal, "alice", t0)
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.DeleteDatabaseUser(ctx, p.ID, atlasx509.DatabaseExternal, "alice", t0)
	})
	wantIs(t, "DeleteDatabaseUser of a deleted user", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		_, err := tx.FindDatabaseUser(ctx, p.ID, "alice")
		wantIs(t, "FindDatabaseUser(deleted)", err, store.ErrNotFound)
		if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "alice", ValidAt: time.Time{}}); err != nil || n != 0 {
			t.Errorf("CountCertificates(deleted user) = %d, %v; want 0", n, err)
		}
		if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "bob", ValidAt: time.Time{}}); err != nil || n != 1 {
			t.Errorf("CountCertificates(bob) = %d, %v; want 1", n, err)
		}
		if n, err := tx.CountDatabaseUsers(ctx, p.ID); err != nil || n != 1 {
			t.Errorf("CountDatabaseUsers = %d, %v; want 1", n, err)
		}
		return nil
	})

	// The deleted user's unexpired certificates are revoked
	// (cessationOfOperation, at the deletion time) and stay in its CA's
	// revoked list; a user re-created under the same name neither lists nor
	// counts them, and its serials stay taken.
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListRevokedCertificates(ctx, p.ID, 1, time.Time{})
		if err != nil {
			return err
		}
		var serials []int64
		for _, c := range got {
			serials = append(serials, c.Serial)
			if c.RevokedAt == nil || !c.RevokedAt.Equal(t0) || c.RevocationReason != store.ReasonCessationOfOperation {
				t.Errorf("certificate %d of a deleted user: revoked at %v, reason %d; want %v, %d",
					c.Serial, c.RevokedAt, c.RevocationReason, t0, store.ReasonCessationOfOperation)
			}
		}
		if d := diff([]int64{1, 2}, serials); d != "" {
			t.Errorf("revoked certificates of a deleted user (-want +got):\n%s", d)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertDatabaseUser(ctx, alice); err != nil {
			return err
		}
		return tx.InsertCertificate(ctx, certificate(alice, 4, time.Hour))
	})
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(ctx, certificate(alice, 1, time.Hour)) })
	wantIs(t, "InsertCertificate with the serial of a deleted user's revoked certificate", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		f := store.CertificateFilter{GroupID: p.ID, Username: "alice", IncludeRevoked: true}
		if n, err := tx.CountCertificates(ctx, f); err != nil || n != 1 {
			t.Errorf("CountCertificates(re-created user, revoked included) = %d, %v; want 1", n, err)
		}
		got, err := tx.ListCertificates(ctx, f, store.Page{})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Serial != 4 {
			t.Errorf("ListCertificates(re-created user, revoked included) = %+v; want serial 4 only", got)
		}
		return nil
	})
	_, err = revoke(t, s, store.Revocation{GroupID: p.ID, Username: "alice", Serial: 1, At: t0})
	wantIs(t, "RevokeCertificates of a deleted user's certificate for the new user", err, store.ErrNotFound)
}

func testDeleteExpiredDatabaseUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(1, 1), project(2, 1)
	temporary := func(p atlasx509.Project, username string, deleteAfter time.Time) atlasx509.DatabaseUser {
		u := user(p, username)
		u.DeleteAfterDate = &deleteAfter
		return u
	}
	expired := temporary(pa, "expired", at(-time.Hour))
	edge := temporary(pa, "edge", t0) // DeleteAfterDate equal to the argument: expired
	edge.DatabaseName = atlasx509.DatabaseAdmin
	future := temporary(pa, "future", at(time.Microsecond))
	permanent := user(pa, "permanent")
	otherProject := temporary(pb, "expired", at(-24*time.Hour))
	otherFuture := temporary(pb, "future", at(time.Hour))
	seedUsers(t, s, []atlasx509.Project{pa, pb},
		[]atlasx509.DatabaseUser{expired, edge, future, permanent, otherProject, otherFuture},
		[]atlasx509.Certificate{
			certificate(expired, 1, time.Hour), certificate(expired, 2, time.Hour),
			certificate(edge, 3, time.Hour), certificate(future, 4, time.Hour),
			certificate(permanent, 5, time.Hour), certificate(otherProject, 1, time.Hour),
			certificate(otherFuture, 2, time.Hour),
		})

	deleteExpired := func(cutoff time.Time) int {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error {
			listed, err := tx.ListExpiredDatabaseUsers(ctx, cutoff)
			if err != nil {
				return err
			}
			if n, err = tx.DeleteExpiredDatabaseUsers(ctx, cutoff); err != nil {
				return err
			}
			if len(listed) != n {
				t.Errorf("ListExpiredDatabaseUsers(%v) listed %d users, DeleteExpiredDatabaseUsers deleted %d", cutoff, len(listed), n)
			}
			return nil
		})
		return n
	}
	// What remains, with its number of certificates.
	check := func(what string, gone []atlasx509.DatabaseUser, kept map[*atlasx509.DatabaseUser]int) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, u := range gone {
				_, err := tx.FindDatabaseUser(ctx, u.GroupID, u.Username)
				wantIs(t, what+": FindDatabaseUser("+u.Username+")", err, store.ErrNotFound)
				if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: u.GroupID, Username: u.Username, ValidAt: time.Time{}}); err != nil || n != 0 {
					t.Errorf("%s: CountCertificates(%s) = %d, %v; want 0", what, u.Username, n, err)
				}
			}
			for u, certs := range kept {
				got, err := tx.FindDatabaseUser(ctx, u.GroupID, u.Username)
				if err != nil {
					t.Errorf("%s: FindDatabaseUser(%s): %v", what, u.Username, err)
					continue
				}
				if d := diff(*u, got); d != "" {
					t.Errorf("%s: user %s changed (-want +got):\n%s", what, u.Username, d)
				}
				if n, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: u.GroupID, Username: u.Username, ValidAt: time.Time{}}); err != nil || n != certs {
					t.Errorf("%s: CountCertificates(%s) = %d, %v; want %d", what, u.Username, n, err, certs)
				}
			}
			return nil
		})
	}

	if n := deleteExpired(at(-48 * time.Hour)); n != 0 {
		t.Errorf("DeleteExpiredDatabaseUsers before any expiry = %d, want 0", n)
	}
	if n := deleteExpired(t0); n != 3 {
		t.Errorf("DeleteExpiredDatabaseUsers(t0) = %d, want 3", n)
	}
	check("after DeleteExpiredDatabaseUsers(t0)",
		[]atlasx509.DatabaseUser{expired, edge, otherProject},
		map[*atlasx509.DatabaseUser]int{&future: 1, &permanent: 1, &otherFuture: 1})
	// Their unexpired certificates are revoked, at the cutoff, and stay in
	// their CA's revoked list.
	checkRevoked(t, s, "after DeleteExpiredDatabaseUsers(t0)", pa.ID, 1, []int64{1, 2, 3}, t0, store.ReasonCessationOfOperation)
	checkRevoked(t, s, "after DeleteExpiredDatabaseUsers(t0)", pb.ID, 1, []int64{1}, t0, store.ReasonCessationOfOperation)
	if n := deleteExpired(t0); n != 0 {
		t.Errorf("DeleteExpiredDatabaseUsers(t0) again = %d, want 0", n)
	}

	// The argument in another zone is the same instant.
	west := time.FixedZone("UTC-7", -7*3600)
	if n := deleteExpired(at(time.Microsecond).In(west)); n != 1 {
		t.Errorf("DeleteExpiredDatabaseUsers(t0+1µs in UTC-7) = %d, want 1", n)
	}
	check("after DeleteExpiredDatabaseUsers(t0+1µs)",
		[]atlasx509.DatabaseUser{future},
		map[*atlasx509.DatabaseUser]int{&permanent: 1, &otherFuture: 1})

	// Far in the future: every temporary user goes, never a permanent one.
	if n := deleteExpired(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)); n != 1 {
		t.Errorf("DeleteExpiredDatabaseUsers(9999) = %d, want 1", n)
	}
	check("after DeleteExpiredDatabaseUsers(9999)",
		[]atlasx509.DatabaseUser{otherFuture}, map[*atlasx509.DatabaseUser]int{&permanent: 1})

	// The rows are gone: a user re-created under a deleted name has no
	// certificate.
	update(t, s, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, expired) })
	check("re-created user", nil, map[*atlasx509.DatabaseUser]int{&expired: 0, &permanent: 1})
}
