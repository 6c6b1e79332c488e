// Package storetest is the conformance suite of store drivers: every driver
// (SQLite and PostgreSQL) calls Run from its tests.
//
// Besides what the store package documents, the suite pins down these
// behaviours, which callers may rely on:
//
//   - Errors are matched with errors.Is: drivers may wrap store.ErrNotFound
//     and store.ErrConflict. Update and View return fn's error itself,
//     unwrapped. A foreign key violation (a project of an unknown
//     organization, a certificate of an unknown user) is an internal error:
//     neither ErrNotFound nor ErrConflict.
//   - Times come back equal (time.Time.Equal) to what was stored, to the
//     microsecond, in time.UTC, for every instant of the years 0001 to 9999
//     (the zero time.Time and 9999-12-31T23:59:59.999999Z included). Every
//     time the suite stores or passes is a whole number of microseconds, so
//     a driver may keep more precision (SQLite keeps nanoseconds) or round
//     to the microsecond (PostgreSQL).
//   - DatabaseUser.Roles, Scopes and Labels come back as non-nil slices,
//     empty when stored nil or empty; byte slices (settings, CA certificate
//     and key, sealed HA1 values, secret hashes) come back non-nil, empty
//     when stored nil or empty. Lists with no element have length 0 (nil or
//     not).
//   - Orders (strings in byte order): ListProjects by Created then ID;
//     ListDatabaseUsers by Username; ListProjectCAs by Generation, newest
//     first; ListCertificates by Created then Serial; ListAPIKeys by Created
//     then ID; ListServiceAccounts by Created then ClientID;
//     ListServiceAccountSecrets by Created then ID; ListRoleAssignments by
//     OrgID, GroupID ("" first) then Role; ListProjectPrincipals and
//     ListPrincipalProjects by id, each id once; ListAccessListEntries by
//     Created then CIDR.
//   - A Page with a negative Limit or Offset is an error; Limit 0 means all.
//   - ListProjects and CountProjects select the union of the projects of
//     the filter's organizations and of its projects, each once; unknown ids
//     select nothing, and an empty filter selects nothing.
//   - ListCertificates and CountCertificates keep certificates whose
//     NotAfter is strictly after validAt; DeleteOAuthTokensExpiredBefore
//     deletes tokens whose ExpiresAt is strictly before its argument;
//     DeleteExpiredDatabaseUsers deletes users whose DeleteAfterDate is
//     before or equal to its argument (never a user with none).
//   - UpdateDatabaseUser replaces every field but the key (Created
//     included); a user looked up under another authentication database is
//     not found. UpdateProject writes Name, CustomerX509CAs, CustomerX509CRLs and LeafKeyType
//     only (not OrgID nor Created); UpdateAPIKey writes Description only;
//     UpdateServiceAccount writes Name and Description only. An update that
//     changes nothing succeeds. RevokeOAuthToken of a revoked token
//     succeeds.
//   - A role assignment keeps its PrincipalKind; inserting one of no known
//     kind is an error. ListProjectPrincipals("") finds nothing
//     (organization roles are over no project). DeleteRoleAssignments with groupID "" deletes the
//     principal's organization roles in orgID and no project role; with a
//     groupID, the roles over that project whose OrgID is orgID. Deleting
//     nothing returns 0 and no error. DeleteServiceAccountSecret of a secret
//     of another account is ErrNotFound.
//   - DeletePrincipalRoleAssignments, DeleteAccessList,
//     DeleteServiceAccountSecrets and DeleteOAuthTokens delete every row of
//     their credential, in every organization, and nothing of another; each
//     returns how many rows it deleted. With them and then DeleteAPIKey or
//     DeleteServiceAccount in one Update, nothing of the credential is left.
//   - Usernames are unique in a project across authentication databases;
//     project names are unique in an organization (on insert and update); an
//     API key public key is unique server-wide; a role assignment is unique
//     by all its fields; an access list entry by (PrincipalID, CIDR).
//   - A write through View's Tx fails, and a failed View leaves no trace.
//   - Concurrent Updates lose no write.
//
// What the suite does not require: that a transaction stays usable after one
// of its statements failed (PostgreSQL aborts the whole transaction), nor
// serializable isolation of concurrent read-modify-write Updates.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; every subtest opens its own, and Run closes it when the subtest
// ends. Subtests run in parallel, so open must be safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Settings", testSettings},
		{"Organizations", testOrganizations},
		{"Projects", testProjects},
		{"ListProjects", testListProjects},
		{"UpdateProject", testUpdateProject},
		{"DeleteProject", testDeleteProject},
		{"DatabaseUserRoundTrip", testDatabaseUserRoundTrip},
		{"DatabaseUserConflicts", testDatabaseUserConflicts},
		{"ListDatabaseUsers", testListDatabaseUsers},
		{"UpdateDatabaseUser", testUpdateDatabaseUser},
		{"DeleteDatabaseUser", testDeleteDatabaseUser},
		{"DeleteExpiredDatabaseUsers", testDeleteExpiredDatabaseUsers},
		{"ProjectCAs", testProjectCAs},
		{"Certificates", testCertificates},
		{"ListCertificates", testListCertificates},
		{"IssuanceState", testIssuanceState},
		{"RevokeCertificatesNotFound", testRevokeCertificatesNotFound},
		{"RevokeCertificates", testRevokeCertificates},
		{"ListRevokedCertificates", testListRevokedCertificates},
		{"AllocateCRLNumber", testAllocateCRLNumber},
		{"SaveCRL", testSaveCRL},
		{"DeleteDeletedUsersCertificates", testDeleteDeletedUsersCertificates},
		{"CountUnexpiredCertificatesByGeneration", testCountUnexpiredCertificatesByGeneration},
		{"ListAll", testListAll},
		{"ListAllOutboxMessages", testListAllOutboxMessages},
		{"Reseal", testReseal},
		{"APIKeys", testAPIKeys},
		{"ListAPIKeys", testListAPIKeys},
		{"UpdateAPIKey", testUpdateAPIKey},
		{"DeleteAPIKey", testDeleteAPIKey},
		{"ServiceAccounts", testServiceAccounts},
		{"ListServiceAccounts", testListServiceAccounts},
		{"UpdateServiceAccount", testUpdateServiceAccount},
		{"DeleteServiceAccount", testDeleteServiceAccount},
		{"DeleteServiceAccountSecret", testDeleteServiceAccountSecret},
		{"RoleAssignments", testRoleAssignments},
		{"ListProjectPrincipals", testListProjectPrincipals},
		{"ListPrincipalProjects", testListPrincipalProjects},
		{"DeleteRoleAssignments", testDeleteRoleAssignments},
		{"AccessListEntries", testAccessListEntries},
		{"AccessListUse", testAccessListUse},
		{"OAuthTokens", testOAuthTokens},
		{"AuthGeneration", testAuthGeneration},
		{"AlertConfigs", testAlertConfigs},
		{"Alerts", testAlerts},
		{"ListExpiringCertificates", testListExpiringCertificates},
		{"Outbox", testOutbox},
		{"Leases", testLeases},
		{"Events", testEvents},
		{"ConsoleSessions", testConsoleSessions},
		{"Times", testTimes},
		{"Pages", testPages},
		{"UpdateRollback", testUpdateRollback},
		{"UpdatePanic", testUpdatePanic},
		{"UpdateCanceled", testUpdateCanceled},
		{"ViewReadOnly", testViewReadOnly},
		{"ViewError", testViewError},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Retrying", testRetrying},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// t0 is the reference instant of the fixtures: UTC, with microseconds.
