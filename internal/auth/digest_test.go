package auth

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChallenge(t *testing.T) {
	tests := []struct {
		nonce string
		stale bool
		want  string
	}{
		{"abc", false, `Digest realm="MMS Public API", domain="", nonce="abc", algorithm=MD5, qop="auth", stale=false`},
		{"n-_0", true, `Digest realm="MMS Public API", domain="", nonce="n-_0", algorithm=MD5, qop="auth", stale=true`},
	}
	for _, tt := range tests {
		if got := Challenge(tt.nonce, tt.stale); got != tt.want {
			t.Errorf("Challenge(%q, %v) =\n%s\nwant\n%s", tt.nonce, tt.stale, got, tt.want)
		}
	}
}

// Base parameters as the official client sends them.
var baseParams = []string{
	`username="pub"`,
	`realm="MMS Public API"`,
	`nonce="abc"`,
	`uri="/api/x?y=1"`,
	`response="0123"`,
	`algorithm="MD5"`,
	`qop=auth`,
	`nc=00000001`,
	`cnonce="c1"`,
}

var baseCreds = DigestCredentials{
	Username:  "pub",
	Realm:     Realm,
	Nonce:     "abc",
	URI:       "/api/x?y=1",
	Response:  "0123",
	Algorithm: AlgorithmMD5,
	Cnonce:    "c1",
	Qop:       "auth",
	NC:        1,
}

// hdr builds a Digest header from baseParams, dropping parameters whose name
// is in drop and appending extra.
func hdr(drop []string, extra ...string) string {
	var ps []string
	for _, p := range baseParams {
		name, _, _ := strings.Cut(p, "=")
		keep := true
		for _, d := range drop {
			if d == name {
				keep = false
			}
		}
		if keep {
			ps = append(ps, p)
		}
	}
	return "Digest " + strings.Join(append(ps, extra...), ", ")
}

