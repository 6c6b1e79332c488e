package sqlite

import "context"

// UpdateSetting implements store.Tx.
func (t *tx) UpdateSetting(ctx context.Context, name string, value []byte) error {
	return t.execOne(ctx, "update setting",
		`UPDATE settings SET value = ? WHERE name = ?`, blobArg(value), name)
}

// UpdateProjectCASealedKey implements store.Tx.
func (t *tx) UpdateProjectCASealedKey(ctx context.Context, groupID string, generation int, sealedKey []byte) error {
	return t.execOne(ctx, "update project CA sealed key",
		`UPDATE project_cas SET sealed_key = ? WHERE group_id = ? AND generation = ?`,
		blobArg(sealedKey), groupID, generation)
}

// UpdateAPIKeySealedHA1 implements store.Tx.
func (t *tx) UpdateAPIKeySealedHA1(ctx context.Context, id string, sealedMD5, sealedSHA256 []byte) error {
	return t.execOne(ctx, "update API key sealed HA1",
		`UPDATE api_keys SET sealed_ha1_md5 = ?, sealed_ha1_sha256 = ? WHERE id = ?`,
		blobArg(sealedMD5), blobArg(sealedSHA256), id)
}

// UpdateOutboxMessageSealedSecret implements store.Tx.
func (t *tx) UpdateOutboxMessageSealedSecret(ctx context.Context, id string, sealed []byte) error {
	return t.execOne(ctx, "update outbox message sealed secret",
		`UPDATE alert_outbox SET sealed_secret = ? WHERE id = ?`, blobArg(sealed), id)
}
