package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

const (
	// DefaultCertMonths is Atlas's default monthsUntilExpiration.
	DefaultCertMonths = 3
	// MaxCertMonths is Atlas's maximum monthsUntilExpiration.
	MaxCertMonths = 24
	// MaxUnexpiredCerts bounds the unexpired certificates of one user
	// (ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED). Atlas does not publish its own
	// figure; this one keeps the list answer and the table bounded.
	MaxUnexpiredCerts = 1000
	// issueAttempts bounds the retries of an issuance whose transaction lost
	// a race (two first CAs, a serial collision).
	issueAttempts = 4
)

// errRetry makes an issuance transaction start over.
var errRetry = errors.New("retry issuance")

// errCARotated makes an issuance sign again: a new CA generation committed
// after the certificate was signed by the one before.
var errCARotated = errors.New("a new CA generation signs from now on")

// ErrCredentialsChanged is what a use case answers an unconfirmed principal
// (Principal.UnconfirmedGeneration) when the credentials generation has
// moved since the principal was read: nothing was done; confirm the
// principal (Confirm) and ask again.
var ErrCredentialsChanged = errors.New("credentials changed since the principal was read; confirm it and retry")

// CreateDatabaseUserCertificate issues a managed X.509 certificate for a
// database user whose x509Type is MANAGED (Atlas createDatabaseUserCertificate)
// and returns the certificate PEM followed by its unencrypted PKCS#8 private
// key PEM. The record of the certificate is committed before this returns;
// the private key is never stored. months nil means the default, 3.
func (a *App) CreateDatabaseUserCertificate(ctx context.Context, p atlasx509.Principal, groupID, username string, months *int) ([]byte, error) {
	// An unconfirmed principal is checked as it was read, and confirmed by
	// finding the credentials generation unchanged: in the read
	// transaction below if there is one, and in the write transaction. It
	// is refused nothing unconfirmed: a credential revoked meanwhile is
	// answered 401, whatever else is wrong with the request.
	confirmAt := p.UnconfirmedGeneration
	p.UnconfirmedGeneration = 0
	refuse := func(err error) ([]byte, error) {
		if confirmAt != 0 {
			return nil, ErrCredentialsChanged
		}
		return nil, err
	}
	if !atlasx509.ValidID(groupID) {
		return refuse(errInvalidGroupID(groupID))
	}
	// The state the last issuance of this user committed with is tried
	// first; a leaf key type changed since asks for one more try without it.
	for attempt := 0; ; attempt++ {
		out, err := a.issue(ctx, p, confirmAt, refuse, groupID, username, months, attempt == 0)
		if errors.Is(err, errKeyTypeChanged) && attempt < issueAttempts-1 {
			continue
		}
		if errors.Is(err, ErrCredentialsChanged) {
			return nil, err
		}
		if err != nil {
			return nil, userStoreError("issue certificate", err)
		}
		return out, nil
	}
}

// errKeyTypeChanged makes an issuance start over: the project's leaf key
// type changed since the key was made.
var errKeyTypeChanged = errors.New("the project's leaf key type changed")

