package postgres

import (
	"context"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// ListAllProjectCAs implements store.Tx.
func (t *tx) ListAllProjectCAs(ctx context.Context, page store.Page) ([]atlasx509.ProjectCA, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list all project CAs", func(r scanner) (atlasx509.ProjectCA, error) {
		var ca atlasx509.ProjectCA
		err := r.Scan(&ca.GroupID, &ca.Generation, &ca.CertDER, &ca.SealedKey,
			&ca.NotBefore, &ca.NotAfter, &ca.Created, &ca.RevocationSeq, &ca.CRLNumber)
		ca.CertDER, ca.SealedKey = bytea(ca.CertDER), bytea(ca.SealedKey)
		return ca, err
	}, `SELECT group_id, generation, cert_der, sealed_key, not_before, not_after, created,
			revocation_seq, crl_number
		FROM project_cas ORDER BY group_id, generation LIMIT $1 OFFSET $2`, limit, offset)
}

// ListAllAPIKeys implements store.Tx.
func (t *tx) ListAllAPIKeys(ctx context.Context, page store.Page) ([]atlasx509.APIKey, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list all API keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
}

// ListAllOutboxMessages implements store.Tx.
func (t *tx) ListAllOutboxMessages(ctx context.Context, page store.Page) ([]atlasx509.OutboxMessage, error) {
	limit, offset, err := limitOffset(page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, "list all outbox messages", scanOutbox,
		`SELECT `+outboxColumns+` FROM alert_outbox ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
}
