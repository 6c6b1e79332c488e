package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// DeleteDatabaseUser implements store.Tx. The user goes first, so that an
// unknown user revokes nothing; then its unexpired certificates are
// revoked, its expired records deleted and the others detached from it.
func (t *tx) DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string, revokeAt time.Time) error {
	if err := t.execOne(ctx, "delete database user",
		`DELETE FROM database_users WHERE group_id = $1 AND username = $2 AND database_name = $3`,
		groupID, username, databaseName); err != nil {
		return err
	}
	return t.retireCertificates(ctx, "delete database user", revokeAt,
		`group_id = $1 AND username = $2`, groupID, username)
}

// DeleteExpiredDatabaseUsers implements store.Tx: it deletes the users
// whose DeleteAfterDate is not NULL and not after at, as DeleteDatabaseUser
// does.
func (t *tx) DeleteExpiredDatabaseUsers(ctx context.Context, at time.Time) (int, error) {
	const op = "delete expired database users"
	if err := t.retireCertificates(ctx, op, at, `(group_id, username) IN
		(SELECT group_id, username FROM database_users WHERE delete_after_date <= $1)`, ts(at)); err != nil {
		return 0, err
	}
	return t.exec(ctx, op, `DELETE FROM database_users WHERE delete_after_date <= $1`, ts(at))
}

