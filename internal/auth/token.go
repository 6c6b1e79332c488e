package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTokenTTL is the lifetime of an access token when [TokenIssuer.TTL]
// is zero; Atlas issues service-account tokens valid for one hour.
const DefaultTokenTTL = time.Hour

// TokenLeeway is the clock-skew tolerance applied to exp, nbf and iat when
// verifying a token.
const TokenLeeway = 5 * time.Second

// MaxTokenLen is the longest token [TokenIssuer.Verify] will parse.
const MaxTokenLen = 4096

// ErrInvalidToken is wrapped by every [TokenIssuer.Verify] error (and by
// [TokenIssuer.Mint] configuration errors).
var ErrInvalidToken = errors.New("auth: invalid access token")

// TokenIssuer mints and verifies OAuth 2.0 access tokens for service accounts:
// HS256-signed JWTs carrying iss, sub (the client ID), jti (the token ID,
// usable for revocation), iat, nbf and exp in seconds.
type TokenIssuer struct {
	// Key is the HMAC-SHA256 signing key (at least 32 random bytes; shared by
	// all replicas). An empty key is an error.
	Key []byte
	// Issuer is the iss claim minted and required on verification.
	Issuer string
	// TTL is the token lifetime; zero means [DefaultTokenTTL].
	TTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// TokenClaims is what a verified access token asserts.
type TokenClaims struct {
	// ClientID is the service account's client ID (sub).
	ClientID string
	// TokenID is the token's unique ID (jti).
	TokenID string
	// ExpiresAt is the expiry (exp), whole seconds.
	ExpiresAt time.Time
	// SecretID names the client secret the token was minted with (the
	// private claim "sid"), so that deleting the secret ends its tokens;
	// empty for tokens minted without one.
	SecretID string
}

// tokenClaims are the JWT claims of an access token.
type tokenClaims struct {
	jwt.RegisteredClaims
	SecretID string `json:"sid,omitempty"`
}

func (t *TokenIssuer) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *TokenIssuer) ttl() time.Duration {
	if t.TTL > 0 {
		return t.TTL
	}
	return DefaultTokenTTL
}

// Mint returns a signed access token for clientID with ID tokenID and its
// expiry (truncated to whole seconds, as in the exp claim; expires_in for the
// token response is expiresAt minus now). clientID, tokenID and Key must be
// non-empty.
func (t *TokenIssuer) Mint(clientID, tokenID string) (token string, expiresAt time.Time, err error) {
	return t.MintWithSecret(clientID, tokenID, "")
}

// MintWithSecret is Mint for a token minted with the client secret
// secretID, which the token carries as its "sid" claim.
func (t *TokenIssuer) MintWithSecret(clientID, tokenID, secretID string) (token string, expiresAt time.Time, err error) {
	if len(t.Key) == 0 {
		return "", time.Time{}, fmt.Errorf("%w: empty signing key", ErrInvalidToken)
	}
	if clientID == "" || tokenID == "" {
		return "", time.Time{}, fmt.Errorf("%w: empty client or token ID", ErrInvalidToken)
	}
	now := t.now().Truncate(time.Second)
	expiresAt = now.Add(t.ttl()).Truncate(time.Second)
	claims := tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    t.Issuer,
		Subject:   clientID,
		ID:        tokenID,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(expiresAt),
	}, SecretID: secretID}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.Key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: signing: %w", ErrInvalidToken, err)
	}
	return token, expiresAt, nil
}

// Verify checks an access token and returns its claims. Only HS256 with Key
// is accepted (alg "none" and every other algorithm are refused), the issuer
// must equal t.Issuer, exp is required and checked, nbf and iat (when present)
// too, each with [TokenLeeway]; sub and jti must be non-empty and the token at
// most [MaxTokenLen] bytes. Every error wraps [ErrInvalidToken] (and the jwt
// library's error, for logs). Verify does not consult revocation; the caller
// checks TokenID against its store.
func (t *TokenIssuer) Verify(token string) (TokenClaims, error) {
	if len(t.Key) == 0 {
		return TokenClaims{}, fmt.Errorf("%w: empty signing key", ErrInvalidToken)
	}
	if len(token) > MaxTokenLen {
		return TokenClaims{}, fmt.Errorf("%w: token is %d bytes, limit %d", ErrInvalidToken, len(token), MaxTokenLen)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(TokenLeeway),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	var claims tokenClaims
	_, err := p.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		if tok.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method %v", tok.Header["alg"])
		}
		return t.Key, nil
	})
	if err != nil {
		return TokenClaims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	switch {
	case claims.Issuer != t.Issuer:
		return TokenClaims{}, fmt.Errorf("%w: issuer %q", ErrInvalidToken, claims.Issuer)
	case claims.Subject == "":
		return TokenClaims{}, fmt.Errorf("%w: missing sub", ErrInvalidToken)
	case claims.ID == "":
		return TokenClaims{}, fmt.Errorf("%w: missing jti", ErrInvalidToken)
	case claims.ExpiresAt == nil:
		return TokenClaims{}, fmt.Errorf("%w: missing exp", ErrInvalidToken)
	}
	return TokenClaims{ClientID: claims.Subject, TokenID: claims.ID, ExpiresAt: claims.ExpiresAt.Time, SecretID: claims.SecretID}, nil
}

// ParseBearer extracts the token from an "Authorization: Bearer <token>"
// header value (RFC 6750 §2.1). The scheme is matched case-insensitively,
// followed by one or more spaces and a non-empty token68; surrounding
// whitespace is ignored. It reports false for anything else.
func ParseBearer(header string) (string, bool) {
	s := trimOWS(header)
	const scheme = "Bearer"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || s[len(scheme)] != ' ' {
		return "", false
	}
	tok := strings.TrimLeft(s[len(scheme):], " ")
	if tok == "" {
		return "", false
	}
	// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	i := 0
	for i < len(tok) && isToken68Char(tok[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	for j := i; j < len(tok); j++ {
		if tok[j] != '=' {
			return "", false
		}
	}
	return tok, true
}

func isToken68Char(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}
	return ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '+' || ch == '/'
}
