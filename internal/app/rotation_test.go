package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// hookRand is crypto/rand that runs a hook, once, on the first Read after
// it is armed: a way to make another replica act at a precise point of a
// use case (the first randomness it draws).
type hookRand struct {
	mu   sync.Mutex
	hook func()
}

func (r *hookRand) arm(f func()) { r.mu.Lock(); r.hook = f; r.mu.Unlock() }

func (r *hookRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	f := r.hook
	r.hook = nil
	r.mu.Unlock()
	if f != nil {
		f()
	}
	return rand.Read(p)
}

// replicas returns the fixture's App as replica A, drawing randomness from
// the returned hookRand, and a replica B on the same store and keyring.
func replicas(t *testing.T) (*fixture, *App, *hookRand) {
	t.Helper()
	ctx := context.Background()
	st := testkit.Store(t)
	kr := testkit.Keyring(t)
	c := testkit.NewClock()
	r := &hookRand{}
	a, err := New(ctx, Config{Store: st, Keyring: kr, Keys: testkit.FastKeys{}, Now: c.Now, Rand: r})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, Config{Store: st, Keyring: kr, Keys: testkit.FastKeys{}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := atlasx509.Principal{ID: boot.APIKey.ID, Kind: atlasx509.PrincipalAPIKey, OrgID: boot.OrgID,
		Roles: []atlasx509.RoleAssignment{{PrincipalID: boot.APIKey.ID, OrgID: boot.OrgID, Role: atlasx509.RoleOrgOwner}}}
	return &fixture{app: a, store: st, clock: c, boot: boot, owner: owner}, b, r
}

// generations returns the project's CA generations in the store, newest first.
func (f *fixture) generations(t *testing.T) []atlasx509.ProjectCA {
	t.Helper()
	var cas []atlasx509.ProjectCA
	err := f.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		cas, err = tx.ListProjectCAs(context.Background(), f.boot.ProjectID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cas
}

// TestRotationRace: a rotation that another replica's rotation overtakes
// (between the read of the active generation and the write) creates no
// generation of its own and answers the other's.
func TestRotationRace(t *testing.T) {
	t.Parallel()
	f, b, r := replicas(t)
	ctx := context.Background()
	f.managedUser(t, "alice")
	f.issue(t, "alice", 1)
	var other ManagedX509
	var otherErr error
	r.arm(func() { other, otherErr = b.RotateManagedX509CA(ctx, f.owner, f.boot.ProjectID) })
	mine, err := f.app.RotateManagedX509CA(ctx, f.owner, f.boot.ProjectID)
	if err != nil || otherErr != nil {
		t.Fatalf("rotations: %v, %v", err, otherErr)
	}
	if d := cmp.Diff(other, mine); d != "" {
		t.Errorf("the overtaken rotation answers another document (-other +mine):\n%s", d)
	}
	if gens := f.generations(t); len(gens) != 2 || mine.CAs[0].Generation != 2 || !mine.CAs[0].Active {
		t.Errorf("%d generations after two racing rotations, answer %+v; want 2, generation 2 active", len(gens), mine.CAs)
	}
	// A rotation that races nothing makes one more.
	if doc, err := f.app.RotateManagedX509CA(ctx, f.owner, f.boot.ProjectID); err != nil || doc.CAs[0].Generation != 3 {
		t.Errorf("next rotation: %+v, %v; want generation 3", doc.CAs, err)
	}
}

// TestIssuanceRacingRotation: a certificate signed by the generation that
// was active when the issuance read it, but recorded after another
// replica's rotation committed, is signed again by the new generation: no
// certificate recorded after a rotation comes from an older CA.
func TestIssuanceRacingRotation(t *testing.T) {
	t.Parallel()
	f, b, r := replicas(t)
	ctx := context.Background()
	f.managedUser(t, "alice")
	f.issue(t, "alice", 1) // creates generation 1
	r.arm(func() {
		if _, err := b.RotateManagedX509CA(ctx, f.owner, f.boot.ProjectID); err != nil {
			t.Error(err)
		}
	})
	cert := f.issue(t, "alice", 1)
	gens := f.generations(t)
	if len(gens) != 2 {
		t.Fatalf("%d generations, want 2", len(gens))
	}
	active, err := x509.ParseCertificate(gens[0].CertDER)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cert.AuthorityKeyId, active.SubjectKeyId) || cert.CheckSignatureFrom(active) != nil {
		t.Error("the certificate is not signed by the generation that was active when it was recorded")
	}
	certs, _, err := f.app.ListDatabaseUserCertificates(ctx, f.owner, f.boot.ProjectID, "alice", ListOptions{PageNum: 1, ItemsPerPage: 10}, false)
	if err != nil || len(certs) != 2 {
		t.Fatalf("records after the race: %+v, %v; want 2", certs, err)
	}
	for _, c := range certs {
		if c.Serial == cert.SerialNumber.Int64() && c.CAGeneration != 2 {
			t.Errorf("the certificate is recorded as of generation %d, want 2", c.CAGeneration)
		}
	}
}

// TestRetiredByExpiry: an older generation leaves the CA route when its
// last certificate expires, not before.
func TestRetiredByExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	f.managedUser(t, "alice")
	old := f.issue(t, "alice", 1)
	if _, err := f.app.RotateManagedX509CA(ctx, f.owner, f.boot.ProjectID); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		caPEM, err := f.app.ProjectCAPEM(ctx, f.owner, f.boot.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rest := caPEM; ; n++ {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				return n
			}
		}
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want int
	}{
		{"a second before the old certificate expires", old.NotAfter.Add(-time.Second), 2},
		{"when it expires", old.NotAfter, 1},
	} {
		f.clock.Set(tc.at)
		if n := count(); n != tc.want {
			t.Errorf("%s: the CA route holds %d CAs, want %d", tc.name, n, tc.want)
		}
		doc, err := f.app.GetManagedX509(ctx, f.owner, f.boot.ProjectID)
		if err != nil || len(doc.CAs) != tc.want {
			t.Errorf("%s: the document lists %+v, %v; want %d", tc.name, doc.CAs, err, tc.want)
		}
	}
}
