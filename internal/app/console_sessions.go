package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Lifetimes of a web console session: it ends after ConsoleIdleTimeout
// without a request, and ConsoleLifetime after sign-in whatever happens.
const (
	ConsoleIdleTimeout = 30 * time.Minute
	ConsoleLifetime    = 12 * time.Hour
	// consoleTouchEvery bounds the writes a busy session makes: LastSeen
	// moves at most once a minute.
	consoleTouchEvery = time.Minute
)

// ConsoleCredentials are what a console sign-in form carries: an API key's
// public and private keys, or a service account's client id and secret.
type ConsoleCredentials struct {
	PublicKey, PrivateKey  string
	ClientID, ClientSecret string
}

// ConsoleSignIn checks the credentials (in constant time) and the
// credential's access list for from, stores a new session and returns its
// token (for the cookie; only its hash is stored) with the principal. Bad
// credentials are an *AuthError; a caller outside the access list gets
// ErrNotOnAccessList's error.
func (a *App) ConsoleSignIn(ctx context.Context, c ConsoleCredentials, from netip.Addr) (string, atlasx509.Principal, error) {
	var (
		p        atlasx509.Principal
		secretID string
		err      error
	)
	switch {
	case c.PublicKey != "" || c.PrivateKey != "":
		p, err = a.checkAPIKey(ctx, c.PublicKey, c.PrivateKey)
	case c.ClientID != "" || c.ClientSecret != "":
		secretID, err = a.checkClientSecret(ctx, c.ClientID, c.ClientSecret)
		var oe *OAuthError
		if errors.As(err, &oe) && oe.Status == 401 {
			err = &AuthError{Reason: "wrong client id or secret"}
		}
		if err == nil {
			err = a.store.View(ctx, func(tx store.Tx) error {
				var err error
				p, err = loadPrincipal(ctx, tx, atlasx509.PrincipalServiceAccount, c.ClientID)
				return err
			})
		}
	default:
		err = &AuthError{Reason: "no credentials"}
	}
	if err != nil {
		return "", atlasx509.Principal{}, err
	}
	p.RemoteAddress = from.Unmap()
	if !p.AllowedFrom(from) {
		return "", atlasx509.Principal{}, ErrNotOnAccessList(from.String())
	}
	var raw [32]byte
	if _, err := io.ReadFull(a.rand, raw[:]); err != nil {
		return "", atlasx509.Principal{}, internal("console session token", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := a.now().UTC()
	s := store.ConsoleSession{TokenHash: consoleTokenHash(token), PrincipalID: p.ID, PrincipalKind: p.Kind, SecretID: secretID,
		Created: now, LastSeen: now, ExpiresAt: now.Add(ConsoleLifetime)}
	if err := a.store.Update(ctx, func(tx store.Tx) error { return tx.InsertConsoleSession(ctx, s) }); err != nil {
		return "", atlasx509.Principal{}, internal("insert console session", err)
	}
	return token, p, nil
}

// checkAPIKey checks an API key's private key against its sealed Digest
// HA1 in constant time and returns the key's principal.
func (a *App) checkAPIKey(ctx context.Context, publicKey, privateKey string) (atlasx509.Principal, error) {
	var key atlasx509.APIKey
	var p atlasx509.Principal
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		if key, err = tx.GetAPIKeyByPublicKey(ctx, publicKey); err != nil {
			return err
		}
		p = atlasx509.Principal{ID: key.ID, Kind: atlasx509.PrincipalAPIKey, OrgID: key.OrgID, PublicKey: key.PublicKey}
		return withRolesAndAccess(ctx, tx, &p)
	})
	if errors.Is(err, store.ErrNotFound) {
		return atlasx509.Principal{}, &AuthError{Reason: "unknown public key"}
	}
	if err != nil {
		return atlasx509.Principal{}, internal("console sign-in", err)
	}
	ha1, err := a.keyring.Open(key.SealedHA1MD5, apiKeyAAD(key.ID, "MD5"))
	if err != nil {
		return atlasx509.Principal{}, internal("open api key", err)
	}
	want := auth.HA1("MD5", publicKey, auth.Realm, privateKey)
	if subtle.ConstantTimeCompare(ha1, []byte(want)) != 1 {
		return atlasx509.Principal{}, &AuthError{Reason: "wrong private key"}
	}
	return p, nil
}

