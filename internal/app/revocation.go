package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// DefaultCRLValidity is nextUpdate − thisUpdate of every CRL unless
// Config.CRLValidity says otherwise.
const DefaultCRLValidity = 7 * 24 * time.Hour

// CRLBackdate is how far before its signing a CRL's thisUpdate lies (at most
// a quarter of the validity), so that a host whose clock is a little behind
// the server's neither refuses a fresh CRL (the agent) nor treats it as not
// yet valid (mongod, through OpenSSL), which would refuse every client.
const CRLBackdate = time.Minute

// ParseCertificateSerial reads the {serial} of a certificate path: the
// decimal form of a positive int64, as the list answers it in _id, without
// sign or leading zeros. Anything else is the 404 of an unknown certificate.
func ParseCertificateSerial(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, errCertificateNotFound(s)
	}
	return n, nil
}

// ParseRevocationReason reads the reason query parameter of a revocation:
// absent (present false) means unspecified; otherwise one of the names of
// pki.ParseRevocationReason, exactly, or a 400 INVALID_QUERY_PARAMETER.
func ParseRevocationReason(values []string, present bool) (int, error) {
	if !present {
		return pki.ReasonUnspecified, nil
	}
	if len(values) != 1 {
		return 0, ErrInvalidQueryParameter("reason", nil)
	}
	code, err := pki.ParseRevocationReason(values[0])
	if err != nil {
		return 0, ErrInvalidQueryParameter("reason", nil)
	}
	return code, nil
}

// RevokeDatabaseUserCertificate revokes one unexpired certificate of a
// database user (an extension: DELETE …/databaseUsers/{username}/certs/{serial});
// serial is the path's text, read by ParseCertificateSerial once the
// project and the user are known. Revoking a revoked certificate changes
// nothing and succeeds. The revocation is committed before this returns,
// and the CRL of the CA that signed it is signed anew.
func (a *App) RevokeDatabaseUserCertificate(ctx context.Context, p atlasx509.Principal, groupID, username, serial string, reason int) error {
	n, err := ParseCertificateSerial(serial)
	return a.revoke(ctx, p, store.Revocation{GroupID: groupID, Username: username, Serial: n, Reason: reason}, err)
}

// RevokeDatabaseUserCertificates revokes every unexpired certificate of a
// database user (an extension: DELETE …/databaseUsers/{username}/certs), as
// RevokeDatabaseUserCertificate does for one.
func (a *App) RevokeDatabaseUserCertificates(ctx context.Context, p atlasx509.Principal, groupID, username string, reason int) error {
	return a.revoke(ctx, p, store.Revocation{GroupID: groupID, Username: username, Reason: reason}, nil)
}

// revoke runs a revocation; badSerial, when set, is the answer once the
// project and the user are found.
func (a *App) revoke(ctx context.Context, p atlasx509.Principal, r store.Revocation, badSerial error) error {
	if pki.RevocationReasonName(r.Reason) == "" {
		return ErrInvalidQueryParameter("reason", nil)
	}
	r.At = a.now().UTC()
	var numbered []numberedCA
	err := a.store.Update(ctx, func(tx store.Tx) error {
		numbered = nil // a second run starts over
		if _, err := loadProject(ctx, tx, p, r.GroupID, authz.CertificateCreate); err != nil {
			return err
		}
		u, err := tx.FindDatabaseUser(ctx, r.GroupID, r.Username)
		if errors.Is(err, store.ErrNotFound) {
			return errUsernameNotFound(r.Username)
		} else if err != nil {
			return err
		}
		if badSerial != nil {
			return badSerial
		}
		before, err := tx.ListProjectCAs(ctx, r.GroupID)
		if err != nil {
			return err
		}
		revoked, err := tx.RevokeCertificates(ctx, r)
		if errors.Is(err, store.ErrNotFound) {
			return errCertificateNotFound(strconv.FormatInt(r.Serial, 10))
		}
		if err != nil || revoked == 0 {
			return err
		}
		if numbered, err = allocateCRLNumbers(ctx, tx, before); err != nil {
			return err
		}
		ev := userEvent(p, EventX509CertRevoked, u)
		ev.Details = map[string]string{"username": u.Username, "revoked": strconv.Itoa(revoked),
			"reason": pki.RevocationReasonName(r.Reason)}
		if r.Serial != 0 {
			ev.Details["serial"] = strconv.FormatInt(r.Serial, 10)
		}
		return a.recordEvent(ctx, tx, ev)
	})
	if err != nil {
		return userStoreError("revoke certificates", err)
	}
	a.signNumberedCRLs(ctx, numbered)
	return nil
}

// signNumberedCRLs signs the CRLs that miss a revocation that just
// committed, with the numbers allocated in its transaction. A failure is
// logged, not returned: the revocation is committed, and the CRL route
// signs a stale CRL before serving it.
func (a *App) signNumberedCRLs(ctx context.Context, numbered []numberedCA) {
	ctx = context.WithoutCancel(ctx)
	for _, n := range numbered {
		if _, err := a.signNumberedCRL(ctx, n.ca, n.number, n.seq, a.now().UTC()); err != nil {
			a.log.Warn("CRL not signed after a revocation; the CRL route will sign it", "groupId", n.ca.GroupID, "error", err)
		}
	}
}