// issue is one try of CreateDatabaseUserCertificate, whose comments say
// what confirmAt and refuse are; useCache lets it check first on the state
// in issuanceCache.
func (a *App) issue(ctx context.Context, p atlasx509.Principal, confirmAt int64, refuse func(error) ([]byte, error),
	groupID, username string, months *int, useCache bool) ([]byte, error) {
	// Cheap checks first, so that a request that will be refused costs no
	// key and no signature: on the state the last issuance of this user
	// committed with (issuancecache.go), or else in a read transaction.
	var (
		state  store.IssuanceState
		cached bool
	)
	if useCache {
		state, cached = a.issuance.get(groupID, username)
	}
	if !cached || checkIssuanceState(p, groupID, username, state, nil) != nil {
		err := a.store.View(ctx, func(tx store.Tx) error {
			var err error
			state, err = tx.IssuanceState(ctx, groupID, username)
			if confirmAt != 0 && err == nil && state.AuthGeneration != confirmAt {
				return ErrCredentialsChanged
			}
			return checkIssuanceState(p, groupID, username, state, err)
		})
		if err != nil {
			return nil, err
		}
	}
	keyType := leafKeyType(atlasx509.Project{LeafKeyType: state.LeafKeyType})
	var cas []atlasx509.ProjectCA
	if state.CA.Generation > 0 {
		cas = []atlasx509.ProjectCA{state.CA}
	}
	n := DefaultCertMonths
	if months != nil {
		n = *months
	}
	switch {
	case n <= 0:
		return refuse(errAttributeNegativeOrZero("monthsUntilExpiration"))
	case n > MaxCertMonths:
		return refuse(errCertExpiryExceedsTwoYears())
	}

	issued := a.now().UTC()
	// Certificate times are whole seconds (X.509 UTCTime); the record's
	// creation time keeps full precision so that lists keep issue order.
	now := issued.Truncate(time.Second)
	notAfter := pki.AddMonths(now, n)
	if confirmAt != 0 && (len(cas) == 0 || cas[0].NotAfter.Before(notAfter)) {
		// caFor would write a new CA generation: not for an unconfirmed
		// principal.
		return nil, ErrCredentialsChanged
	}
	key, err := a.keys.NewKey(ctx, keyType)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, internal("leaf key", err)
	}
	ca, gen, err := a.caFor(ctx, groupID, cas, now, notAfter)
	if err != nil {
		return nil, err
	}
	var der []byte
	for attempt := 0; ; attempt++ {
		// Signed outside any transaction, so that the one writer is held
		// only for the checks and the insert; a certificate whose record
		// does not commit is never answered.
		var serial int64
		if serial, err = pki.RandomSerial(a.rand); err != nil {
			return nil, internal("serial", err)
		}
		if der, err = ca.IssueLeaf(pki.LeafRequest{Username: username, Months: n, Now: now, Serial: serial, Key: key}, a.rand); err != nil {
			return nil, internal("sign", err)
		}
		sum := sha256.Sum256(der)
		rec := atlasx509.Certificate{
			GroupID: groupID, Username: username, Serial: serial, Subject: pki.SubjectDN(username),
			CAGeneration: gen, NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
			FingerprintSHA256: hex.EncodeToString(sum[:]), Created: issued,
		}
		var committed store.IssuanceState
		committed, err = a.record(ctx, p, confirmAt, keyType, rec)
		if err == nil {
			a.issuance.put(groupID, username, committed)
		} else {
			a.issuance.drop(groupID, username)
		}
		if errors.Is(err, errCARotated) && confirmAt != 0 {
			// The newest generation may need creating: not for an
			// unconfirmed principal.
			err = ErrCredentialsChanged
			break
		}
		if errors.Is(err, errCARotated) && attempt < issueAttempts-1 {
			// Rotated meanwhile: the newest generation signs it.
			if ca, gen, err = a.caFor(ctx, groupID, nil, now, notAfter); err != nil {
				break
			}
			continue
		}
		if !errors.Is(err, errRetry) || attempt == issueAttempts-1 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if a.onIssued != nil {
		a.onIssued(keyType)
	}
	return pki.EncodeCertAndKeyPEM(der, key)
}

