package postgres

import "context"

// UpdateSetting implements store.Tx.
func (t *tx) UpdateSetting(ctx context.Context, name string, value []byte) error {
	return t.execOne(ctx, "update setting",
		`UPDATE settings SET value = $1 WHERE name = $2`, bytea(value), name)
}

// UpdateProjectCASealedKey implements store.Tx.
func (t *tx) UpdateProjectCASealedKey(ctx context.Context, groupID string, generation int, sealedKey []byte) error {
	return t.execOne(ctx, "update project CA sealed key",
		`UPDATE project_cas SET sealed_key = $1 WHERE group_id = $2 AND generation = $3`,
		bytea(sealedKey), groupID, generation)
}

// UpdateAPIKeySealedHA1 implements store.Tx.
func (t *tx) UpdateAPIKeySealedHA1(ctx context.Context, id string, sealedMD5, sealedSHA256 []byte) error {
	return t.execOne(ctx, "update API key sealed HA1",
		`UPDATE api_keys SET sealed_ha1_md5 = $1, sealed_ha1_sha256 = $2 WHERE id = $3`,
		bytea(sealedMD5), bytea(sealedSHA256), id)
}

// UpdateOutboxMessageSealedSecret implements store.Tx.
func (t *tx) UpdateOutboxMessageSealedSecret(ctx context.Context, id string, sealed []byte) error {
	return t.execOne(ctx, "update outbox message sealed secret",
		`UPDATE alert_outbox SET sealed_secret = $1 WHERE id = $2`, bytea(sealed), id)
}
