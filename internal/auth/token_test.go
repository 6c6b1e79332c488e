package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var testTokenKey = []byte("token-key-0123456789abcdef012345")

const testIssuer = "https://atlasx509.test"

func newTestIssuer(clock *fakeClock) *TokenIssuer {
	return &TokenIssuer{Key: testTokenKey, Issuer: testIssuer, Now: clock.Now}
}

func TestTokenRoundTrip(t *testing.T) {
	clock := newFakeClock()
	clock.Add(700 * time.Millisecond) // sub-second part is truncated
	iss := newTestIssuer(clock)
	tok, exp, err := iss.Mint("mdb_sa_id_1234", "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	wantExp := clock.Now().Truncate(time.Second).Add(DefaultTokenTTL)
	if !exp.Equal(wantExp) {
		t.Errorf("expiresAt = %v, want %v", exp, wantExp)
	}
	if len(tok) > MaxTokenLen || strings.Count(tok, ".") != 2 {
		t.Errorf("token %q does not look like a JWS compact JWT", tok)
	}
	if _, ok := ParseBearer("Bearer " + tok); !ok {
		t.Errorf("ParseBearer rejects a minted token")
	}
	got, err := iss.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := TokenClaims{ClientID: "mdb_sa_id_1234", TokenID: "tok-1", ExpiresAt: wantExp}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	// The payload carries exactly the documented claims in seconds.
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	ts := clock.Now().Unix()
	wantPayload := `{"iss":"https://atlasx509.test","sub":"mdb_sa_id_1234","exp":` + fmtInt(ts+3600) +
		`,"nbf":` + fmtInt(ts) + `,"iat":` + fmtInt(ts) + `,"jti":"tok-1"}`
	if string(payload) != wantPayload {
		t.Errorf("payload %s, want %s", payload, wantPayload)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Errorf("header %s", header)
	}

	// Custom TTL.
	iss.TTL = 10 * time.Minute
	_, exp, err = iss.Mint("c", "t")
	if err != nil || !exp.Equal(clock.Now().Truncate(time.Second).Add(10*time.Minute)) {
		t.Errorf("custom TTL: exp %v, err %v", exp, err)
	}
}

func fmtInt(i int64) string { return strconv.FormatInt(i, 10) }

func TestTokenDefaults(t *testing.T) {
	iss := &TokenIssuer{Key: testTokenKey, Issuer: testIssuer}
	tok, exp, err := iss.Mint("c", "t")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < DefaultTokenTTL-2*time.Second || d > DefaultTokenTTL {
		t.Errorf("default TTL: expires in %v", d)
	}
	if _, err := iss.Verify(tok); err != nil {
		t.Errorf("Verify with real clock: %v", err)
	}
}

func TestTokenMintErrors(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name              string
		iss               *TokenIssuer
		clientID, tokenID string
	}{
		{"empty key", &TokenIssuer{Issuer: testIssuer, Now: clock.Now}, "c", "t"},
		{"empty client ID", newTestIssuer(clock), "", "t"},
		{"empty token ID", newTestIssuer(clock), "c", ""},
	}
	for _, tt := range tests {
		if _, _, err := tt.iss.Mint(tt.clientID, tt.tokenID); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Mint error %v, want ErrInvalidToken", tt.name, err)
		}
	}
}

