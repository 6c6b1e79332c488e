package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// DeleteDatabaseUser implements store.Tx. The user goes first, so that an
// unknown user revokes nothing; then its unexpired certificates are
// revoked, its expired records deleted and the others detached from it.
func (t *tx) DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string, revokeAt time.Time) error {
	if err := t.execOne(ctx, "delete database user",
		`DELETE FROM database_users WHERE group_id = ? AND username = ? AND database_name = ?`,
		groupID, username, databaseName); err != nil {
		return err
	}
	return t.retireCertificates(ctx, "delete database user", revokeAt,
		`group_id = ? AND username = ?`, groupID, username)
}

// DeleteExpiredDatabaseUsers implements store.Tx: it deletes the users
// whose DeleteAfterDate is not NULL and not after cutoff, as
// DeleteDatabaseUser does.
func (t *tx) DeleteExpiredDatabaseUsers(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "delete expired database users"
	if err := t.retireCertificates(ctx, op, cutoff, `(group_id, username) IN
		(SELECT group_id, username FROM database_users WHERE delete_after_date <= ?)`, timeArg(cutoff)); err != nil {
		return 0, err
	}
	return t.execCount(ctx, op,
		`DELETE FROM database_users WHERE delete_after_date <= ?`, timeArg(cutoff))
}

// ListExpiredDatabaseUsers implements store.Tx.
func (t *tx) ListExpiredDatabaseUsers(ctx context.Context, cutoff time.Time) ([]atlasx509.DatabaseUser, error) {
	return list(ctx, t, "list expired database users", scanUser,
		`SELECT `+userColumns+` FROM database_users WHERE delete_after_date <= ?
		ORDER BY group_id, username`, timeArg(cutoff))
}

// retireCertificates handles the certificate records of the users that
// cond selects, which are being deleted: unexpired ones are revoked at at
// (cessationOfOperation), expired ones deleted, and all are marked as
// belonging to a deleted user.
func (t *tx) retireCertificates(ctx context.Context, op string, at time.Time, cond string, args ...any) error {
	if _, err := t.revoke(ctx, op, at, store.ReasonCessationOfOperation, cond, args...); err != nil {
		return err
	}
	if _, err := t.exec(ctx, op+" expired certificates",
		`DELETE FROM certificates WHERE not_after <= ? AND `+cond, append([]any{timeArg(at)}, args...)...); err != nil {
		return err
	}
	_, err := t.exec(ctx, op+" certificates",
		`UPDATE certificates SET user_deleted = 1 WHERE user_deleted = 0 AND `+cond, args...)
	return err
}

// revoke revokes, at at with reason, the certificates that cond selects
// among those of existing users, unexpired at at and not revoked, and
// increments the revocation sequence of their CAs.
func (t *tx) revoke(ctx context.Context, op string, at time.Time, reason int, cond string, args ...any) (int, error) {
	type ca struct {
		groupID    string
		generation int
	}
	revoked, err := list(ctx, t, op, func(r scanner) (ca, error) {
		var c ca
		err := r.Scan(&c.groupID, &c.generation)
		return c, err
	}, `UPDATE certificates SET revoked_at = ?, revocation_reason = ?
		WHERE revoked_at IS NULL AND user_deleted = 0 AND not_after > ? AND `+cond+`
		RETURNING group_id, ca_generation`,
		append([]any{timeArg(at), reason, timeArg(at)}, args...)...)
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
			`UPDATE project_cas SET revocation_seq = revocation_seq + 1 WHERE group_id = ? AND generation = ?`,
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
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ca.GroupID, ca.Generation, blobArg(ca.CertDER), blobArg(ca.SealedKey),
		timeArg(ca.NotBefore), timeArg(ca.NotAfter), timeArg(ca.Created))
	return err
}

// ListProjectCAs implements store.Tx.
func (t *tx) ListProjectCAs(ctx context.Context, groupID string) ([]atlasx509.ProjectCA, error) {
	return list(ctx, t, "list project CAs", func(r scanner) (atlasx509.ProjectCA, error) {
		var ca atlasx509.ProjectCA
		err := r.Scan(&ca.GroupID, &ca.Generation, blobScan{&ca.CertDER}, blobScan{&ca.SealedKey},
			timeScan{&ca.NotBefore}, timeScan{&ca.NotAfter}, timeScan{&ca.Created},
			&ca.RevocationSeq, &ca.CRLNumber)
		return ca, err
	}, `SELECT group_id, generation, cert_der, sealed_key, not_before, not_after, created,
			revocation_seq, crl_number
		FROM project_cas WHERE group_id = ? ORDER BY generation DESC`, groupID)
}