// ListExpiredDatabaseUsers implements store.Tx.
func (t *tx) ListExpiredDatabaseUsers(ctx context.Context, at time.Time) ([]atlasx509.DatabaseUser, error) {
	return list(ctx, t, "list expired database users", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE delete_after_date <= $1
		ORDER BY group_id, username`, ts(at))
}

// placeholderRE finds the numbered placeholders of a condition.
var placeholderRE = regexp.MustCompile(`\$(\d+)`)

// shift renumbers the placeholders $1, $2, … of cond to follow k others.
func shift(cond string, k int) string {
	return placeholderRE.ReplaceAllStringFunc(cond, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+k)
	})
}

// retireCertificates handles the certificate records of the users that
// cond ($1, $2, … over args) selects, which are being deleted: unexpired
// ones are revoked at at (cessationOfOperation), expired ones deleted, and
// all are marked as belonging to a deleted user.
func (t *tx) retireCertificates(ctx context.Context, op string, at time.Time, cond string, args ...any) error {
	if _, err := t.revoke(ctx, op, at, store.ReasonCessationOfOperation, cond, args...); err != nil {
		return err
	}
	if _, err := t.exec(ctx, op+" expired certificates",
		`DELETE FROM certificates WHERE not_after <= $1 AND `+shift(cond, 1), append([]any{ts(at)}, args...)...); err != nil {
		return err
	}
	_, err := t.exec(ctx, op+" certificates",
		`UPDATE certificates SET user_deleted = true WHERE NOT user_deleted AND `+cond, args...)
	return err
}

// revoke revokes, at at with reason, the certificates that cond ($1, $2, …
// over args) selects among those of existing users, unexpired at at and not
// revoked, and increments the revocation sequence of their CAs.
func (t *tx) revoke(ctx context.Context, op string, at time.Time, reason int, cond string, args ...any) (int, error) {
	type ca struct {
		groupID    string
		generation int
	}
	revoked, err := list(ctx, t, op, func(r scanner) (ca, error) {
		var c ca
		err := r.Scan(&c.groupID, &c.generation)
		return c, err
	}, `UPDATE certificates SET revoked_at = $1, revocation_reason = $2
		WHERE revoked_at IS NULL AND NOT user_deleted AND not_after > $1 AND `+shift(cond, 2)+`
		RETURNING group_id, ca_generation`,
		append([]any{ts(at), reason}, args...)...)
	if err != nil {
		return 0, err
	}
	seen := make(map[ca]bool)
	for _, c := range revoked {
		if seen[c] {
			continue
		}
		seen[c] = true
		if err := t.execOne(ctx, op+" revocation sequence",
			`UPDATE project_cas SET revocation_seq = revocation_seq + 1 WHERE group_id = $1 AND generation = $2`,
			c.groupID, c.generation); err != nil {
			return 0, err
		}
	}
	return len(revoked), nil
}

// InsertProjectCA implements store.Tx.
func (t *tx) InsertProjectCA(ctx context.Context, ca atlasx509.ProjectCA) error {
	_, err := t.exec(ctx, "insert project CA",
		`INSERT INTO project_cas (group_id, generation, cert_der, sealed_key, not_before, not_after, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ca.GroupID, ca.Generation, bytea(ca.CertDER), bytea(ca.SealedKey),
		ts(ca.NotBefore), ts(ca.NotAfter), ts(ca.Created))
	return err
}

// ListProjectCAs implements store.Tx.
func (t *tx) ListProjectCAs(ctx context.Context, groupID string) ([]atlasx509.ProjectCA, error) {
	return list(ctx, t, "list project CAs", func(r scanner) (atlasx509.ProjectCA, error) {
		var ca atlasx509.ProjectCA
		err := r.Scan(&ca.GroupID, &ca.Generation, &ca.CertDER, &ca.SealedKey,
			&ca.NotBefore, &ca.NotAfter, &ca.Created, &ca.RevocationSeq, &ca.CRLNumber)
		ca.CertDER, ca.SealedKey = bytea(ca.CertDER), bytea(ca.SealedKey)
		return ca, err
	}, `SELECT group_id, generation, cert_der, sealed_key, not_before, not_after, created,
			revocation_seq, crl_number
		FROM project_cas WHERE group_id = $1 ORDER BY generation DESC`, groupID)
}

// IssuanceState implements store.Tx: the project, its user and its newest
// CA, in one statement.
func (t *tx) IssuanceState(ctx context.Context, groupID, username string) (store.IssuanceState, error) {
	return get(ctx, t, "read issuance state", func(r scanner) (store.IssuanceState, error) {
		var st store.IssuanceState
		var x509Type *string
		var gen *int64
		var certDER, sealedKey []byte
		var notBefore, notAfter, created *time.Time
		var seq, crl, bound *int64
		err := r.Scan(&st.OrgID, &st.CustomerX509CAs, &st.LeafKeyType, &x509Type,
			&gen, &certDER, &sealedKey, &notBefore, &notAfter, &created, &seq, &crl, &st.AuthGeneration, &bound)
		if err != nil {
			return st, err
		}
		if x509Type != nil {
			st.UserFound, st.UserX509Type = true, *x509Type
		}
		if bound != nil {
			st.CertificateBound = int(*bound)
		}
		if gen != nil {
			st.CA = atlasx509.ProjectCA{GroupID: groupID, Generation: int(*gen), CertDER: bytea(certDER), SealedKey: bytea(sealedKey),
				NotBefore: *notBefore, NotAfter: *notAfter, Created: *created, RevocationSeq: *seq, CRLNumber: *crl}
		}
		return st, nil
	}, `SELECT p.org_id, p.customer_x509_cas, p.leaf_key_type, u.x509_type,
			ca.generation, ca.cert_der, ca.sealed_key, ca.not_before, ca.not_after, ca.created,
			ca.revocation_seq, ca.crl_number, (SELECT n FROM auth_generation WHERE id = 1), u.certs_bound
		FROM projects p
		LEFT JOIN database_users u ON u.group_id = p.id AND u.username = $1
		LEFT JOIN project_cas ca ON ca.group_id = p.id
			AND ca.generation = (SELECT max(generation) FROM project_cas WHERE group_id = p.id)
		WHERE p.id = $2`, username, groupID)
}

// SetCertificateBound implements store.Tx.
func (t *tx) SetCertificateBound(ctx context.Context, groupID, username string, n int) error {
	return t.execOne(ctx, "set certificate bound",
		`UPDATE database_users SET certs_bound = $1 WHERE group_id = $2 AND username = $3`, n, groupID, username)
}

// InsertCertificate implements store.Tx. The user must exist: a record
// cannot be inserted for a user that is not there (an internal error).
func (t *tx) InsertCertificate(ctx context.Context, c atlasx509.Certificate) error {
	n, err := t.exec(ctx, "insert certificate",
		`INSERT INTO certificates (group_id, serial, username, subject, ca_generation,
			not_before, not_after, fingerprint_sha256, created)
		SELECT $1::text, $2::bigint, $3::text, $4::text, $5::bigint, $6::timestamptz, $7::timestamptz, $8::text, $9::timestamptz
		WHERE EXISTS (SELECT 1 FROM database_users WHERE group_id = $1 AND username = $3)`,
		c.GroupID, c.Serial, c.Username, c.Subject, c.CAGeneration,
		ts(c.NotBefore), ts(c.NotAfter), c.FingerprintSHA256, ts(c.Created))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("postgres: insert certificate: no user %q in project %s", c.Username, c.GroupID)
	}
	return nil
}

const certificateColumns = `group_id, username, serial, subject, ca_generation,
	not_before, not_after, fingerprint_sha256, created, revoked_at, revocation_reason`

func scanCertificate(r scanner) (atlasx509.Certificate, error) {
	var c atlasx509.Certificate
	err := r.Scan(&c.GroupID, &c.Username, &c.Serial, &c.Subject, &c.CAGeneration,
		&c.NotBefore, &c.NotAfter, &c.FingerprintSHA256, &c.Created, &c.RevokedAt, &c.RevocationReason)
	return c, err
}

// certificateWhere is the WHERE clause of a store.CertificateFilter over
// the arguments $1…$4 that certificateArgs returns.
const certificateWhere = `WHERE group_id = $1 AND username = $2 AND NOT user_deleted AND not_after > $3
	AND ($4 OR revoked_at IS NULL)`

func certificateArgs(f store.CertificateFilter) []any {
	return []any{f.GroupID, f.Username, ts(f.ValidAt), f.IncludeRevoked}
}