func creds(mod func(*DigestCredentials)) DigestCredentials {
	c := baseCreds
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestParseDigestValid(t *testing.T) {
	long := strings.Repeat("a", MaxDigestValueLen)
	tests := []struct {
		name   string
		header string
		want   DigestCredentials
	}{
		{"official client", hdr(nil), baseCreds},
		{
			"extra spaces, unquoted values, lower-case scheme and algorithm",
			`  digest   username = "pub" ,realm="MMS Public API",nonce=abc ,  uri="/api/x?y=1",response=0123,algorithm=md5,qop="auth",nc="00000001",cnonce=c1  `,
			baseCreds,
		},
		{
			"other order, name case, no algorithm",
			`DIGEST CNONCE="c1", NC=00000001, QOP=auth, Response="0123", URI="/api/x?y=1", Nonce="abc", Realm="MMS Public API", UserName="pub"`,
			baseCreds,
		},
		{
			"tabs as whitespace",
			"Digest username=\"pub\",\trealm=\"MMS Public API\"\t,nonce=\"abc\", uri=\"/api/x?y=1\", response=\"0123\", qop=auth, nc=00000001, cnonce=\"c1\"",
			baseCreds,
		},
		{"SHA-256 lower case", hdr([]string{"algorithm"}, "algorithm=sha-256"), creds(func(c *DigestCredentials) { c.Algorithm = AlgorithmSHA256 })},
		{"SHA-256 quoted", hdr([]string{"algorithm"}, `algorithm="SHA-256"`), creds(func(c *DigestCredentials) { c.Algorithm = AlgorithmSHA256 })},
		{
			"no qop (RFC 2069 mode)",
			hdr([]string{"qop", "nc", "cnonce"}),
			creds(func(c *DigestCredentials) { c.Qop, c.NC, c.Cnonce = "", 0, "" }),
		},
		{"unknown parameters ignored", hdr(nil, `foo=bar`, `x-y="a, b"`), baseCreds},
		{"opaque", hdr(nil, `opaque="op aque"`), creds(func(c *DigestCredentials) { c.Opaque = "op aque" })},
		{"userhash=false", hdr(nil, `userhash=FALSE`), baseCreds},
		{"empty list elements", "Digest , ," + strings.TrimPrefix(hdr(nil), "Digest") + ",, ,", baseCreds},
		{"no space after comma", strings.ReplaceAll(hdr(nil), ", ", ","), baseCreds},
		{
			"quoted-pair escapes",
			hdr([]string{"username", "realm", "uri"}, `username="a\"b\\c"`, `realm="\M\M\S Public\ API"`, `uri="/p\ q"`),
			creds(func(c *DigestCredentials) { c.Username, c.URI = `a"b\c`, "/p q" }),
		},
		{"comma and equals inside quotes", hdr([]string{"username"}, `username="a, b=c"`), creds(func(c *DigestCredentials) { c.Username = "a, b=c" })},
		{"obs-text (UTF-8) username", hdr([]string{"username"}, `username="José"`), creds(func(c *DigestCredentials) { c.Username = "José" })},
		{"max nc", hdr([]string{"nc"}, `nc=ffffffff`), creds(func(c *DigestCredentials) { c.NC = math.MaxUint32 })},
		{"nc zero", hdr([]string{"nc"}, `nc=00000000`), creds(func(c *DigestCredentials) { c.NC = 0 })},
		{"value at limit", hdr([]string{"cnonce"}, `cnonce="`+long+`"`), creds(func(c *DigestCredentials) { c.Cnonce = long })},
		{"percent-encoded uri", hdr([]string{"uri"}, `uri="/api/atlas/v1.0/groups/x/databaseUsers/%24external/a%2Fb?pretty=true"`),
			creds(func(c *DigestCredentials) {
				c.URI = "/api/atlas/v1.0/groups/x/databaseUsers/%24external/a%2Fb?pretty=true"
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDigest(tt.header)
			if err != nil {
				t.Fatalf("ParseDigest(%q): %v", tt.header, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDigest(%q) mismatch (-want +got):\n%s", tt.header, diff)
			}
		})
	}
}

func TestParseDigestInvalid(t *testing.T) {
	tests := []struct {
		reason string
		header string
	}{
		{"empty", ""},
		{"only spaces", "   "},
		{"other scheme", "Basic dXNlcjpwYXNz"},
		{"bearer scheme", "Bearer abc.def.ghi"},
		{"scheme only", "Digest"},
		{"scheme and spaces only", "Digest   "},
		{"tab after scheme", strings.Replace(hdr(nil), "Digest ", "Digest\t", 1)},
		{"scheme glued to param", strings.Replace(hdr(nil), "Digest ", "Digest,", 1)},
		{"token68 form", "Digest dXNlcjpwYXNz=="},
		{"missing username", hdr([]string{"username"})},
		{"missing realm", hdr([]string{"realm"})},
		{"missing nonce", hdr([]string{"nonce"})},
		{"missing uri", hdr([]string{"uri"})},
		{"missing response", hdr([]string{"response"})},
		{"empty username", hdr([]string{"username"}, `username=""`)},
		{"empty realm", hdr([]string{"realm"}, `realm=""`)},
		{"duplicate username", hdr(nil, `username="other"`)},
		{"duplicate differing case", hdr(nil, `Realm="MMS Public API"`)},
		{"duplicate unknown parameter", hdr(nil, `foo=1`, `FOO=2`)},
		{"unterminated quoted-string", hdr(nil, `opaque="abc`)},
		{"control character in quoted-string", hdr(nil, "opaque=\"a\x01b\"")},
		{"newline in quoted-string", hdr(nil, "opaque=\"a\nb\"")},
		{"DEL in quoted-string", hdr(nil, "opaque=\"a\x7fb\"")},
		{"backslash at end", hdr(nil, `opaque="abc\`)},
		{"quoted-pair with control character", hdr(nil, "opaque=\"a\\\x00\"")},
		{"no equals sign", hdr(nil, `opaque "x"`)},
		{"empty value", "Digest username=, " + strings.TrimPrefix(hdr([]string{"username"}), "Digest ")},
		{"space inside token value", hdr([]string{"username"}, `username=pub lic`)},
		{"missing comma", strings.Replace(hdr(nil), `"pub", `, `"pub" `, 1)},
		{"parameter name missing", hdr(nil, `="x"`)},
		{"bad character in name", hdr(nil, `a/b=1`)},
		{"trailing garbage", hdr(nil) + ` "x"`},
		{"qop auth-int", hdr([]string{"qop"}, `qop=auth-int`)},
		{"qop list", hdr([]string{"qop"}, `qop="auth,auth-int"`)},
		{"qop upper case", hdr([]string{"qop"}, `qop=AUTH`)},
		{"qop without nc", hdr([]string{"nc"})},
		{"qop without cnonce", hdr([]string{"cnonce"})},
		{"qop with empty cnonce", hdr([]string{"cnonce"}, `cnonce=""`)},
		{"nc 7 digits", hdr([]string{"nc"}, `nc=0000001`)},
		{"nc 9 digits", hdr([]string{"nc"}, `nc=000000001`)},
		{"nc upper-case hex", hdr([]string{"nc"}, `nc=0000000A`)},
		{"nc with 0x", hdr([]string{"nc"}, `nc=0x000001`)},
		{"nc not hex", hdr([]string{"nc"}, `nc=0000000g`)},
		{"nc without qop", hdr([]string{"qop", "cnonce"})},
		{"cnonce without qop", hdr([]string{"qop", "nc"})},
		{"MD5-sess", hdr([]string{"algorithm"}, `algorithm=MD5-sess`)},
		{"SHA-256-sess", hdr([]string{"algorithm"}, `algorithm=SHA-256-sess`)},
		{"SHA-512-256", hdr([]string{"algorithm"}, `algorithm=SHA-512-256`)},
		{"empty algorithm", hdr([]string{"algorithm"}, `algorithm=""`)},
		{"userhash true", hdr(nil, `userhash=true`)},
		{"userhash TRUE quoted", hdr(nil, `userhash="TRUE"`)},
		{"userhash invalid", hdr(nil, `userhash=maybe`)},
		{"username* extended notation", hdr([]string{"username"}, `username*=UTF-8''J%C3%A4s%C3%B8n`)},
		{"header too long", hdr(nil, `x="`+strings.Repeat("a", MaxDigestHeaderLen)+`"`)},
		{"quoted value too long", hdr(nil, `opaque="`+strings.Repeat("a", MaxDigestValueLen+1)+`"`)},
		{"escaped value too long", hdr(nil, `opaque="`+strings.Repeat(`\a`, MaxDigestValueLen+1)+`"`)},
		{"token value too long", hdr(nil, `opaque=`+strings.Repeat("a", MaxDigestValueLen+1))},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, err := ParseDigest(tt.header)
			if err == nil {
				t.Fatalf("ParseDigest(%q) = %+v, want error (%s)", tt.header, got, tt.reason)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseDigest(%q) error %v does not wrap ErrMalformed", tt.header, err)
			}
		})
	}
}

// RFC 7616 §3.9.1: user "Mufasa", password "Circle of Life", GET /dir/index.html.
func TestVerifyRFC7616Example(t *testing.T) {
	const (
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
		opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
		realm  = "http-auth@example.org"
	)
	tests := []struct {
		algorithm, response string
	}{
		{AlgorithmMD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{AlgorithmSHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.algorithm, func(t *testing.T) {
			header := `Digest username="Mufasa", realm="` + realm + `", uri="/dir/index.html", algorithm=` + tt.algorithm +
				`, nonce="` + nonce + `", nc=00000001, cnonce="` + cnonce + `", qop=auth, response="` + tt.response +
				`", opaque="` + opaque + `"`
			c, err := ParseDigest(header)
			if err != nil {
				t.Fatal(err)
			}
			ha1 := HA1(tt.algorithm, "Mufasa", realm, "Circle of Life")
			if !c.Verify("GET", ha1) {
				t.Errorf("Verify(GET) = false for the RFC example")
			}
			// Upper-case hex response is tolerated.
			up := c
			up.Response = strings.ToUpper(c.Response)
			if !up.Verify("GET", ha1) {
				t.Errorf("Verify with upper-case response = false")
			}
			// Anything that changes the digest input must fail.
			wrong := []struct {
				name   string
				c      DigestCredentials
				method string
				ha1    string
			}{
				{"method", c, "POST", ha1},
				{"password", c, "GET", HA1(tt.algorithm, "Mufasa", realm, "Circle of life")},
				{"empty ha1", c, "GET", ""},
				{"uri", with(c, func(c *DigestCredentials) { c.URI = "/dir/index.htm" }), "GET", ha1},
				{"nonce", with(c, func(c *DigestCredentials) { c.Nonce += "x" }), "GET", ha1},
				{"nc", with(c, func(c *DigestCredentials) { c.NC = 2 }), "GET", ha1},
				{"cnonce", with(c, func(c *DigestCredentials) { c.Cnonce = "x" }), "GET", ha1},
				{"no qop", with(c, func(c *DigestCredentials) { c.Qop = "" }), "GET", ha1},
				{"qop auth-int", with(c, func(c *DigestCredentials) { c.Qop = "auth-int" }), "GET", ha1},
				{"unknown algorithm", with(c, func(c *DigestCredentials) { c.Algorithm = "SHA-512" }), "GET", ha1},
				{"truncated response", with(c, func(c *DigestCredentials) { c.Response = c.Response[:10] }), "GET", ha1},
				{"empty response", with(c, func(c *DigestCredentials) { c.Response = "" }), "GET", ha1},
			}
			for _, w := range wrong {
				if w.c.Verify(w.method, w.ha1) {
					t.Errorf("Verify with wrong %s = true", w.name)
				}
			}
		})
	}
}

func with(c DigestCredentials, mod func(*DigestCredentials)) DigestCredentials {
	mod(&c)
	return c
}

func TestVerifyWithoutQop(t *testing.T) {
	// RFC 2617 §3.5 example without qop is not given; compute by hand:
	// response = MD5(HA1:nonce:HA2).
	ha1 := HA1("MD5", "u", Realm, "p")
	ha2 := hexHash(hashFunc("MD5"), "GET:/x")
	c := DigestCredentials{Username: "u", Realm: Realm, Nonce: "n", URI: "/x", Algorithm: "MD5",
		Response: hexHash(hashFunc("MD5"), ha1+":n:"+ha2)}
	if !c.Verify("GET", ha1) {
		t.Error("Verify without qop = false")
	}
}

func TestHA1(t *testing.T) {
	tests := []struct {
		algorithm, want string
	}{
		// RFC 7616 §3.9.1 HA1 values are not printed; these are computed with
		// md5sum / sha256sum of "Mufasa:http-auth@example.org:Circle of Life".
		{"MD5", "3d78807defe7de2157e2b0b6573a855f"},
		{"md5", "3d78807defe7de2157e2b0b6573a855f"},
		{"", "3d78807defe7de2157e2b0b6573a855f"},
		{"SHA-256", "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"},
		{"sha-256", "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"},
		{"SHA-512-256", ""},
		{"MD5-sess", ""},
	}
	for _, tt := range tests {
		if got := HA1(tt.algorithm, "Mufasa", "http-auth@example.org", "Circle of Life"); got != tt.want {
			t.Errorf("HA1(%q) = %q, want %q", tt.algorithm, got, tt.want)
		}
	}
}