// loadPrincipal reads the credential id of that kind with its roles and
// access list; ErrNotFound when it no longer exists.
func loadPrincipal(ctx context.Context, tx store.Tx, kind atlasx509.PrincipalKind, id string) (atlasx509.Principal, error) {
	p := atlasx509.Principal{ID: id, Kind: kind}
	switch kind {
	case atlasx509.PrincipalAPIKey:
		k, err := tx.GetAPIKey(ctx, id)
		if err != nil {
			return p, err
		}
		p.OrgID, p.PublicKey = k.OrgID, k.PublicKey
	case atlasx509.PrincipalServiceAccount:
		sa, err := tx.GetServiceAccount(ctx, id)
		if err != nil {
			return p, err
		}
		p.OrgID = sa.OrgID
	default:
		return p, store.ErrNotFound
	}
	return p, withRolesAndAccess(ctx, tx, &p)
}

// withRolesAndAccess reads the roles and access list of the principal p
// (its ID set) into it: what every way of signing in knows of a caller.
func withRolesAndAccess(ctx context.Context, tx store.Tx, p *atlasx509.Principal) error {
	var err error
	if p.Roles, err = tx.ListRoleAssignments(ctx, p.ID); err != nil {
		return err
	}
	p.AccessList, err = accessList(ctx, tx, p.ID)
	return err
}

// ConsoleSession returns the principal of the session of token, as it is
// now (its roles and access list read again), used from from. A session
// that is unknown, idle too long, past its lifetime, of a deleted
// credential or of a service account secret no longer valid is an
// *AuthError (and deleted when it exists). LastSeen moves at most once a
// minute.
func (a *App) ConsoleSession(ctx context.Context, token string, from netip.Addr) (atlasx509.Principal, error) {
	if token == "" {
		return atlasx509.Principal{}, &AuthError{Reason: "no session"}
	}
	hash := consoleTokenHash(token)
	now := a.now().UTC()
	var (
		s       store.ConsoleSession
		p       atlasx509.Principal
		expired bool
	)
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		if s, err = tx.GetConsoleSession(ctx, hash); err != nil {
			return err
		}
		if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeen) >= ConsoleIdleTimeout {
			expired = true
			return nil
		}
		if s.SecretID != "" {
			secrets, err := tx.ListServiceAccountSecrets(ctx, s.PrincipalID)
			if err != nil {
				return err
			}
			if !secretValid(secrets, s.SecretID, now) {
				expired = true
				return nil
			}
		}
		p, err = loadPrincipal(ctx, tx, s.PrincipalKind, s.PrincipalID)
		if errors.Is(err, store.ErrNotFound) {
			expired, err = true, nil
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return atlasx509.Principal{}, &AuthError{Reason: "unknown session"}
	}
	if err != nil {
		return atlasx509.Principal{}, internal("console session", err)
	}
	if expired {
		if err := a.ConsoleSignOut(ctx, token); err != nil {
			return atlasx509.Principal{}, err
		}
		return atlasx509.Principal{}, &AuthError{Reason: "session expired"}
	}
	p.RemoteAddress = from.Unmap()
	if !p.AllowedFrom(from) {
		return atlasx509.Principal{}, ErrNotOnAccessList(from.String())
	}
	if now.Sub(s.LastSeen) >= consoleTouchEvery {
		err := a.store.Update(ctx, func(tx store.Tx) error { return tx.TouchConsoleSession(ctx, hash, now) })
		if errors.Is(err, store.ErrNotFound) {
			return atlasx509.Principal{}, &AuthError{Reason: "session ended"} // signed out meanwhile
		}
		if err != nil {
			return atlasx509.Principal{}, internal("touch console session", err)
		}
	}
	return p, nil
}

// ConsoleSignOut deletes the session of token, so that it ends on every
// replica at once. Signing out of a session that does not exist succeeds.
func (a *App) ConsoleSignOut(ctx context.Context, token string) error {
	hash := consoleTokenHash(token)
	err := a.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteConsoleSession(ctx, hash) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return internal("delete console session", err)
	}
	return nil
}

// PurgeConsoleSessions deletes the sessions that are idle too long or past
// their lifetime, and returns how many.
func (a *App) PurgeConsoleSessions(ctx context.Context) (int, error) {
	now := a.now().UTC()
	var n int
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredConsoleSessions(ctx, now.Add(-ConsoleIdleTimeout), now)
		return err
	})
	if err != nil {
		return 0, internal("purge console sessions", err)
	}
	return n, nil
}

// consoleTokenHash is what the store keeps of a session token.
func consoleTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ConsoleTokenHash is the store's key of the session of token (for tests
// that look for the row).
func ConsoleTokenHash(token string) string { return consoleTokenHash(token) }
