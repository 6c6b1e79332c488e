package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/store"
)

// ErrAlreadyInitialized is returned by Bootstrap on a store that was initialized before.
var ErrAlreadyInitialized = errors.New("the store is already initialized")

// bootstrapSecretLifetime is how long the bootstrap service account secret
// stays valid. Atlas service account secrets always expire.
const bootstrapSecretLifetime = 365 * 24 * time.Hour

// Bootstrap creates, in one transaction, the first organization and project,
// an API key and a service account that both hold ORG_OWNER, and returns
// their credentials. The secrets are returned only here. Each creation is
// recorded as an event of the server itself (no caller) in the same
// transaction, as the same creations through the API are: ORG_CREATED,
// GROUP_CREATED, API_KEY_CREATED and SERVICE_ACCOUNT_CREATED.
func (a *App) Bootstrap(ctx context.Context) (atlasapi.Bootstrap, error) {
	now := a.now().UTC()
	org := atlasx509.Organization{ID: atlasx509.NewID(now), Name: "atlasx509", Created: now}
	project := atlasx509.Project{ID: atlasx509.NewID(now), OrgID: org.ID, Name: "Project 0", Created: now, WithDefaultAlertsSettings: true}

	defaults := defaultAlertConfig(project.ID, now)
	key, privateKey, err := a.newAPIKey(org.ID, "bootstrap key", now)
	if err != nil {
		return atlasapi.Bootstrap{}, err
	}
	sa, secret, clientSecret, err := a.newServiceAccount(org.ID, "bootstrap", now, bootstrapSecretLifetime)
	if err != nil {
		return atlasapi.Bootstrap{}, err
	}
	ca, err := a.newCA(project.ID, 1, now.Truncate(time.Second))
	if err != nil {
		return atlasapi.Bootstrap{}, err
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetSetting(ctx, settingBootstrap); err == nil {
			return ErrAlreadyInitialized
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.InsertSetting(ctx, settingBootstrap, []byte(now.Format(time.RFC3339Nano))); err != nil {
			return err
		}
		if err := tx.InsertOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, project); err != nil {
			return err
		}
		if err := tx.InsertProjectCA(ctx, ca); err != nil {
			return err
		}
		if err := tx.InsertAlertConfig(ctx, defaults); err != nil {
			return err
		}
		if err := tx.InsertAPIKey(ctx, key); err != nil {
			return err
		}
		if err := tx.InsertServiceAccount(ctx, sa); err != nil {
			return err
		}
		if err := tx.InsertServiceAccountSecret(ctx, secret); err != nil {
			return err
		}
		owner := []atlasx509.Role{atlasx509.RoleOrgOwner}
		if err := setRoles(ctx, tx, atlasx509.PrincipalAPIKey, key.ID, org.ID, "", owner); err != nil {
			return err
		}
		if err := setRoles(ctx, tx, atlasx509.PrincipalServiceAccount, sa.ClientID, org.ID, "", owner); err != nil {
			return err
		}
		var server atlasx509.Principal // the server itself: no caller, no address
		for _, ev := range []atlasx509.Event{
			orgEvent(server, EventOrgCreated, org.ID),
			projectEvent(server, EventGroupCreated, project),
			apiKeys.event(server, EventAPIKeyCreated, key, org.ID, ""),
			serviceAccounts.event(server, EventSACreated, sa, org.ID, ""),
		} {
			ev.Created = now
			if err := a.recordEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrAlreadyInitialized) || errors.Is(err, store.ErrConflict) {
		return atlasapi.Bootstrap{}, ErrAlreadyInitialized
	}
	if err != nil {
		return atlasapi.Bootstrap{}, fmt.Errorf("bootstrap: %w", err)
	}
	return atlasapi.Bootstrap{
		OrgID:          org.ID,
		ProjectID:      project.ID,
		APIKey:         atlasapi.BootstrapAPIKey{ID: key.ID, PublicKey: key.PublicKey, PrivateKey: privateKey},
		ServiceAccount: atlasapi.BootstrapServiceAccount{ClientID: sa.ClientID, ClientSecret: clientSecret},
	}, nil
}

// newAPIKey makes an API key in Atlas's formats (an 8-letter public key and
// a UUID private key) and returns it with its private key. Only the sealed
// Digest HA1 values derived from the private key are kept.
func (a *App) newAPIKey(orgID, description string, now time.Time) (atlasx509.APIKey, string, error) {
	pub, err := randomString(a.rand, 8, "abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		return atlasx509.APIKey{}, "", err
	}
	var u [16]byte
	if _, err := io.ReadFull(a.rand, u[:]); err != nil {
		return atlasx509.APIKey{}, "", err
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u[:])
	private := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]

	k := atlasx509.APIKey{ID: atlasx509.NewID(now), OrgID: orgID, PublicKey: pub, Description: description, Created: now}
	if k.SealedHA1MD5, err = a.keyring.Seal([]byte(auth.HA1("MD5", pub, auth.Realm, private)), apiKeyAAD(k.ID, "MD5")); err != nil {
		return atlasx509.APIKey{}, "", err
	}
	if k.SealedHA1SHA256, err = a.keyring.Seal([]byte(auth.HA1("SHA-256", pub, auth.Realm, private)), apiKeyAAD(k.ID, "SHA-256")); err != nil {
		return atlasx509.APIKey{}, "", err
	}
	return k, private, nil
}

func apiKeyAAD(id, algorithm string) []byte { return []byte("apikey|" + id + "|" + algorithm) }

// newServiceAccount makes a service account with one secret in Atlas's
// formats (mdb_sa_id_…, mdb_sa_sk_…). Only the secret's SHA-256 is kept.
func (a *App) newServiceAccount(orgID, name string, now time.Time, lifetime time.Duration) (atlasx509.ServiceAccount, atlasx509.ServiceAccountSecret, string, error) {
	sa := atlasx509.ServiceAccount{ClientID: "mdb_sa_id_" + atlasx509.NewID(now), OrgID: orgID, Name: name, Created: now}
	rec, secret, err := a.newSecret(sa.ClientID, now, lifetime)
	return sa, rec, secret, err
}

// newSecret makes a secret of the service account clientID in Atlas's
// format (mdb_sa_sk_…) valid for lifetime, and returns its record (the
// SHA-256 of the secret) with the secret.
func (a *App) newSecret(clientID string, now time.Time, lifetime time.Duration) (atlasx509.ServiceAccountSecret, string, error) {
	s, err := randomString(a.rand, 48, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	if err != nil {
		return atlasx509.ServiceAccountSecret{}, "", err
	}
	secret := "mdb_sa_sk_" + s
	sum := sha256.Sum256([]byte(secret))
	rec := atlasx509.ServiceAccountSecret{ID: atlasx509.NewID(now), ClientID: clientID, Hash: sum[:], ExpiresAt: now.Add(lifetime), Created: now}
	return rec, secret, nil
}

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no character is more likely than another).
func randomString(r io.Reader, n int, alphabet string) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