// signWith signs claims with method and key outside TokenIssuer.
func signWith(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenVerifyRejects(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(clock)
	good, _, err := iss.Mint("client", "tok")
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	claims := func(mod func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := jwt.RegisteredClaims{
			Issuer: testIssuer, Subject: "client", ID: "tok",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(
		`{"iss":"` + testIssuer + `","sub":"admin","exp":` + fmtInt(now.Unix()+3600) + `,"jti":"tok"}`))
	// Key confusion: an RS256 header with an HMAC-SHA256 signature made
	// with the (public) key bytes must not pass.
	rsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	confusedSig, _ := jwt.SigningMethodHS256.Sign(rsHeader+"."+parts[1], testTokenKey)

	tests := []struct {
		name    string
		token   string
		advance time.Duration
		wantErr error // additionally expected in the chain, if set
	}{
		{"empty", "", 0, nil},
		{"garbage", "not a token", 0, nil},
		{"two segments", parts[0] + "." + parts[1], 0, nil},
		{"too long", good + strings.Repeat("A", MaxTokenLen), 0, nil},
		{"wrong key", signWith(t, jwt.SigningMethodHS256, []byte("other key"), claims(nil)), 0, jwt.ErrTokenSignatureInvalid},
		{"alg none", signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), 0, nil},
		{"alg none with empty signature and dot", parts[0][:0] + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", 0, nil},
		{"RS256", signWith(t, jwt.SigningMethodRS256, rsaKey, claims(nil)), 0, nil},
		{"RS256 header, HMAC signature", rsHeader + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(confusedSig), 0, nil},
		{"HS512 same key", signWith(t, jwt.SigningMethodHS512, testTokenKey, claims(nil)), 0, nil},
		{"HS384 same key", signWith(t, jwt.SigningMethodHS384, testTokenKey, claims(nil)), 0, nil},
		{"tampered payload", parts[0] + "." + forgedPayload + "." + parts[2], 0, jwt.ErrTokenSignatureInvalid},
		{"tampered signature", parts[0] + "." + parts[1] + "." + strings.ToUpper(parts[2][:5]) + parts[2][5:] + "x", 0, nil},
		{"padded signature", good + "=", 0, nil},
		{"wrong issuer", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) { c.Issuer = "https://evil" })), 0, nil},
		{"no issuer", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) { c.Issuer = "" })), 0, nil},
		{"no exp", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), 0, jwt.ErrTokenRequiredClaimMissing},
		{"no sub", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) { c.Subject = "" })), 0, nil},
		{"no jti", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) { c.ID = "" })), 0, nil},
		{"expired beyond leeway", good, time.Hour + TokenLeeway + time.Second, jwt.ErrTokenExpired},
		{"not yet valid", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) {
			c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute))
		})), 0, jwt.ErrTokenNotValidYet},
		{"issued in the future", signWith(t, jwt.SigningMethodHS256, testTokenKey, claims(func(c *jwt.RegisteredClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute))
		})), 0, jwt.ErrTokenUsedBeforeIssued},
		{"map claims with non-numeric exp", signWith(t, jwt.SigningMethodHS256, testTokenKey, jwt.MapClaims{
			"iss": testIssuer, "sub": "c", "jti": "t", "exp": "soon",
		}), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			c.Add(tt.advance)
			v := newTestIssuer(c)
			got, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify = %+v, want error", got)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}

func TestTokenLeeway(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(clock)
	tok, _, err := iss.Mint("c", "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		advance time.Duration
		ok      bool
	}{
		{-TokenLeeway + time.Second, true}, // verifier slightly behind (nbf/iat leeway)
		{-TokenLeeway - time.Second, false},
		{time.Hour, true},
		{time.Hour + TokenLeeway - time.Second, true},
		{time.Hour + TokenLeeway + time.Second, false},
	} {
		c := newFakeClock()
		c.Add(tt.advance)
		v := newTestIssuer(c)
		if _, err := v.Verify(tok); (err == nil) != tt.ok {
			t.Errorf("advance %v: err %v, want ok=%v", tt.advance, err, tt.ok)
		}
	}
}

func TestTokenVerifyEmptyKey(t *testing.T) {
	clock := newFakeClock()
	tok, _, _ := newTestIssuer(clock).Mint("c", "t")
	v := &TokenIssuer{Issuer: testIssuer, Now: clock.Now}
	if _, err := v.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify with empty key: %v", err)
	}
}

func TestParseBearer(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"  Bearer a-b_c~d+e/f==", "a-b_c~d+e/f==", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"Bearerabc", "", false},
		{"Bearer\tabc", "", false},
		{"Bearer abc def", "", false},
		{"Bearer abc=def", "", false},
		{"Bearer =abc", "", false},
		{"Bearer ab\"c", "", false},
		{"Bearer abc,", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Digest username=\"x\"", "", false},
		{"", "", false},
		{"Bearer é", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseBearer(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTokenCarriesSecretID(t *testing.T) {
	ti := &TokenIssuer{Key: []byte("0123456789abcdef0123456789abcdef"), Issuer: "atlasx509"}
	tok, _, err := ti.MintWithSecret("client", "token", "secret-7")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ti.Verify(tok)
	if err != nil || c.SecretID != "secret-7" || c.ClientID != "client" || c.TokenID != "token" {
		t.Fatalf("claims %+v, %v", c, err)
	}
	tok, _, _ = ti.Mint("client", "token")
	if c, err := ti.Verify(tok); err != nil || c.SecretID != "" {
		t.Fatalf("token without a secret: %+v, %v", c, err)
	}
}