// Every fixture time is a whole number of microseconds: the precision that
// drivers must keep (PostgreSQL's timestamptz).
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// now returns the current time in UTC, truncated to the microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// localNow returns the current time in the local zone, with its monotonic
// clock reading, less its nanoseconds past the microsecond (Truncate would
// drop the monotonic reading).
func localNow() time.Time {
	n := time.Now()
	return n.Add(-time.Duration(n.Nanosecond() % 1000))
}

// at returns t0 shifted by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// id returns the n-th fixture identifier, 24 hex digits like Atlas ids.
func id(n int) string { return fmt.Sprintf("%024x", n) }

// cmpOpts compares times strictly: same instant and both in the same
// location (the fixtures are in UTC, so results must be too).
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b) && a.Location() == b.Location()
	}),
}

// diff is cmp.Diff with cmpOpts.
func diff(want, got any) string { return cmp.Diff(want, got, cmpOpts...) }

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// wantCount runs fn, which answers how many rows it changed, in an Update,
// and reports an error when that is not want.
func wantCount(t *testing.T, s store.Store, what string, want int, fn func(store.Tx) (int, error)) {
	t.Helper()
	var n int
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = fn(tx)
		return err
	})
	if n != want {
		t.Errorf("%s = %d, want %d", what, n, want)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// wantIs fails the test unless errors.Is(err, target).
func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// wantInternal fails the test unless err is an error other than
// ErrNotFound and ErrConflict.
func wantInternal(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		t.Errorf("%s: err = %v, want an internal error", what, err)
	}
}

