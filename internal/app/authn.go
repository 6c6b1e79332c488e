package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/store"
)

// AuthError is returned when a request's credentials do not authenticate it.
// The HTTP layer answers 401 with a fresh Digest challenge; Stale asks the
// client to retry with the new nonce without asking the user again.
type AuthError struct {
	Stale  bool
	Reason string // for the log only
}

// Error implements error.
func (e *AuthError) Error() string { return "authentication failed: " + e.Reason }

// DigestChallenge returns the WWW-Authenticate value of a 401 answer.
func (a *App) DigestChallenge(stale bool) string {
	return auth.Challenge(a.nonces.New(), stale)
}

// AuthenticateDigest checks an `Authorization: Digest …` header sent with
// method and requestURI (path and query as sent) and returns the API key's principal.
func (a *App) AuthenticateDigest(ctx context.Context, header, method, requestURI string) (atlasx509.Principal, error) {
	p, _, err := a.authenticateDigest(ctx, header, method, requestURI, false)
	return p, err
}

// AuthenticateDigestUnconfirmed is AuthenticateDigest for a use case that
// confirms its caller in its write transaction: a key verified before is
// taken from the cache without reading the store, and its principal is
// unconfirmed (Principal.UnconfirmedGeneration). When the use case answers
// ErrCredentialsChanged, confirm reads the key and its principal from the
// store and checks this request's digest against them again (its nonce
// has been accepted: confirm does not check it twice).
func (a *App) AuthenticateDigestUnconfirmed(ctx context.Context, header, method, requestURI string) (atlasx509.Principal, Confirm, error) {
	return a.authenticateDigest(ctx, header, method, requestURI, true)
}

// Confirm reads an unconfirmed principal again from the store: the
// principal it returns is confirmed, or the error says why the request's
// credentials no longer authenticate it.
type Confirm func(context.Context) (atlasx509.Principal, error)

func (a *App) authenticateDigest(ctx context.Context, header, method, requestURI string, unconfirmed bool) (atlasx509.Principal, Confirm, error) {
	creds, err := auth.ParseDigest(header)
	if err != nil {
		return atlasx509.Principal{}, nil, &AuthError{Reason: "malformed digest header"}
	}
	if creds.Realm != auth.Realm {
		return atlasx509.Principal{}, nil, &AuthError{Reason: "wrong realm"}
	}
	if creds.URI != requestURI {
		return atlasx509.Principal{}, nil, &AuthError{Reason: "digest uri does not match the request"}
	}
	switch a.nonces.Check(creds.Nonce) {
	case auth.NonceValid:
	case auth.NonceStale:
		return atlasx509.Principal{}, nil, &AuthError{Stale: true, Reason: "stale nonce"}
	default:
		return atlasx509.Principal{}, nil, &AuthError{Reason: "invalid nonce"}
	}
	cached, ok := a.creds.apiKeyAnyGeneration(creds.Username)
	if ok && unconfirmed {
		cached.principal.UnconfirmedGeneration = cached.generation
	} else if cached, err = a.loadAPIKey(ctx, creds.Username); err != nil {
		return atlasx509.Principal{}, nil, err
	}
	if err := a.verifyDigest(creds, method, cached.key); err != nil {
		return atlasx509.Principal{}, nil, err
	}
	switch a.nonces.AcceptFor(creds.Nonce, creds.NC, cached.key.ID) {
	case auth.NonceValid:
	case auth.NonceStale:
		// No room for this key's new nonce: its share of the ledger is full.
		return atlasx509.Principal{}, nil, &AuthError{Stale: true, Reason: "stale nonce (the key's share of the nonce ledger is full)"}
	default:
		return atlasx509.Principal{}, nil, &AuthError{Reason: "replayed nonce count"}
	}
	confirm := func(ctx context.Context) (atlasx509.Principal, error) {
		cached, err := a.loadAPIKey(ctx, creds.Username)
		if err != nil {
			return atlasx509.Principal{}, err
		}
		if err := a.verifyDigest(creds, method, cached.key); err != nil {
			return atlasx509.Principal{}, err
		}
		return cached.principal, nil
	}
	return cached.principal, confirm, nil
}

