package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// The revocation benchmarks, and their baseline, run on the durable SQLite
// store with the real clock. Compare them in one run:
//
//	go test -run x -bench 'IssueECDSA|Revoke|SignCRL' -benchtime 300x ./internal/app/

// benchFixture is a fixture on the real clock.
func benchFixture(b *testing.B) *fixture {
	f := newFixture(b, fixedType{pki.ECDSAP256})
	f.clock = nil
	f.app.now = time.Now
	return f
}

// BenchmarkIssueECDSA is the baseline: one issuance with an ECDSA P-256
// leaf key (key, checks, signature, one durable transaction, PEM).
func BenchmarkIssueECDSA(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	const users = 16
	for i := 0; i < users; i++ {
		f.managedUser(b, fmt.Sprintf("user%d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.app.CreateDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, fmt.Sprintf("user%d", i%users), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevoke measures one revocation through the app: the checks, the
// durable transaction, and the CRL of the certificate's CA signed anew and
// stored (its number allocated in a transaction of its own) before it
// returns. The CRL grows by one entry per iteration (b.N entries at the
// end), as it does in use.
func BenchmarkRevoke(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	const perUser = MaxUnexpiredCerts
	var serials []string
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("user%d", i/perUser)
		if i%perUser == 0 {
			f.managedUser(b, name)
		}
		serials = append(serials, f.issue(b, name, 1).SerialNumber.String())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.app.RevokeDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, fmt.Sprintf("user%d", i/perUser), serials[i], pki.ReasonKeyCompromise); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignCRL10000 measures a CRL signing with 10 000 revoked
// certificates at the app level: the number allocated in a durable
// transaction, the 10 000 entries read, the signature, and the CRL stored
// in a second durable transaction.
func BenchmarkSignCRL10000(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	f.managedUser(b, "alice")
	pem, err := f.app.ProjectCAPEM(ctx, f.owner, f.boot.ProjectID) // creates the CA
	if err != nil || len(pem) == 0 {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	err = f.store.Update(ctx, func(tx store.Tx) error {
		for i := int64(1); i <= 10000; i++ {
			c := atlasx509.Certificate{GroupID: f.boot.ProjectID, Username: "alice", Serial: i * 7919, Subject: "CN=alice",
				CAGeneration: 1, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 3, 0),
				FingerprintSHA256: fmt.Sprintf("%064x", i), Created: now}
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		_, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: f.boot.ProjectID, Username: "alice", At: now, Reason: pki.ReasonKeyCompromise})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var ca atlasx509.ProjectCA
	err = f.store.View(ctx, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(ctx, f.boot.ProjectID)
		ca = cas[0]
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec, err := f.app.signCRL(ctx, ca, time.Now().UTC())
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(len(rec.DER)), "CRL-bytes")
		}
	}
}