// record runs the write transaction of an issuance: it re-checks the
// project, the mode and the user (a deletion that committed meanwhile wins,
// and the signed certificate is thrown away), checks that the CA that
// signed it is still the newest generation (a rotation that committed
// meanwhile asks for a new signature, so that no certificate recorded after
// a rotation is signed by an older CA), applies the per-user limit and
// inserts the record. A serial collision asks for a new serial. p was read
// at credentials generation confirmAt unless that is 0: then a generation
// moved since refuses with ErrCredentialsChanged. It returns the state the
// transaction read.
func (a *App) record(ctx context.Context, p atlasx509.Principal, confirmAt int64, keyType pki.KeyType, rec atlasx509.Certificate) (store.IssuanceState, error) {
	var state store.IssuanceState
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		state, err = tx.IssuanceState(ctx, rec.GroupID, rec.Username)
		if confirmAt != 0 && err == nil && state.AuthGeneration != confirmAt {
			return ErrCredentialsChanged
		}
		if err := checkIssuanceState(p, rec.GroupID, rec.Username, state, err); err != nil {
			return err
		}
		if state.CA.Generation != rec.CAGeneration {
			return errCARotated
		}
		if leafKeyType(atlasx509.Project{LeafKeyType: state.LeafKeyType}) != keyType {
			return errKeyTypeChanged
		}
		// Revoked certificates count until they expire: they stay in the
		// CRL and in the list with includeRevoked, which the limit bounds.
		// The store keeps a bound of the count; only at the limit is the
		// count read (up to MaxUnexpiredCerts index entries) and the bound
		// lowered to it.
		if state.CertificateBound >= MaxUnexpiredCerts {
			count, err := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: rec.GroupID, Username: rec.Username,
				ValidAt: rec.Created, IncludeRevoked: true})
			if err != nil {
				return err
			}
			if count >= MaxUnexpiredCerts {
				return errGeneratedCertsLimitExceeded()
			}
			if err := tx.SetCertificateBound(ctx, rec.GroupID, rec.Username, count); err != nil {
				return err
			}
		}
		if err := tx.InsertCertificate(ctx, rec); errors.Is(err, store.ErrConflict) {
			return errRetry
		} else if err != nil {
			return err
		}
		// As recorded from Atlas, the event names neither the user nor the
		// certificate; raw has them.
		ev := groupEvent(p, EventX509CertCreated, rec.GroupID)
		ev.Details = map[string]string{"username": rec.Username, "serial": strconv.FormatInt(rec.Serial, 10),
			"notAfter": rec.NotAfter.UTC().Format(time.RFC3339), "caGeneration": strconv.Itoa(rec.CAGeneration)}
		return a.recordEvent(ctx, tx, ev)
	})
	return state, err
}

// checkIssuanceState applies to state (read by Tx.IssuanceState with error
// err) the checks of an issuance by p that depend on nothing else: the
// project exists for p, p may issue certificates in it, its X.509 is
// managed, and the user exists with its certificates managed by Atlas. The
// certificate limit and the CA generation are left to the caller.
func checkIssuanceState(p atlasx509.Principal, groupID, username string, state store.IssuanceState, err error) error {
	if err := projectAccess(p, authz.CertificateCreate, groupID, state.OrgID, err); err != nil {
		return err
	}
	switch {
	case state.CustomerX509CAs != "":
		return advancedX509()
	case !state.UserFound:
		return errUsernameNotFound(username)
	case state.UserX509Type != atlasx509.X509Managed:
		return errUserNotManagedX509()
	}
	return nil
}

// caFor returns the project's CA that can sign a certificate valid until
// notAfter: the newest of cas (read in the issuance's read transaction, or
// nil to read them here) when it lasts long enough, otherwise the first CA
// or a new generation, created in a write transaction. Only the newest
// generation ever signs. Two issuances racing to create the same
// generation collide on its key; the loser reads the winner's.
func (a *App) caFor(ctx context.Context, groupID string, cas []atlasx509.ProjectCA, now, notAfter time.Time) (*pki.CA, int, error) {
	if len(cas) > 0 && !cas[0].NotAfter.Before(notAfter) {
		ca, err := a.unsealCA(cas[0])
		return ca, cas[0].Generation, err
	}
	var chosen atlasx509.ProjectCA
	for attempt := 0; attempt < issueAttempts; attempt++ {
		err := a.store.Update(ctx, func(tx store.Tx) error {
			current, err := tx.ListProjectCAs(ctx, groupID)
			if err != nil {
				return err
			}
			if len(current) > 0 && !current[0].NotAfter.Before(notAfter) {
				chosen = current[0] // created meanwhile
				return nil
			}
			gen := 1
			if len(current) > 0 {
				gen = current[0].Generation + 1
			}
			if chosen, err = a.newCA(groupID, gen, now); err != nil {
				return err
			}
			if err := tx.InsertProjectCA(ctx, chosen); errors.Is(err, store.ErrConflict) {
				return errRetry
			} else if err != nil {
				return err
			}
			return nil
		})
		if errors.Is(err, errRetry) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		ca, err := a.unsealCA(chosen)
		return ca, chosen.Generation, err
	}
	return nil, 0, fmt.Errorf("CA of %s: lost the creation race %d times", groupID, issueAttempts)
}