// numberedCA is a CA with the CRL number allocated for its next CRL and
// the revocation sequence that CRL covers.
type numberedCA struct {
	ca          atlasx509.ProjectCA
	number, seq int64
}

// allocateCRLNumbers allocates, in the transaction of a revocation, a CRL
// number for each CA of the project whose revocation sequence moved since
// before (the CAs read earlier in the same transaction). It reads no
// certificate, so that it adds no conflict with concurrent issuances; a CA
// that the revocation retired from the routes gets a CRL nobody reads.
func allocateCRLNumbers(ctx context.Context, tx store.Tx, before []atlasx509.ProjectCA) ([]numberedCA, error) {
	if len(before) == 0 {
		return nil, nil
	}
	after, err := tx.ListProjectCAs(ctx, before[0].GroupID)
	if err != nil {
		return nil, err
	}
	seqs := make(map[int]int64, len(before))
	for _, ca := range before {
		seqs[ca.Generation] = ca.RevocationSeq
	}
	var out []numberedCA
	for _, ca := range after {
		if ca.RevocationSeq == seqs[ca.Generation] {
			continue
		}
		number, seq, err := tx.AllocateCRLNumber(ctx, ca.GroupID, ca.Generation)
		if err != nil {
			return nil, err
		}
		out = append(out, numberedCA{ca: ca, number: number, seq: seq})
	}
	return out, nil
}

// listedCAs returns, of a project's CAs (newest first), those that the CA
// route lists and that therefore each have a CRL in the CRL route, in the
// same order: the active generation (the newest), always, and each older
// one that has not expired while a certificate it signed is neither
// expired nor revoked (unexpired counts them by generation, as readCAs
// returns them). A mongod that follows the CA route thus never refuses a
// valid certificate, and stops trusting a retired CA once nothing it
// signed grants access. It is the one place that decides it.
func listedCAs(cas []atlasx509.ProjectCA, unexpired map[int]int, now time.Time) []atlasx509.ProjectCA {
	var out []atlasx509.ProjectCA
	for i, ca := range cas {
		if i == 0 || ca.NotAfter.After(now) && unexpired[ca.Generation] > 0 {
			out = append(out, ca)
		}
	}
	return out
}

// readCAs reads, in tx, a project's CAs, newest first, and the number of
// its certificates unexpired at now and not revoked, by CA generation: what
// listedCAs decides with.
func readCAs(ctx context.Context, tx store.Tx, groupID string, now time.Time) ([]atlasx509.ProjectCA, map[int]int, error) {
	cas, err := tx.ListProjectCAs(ctx, groupID)
	if err != nil {
		return nil, nil, err
	}
	unexpired, err := tx.CountUnexpiredCertificatesByGeneration(ctx, groupID, now)
	return cas, unexpired, err
}

// projectCAs checks the caller's permission on the project and returns it
// with the CAs that listedCAs keeps at now, newest first. It only reads: a
// project has its first CA from creation (so servers can be configured
// before the first certificate is issued); one created before that answers
// no CA until its first issuance or rotation.
func (a *App) projectCAs(ctx context.Context, p atlasx509.Principal, groupID string, now time.Time) (atlasx509.Project, []atlasx509.ProjectCA, error) {
	var (
		cas       []atlasx509.ProjectCA
		unexpired map[int]int
		project   atlasx509.Project
	)
	read := func(tx store.Tx) error {
		var err error
		if project, err = loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		cas, unexpired, err = readCAs(ctx, tx, groupID, now)
		return err
	}
	if err := a.store.View(ctx, read); err != nil {
		return project, nil, userStoreError("list CAs", err)
	}
	return project, listedCAs(cas, unexpired, now), nil
}

// ProjectCRLPEM returns the PEM of one CRL per CA that ProjectCAPEM lists,
// in the same order (what a mongod reads from net.tls.CRLFile), so that the
// two routes always match (both empty for a project without a CA). Each CRL lists every revoked
// certificate of its CA that has not expired; a stored CRL is served while
// it covers every committed revocation and less than half its validity
// has passed, and is signed anew otherwise. The CRLs given for the CAs of
// self-managed X.509 (customerX509.crls) follow, as their CAs follow in
// ProjectCAPEM.
func (a *App) ProjectCRLPEM(ctx context.Context, p atlasx509.Principal, groupID string) ([]byte, error) {
	now := a.now().UTC()
	project, cas, err := a.projectCAs(ctx, p, groupID, now)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, ca := range cas {
		der, err := a.currentCRL(ctx, ca, now)
		if err != nil {
			return nil, internal("CRL", err)
		}
		out.Write(pki.CRLPEM(der))
	}
	out.WriteString(project.CustomerX509CRLs)
	return out.Bytes(), nil
}

