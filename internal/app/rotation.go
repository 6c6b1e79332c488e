package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// ManagedX509 is the managed X.509 document of a project (an extension):
// the key type of its future certificates and the CA generations that the
// CA route and the CRL route list.
type ManagedX509 struct {
	GroupID     string
	LeafKeyType pki.KeyType
	// CAs are the listed generations, newest (the active one) first.
	CAs []ManagedCA
}

// ManagedCA is one CA generation of a project's managed X.509.
type ManagedCA struct {
	Generation int
	NotBefore  time.Time
	NotAfter   time.Time
	// SHA256Fingerprint is the SHA-256 of the CA certificate's DER, in
	// lowercase hex (sha256sum's form).
	SHA256Fingerprint string
	// Active is true for the generation that signs new certificates.
	Active bool
	// UnexpiredCertificates counts the certificates it signed that are
	// neither expired nor revoked.
	UnexpiredCertificates int
}

// managedX509Doc reads, in tx, the managed X.509 document of project at now.
func managedX509Doc(ctx context.Context, tx store.Tx, project atlasx509.Project, now time.Time) (ManagedX509, error) {
	cas, unexpired, err := readCAs(ctx, tx, project.ID, now)
	if err != nil {
		return ManagedX509{}, err
	}
	doc := ManagedX509{GroupID: project.ID, LeafKeyType: leafKeyType(project), CAs: []ManagedCA{}}
	for i, ca := range listedCAs(cas, unexpired, now) {
		sum := sha256.Sum256(ca.CertDER)
		doc.CAs = append(doc.CAs, ManagedCA{Generation: ca.Generation, NotBefore: ca.NotBefore.UTC(), NotAfter: ca.NotAfter.UTC(),
			SHA256Fingerprint: hex.EncodeToString(sum[:]), Active: i == 0, UnexpiredCertificates: unexpired[ca.Generation]})
	}
	return doc, nil
}

// GetManagedX509 returns the managed X.509 document of a project (an
// extension). A project that has no CA yet lists none: the CA route, or
// the first issuance, creates it.
func (a *App) GetManagedX509(ctx context.Context, p atlasx509.Principal, groupID string) (ManagedX509, error) {
	now := a.now().UTC()
	var doc ManagedX509
	err := a.store.View(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		if err != nil {
			return err
		}
		doc, err = managedX509Doc(ctx, tx, project, now)
		return err
	})
	return doc, userStoreError("get managed X.509", err)
}

// RotateManagedX509CA creates a new CA generation of the project's managed
// X.509, which signs every certificate from then on, and returns the
// managed X.509 document (an extension). Older generations stay listed
// while a certificate they signed is neither expired nor revoked (see
// listedCAs). A project without a CA gets its first.
//
// The request rotates away from the generation that was the newest when
// it arrived: if another generation committed meanwhile (a concurrent
// rotation, on this replica or another, or a new generation for a long
// certificate), that one is the new generation this request asked for,
// and no other is created. So two rotations racing make one new
// generation, and both answer it.
func (a *App) RotateManagedX509CA(ctx context.Context, p atlasx509.Principal, groupID string) (ManagedX509, error) {
	var seen int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite); err != nil {
			return err
		}
		cas, err := tx.ListProjectCAs(ctx, groupID)
		if len(cas) > 0 {
			seen = cas[0].Generation
		}
		return err
	})
	if err != nil {
		return ManagedX509{}, userStoreError("rotate CA", err)
	}
	now := a.now().UTC()
	// Made and sealed before the write transaction, which it would hold.
	rec, err := a.newCA(groupID, seen+1, now.Truncate(time.Second))
	if err != nil {
		return ManagedX509{}, internal("rotate CA", err)
	}
	var doc ManagedX509
	for attempt := 0; attempt < issueAttempts; attempt++ {
		err = a.store.Update(ctx, func(tx store.Tx) error {
			project, err := loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite)
			if err != nil {
				return err
			}
			cas, err := tx.ListProjectCAs(ctx, groupID)
			if err != nil {
				return err
			}
			if len(cas) == 0 && seen == 0 || len(cas) > 0 && cas[0].Generation == seen {
				if err := tx.InsertProjectCA(ctx, rec); errors.Is(err, store.ErrConflict) {
					return errRetry
				} else if err != nil {
					return err
				}
				ev := groupEvent(p, EventManagedX509CARotated, groupID)
				ev.Details = map[string]string{"caGeneration": strconv.Itoa(rec.Generation),
					"notAfter": rec.NotAfter.UTC().Format(time.RFC3339)}
				if err := a.recordEvent(ctx, tx, ev); err != nil {
					return err
				}
			}
			doc, err = managedX509Doc(ctx, tx, project, now)
			return err
		})
		if !errors.Is(err, errRetry) {
			break
		}
	}
	return doc, userStoreError("rotate CA", err)
}
