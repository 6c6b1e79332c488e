package app

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
	"github.com/google/go-cmp/cmp"
)

// bigProject is a fixture whose project holds users managed users, each
// with two certificates (one expiring in 2 months, its renewal in 6),
// but every tenth user, who holds only one, expiring in 10 days: inside
// the default 30-day threshold. They are written straight into the store:
// the API's project user limit (100) does not bound what the evaluator reads.
func bigProject(tb testing.TB, users int) *fixture {
	tb.Helper()
	f := newFixture(tb, testkit.FastKeys{})
	ctx := context.Background()
	now := f.clock.Now().UTC()
	err := f.store.Update(ctx, func(tx store.Tx) error {
		for i := range users {
			name := fmt.Sprintf("user%04d", i)
			u := atlasx509.DatabaseUser{GroupID: f.boot.ProjectID, Username: name, DatabaseName: "$external",
				Roles: []atlasx509.DatabaseRole{{RoleName: "read", DatabaseName: "app"}}, X509Type: atlasx509.X509Managed,
				AWSIAMType: "NONE", LDAPAuthType: "NONE", OIDCAuthType: "NONE", Created: now, Updated: now}
			if err := tx.InsertDatabaseUser(ctx, u); err != nil {
				return err
			}
			expiries := []time.Time{now.AddDate(0, 2, 0), now.AddDate(0, 6, 0)}
			if i%10 == 0 {
				expiries = []time.Time{now.AddDate(0, 0, 10)}
			}
			for j, notAfter := range expiries {
				c := atlasx509.Certificate{GroupID: f.boot.ProjectID, Username: name, Serial: int64(i*2 + j + 1),
					Subject: "CN=" + name, CAGeneration: 1, NotBefore: now.Add(-time.Hour),
					NotAfter: notAfter, FingerprintSHA256: fmt.Sprintf("%064x", i*2+j), Created: now}
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// perUserTargets is how the evaluator read managed certificates before
// ListLatestCertificates: the project's users, then one query per managed
// user. Kept as the baseline of BenchmarkManagedCertTargets and as the
// reference of TestManagedCertTargetsPerProject.
func perUserTargets(ctx context.Context, tx store.Tx, c atlasx509.AlertConfig, p atlasx509.Project, now time.Time) (map[string]alertTarget, error) {
	limit := now.Add(time.Duration(c.Threshold) * 24 * time.Hour)
	out := map[string]alertTarget{}
	users, err := tx.ListDatabaseUsers(ctx, p.ID, store.Page{})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.X509Type != atlasx509.X509Managed {
			continue
		}
		certs, err := tx.ListCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: u.Username, ValidAt: now}, store.Page{})
		if err != nil {
			return nil, err
		}
		var latest *atlasx509.Certificate
		for i := range certs {
			if latest == nil || certs[i].NotAfter.After(latest.NotAfter) {
				latest = &certs[i]
			}
		}
		if latest != nil && latest.NotAfter.Before(limit) {
			key := "cert:" + strconv.FormatInt(latest.Serial, 10)
			out[key] = alertTarget{key: key, subject: u.Username, notAfter: latest.NotAfter}
		}
	}
	return out, nil
}

type targetsFunc func(context.Context, store.Tx, atlasx509.AlertConfig, atlasx509.Project, time.Time) (map[string]alertTarget, error)

func readTargets(tb testing.TB, f *fixture, fn targetsFunc) map[string]alertTarget {
	tb.Helper()
	ctx := context.Background()
	var out map[string]alertTarget
	err := f.store.View(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(ctx, f.boot.ProjectID)
		if err != nil {
			return err
		}
		out, err = fn(ctx, tx, defaultAlertConfig(p.ID, f.clock.Now()), p, f.clock.Now().UTC())
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestManagedCertTargetsPerProject: the one query per project finds what
// the query per user found.
func TestManagedCertTargetsPerProject(t *testing.T) {
	t.Parallel()
	f := bigProject(t, 200)
	want, got := readTargets(t, f, perUserTargets), readTargets(t, f, alertTargets)
	if len(want) != 20 {
		t.Fatalf("%d targets, want 20", len(want))
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(alertTarget{})); d != "" {
		t.Errorf("targets (-per user +per project):\n%s", d)
	}
}

// BenchmarkManagedCertTargets compares reading the managed-certificate
// targets of a project of 2 000 users one query per user (before) and one
// query per project (now).
func BenchmarkManagedCertTargets(b *testing.B) {
	f := bigProject(b, 2000)
	for _, bc := range []struct {
		name string
		fn   targetsFunc
	}{{"per-user", perUserTargets}, {"per-project", alertTargets}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if got := readTargets(b, f, bc.fn); len(got) != 200 {
					b.Fatalf("%d targets", len(got))
				}
			}
		})
	}
}

// BenchmarkEvaluateAlerts measures one whole evaluation round of the
// default configuration over the same project, its 200 alerts open.
func BenchmarkEvaluateAlerts(b *testing.B) {
	f := bigProject(b, 2000)
	ctx := context.Background()
	for b.Loop() {
		if err := f.app.EvaluateAlerts(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