// IssuanceState implements store.Tx: the project, its user and its newest
// CA, in one statement.
func (t *tx) IssuanceState(ctx context.Context, groupID, username string) (store.IssuanceState, error) {
	return get(ctx, t, "read issuance state", func(r scanner) (store.IssuanceState, error) {
		var st store.IssuanceState
		var x509Type sql.NullString
		var gen sql.NullInt64
		var certDER, sealedKey []byte
		var notBefore, notAfter, created sql.NullString
		var seq, crl, bound sql.NullInt64
		err := r.Scan(&st.OrgID, &st.CustomerX509CAs, &st.LeafKeyType, &x509Type,
			&gen, &certDER, &sealedKey, &notBefore, &notAfter, &created, &seq, &crl, &st.AuthGeneration, &bound)
		if err != nil {
			return st, err
		}
		st.UserFound, st.UserX509Type, st.CertificateBound = x509Type.Valid, x509Type.String, int(bound.Int64)
		if gen.Valid {
			ca := atlasx509.ProjectCA{GroupID: groupID, Generation: int(gen.Int64), CertDER: certDER, SealedKey: sealedKey,
				RevocationSeq: seq.Int64, CRLNumber: crl.Int64}
			for _, f := range []struct {
				dst *time.Time
				src sql.NullString
			}{{&ca.NotBefore, notBefore}, {&ca.NotAfter, notAfter}, {&ca.Created, created}} {
				if *f.dst, err = parseTime(f.src.String); err != nil {
					return st, err
				}
			}
			st.CA = ca
		}
		return st, nil
	}, `SELECT p.org_id, p.customer_x509_cas, p.leaf_key_type, u.x509_type,
			ca.generation, ca.cert_der, ca.sealed_key, ca.not_before, ca.not_after, ca.created,
			ca.revocation_seq, ca.crl_number, (SELECT n FROM auth_generation WHERE id = 1), u.certs_bound
		FROM projects p
		LEFT JOIN database_users u ON u.group_id = p.id AND u.username = ?
		LEFT JOIN project_cas ca ON ca.group_id = p.id
			AND ca.generation = (SELECT max(generation) FROM project_cas WHERE group_id = p.id)
		WHERE p.id = ?`, username, groupID)
}

// SetCertificateBound implements store.Tx.
func (t *tx) SetCertificateBound(ctx context.Context, groupID, username string, n int) error {
	return t.execOne(ctx, "set certificate bound",
		`UPDATE database_users SET certs_bound = ? WHERE group_id = ? AND username = ?`, n, groupID, username)
}

// InsertCertificate implements store.Tx. The user must exist: a record
// cannot be inserted for a user that is not there (an internal error).
func (t *tx) InsertCertificate(ctx context.Context, c atlasx509.Certificate) error {
	res, err := t.exec(ctx, "insert certificate",
		`INSERT INTO certificates (group_id, serial, username, subject, ca_generation,
			not_before, not_after, fingerprint_sha256, created)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM database_users WHERE group_id = ? AND username = ?)`,
		c.GroupID, c.Serial, c.Username, c.Subject, c.CAGeneration,
		timeArg(c.NotBefore), timeArg(c.NotAfter), c.FingerprintSHA256, timeArg(c.Created), c.GroupID, c.Username)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("sqlite: insert certificate: no user %q in project %s (%v)", c.Username, c.GroupID, err)
	}
	return nil
}

const certificateColumns = `group_id, username, serial, subject, ca_generation,
	not_before, not_after, fingerprint_sha256, created, revoked_at, revocation_reason`

func scanCertificate(r scanner) (atlasx509.Certificate, error) {
	var c atlasx509.Certificate
	err := r.Scan(&c.GroupID, &c.Username, &c.Serial, &c.Subject, &c.CAGeneration,
		timeScan{&c.NotBefore}, timeScan{&c.NotAfter}, &c.FingerprintSHA256, timeScan{&c.Created},
		nullTimeScan{&c.RevokedAt}, &c.RevocationReason)
	return c, err
}

// certificateWhere is the WHERE clause of a store.CertificateFilter; its
// arguments are those certificateArgs returns.
const certificateWhere = `WHERE group_id = ? AND username = ? AND user_deleted = 0 AND not_after > ?
	AND (? OR revoked_at IS NULL)`