// loadAPIKey returns the API key of publicKey with its principal, from the
// cache when the credentials generation has not moved since it was read,
// otherwise from the store (and then caches it).
func (a *App) loadAPIKey(ctx context.Context, publicKey string) (cachedAPIKey, error) {
	var cached cachedAPIKey
	err := a.store.View(ctx, func(tx store.Tx) error {
		generation, err := tx.AuthGeneration(ctx)
		if err != nil {
			return err
		}
		var ok bool
		if cached, ok = a.creds.apiKey(publicKey, generation); ok {
			return nil
		}
		cached = cachedAPIKey{generation: generation}
		if cached.key, err = tx.GetAPIKeyByPublicKey(ctx, publicKey); err != nil {
			return err
		}
		key := cached.key
		cached.principal = atlasx509.Principal{ID: key.ID, Kind: atlasx509.PrincipalAPIKey, OrgID: key.OrgID, PublicKey: key.PublicKey}
		return withRolesAndAccess(ctx, tx, &cached.principal)
	})
	if errors.Is(err, store.ErrNotFound) {
		return cached, &AuthError{Reason: "unknown public key"}
	}
	if err != nil {
		return cached, internal("authenticate digest", err)
	}
	// Kept only once read in full: an unknown key is read again each time.
	a.creds.putAPIKey(publicKey, cached)
	return cached, nil
}

// verifyDigest checks the response of creds, sent with method, against
// key's sealed HA1 of the algorithm creds names.
func (a *App) verifyDigest(creds auth.DigestCredentials, method string, key atlasx509.APIKey) error {
	sealed, alg := key.SealedHA1MD5, "MD5"
	if creds.Algorithm == "SHA-256" {
		sealed, alg = key.SealedHA1SHA256, "SHA-256"
	}
	ha1, err := a.keyring.Open(sealed, apiKeyAAD(key.ID, alg))
	if err != nil {
		return internal("open api key", err)
	}
	if !creds.Verify(method, string(ha1)) {
		return &AuthError{Reason: "wrong digest response"}
	}
	return nil
}

// AuthenticateBearer checks an OAuth access token and returns the service
// account's principal. A revoked token, or one of a deleted account, fails.
func (a *App) AuthenticateBearer(ctx context.Context, token string) (atlasx509.Principal, error) {
	return a.authenticateBearer(ctx, token, false)
}

// AuthenticateBearerUnconfirmed is AuthenticateBearer for a use case that
// confirms its caller in its write transaction: a token whose principal was
// read before is taken from the cache without reading the store (its
// expiry and its secret's are checked), and the principal is unconfirmed
// (Principal.UnconfirmedGeneration). When the use case answers
// ErrCredentialsChanged, confirm authenticates the token again, from the
// store.
func (a *App) AuthenticateBearerUnconfirmed(ctx context.Context, token string) (atlasx509.Principal, Confirm, error) {
	p, err := a.authenticateBearer(ctx, token, true)
	confirm := func(ctx context.Context) (atlasx509.Principal, error) { return a.authenticateBearer(ctx, token, false) }
	return p, confirm, err
}

