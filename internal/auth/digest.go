package auth

import (
	"crypto/md5" //nolint:gosec // MD5 is mandated by HTTP Digest (RFC 7616) as used by Atlas API keys.
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Realm is the Digest realm used by the Atlas Administration API. It is part
// of every stored HA1 value, so it must never change.
const Realm = "MMS Public API"

// Digest algorithm names, as they appear in the algorithm parameter and as
// stored in [DigestCredentials.Algorithm] after [ParseDigest].
const (
	AlgorithmMD5    = "MD5"
	AlgorithmSHA256 = "SHA-256"
)

// QopAuth is the only quality-of-protection value the server offers and
// accepts.
const QopAuth = "auth"

const (
	// MaxDigestHeaderLen is the largest Authorization header value
	// [ParseDigest] accepts, in bytes.
	MaxDigestHeaderLen = 4096
	// MaxDigestValueLen is the largest single (unescaped) parameter value
	// [ParseDigest] accepts, in bytes.
	MaxDigestValueLen = 1024
)

// ErrMalformed is the sentinel wrapped by every [ParseDigest] error. The
// wrapping error's text carries the detail (for logs, not for clients).
var ErrMalformed = errors.New("auth: malformed Digest authorization")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Challenge returns the value of the WWW-Authenticate header for a 401
// response, exactly in the form real Atlas sends:
//
//	Digest realm="MMS Public API", domain="", nonce="<nonce>", algorithm=MD5, qop="auth", stale=false
//
// with stale=true when stale is set (the client's nonce was authentic but
// expired). The official client (github.com/mongodb-forks/digest) splits this
// value on ", " and strips '"', so nonce must not contain `"` or ", "; values
// from [Nonces.New] never do.
func Challenge(nonce string, stale bool) string {
	return `Digest realm="` + Realm + `", domain="", nonce="` + nonce +
		`", algorithm=MD5, qop="auth", stale=` + strconv.FormatBool(stale)
}

// DigestCredentials is a parsed "Authorization: Digest ..." header
// (RFC 7616 §3.4).
type DigestCredentials struct {
	// Username is the API key's public key.
	Username string
	// Realm is the realm the client hashed into HA1; it should equal [Realm].
	Realm string
	// Nonce is the server nonce the client answers; check it with
	// [Nonces.Check].
	Nonce string
	// URI is the request target the client hashed (path and query as sent);
	// the caller must check it against the request's RequestURI.
	URI string
	// Response is the client's digest (hex, as sent).
	Response string
	// Algorithm is [AlgorithmMD5] or [AlgorithmSHA256] (canonical spelling;
	// MD5 when the client omitted it).
	Algorithm string
	// Cnonce is the client nonce; set exactly when Qop is set.
	Cnonce string
	// Qop is "" (RFC 2069 compatibility mode) or [QopAuth].
	Qop string
	// Opaque is echoed from the challenge; the server sends none, so it is
	// normally empty. It is not checked.
	Opaque string
	// NC is the nonce count; 0 when Qop is empty.
	NC uint32
	// UserHash reports userhash=true. ParseDigest rejects userhashed
	// usernames, so it is always false after a successful parse.
	UserHash bool
}

// Parameter bits for duplicate detection of the known parameters.
const (
	pUsername = 1 << iota
	pUsernameStar
	pRealm
	pNonce
	pURI
	pResponse
	pAlgorithm
	pCnonce
	pOpaque
	pQop
	pNC
	pUserhash
)

// ParseDigest parses the value of an "Authorization: Digest ..." header
// following the RFC 7235 credentials / auth-param grammar and the RFC 7616
// §3.4 rules:
//
//   - the scheme "Digest" is matched case-insensitively and must be followed
//     by at least one space;
//   - parameters are token=token or token=quoted-string (with backslash
//     quoted-pairs), separated by commas with optional whitespace (empty list
//     elements are tolerated, as RFC 7230 §7 requires); names are
//     case-insensitive and must not repeat; unknown parameters are ignored
//     (RFC 7616 §3.4) but still syntax-checked;
//   - username, realm, nonce, uri and response are required and non-empty;
//   - algorithm is MD5 (the default) or SHA-256, case-insensitively; the
//     "-sess" variants and others are rejected;
//   - qop, when present, must be "auth", and then nc (exactly 8 lower-case
//     hex digits) and cnonce are required; without qop, nc and cnonce must
//     be absent;
//   - userhash=true and username* are not supported.
//
// Headers longer than [MaxDigestHeaderLen] or with a value longer than
// [MaxDigestValueLen] are rejected. Every error wraps [ErrMalformed].
// ParseDigest never panics.
func ParseDigest(header string) (DigestCredentials, error) {
	var c DigestCredentials
	if len(header) > MaxDigestHeaderLen {
		return c, malformed("header is %d bytes, limit %d", len(header), MaxDigestHeaderLen)
	}
	s := trimOWS(header)
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if !strings.EqualFold(s[:i], "Digest") {
		return c, malformed("scheme is not Digest")
	}
	if i == len(s) || s[i] != ' ' {
		return c, malformed("no parameters after scheme")
	}

	var (
		seen     uint
		unknown  []string
		nc       string
		algo     string
		userhash string
		hasAlgo  bool
	)
	p := s[i:]
	for {
		p = trimLeftOWS(p)
		if p == "" {
			break
		}
		if p[0] == ',' { // empty list element
			p = p[1:]
			continue
		}
		n := 0
		for n < len(p) && isTchar(p[n]) {
			n++
		}
		if n == 0 {
			return c, malformed("invalid character %q where a parameter name was expected", p[0])
		}
		name := p[:n]
		p = trimLeftOWS(p[n:])
		if p == "" || p[0] != '=' {
			return c, malformed("parameter %q has no '='", name)
		}
		p = trimLeftOWS(p[1:])
		var (
			val string
			err error
		)
		if p != "" && p[0] == '"' {
			val, p, err = parseQuoted(p)
			if err != nil {
				return c, err
			}
		} else {
			n = 0
			for n < len(p) && isTchar(p[n]) {
				n++
			}
			if n == 0 {
				return c, malformed("parameter %q has no value", name)
			}
			val, p = p[:n], p[n:]
		}
		if len(val) > MaxDigestValueLen {
			return c, malformed("parameter %q is %d bytes, limit %d", name, len(val), MaxDigestValueLen)
		}
		p = trimLeftOWS(p)
		if p != "" {
			if p[0] != ',' {
				return c, malformed("expected ',' after parameter %q", name)
			}
			p = p[1:]
		}

		var bit uint
		var dst *string
		switch strings.ToLower(name) {
		case "username":
			bit, dst = pUsername, &c.Username
		case "username*":
			bit = pUsernameStar
		case "realm":
			bit, dst = pRealm, &c.Realm
		case "nonce":
			bit, dst = pNonce, &c.Nonce
		case "uri":
			bit, dst = pURI, &c.URI
		case "response":
			bit, dst = pResponse, &c.Response
		case "algorithm":
			bit, dst, hasAlgo = pAlgorithm, &algo, true
		case "cnonce":
			bit, dst = pCnonce, &c.Cnonce
		case "opaque":
			bit, dst = pOpaque, &c.Opaque
		case "qop":
			bit, dst = pQop, &c.Qop
		case "nc":
			bit, dst = pNC, &nc
		case "userhash":
			bit, dst = pUserhash, &userhash
		default:
			for _, u := range unknown {
				if strings.EqualFold(u, name) {
					return c, malformed("duplicate parameter %q", name)
				}
			}
			unknown = append(unknown, name)
			continue
		}
		if seen&bit != 0 {
			return c, malformed("duplicate parameter %q", name)
		}
		seen |= bit
		if dst != nil {
			*dst = val
		}
	}

	switch {
	case seen&pUsernameStar != 0:
		return c, malformed("username* (extended notation) is not supported")
	case c.Username == "":
		return c, malformed("missing username")
	case c.Realm == "":
		return c, malformed("missing realm")
	case c.Nonce == "":
		return c, malformed("missing nonce")
	case c.URI == "":
		return c, malformed("missing uri")
	case c.Response == "":
		return c, malformed("missing response")
	}

	switch {
	case !hasAlgo, strings.EqualFold(algo, AlgorithmMD5):
		c.Algorithm = AlgorithmMD5
	case strings.EqualFold(algo, AlgorithmSHA256):
		c.Algorithm = AlgorithmSHA256
	default:
		return c, malformed("unsupported algorithm %q", algo)
	}

	if seen&pUserhash != 0 {
		switch {
		case strings.EqualFold(userhash, "false"):
		case strings.EqualFold(userhash, "true"):
			return c, malformed("userhash is not supported")
		default:
			return c, malformed("invalid userhash %q", userhash)
		}
	}

	if seen&pQop != 0 {
		if c.Qop != QopAuth {
			return c, malformed("unsupported qop %q", c.Qop)
		}
		if seen&pNC == 0 {
			return c, malformed("qop without nc")
		}
		if c.Cnonce == "" {
			return c, malformed("qop without cnonce")
		}
		v, ok := parseNC(nc)
		if !ok {
			return c, malformed("nc %q is not 8 lower-case hex digits", nc)
		}
		c.NC = v
	} else if seen&(pNC|pCnonce) != 0 {
		return c, malformed("nc or cnonce without qop")
	}
	return c, nil
}

// parseQuoted parses a quoted-string at the start of p (which begins with
// '"'), returning the unescaped value and the rest of p.
func parseQuoted(p string) (val, rest string, err error) {
	// Fast path: no quoted-pairs.
	for i := 1; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '"':
			return p[1:i], p[i+1:], nil
		case ch == '\\':
			return parseQuotedSlow(p)
		case !isQdtext(ch):
			return "", "", malformed("invalid character %q in quoted-string", ch)
		}
	}
	return "", "", malformed("unterminated quoted-string")
}

