package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// formatDigest serializes credentials the way the official client does
// (quoted strings, ", " separators), escaping '"' and '\'.
func formatDigest(c DigestCredentials) string {
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	ps := []string{
		"username=" + q(c.Username),
		"realm=" + q(c.Realm),
		"nonce=" + q(c.Nonce),
		"uri=" + q(c.URI),
		"response=" + q(c.Response),
		"algorithm=" + c.Algorithm,
	}
	if c.Opaque != "" {
		ps = append(ps, "opaque="+q(c.Opaque))
	}
	if c.Qop != "" {
		ps = append(ps, "qop="+c.Qop, fmt.Sprintf("nc=%08x", c.NC), "cnonce="+q(c.Cnonce))
	}
	if c.UserHash {
		ps = append(ps, "userhash=true")
	}
	return "Digest " + strings.Join(ps, ", ")
}

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		hdr(nil),
		hdr([]string{"qop", "nc", "cnonce"}),
		`DIGEST CNONCE="c1", NC=00000001, QOP=auth, Response="0123", URI="/x", Nonce="abc", Realm="r", UserName="pub"`,
		hdr([]string{"username"}, `username="a\"b\\c"`, `opaque=x`, `foo="b,a=r"`),
		"Digest , ,username=u,realm=r,nonce=n,uri=\"/\",response=r,,",
		hdr([]string{"algorithm"}, "algorithm=sha-256"),
		hdr(nil, "userhash=true"),
		hdr([]string{"nc"}, "nc=0000000A"),
		"Digest username=\"\xff\xfe\", realm=\"\t\", nonce=n, uri=u, response=r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseDigest(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if c.Username == "" || c.Realm == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
			t.Fatalf("accepted credentials with an empty required field: %+v", c)
		}
		if c.Algorithm != AlgorithmMD5 && c.Algorithm != AlgorithmSHA256 {
			t.Fatalf("algorithm %q", c.Algorithm)
		}
		if c.Qop != "" && (c.Qop != QopAuth || c.Cnonce == "") || c.Qop == "" && (c.NC != 0 || c.Cnonce != "") || c.UserHash {
			t.Fatalf("inconsistent qop fields: %+v", c)
		}
		re := formatDigest(c)
		if len(re) > MaxDigestHeaderLen {
			return // quoting may lengthen a header that was at the limit
		}
		c2, err := ParseDigest(re)
		if err != nil {
			t.Fatalf("re-serialized %q does not parse: %v", re, err)
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", s, re, diff)
		}
		_ = c.Verify("GET", HA1(c.Algorithm, c.Username, c.Realm, "pw"))
	})
}

// fuzzNonceTime is the fixed clock of FuzzNonceCheck; the committed seed
// nonces were issued at this time with fuzzNonceKey.
var (
	fuzzNonceTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	fuzzNonceKey  = []byte("fuzz-nonce-key-0123456789abcdef0")
)

func FuzzNonceCheck(f *testing.F) {
	fixed := func() time.Time { return fuzzNonceTime }
	n := NewNonces(fuzzNonceKey, time.Minute, fixed)
	f.Add(n.New(), uint32(1))
	f.Add(n.New(), uint32(0))
	f.Add("", uint32(0))
	f.Add(strings.Repeat("A", 43), uint32(1))
	f.Add(strings.Repeat("_", 42)+"=", uint32(7))
	f.Fuzz(func(t *testing.T, nonce string, nc uint32) {
		n := NewNonces(fuzzNonceKey, time.Minute, fixed)
		st := n.Check(nonce)
		switch st {
		case NonceValid, NonceInvalid, NonceStale:
		default:
			t.Fatalf("Check = %v", st)
		}
		ok := n.Accept(nonce, nc)
		if ok != (st == NonceValid) {
			t.Fatalf("Check = %v but Accept = %v", st, ok)
		}
		if ok && n.Accept(nonce, nc) {
			t.Fatal("replay accepted")
		}
		if ok && nc < ^uint32(0) && !n.Accept(nonce, nc+1) {
			t.Fatal("higher nc refused")
		}
	})
}

// fuzzTokenTime is the fixed clock of FuzzVerifyToken; fuzzTokenKey signs the
// committed seed tokens.
var (
	fuzzTokenTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	fuzzTokenKey  = []byte("fuzz-token-key-0123456789abcdef0")
)

func FuzzVerifyToken(f *testing.F) {
	iss := &TokenIssuer{Key: fuzzTokenKey, Issuer: testIssuer, Now: func() time.Time { return fuzzTokenTime }}
	tok, _, err := iss.Mint("client", "tok")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := iss.Verify(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		if c.ClientID == "" || c.TokenID == "" || c.ExpiresAt.IsZero() {
			t.Fatalf("accepted token with empty claims: %+v", c)
		}
		if h, ok := ParseBearer("Bearer " + s); !ok || h != s {
			t.Fatalf("ParseBearer refuses an accepted token %q", s)
		}
	})
}

// TestFuzzSeedsStillValid guards the committed corpus: the "valid" seeds must
// keep exercising the success paths (they depend on the fixed keys and clocks
// above).
func TestFuzzSeedsStillValid(t *testing.T) {
	firstString := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		if len(lines) < 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a corpus file", path)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return s
	}
	n := NewNonces(fuzzNonceKey, time.Minute, func() time.Time { return fuzzNonceTime })
	for _, name := range []string{"valid_nc0", "valid_nc1", "valid_ncmax"} {
		if st := n.Check(firstString(filepath.Join("testdata", "fuzz", "FuzzNonceCheck", name))); st != NonceValid {
			t.Errorf("FuzzNonceCheck/%s: Check = %v", name, st)
		}
	}
	iss := &TokenIssuer{Key: fuzzTokenKey, Issuer: testIssuer, Now: func() time.Time { return fuzzTokenTime }}
	if _, err := iss.Verify(firstString(filepath.Join("testdata", "fuzz", "FuzzVerifyToken", "valid"))); err != nil {
		t.Errorf("FuzzVerifyToken/valid: %v", err)
	}
	if _, err := ParseDigest(firstString(filepath.Join("testdata", "fuzz", "FuzzParseDigest", "official_client"))); err != nil {
		t.Errorf("FuzzParseDigest/official_client: %v", err)
	}
}

// FuzzParseBearer fuzzes the Bearer header parsing: a token it returns is
// a non-empty token68, and parses back from a canonical header.
func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def-ghi", "bearer  a==", " Bearer a b", "Bearer =", "Bearer\ta", "Bearer ", "Basic abc", "BEARER x~+/_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := ParseBearer(header)
		if !ok {
			if tok != "" {
				t.Fatalf("refused %q but returned %q", header, tok)
			}
			return
		}
		body := strings.TrimRight(tok, "=")
		if body == "" {
			t.Fatalf("ParseBearer(%q) = %q: no token68 characters", header, tok)
		}
		for i := 0; i < len(body); i++ {
			if !isToken68Char(body[i]) {
				t.Fatalf("ParseBearer(%q) = %q: byte %q", header, tok, body[i])
			}
		}
		if again, ok := ParseBearer("Bearer " + tok); !ok || again != tok {
			t.Fatalf("ParseBearer(%q) = %q, but the canonical header gives %q %v", header, tok, again, ok)
		}
	})
}