func (a *App) authenticateBearer(ctx context.Context, token string, unconfirmed bool) (atlasx509.Principal, error) {
	now := a.now()
	// The same bytes verified before need no new parse: only their expiry
	// can have changed (checked here without Verify's leeway).
	cached, seen := a.creds.token(token)
	claims := cached.claims
	if !seen || !now.Before(claims.ExpiresAt) {
		var err error
		if claims, err = a.tokens.Verify(token); err != nil {
			return atlasx509.Principal{}, &AuthError{Reason: "invalid bearer token"}
		}
		cached = cachedToken{}
	}
	if unconfirmed && cached.generation != 0 {
		if claims.SecretID != "" && !now.Before(cached.secretExpires) {
			return atlasx509.Principal{}, &AuthError{Reason: "revoked or unknown token"}
		}
		p := cached.principal
		p.UnconfirmedGeneration = cached.generation
		return p, nil
	}
	err := a.store.View(ctx, func(tx store.Tx) error {
		generation, err := tx.AuthGeneration(ctx)
		if err != nil {
			return err
		}
		if cached.generation == generation {
			return nil
		}
		cached = cachedToken{generation: generation, claims: claims}
		t, err := tx.GetOAuthToken(ctx, claims.TokenID)
		if err != nil {
			return err
		}
		if t.Revoked || t.ClientID != claims.ClientID {
			return store.ErrNotFound
		}
		if claims.SecretID != "" {
			// A token lives no longer than the secret it was minted with.
			secrets, err := tx.ListServiceAccountSecrets(ctx, claims.ClientID)
			if err != nil {
				return err
			}
			var ok bool
			if cached.secretExpires, ok = secretExpiry(secrets, claims.SecretID); !ok {
				return store.ErrNotFound
			}
		}
		sa, err := tx.GetServiceAccount(ctx, claims.ClientID)
		if err != nil {
			return err
		}
		cached.principal = atlasx509.Principal{ID: sa.ClientID, Kind: atlasx509.PrincipalServiceAccount, OrgID: sa.OrgID}
		return withRolesAndAccess(ctx, tx, &cached.principal)
	})
	if errors.Is(err, store.ErrNotFound) {
		return atlasx509.Principal{}, &AuthError{Reason: "revoked or unknown token"}
	}
	if err != nil {
		return atlasx509.Principal{}, internal("authenticate bearer", err)
	}
	a.creds.putToken(token, cached)
	if claims.SecretID != "" && !now.Before(cached.secretExpires) {
		return atlasx509.Principal{}, &AuthError{Reason: "revoked or unknown token"}
	}
	return cached.principal, nil
}

// OAuthError is an OAuth 2.0 error (RFC 6749 §5.2) of the token endpoints.
type OAuthError struct {
	Status      int
	Code        string // invalid_client, invalid_request, unsupported_grant_type, …
	Description string
	Err         error // for the log
}

// Error implements error.
func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// Unwrap returns the cause.
func (e *OAuthError) Unwrap() error { return e.Err }

var errInvalidClient = &OAuthError{Status: 401, Code: "invalid_client", Description: "Invalid credentials provided."}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   int // seconds
}

// IssueToken implements the client-credentials grant: it checks the service
// account's secret in constant time and mints a signed token valid one hour.
func (a *App) IssueToken(ctx context.Context, clientID, clientSecret string) (Token, error) {
	return a.IssueTokenAdmitted(ctx, clientID, clientSecret, nil)
}

// MaxLiveTokens bounds the token records of one service account that have
// not expired (revoked or not): a client that minted that many within a
// token's lifetime is refused until the oldest expire. Atlas's clients mint
// one token an hour.
const MaxLiveTokens = 500

// errTooManyTokens is the answer to a client at MaxLiveTokens.
var errTooManyTokens = &OAuthError{Status: 429, Code: "invalid_request",
	Description: fmt.Sprintf("This client already holds %d unexpired access tokens; reuse one, or retry when the oldest expires.", MaxLiveTokens)}