func parseQuotedSlow(p string) (val, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '"':
			return b.String(), p[i+1:], nil
		case ch == '\\':
			i++
			if i == len(p) {
				return "", "", malformed("unterminated quoted-pair")
			}
			ch = p[i]
			if ch != '\t' && ch != ' ' && (ch < 0x21 || ch == 0x7f) {
				return "", "", malformed("invalid quoted-pair character %q", ch)
			}
			b.WriteByte(ch)
		case !isQdtext(ch):
			return "", "", malformed("invalid character %q in quoted-string", ch)
		default:
			b.WriteByte(ch)
		}
		if b.Len() > MaxDigestValueLen {
			return "", "", malformed("quoted-string longer than %d bytes", MaxDigestValueLen)
		}
	}
	return "", "", malformed("unterminated quoted-string")
}

// isQdtext reports RFC 7230 qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
func isQdtext(ch byte) bool {
	return ch == '\t' || ch == ' ' || ch == 0x21 ||
		(ch >= 0x23 && ch <= 0x5b) || (ch >= 0x5d && ch <= 0x7e) || ch >= 0x80
}

// isTchar reports RFC 7230 tchar.
func isTchar(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0
}

func trimLeftOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func trimOWS(s string) string {
	s = trimLeftOWS(s)
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseNC parses nc-value = 8LHEX.
func parseNC(s string) (uint32, bool) {
	if len(s) != 8 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		ch := s[i]
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

func hashFunc(algorithm string) func() hash.Hash {
	switch {
	case algorithm == "", strings.EqualFold(algorithm, AlgorithmMD5):
		return md5.New
	case strings.EqualFold(algorithm, AlgorithmSHA256):
		return sha256.New
	}
	return nil
}

// hexHash returns lower hex of H(parts joined without separator).
func hexHash(newHash func() hash.Hash, parts ...string) string {
	h := newHash()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// HA1 returns lower hex of H(username ":" realm ":" password) for algorithm
// [AlgorithmMD5] (also selected by "") or [AlgorithmSHA256], matched
// case-insensitively. This is the value a server stores per API key and
// algorithm instead of the private key. For any other algorithm it returns "".
func HA1(algorithm, username, realm, password string) string {
	newHash := hashFunc(algorithm)
	if newHash == nil {
		return ""
	}
	return hexHash(newHash, username, ":", realm, ":", password)
}

// Verify reports whether the credentials' response is correct for a request
// with the given method, given ha1, the stored [HA1] value for c.Username,
// [Realm] and c.Algorithm. With qop=auth the expected response is
// KD(HA1, nonce:nc:cnonce:qop:HA2), without qop KD(HA1, nonce:HA2), where
// HA2 = H(method:uri) (RFC 7616 §3.4.1). The comparison is constant-time.
//
// Verify checks only the digest: the caller must separately check c.Realm,
// that c.URI matches the request target, and the nonce ([Nonces.Check] before,
// [Nonces.Accept] after). An empty ha1 never verifies.
func (c DigestCredentials) Verify(method, ha1 string) bool {
	newHash := hashFunc(c.Algorithm)
	if newHash == nil || ha1 == "" || c.Response == "" {
		return false
	}
	ha2 := hexHash(newHash, method, ":", c.URI)
	var expected string
	switch c.Qop {
	case QopAuth:
		var nc [8]byte
		hex.Encode(nc[:], []byte{byte(c.NC >> 24), byte(c.NC >> 16), byte(c.NC >> 8), byte(c.NC)})
		expected = hexHash(newHash, ha1, ":", c.Nonce, ":", string(nc[:]), ":", c.Cnonce, ":", c.Qop, ":", ha2)
	case "":
		expected = hexHash(newHash, ha1, ":", c.Nonce, ":", ha2)
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(expected), []byte(strings.ToLower(c.Response))) == 1
}
