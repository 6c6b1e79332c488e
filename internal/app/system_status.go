package app

import (
	"context"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// SystemStatus is what Atlas's getSystemStatus (GET /api/atlas/v2) tells a
// caller about itself: for an API key, the key with its roles and access
// list. Terraform's mongodbatlas_roles_org_id reads the organization from
// those roles.
type SystemStatus struct {
	// Key is set when the caller is an API key; Atlas documents the field
	// for API keys only, so a service account gets none.
	Key *APIKeyDetails
}

// GetSystemStatus answers Atlas getSystemStatus for the caller; every
// authenticated caller may ask.
func (a *App) GetSystemStatus(ctx context.Context, p atlasx509.Principal) (SystemStatus, error) {
	if p.Kind != atlasx509.PrincipalAPIKey {
		return SystemStatus{}, nil
	}
	var d APIKeyDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.GetAPIKey(ctx, p.ID)
		if err != nil {
			return err
		}
		d, err = keyDetails(ctx, tx, k, "")
		return err
	})
	if err != nil {
		return SystemStatus{}, internal("get system status", err)
	}
	return SystemStatus{Key: &d}, nil
}
