package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestUnexpiredCertificateLimit: a user holds at most MaxUnexpiredCerts
// unexpired certificates, revoked ones included; the store's bound of the
// count spares the count below the limit and is lowered to it at the limit,
// so certificates that expired make room again. A user deleted and created
// again starts afresh.
func TestUnexpiredCertificateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, testkit.FastKeys{})
	f.managedUser(t, "alice")
	f.issue(t, "alice", 1) // creates the CA; alice holds 1
	now := f.clock.Now().UTC()
	// MaxUnexpiredCerts-2 more records: 10 that expire in an hour, the rest
	// in three months, a few of them revoked.
	err := f.store.Update(ctx, func(tx store.Tx) error {
		for i := range MaxUnexpiredCerts - 2 {
			notAfter := now.AddDate(0, 3, 0)
			if i < 10 {
				notAfter = now.Add(time.Hour)
			}
			c := atlasx509.Certificate{GroupID: f.boot.ProjectID, Username: "alice", Serial: int64(i+1) * 7919, Subject: "CN=alice",
				CAGeneration: 1, NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
				FingerprintSHA256: fmt.Sprintf("%064x", i), Created: now}
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		_, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: f.boot.ProjectID, Username: "alice", Serial: 20 * 7919, At: now, Reason: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		t.Helper()
		_, err := f.app.CreateDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, "alice", nil)
		return atlasx509.ErrorCode(err)
	}
	bound := func() int {
		t.Helper()
		var st store.IssuanceState
		f.store.View(ctx, func(tx store.Tx) error {
			var err error
			st, err = tx.IssuanceState(ctx, f.boot.ProjectID, "alice")
			return err
		})
		return st.CertificateBound
	}
	steps := []struct {
		name      string
		advance   time.Duration
		wantCode  string
		wantBound int
	}{
		{"the last one below the limit", 0, "", MaxUnexpiredCerts},
		{"at the limit", 0, "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED", MaxUnexpiredCerts},
		{"again at the limit", 0, "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED", MaxUnexpiredCerts},
		// Ten expired: counted once, the bound becomes the count plus the
		// new certificate.
		{"after ten expired", 2 * time.Hour, "", MaxUnexpiredCerts - 10 + 1},
		{"below the lowered bound, not counted", 0, "", MaxUnexpiredCerts - 10 + 2},
	}
	for _, s := range steps {
		f.clock.Add(s.advance)
		if code := issue(); code != s.wantCode {
			t.Errorf("%s: error code %q, want %q", s.name, code, s.wantCode)
		}
		if got := bound(); got != s.wantBound {
			t.Errorf("%s: bound %d, want %d", s.name, got, s.wantBound)
		}
	}
	// Deleted and created again: a new user, whose bound starts at 0.
	if err := f.app.DeleteDatabaseUser(ctx, f.owner, f.boot.ProjectID, "$external", "alice"); err != nil {
		t.Fatal(err)
	}
	f.managedUser(t, "alice")
	if code := issue(); code != "" {
		t.Errorf("created again: error code %q", code)
	}
	if got := bound(); got != 1 {
		t.Errorf("created again: bound %d, want 1", got)
	}
}