// org returns fixture organization n.
func org(n int) atlasx509.Organization {
	return atlasx509.Organization{ID: id(n), Name: fmt.Sprintf("org %d", n), Created: at(time.Duration(n) * time.Second)}
}

// project returns fixture project n of organization orgN.
func project(n, orgN int) atlasx509.Project {
	return atlasx509.Project{
		ID:      id(1000 + n),
		OrgID:   id(orgN),
		Name:    fmt.Sprintf("project %d", n),
		Created: at(time.Duration(n) * time.Minute),
	}
}

// user returns a minimal fixture database user of project p.
func user(p atlasx509.Project, username string) atlasx509.DatabaseUser {
	return atlasx509.DatabaseUser{
		GroupID:      p.ID,
		Username:     username,
		DatabaseName: atlasx509.DatabaseExternal,
		Roles:        []atlasx509.DatabaseRole{{RoleName: "read", DatabaseName: "test"}},
		Scopes:       []atlasx509.UserScope{},
		Labels:       []atlasx509.Label{},
		X509Type:     atlasx509.X509Managed,
		AWSIAMType:   atlasx509.AWSIAMNone,
		LDAPAuthType: atlasx509.LDAPNone,
		OIDCAuthType: atlasx509.OIDCNone,
		Created:      t0,
		Updated:      t0,
	}
}

// projectCA returns fixture CA generation gen of project p.
func projectCA(p atlasx509.Project, gen int) atlasx509.ProjectCA {
	return atlasx509.ProjectCA{
		GroupID:    p.ID,
		Generation: gen,
		CertDER:    []byte(fmt.Sprintf("cert %s %d", p.ID, gen)),
		SealedKey:  []byte(fmt.Sprintf("key %s %d", p.ID, gen)),
		NotBefore:  at(time.Duration(gen) * time.Hour),
		NotAfter:   at(time.Duration(gen)*time.Hour + 10*365*24*time.Hour),
		Created:    at(time.Duration(gen) * time.Hour),
	}
}

// certificate returns a fixture certificate record of user u, signed by CA
// generation 1, valid from t0 to t0+validFor.
func certificate(u atlasx509.DatabaseUser, serial int64, validFor time.Duration) atlasx509.Certificate {
	return atlasx509.Certificate{
		GroupID:           u.GroupID,
		Username:          u.Username,
		Serial:            serial,
		Subject:           "CN=" + u.Username,
		CAGeneration:      1,
		NotBefore:         t0,
		NotAfter:          t0.Add(validFor),
		FingerprintSHA256: fmt.Sprintf("%064x", serial),
		Created:           at(time.Duration(serial) * time.Millisecond),
	}
}

// seed inserts the organizations and projects given, failing the test on error.
func seed(t *testing.T, s store.Store, orgs []atlasx509.Organization, projects []atlasx509.Project) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, o := range orgs {
			if err := tx.InsertOrganization(t.Context(), o); err != nil {
				return fmt.Errorf("insert organization %s: %w", o.ID, err)
			}
		}
		for _, p := range projects {
			if err := tx.InsertProject(t.Context(), p); err != nil {
				return fmt.Errorf("insert project %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

// seedUsers seeds organization 1, project p and, for each user, the user,
// CA generation 1 of its project (once) and the user's certificates.
func seedUsers(t *testing.T, s store.Store, projects []atlasx509.Project, users []atlasx509.DatabaseUser, certs []atlasx509.Certificate) {
	t.Helper()
	seed(t, s, []atlasx509.Organization{org(1)}, projects)
	update(t, s, func(tx store.Tx) error {
		ctx := t.Context()
		for _, p := range projects {
			if err := tx.InsertProjectCA(ctx, projectCA(p, 1)); err != nil {
				return err
			}
		}
		for _, u := range users {
			if err := tx.InsertDatabaseUser(ctx, u); err != nil {
				return fmt.Errorf("insert user %s: %w", u.Username, err)
			}
		}
		for _, c := range certs {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return fmt.Errorf("insert certificate %d: %w", c.Serial, err)
			}
		}
		return nil
	})
}