// IssueTokenAdmitted is IssueToken with admit, when not nil, asked once the
// client is authenticated and before anything is written: an error from it
// (a rate limit) is returned instead of a token. Unauthenticated callers
// thus never spend a client's allowance.
func (a *App) IssueTokenAdmitted(ctx context.Context, clientID, clientSecret string, admit func() error) (Token, error) {
	secretID, err := a.checkClientSecret(ctx, clientID, clientSecret)
	if err != nil {
		return Token{}, err
	}
	if admit != nil {
		if err := admit(); err != nil {
			return Token{}, err
		}
	}
	now := a.now().UTC()
	id := atlasx509.NewID(now)
	token, exp, err := a.tokens.MintWithSecret(clientID, id, secretID)
	if err != nil {
		return Token{}, &OAuthError{Status: 500, Code: "server_error", Err: err}
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		// Records of tokens expired a day ago are of no use to anyone.
		if _, err := tx.DeleteOAuthTokensExpiredBefore(ctx, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		live, err := tx.CountOAuthTokens(ctx, clientID, now)
		if err != nil {
			return err
		}
		if live >= MaxLiveTokens {
			return errTooManyTokens
		}
		return tx.InsertOAuthToken(ctx, atlasx509.OAuthToken{ID: id, ClientID: clientID, ExpiresAt: exp, Created: now})
	})
	if errors.Is(err, errTooManyTokens) {
		return Token{}, errTooManyTokens
	}
	if err != nil {
		return Token{}, &OAuthError{Status: 500, Code: "server_error", Err: fmt.Errorf("record token: %w", err)}
	}
	// The lifetime, not exp − now: Mint reads the clock itself, to the second.
	return Token{AccessToken: token, ExpiresIn: int(a.tokens.TTL / time.Second)}, nil
}

// RevokeToken revokes an access token of the authenticated client (RFC
// 7009). Unknown or foreign tokens are ignored, as RFC 7009 requires.
func (a *App) RevokeToken(ctx context.Context, clientID, clientSecret, token string) error {
	return a.RevokeTokenAdmitted(ctx, clientID, clientSecret, token, nil)
}

// RevokeTokenAdmitted is RevokeToken with admit, when not nil, asked once the
// client is authenticated and before anything is written (the audit intent).
func (a *App) RevokeTokenAdmitted(ctx context.Context, clientID, clientSecret, token string, admit func() error) error {
	if _, err := a.checkClientSecret(ctx, clientID, clientSecret); err != nil {
		return err
	}
	if admit != nil {
		if err := admit(); err != nil {
			return err
		}
	}
	claims, err := a.tokens.Verify(token)
	if err != nil || claims.ClientID != clientID {
		return nil
	}
	err = a.store.Update(ctx, func(tx store.Tx) error { return tx.RevokeOAuthToken(ctx, claims.TokenID) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return &OAuthError{Status: 500, Code: "server_error", Err: err}
	}
	return nil
}

func (a *App) checkClientSecret(ctx context.Context, clientID, clientSecret string) (secretID string, err error) {
	if clientID == "" || clientSecret == "" {
		return "", errInvalidClient
	}
	var secrets []atlasx509.ServiceAccountSecret
	err = a.store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetServiceAccount(ctx, clientID); err != nil {
			return err
		}
		var err error
		secrets, err = tx.ListServiceAccountSecrets(ctx, clientID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", errInvalidClient
	}
	if err != nil {
		return "", &OAuthError{Status: 500, Code: "server_error", Err: err}
	}
	sum := sha256.Sum256([]byte(clientSecret))
	now := a.now()
	for _, s := range secrets {
		// Compare with every secret so the time taken does not tell which matched.
		if subtle.ConstantTimeCompare(sum[:], s.Hash) == 1 && now.Before(s.ExpiresAt) {
			secretID = s.ID
		}
	}
	if secretID == "" {
		return "", errInvalidClient
	}
	return secretID, nil
}

// secretExpiry returns the expiry of the secret id among secrets, and
// whether it is there.
func secretExpiry(secrets []atlasx509.ServiceAccountSecret, id string) (time.Time, bool) {
	for _, s := range secrets {
		if s.ID == id {
			return s.ExpiresAt, true
		}
	}
	return time.Time{}, false
}

// accessList reads a credential's access list as networks.
func accessList(ctx context.Context, tx store.Tx, principalID string) ([]netip.Prefix, error) {
	entries, err := tx.ListAccessListEntries(ctx, principalID)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := netip.ParsePrefix(e.CIDR)
		if err != nil {
			return nil, fmt.Errorf("access list entry %q of %s: %w", e.CIDR, principalID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// secretValid reports whether secrets holds id, unexpired at now.
func secretValid(secrets []atlasx509.ServiceAccountSecret, id string, now time.Time) bool {
	exp, ok := secretExpiry(secrets, id)
	return ok && now.Before(exp)
}