func (a *App) newCA(groupID string, gen int, now time.Time) (atlasx509.ProjectCA, error) {
	certDER, keyDER, err := pki.NewCA(groupID, now, a.rand)
	if err != nil {
		return atlasx509.ProjectCA{}, fmt.Errorf("new CA: %w", err)
	}
	sealed, err := a.keyring.Seal(keyDER, caAAD(groupID, gen))
	clear(keyDER)
	if err != nil {
		return atlasx509.ProjectCA{}, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return atlasx509.ProjectCA{}, err
	}
	return atlasx509.ProjectCA{GroupID: groupID, Generation: gen, CertDER: certDER, SealedKey: sealed,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, Created: now}, nil
}

func caAAD(groupID string, gen int) []byte {
	return []byte("ca|" + groupID + "|" + strconv.Itoa(gen))
}

// unsealCA returns the CA as a signer, unsealing its key only the first time.
func (a *App) unsealCA(rec atlasx509.ProjectCA) (*pki.CA, error) {
	k := caKey{rec.GroupID, rec.Generation}
	a.caMu.Lock()
	ca, ok := a.caCache[k]
	a.caMu.Unlock()
	if ok && bytes.Equal(ca.Cert.Raw, rec.CertDER) {
		return ca, nil
	}
	keyDER, err := a.keyring.Open(rec.SealedKey, caAAD(rec.GroupID, rec.Generation))
	if err != nil {
		return nil, fmt.Errorf("unseal CA of %s: %w", rec.GroupID, err)
	}
	ca, err = pki.ParseCA(rec.CertDER, keyDER)
	clear(keyDER)
	if err != nil {
		return nil, err
	}
	a.caMu.Lock()
	a.caCache[k] = ca
	a.caMu.Unlock()
	return ca, nil
}

func (a *App) forgetCAs(groupID string) {
	a.caMu.Lock()
	defer a.caMu.Unlock()
	for k := range a.caCache {
		if k.groupID == groupID {
			delete(a.caCache, k)
		}
	}
}

// ListDatabaseUserCertificates lists a user's certificates that are neither
// expired nor revoked (Atlas listDatabaseUserCertificates); includeRevoked
// (an extension) lists the revoked unexpired ones too.
func (a *App) ListDatabaseUserCertificates(ctx context.Context, p atlasx509.Principal, groupID, username string, opts ListOptions, includeRevoked bool) ([]atlasx509.Certificate, int, error) {
	var certs []atlasx509.Certificate
	var total int
	now := a.now().UTC()
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		if _, err := tx.FindDatabaseUser(ctx, groupID, username); errors.Is(err, store.ErrNotFound) {
			return errUsernameNotFound(username)
		} else if err != nil {
			return err
		}
		f := store.CertificateFilter{GroupID: groupID, Username: username, ValidAt: now, IncludeRevoked: includeRevoked}
		var err error
		if certs, err = tx.ListCertificates(ctx, f, opts.page()); err != nil {
			return err
		}
		total, err = tx.CountCertificates(ctx, f)
		return err
	})
	return certs, total, userStoreError("list certificates", err)
}

// ProjectCAPEM returns the PEM of the CA certificates of the project's
// managed X.509 that listedCAs keeps, newest first, followed by the CAs of
// self-managed X.509 when set: what a mongod must trust (net.tls.CAFile) to
// accept the project's client certificates. A read never creates a CA: the
// project got its first when it was created.
func (a *App) ProjectCAPEM(ctx context.Context, p atlasx509.Principal, groupID string) ([]byte, error) {
	project, cas, err := a.projectCAs(ctx, p, groupID, a.now().UTC())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, ca := range cas {
		out.Write(pki.CertPEM(ca.CertDER))
	}
	// The CAs of self-managed X.509, validated and re-encoded when they were set.
	out.WriteString(project.CustomerX509CAs)
	return out.Bytes(), nil
}