// ListCertificates implements store.Tx. Oldest first means by Created, then
// by serial.
func (t *tx) ListCertificates(ctx context.Context, f store.CertificateFilter, page store.Page) ([]atlasx509.Certificate, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list certificates", scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates `+certificateWhere+`
		ORDER BY created, serial LIMIT $5 OFFSET $6`,
		append(certificateArgs(f), limit, offset)...)
}

// CountCertificates implements store.Tx.
func (t *tx) CountCertificates(ctx context.Context, f store.CertificateFilter) (int, error) {
	return t.count(ctx, "count certificates",
		`SELECT count(*) FROM certificates `+certificateWhere, certificateArgs(f)...)
}

// RevokeCertificates implements store.Tx.
func (t *tx) RevokeCertificates(ctx context.Context, r store.Revocation) (int, error) {
	const op = "revoke certificates"
	if r.Serial == 0 {
		return t.revoke(ctx, op, r.At, r.Reason, `group_id = $1 AND username = $2`, r.GroupID, r.Username)
	}
	n, err := t.count(ctx, op, `SELECT count(*) FROM certificates
		WHERE group_id = $1 AND username = $2 AND serial = $3 AND NOT user_deleted AND not_after > $4`,
		r.GroupID, r.Username, r.Serial, ts(r.At))
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	return t.revoke(ctx, op, r.At, r.Reason, `group_id = $1 AND username = $2 AND serial = $3`,
		r.GroupID, r.Username, r.Serial)
}

// DeleteDeletedUsersCertificates implements store.Tx.
func (t *tx) DeleteDeletedUsersCertificates(ctx context.Context, expiredAt time.Time) (int, error) {
	return t.exec(ctx, "delete deleted users' certificates",
		`DELETE FROM certificates WHERE user_deleted AND not_after <= $1`, ts(expiredAt))
}

// ListRevokedCertificates implements store.Tx.
func (t *tx) ListRevokedCertificates(ctx context.Context, groupID string, generation int, validAt time.Time) ([]atlasx509.Certificate, error) {
	return list(ctx, t, "list revoked certificates", scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates
		WHERE group_id = $1 AND ca_generation = $2 AND revoked_at IS NOT NULL AND not_after > $3
		ORDER BY serial`, groupID, generation, ts(validAt))
}

// CountUnexpiredCertificatesByGeneration implements store.Tx.
func (t *tx) CountUnexpiredCertificatesByGeneration(ctx context.Context, groupID string, at time.Time) (map[int]int, error) {
	type row struct{ generation, n int }
	rows, err := list(ctx, t, "count unexpired certificates by generation", func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.generation, &x.n)
		return x, err
	}, `SELECT ca_generation, count(*) FROM certificates
		WHERE group_id = $1 AND revoked_at IS NULL AND not_after > $2
		GROUP BY ca_generation`, groupID, ts(at))
	if err != nil {
		return nil, err
	}
	out := make(map[int]int, len(rows))
	for _, x := range rows {
		out[x.generation] = x.n
	}
	return out, nil
}

// AllocateCRLNumber implements store.Tx. The UPDATE locks the CA's row:
// a concurrent allocation waits for this transaction and, under
// SERIALIZABLE, fails and runs again with the next number.
func (t *tx) AllocateCRLNumber(ctx context.Context, groupID string, generation int) (int64, int64, error) {
	var number, seq int64
	_, err := get(ctx, t, "allocate CRL number", func(r scanner) (struct{}, error) {
		return struct{}{}, r.Scan(&number, &seq)
	}, `UPDATE project_cas SET crl_number = crl_number + 1 WHERE group_id = $1 AND generation = $2
		RETURNING crl_number, revocation_seq`, groupID, generation)
	return number, seq, err
}

// GetCRL implements store.Tx.
func (t *tx) GetCRL(ctx context.Context, groupID string, generation int) (atlasx509.CRL, error) {
	return get(ctx, t, "get CRL", func(r scanner) (atlasx509.CRL, error) {
		var c atlasx509.CRL
		err := r.Scan(&c.GroupID, &c.Generation, &c.Number, &c.ThisUpdate, &c.NextUpdate,
			&c.RevocationSeq, &c.DER)
		c.DER = bytea(c.DER)
		return c, err
	}, `SELECT group_id, generation, number, this_update, next_update, revocation_seq, der
		FROM crls WHERE group_id = $1 AND generation = $2`, groupID, generation)
}

// SaveCRL implements store.Tx.
func (t *tx) SaveCRL(ctx context.Context, c atlasx509.CRL) (bool, error) {
	n, err := t.exec(ctx, "save CRL",
		`INSERT INTO crls (group_id, generation, number, this_update, next_update, revocation_seq, der)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (group_id, generation) DO UPDATE SET number = excluded.number,
			this_update = excluded.this_update, next_update = excluded.next_update,
			revocation_seq = excluded.revocation_seq, der = excluded.der
		WHERE excluded.number > crls.number`,
		c.GroupID, c.Generation, c.Number, ts(c.ThisUpdate), ts(c.NextUpdate),
		c.RevocationSeq, bytea(c.DER))
	return n > 0, err
}