func certificateArgs(f store.CertificateFilter) []any {
	return []any{f.GroupID, f.Username, timeArg(f.ValidAt), boolArg(f.IncludeRevoked)}
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
		ORDER BY created, serial LIMIT ? OFFSET ?`,
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
		return t.revoke(ctx, op, r.At, r.Reason, `group_id = ? AND username = ?`, r.GroupID, r.Username)
	}
	n, err := t.count(ctx, op, `SELECT count(*) FROM certificates
		WHERE group_id = ? AND username = ? AND serial = ? AND user_deleted = 0 AND not_after > ?`,
		r.GroupID, r.Username, r.Serial, timeArg(r.At))
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return t.revoke(ctx, op, r.At, r.Reason, `group_id = ? AND username = ? AND serial = ?`,
		r.GroupID, r.Username, r.Serial)
}

// DeleteDeletedUsersCertificates implements store.Tx.
func (t *tx) DeleteDeletedUsersCertificates(ctx context.Context, expiredAt time.Time) (int, error) {
	return t.execCount(ctx, "delete deleted users' certificates",
		`DELETE FROM certificates WHERE user_deleted = 1 AND not_after <= ?`, timeArg(expiredAt))
}

// ListRevokedCertificates implements store.Tx.
func (t *tx) ListRevokedCertificates(ctx context.Context, groupID string, generation int, validAt time.Time) ([]atlasx509.Certificate, error) {
	return list(ctx, t, "list revoked certificates", scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates
		WHERE group_id = ? AND ca_generation = ? AND revoked_at IS NOT NULL AND not_after > ?
		ORDER BY serial`, groupID, generation, timeArg(validAt))
}

// CountUnexpiredCertificatesByGeneration implements store.Tx.
func (t *tx) CountUnexpiredCertificatesByGeneration(ctx context.Context, groupID string, at time.Time) (map[int]int, error) {
	type row struct{ generation, n int }
	rows, err := list(ctx, t, "count unexpired certificates by generation", func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.generation, &x.n)
		return x, err
	}, `SELECT ca_generation, count(*) FROM certificates
		WHERE group_id = ? AND revoked_at IS NULL AND not_after > ?
		GROUP BY ca_generation`, groupID, timeArg(at))
	if err != nil {
		return nil, err
	}
	out := make(map[int]int, len(rows))
	for _, x := range rows {
		out[x.generation] = x.n
	}
	return out, nil
}

// AllocateCRLNumber implements store.Tx. SQLite has one writer at a time,
// so the increment cannot be lost or repeated.
func (t *tx) AllocateCRLNumber(ctx context.Context, groupID string, generation int) (int64, int64, error) {
	type pair struct{ number, seq int64 }
	p, err := get(ctx, t, "allocate CRL number", func(r scanner) (pair, error) {
		var p pair
		err := r.Scan(&p.number, &p.seq)
		return p, err
	}, `UPDATE project_cas SET crl_number = crl_number + 1 WHERE group_id = ? AND generation = ?
		RETURNING crl_number, revocation_seq`, groupID, generation)
	return p.number, p.seq, err
}

// GetCRL implements store.Tx.
func (t *tx) GetCRL(ctx context.Context, groupID string, generation int) (atlasx509.CRL, error) {
	return get(ctx, t, "get CRL", func(r scanner) (atlasx509.CRL, error) {
		var c atlasx509.CRL
		err := r.Scan(&c.GroupID, &c.Generation, &c.Number, timeScan{&c.ThisUpdate}, timeScan{&c.NextUpdate},
			&c.RevocationSeq, blobScan{&c.DER})
		return c, err
	}, `SELECT group_id, generation, number, this_update, next_update, revocation_seq, der
		FROM crls WHERE group_id = ? AND generation = ?`, groupID, generation)
}

// SaveCRL implements store.Tx.
func (t *tx) SaveCRL(ctx context.Context, c atlasx509.CRL) (bool, error) {
	n, err := t.execCount(ctx, "save CRL",
		`INSERT INTO crls (group_id, generation, number, this_update, next_update, revocation_seq, der)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (group_id, generation) DO UPDATE SET number = excluded.number,
			this_update = excluded.this_update, next_update = excluded.next_update,
			revocation_seq = excluded.revocation_seq, der = excluded.der
		WHERE excluded.number > crls.number`,
		c.GroupID, c.Generation, c.Number, timeArg(c.ThisUpdate), timeArg(c.NextUpdate),
		c.RevocationSeq, blobArg(c.DER))
	return n > 0, err
}
