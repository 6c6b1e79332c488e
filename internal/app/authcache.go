package app

import (
	"sync"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/auth"
)

// Verified credentials.
//
// Reading a Bearer token's record, its account, secrets, roles and access
// list, or an API key with its roles and access list, took a read
// transaction of four or five queries on every request. credCache keeps what
// such a read found, with the credentials generation (store.Tx.AuthGeneration)
// it was read at. A request then reads the generation alone, in its own read
// transaction: while it is the same, nothing that decides the credential's
// principal has changed, on any replica, since it was read (the store's
// triggers move the generation in the transaction of every such change). When
// it differs, the request reads the credential again. No entry is trusted for
// a time: a revocation or a role change committed anywhere takes effect on
// every replica's next request, as it did without the cache.
//
// A use case that reads the generation in its own write transaction can do
// without that read transaction: the Authenticate…Unconfirmed methods take
// a cached principal as it is, marked unconfirmed with the generation it
// was read at (Principal.UnconfirmedGeneration). authz allows such a
// principal nothing; the use case (certificate issuance, the hot path)
// clears the mark for its checks and refuses to commit, with
// ErrCredentialsChanged, unless its write transaction finds the generation
// unchanged, so its outcome is decided by credentials as current as the
// read transaction gave them. On ErrCredentialsChanged the HTTP layer
// confirms the credentials from the store (Confirm) and runs the use case
// once more.
//
// What the cache does not hold is checked on every request: the token's
// expiry (its signature and claims are verified again unless the very same
// bytes were verified before), its secret's expiry, the Digest response with
// the key unsealed from its record, and the nonce.

// maxCachedCredentials bounds each map of credCache; when one is full it is
// emptied (a map of live credentials refills in one request each).
const maxCachedCredentials = 4096

type credCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken  // by the token itself
	keys   map[string]cachedAPIKey // by public key
}

// cachedToken is what an OAuth token's check found: its verified claims,
// its account's principal and the expiry of the secret it was minted with
// (zero when none). generation 0 (never a store's) marks claims verified
// but no principal read.
type cachedToken struct {
	generation    int64
	claims        auth.TokenClaims
	secretExpires time.Time
	principal     atlasx509.Principal
}

// cachedAPIKey is what an API key's check read: the key's record (with its
// sealed digests) and its principal.
type cachedAPIKey struct {
	generation int64
	key        atlasx509.APIKey
	principal  atlasx509.Principal
}

// token returns what was found about token, if anything; the caller checks
// the generation and the expiry.
func (c *credCache) token(token string) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[token]
	return e, ok
}

func (c *credCache) putToken(token string, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.tokens, token, e)
}

// apiKey returns what was read about publicKey at generation.
func (c *credCache) apiKey(publicKey string, generation int64) (cachedAPIKey, bool) {
	e, ok := c.apiKeyAnyGeneration(publicKey)
	return e, ok && e.generation == generation
}

// apiKeyAnyGeneration returns what was read about publicKey at whatever
// generation: for a principal that its use case confirms.
func (c *credCache) apiKeyAnyGeneration(publicKey string) (cachedAPIKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[publicKey]
	return e, ok
}

func (c *credCache) putAPIKey(publicKey string, e cachedAPIKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.keys, publicKey, e)
}

// putBounded stores v under k in *m, emptying *m first when it holds
// maxCachedCredentials entries (or making it).
func putBounded[V any](m *map[string]V, k string, v V) {
	if *m == nil || len(*m) >= maxCachedCredentials {
		*m = make(map[string]V)
	}
	(*m)[k] = v
}
