// Package app holds the use cases of atlasx509, named after the Atlas
// operations they serve. Each one checks the caller's role, validates its
// input, runs one store transaction and, for certificates, calls pki. It
// returns *atlasx509.Error for everything a client may be told.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Config holds what an App is built from.
type Config struct {
	Store   store.Store
	Keyring *keyring.Keyring
	// Keys supplies leaf private keys; nil means generating them inline.
	Keys pki.KeySource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for serials and CA keys; nil means crypto/rand.
	Rand   io.Reader
	Logger *slog.Logger
	// CRLValidity is nextUpdate − thisUpdate of every CRL; 0 means
	// DefaultCRLValidity.
	CRLValidity time.Duration
	// OnCertificateIssued, when set, is called after each issued
	// certificate's record is committed (for metrics).
	OnCertificateIssued func(pki.KeyType)
	// AllowPrivateWebhooks lets webhook URLs aim at loopback, private and
	// link-local addresses (--webhook-allow-private).
	AllowPrivateWebhooks bool
	// Resolver resolves webhook host names; nil means net.DefaultResolver.
	Resolver notify.Resolver
	// RoleEmails are the addresses of GROUP and ORG notifications, by
	// role (--alert-role-emails); the zero value names nobody.
	RoleEmails notify.RoleEmails
}

// App runs the use cases. It is safe for concurrent use.
type App struct {
	store   store.Store
	keyring *keyring.Keyring
	keys    pki.KeySource
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger

	nonces *auth.Nonces
	tokens *auth.TokenIssuer
	creds  credCache // credentials verified against the store (authcache.go)

	issuance issuanceCache // issuance states of committed issuances (issuancecache.go)

	onIssued func(pki.KeyType)

	allowPrivateWebhooks bool
	roleEmails           notify.RoleEmails
	resolver             notify.Resolver

	crlValidity time.Duration
	crlFlight   singleflight.Group // one CRL signature at a time per CA

	uses accessUses // access list uses not yet written

	caMu    sync.Mutex
	caCache map[caKey]*pki.CA // unsealed project CAs, so a signature costs no unsealing
}

type caKey struct {
	groupID    string
	generation int
}

// Names of the server-wide secrets kept sealed in the store.
const (
	settingNonceKey   = "digest-nonce-key"
	settingTokenKey   = "oauth-token-key"
	settingBootstrap  = "initialized"
	serverSecretBytes = 32
)

// New builds an App, creating the server-wide secrets (the Digest nonce key
// and the OAuth token key) in the store on first use.
func New(ctx context.Context, cfg Config) (*App, error) {
	a := &App{
		store:    cfg.Store,
		keyring:  cfg.Keyring,
		keys:     cfg.Keys,
		now:      cfg.Now,
		rand:     cfg.Rand,
		log:      cfg.Logger,
		caCache:  make(map[caKey]*pki.CA),
		onIssued: cfg.OnCertificateIssued,

		allowPrivateWebhooks: cfg.AllowPrivateWebhooks,
		roleEmails:           cfg.RoleEmails,
		resolver:             cfg.Resolver,

		crlValidity: cfg.CRLValidity,
	}
	if a.crlValidity <= 0 {
		a.crlValidity = DefaultCRLValidity
	}
	if a.keys == nil {
		a.keys = pki.Generator{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	nonceKey, err := a.serverSecret(ctx, settingNonceKey)
	if err != nil {
		return nil, err
	}
	tokenKey, err := a.serverSecret(ctx, settingTokenKey)
	if err != nil {
		return nil, err
	}
	a.nonces = auth.NewNonces(nonceKey, auth.DefaultNonceTTL, a.now)
	a.tokens = &auth.TokenIssuer{Key: tokenKey, Issuer: "atlasx509", TTL: auth.DefaultTokenTTL, Now: a.now}
	return a, nil
}

// serverSecret returns the sealed server secret called name, creating it when
// missing. Replicas racing to create it agree on the one that committed.
func (a *App) serverSecret(ctx context.Context, name string) ([]byte, error) {
	aad := []byte("setting|" + name)
	for attempt := 0; attempt < 2; attempt++ {
		var sealed []byte
		err := a.store.View(ctx, func(tx store.Tx) error {
			var err error
			sealed, err = tx.GetSetting(ctx, name)
			return err
		})
		if err == nil {
			secret, err := a.keyring.Open(sealed, aad)
			if err != nil {
				return nil, fmt.Errorf("open setting %s: %w", name, err)
			}
			return secret, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read setting %s: %w", name, err)
		}
		secret := make([]byte, serverSecretBytes)
		if _, err := io.ReadFull(a.rand, secret); err != nil {
			return nil, err
		}
		sealed, err = a.keyring.Seal(secret, aad)
		if err != nil {
			return nil, err
		}
		err = a.store.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, name, sealed) })
		if err == nil {
			return secret, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("create setting %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("setting %s: created concurrently but unreadable", name)
}

// HoldsSealedData reports whether st already holds secrets sealed by some
// master key, so that a missing key file is an error rather than a reason to
// make a new key that could open nothing.
func HoldsSealedData(ctx context.Context, st store.Store) (bool, error) {
	err := st.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, settingNonceKey)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Initialized reports whether the store holds the bootstrap organization.
func (a *App) Initialized(ctx context.Context) (bool, error) {
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, settingBootstrap)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Ready reports whether the store answers: a read transaction that finds
// the server's own settings. Load balancers use it to take a replica whose
// database is unreachable out of rotation.
func (a *App) Ready(ctx context.Context) error {
	return a.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, settingNonceKey)
		return err
	})
}