// currentCRL returns the DER of a CRL of ca that covers every revocation
// that ca (as read) counts and is fresh at now, signing one if the stored
// one is not. Concurrent callers for the same CA share one signature; a
// caller that joined a signature begun before the revocations it must see
// (its ca counts more) signs again.
func (a *App) currentCRL(ctx context.Context, ca atlasx509.ProjectCA, now time.Time) ([]byte, error) {
	key := ca.GroupID + "|" + strconv.Itoa(ca.Generation)
	for attempt := 0; ; attempt++ {
		stored, err := a.storedCRL(ctx, ca)
		if err != nil {
			return nil, err
		}
		if a.crlFresh(stored, ca, now) {
			return stored.DER, nil
		}
		if attempt == crlAttempts {
			rec, err := a.signCRL(ctx, ca, now)
			return rec.DER, err
		}
		v, err, _ := a.crlFlight.Do(key, func() (any, error) {
			return a.signCRL(context.WithoutCancel(ctx), ca, now)
		})
		if err != nil {
			return nil, err
		}
		if rec := v.(atlasx509.CRL); a.crlFresh(rec, ca, now) {
			return rec.DER, nil
		}
	}
}

// crlAttempts bounds the shared signatures a CRL read waits for before it
// signs one of its own.
const crlAttempts = 3

// storedCRL returns the CRL stored for ca, or a zero CRL when none is.
func (a *App) storedCRL(ctx context.Context, ca atlasx509.ProjectCA) (atlasx509.CRL, error) {
	var stored atlasx509.CRL
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		stored, err = tx.GetCRL(ctx, ca.GroupID, ca.Generation)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return atlasx509.CRL{}, nil
	}
	return stored, err
}

// crlFresh reports whether c covers ca.RevocationSeq and less than half its
// validity (and of the configured one) has passed at now.
func (a *App) crlFresh(c atlasx509.CRL, ca atlasx509.ProjectCA, now time.Time) bool {
	if len(c.DER) == 0 {
		return false
	}
	half := min(a.crlValidity, c.NextUpdate.Sub(c.ThisUpdate)) / 2
	return c.RevocationSeq >= ca.RevocationSeq && now.Before(c.ThisUpdate.Add(half))
}

// signCRL signs a CRL of ca now and stores it (unless a newer one was
// stored meanwhile). Its number is allocated in a write transaction of its
// own, which also reads the CA's revocation sequence; the revoked
// certificates are read after it commits, so they include at least every
// revocation that sequence counts.
func (a *App) signCRL(ctx context.Context, ca atlasx509.ProjectCA, now time.Time) (atlasx509.CRL, error) {
	var number, seq int64
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		number, seq, err = tx.AllocateCRLNumber(ctx, ca.GroupID, ca.Generation)
		return err
	})
	if err != nil {
		return atlasx509.CRL{}, fmt.Errorf("allocate CRL number: %w", err)
	}
	return a.signNumberedCRL(ctx, ca, number, seq, now)
}

// signNumberedCRL signs and stores the CRL of ca numbered number, which
// covers the revocation sequence seq read when the number was allocated.
func (a *App) signNumberedCRL(ctx context.Context, ca atlasx509.ProjectCA, number, seq int64, now time.Time) (atlasx509.CRL, error) {
	var revoked []atlasx509.Certificate
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		revoked, err = tx.ListRevokedCertificates(ctx, ca.GroupID, ca.Generation, now)
		return err
	})
	if err != nil {
		return atlasx509.CRL{}, fmt.Errorf("list revoked certificates: %w", err)
	}
	thisUpdate := now.Add(-min(CRLBackdate, a.crlValidity/4)).Truncate(time.Second)
	entries := make([]pki.RevokedCert, 0, len(revoked))
	for _, c := range revoked {
		// A CRL never says a revocation happened after the CRL itself
		// (thisUpdate is backdated, and another replica's clock may be
		// ahead): such a revocation is dated thisUpdate, a little early.
		at := c.RevokedAt.Truncate(time.Second)
		if at.After(thisUpdate) {
			at = thisUpdate
		}
		entries = append(entries, pki.RevokedCert{Serial: c.Serial, RevokedAt: at, Reason: c.RevocationReason})
	}
	signer, err := a.unsealCA(ca)
	if err != nil {
		return atlasx509.CRL{}, err
	}
	rec := atlasx509.CRL{GroupID: ca.GroupID, Generation: ca.Generation, Number: number,
		ThisUpdate: thisUpdate, NextUpdate: thisUpdate.Add(a.crlValidity), RevocationSeq: seq}
	rec.DER, err = signer.SignCRL(pki.CRLRequest{Number: big.NewInt(number), ThisUpdate: rec.ThisUpdate,
		NextUpdate: rec.NextUpdate, Entries: entries}, a.rand)
	if err != nil {
		return atlasx509.CRL{}, err
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.SaveCRL(ctx, rec)
		return err
	})
	if err != nil {
		return atlasx509.CRL{}, fmt.Errorf("save CRL: %w", err)
	}
	return rec, nil
}
