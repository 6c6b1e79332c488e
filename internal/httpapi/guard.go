package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/audit"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
)

// rateSet names an endpoint set of Atlas's rate limits: the routes of a set
// share one token bucket per project.
type rateSet string

// The endpoint sets that atlasx509 serves (each also the name of its rule),
// and noRateLimit for a route outside every set.
const (
	setDatabaseUsers = "Database Users"
	setX509          = "X509 Authentication"
	noRateLimit      = "none"
)

// Limits are the rate limits of the API. The zero Rule of a set disables it.
type Limits struct {
	DatabaseUsers ratelimit.Rule // scope: project
	X509          ratelimit.Rule // scope: project
	// AuthFailures bounds failed authentications per client address, so that
	// secrets cannot be guessed quickly.
	AuthFailures ratelimit.Rule
	// TokenMints bounds the access tokens a service account mints, per
	// client id, charged only once the client has authenticated.
	TokenMints ratelimit.Rule
}

// DefaultLimits are Atlas's published defaults, 20 failed authentications
// a minute per address and 60 token mints per client (refilled one a minute:
// Atlas's clients mint one token an hour).
func DefaultLimits() Limits {
	return Limits{
		DatabaseUsers: ratelimit.Rule{Name: setDatabaseUsers, Capacity: 10000, Refill: 5000, Period: time.Minute},
		X509:          ratelimit.Rule{Name: setX509, Capacity: 1200, Refill: 500, Period: time.Minute},
		AuthFailures:  ratelimit.Rule{Name: "Authentication failures", Capacity: 20, Refill: 20, Period: time.Minute},
		TokenMints:    ratelimit.Rule{Name: "Token mints", Capacity: 60, Refill: 1, Period: time.Minute},
	}
}

// guard holds what every authenticated request passes through after its
// credentials: the access list, the rate limits and the audit trail.
type guard struct {
	trusted      []netip.Prefix
	limiters     map[rateSet]*ratelimit.Limiter
	authFailures *ratelimit.Limiter
	tokenMints   *ratelimit.Limiter
	audit        *audit.Log
}

func newGuard(opts Options) *guard {
	l := opts.Limits
	return &guard{
		trusted: opts.TrustedProxies,
		limiters: map[rateSet]*ratelimit.Limiter{
			setDatabaseUsers: ratelimit.New(l.DatabaseUsers, nil),
			setX509:          ratelimit.New(l.X509, nil),
		},
		authFailures: ratelimit.New(l.AuthFailures, nil),
		tokenMints:   ratelimit.New(l.TokenMints, nil),
		audit:        opts.Audit,
	}
}

// clientAddr is the address of the client: the connection's peer, or, when
// that peer is a trusted proxy, the nearest address in X-Forwarded-For that
// is not a trusted proxy.
func (g *guard) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !g.isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a malformed chain: trust nothing beyond the proxy
		}
		hop = hop.Unmap()
		if !g.isTrusted(hop) {
			return hop
		}
		addr = hop
	}
	return addr
}

func (g *guard) isTrusted(a netip.Addr) bool {
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limited reports whether the endpoint set has a rate limit in force.
func (g *guard) limited(set rateSet) bool {
	l := g.limiters[set]
	return set != noRateLimit && l != nil && l.Rule().Capacity > 0
}

// rateLimit spends a token of the route's endpoint set for scope and sets
// Atlas's RateLimit headers; it returns the 429 error when the bucket is empty.
func (g *guard) rateLimit(w http.ResponseWriter, r *http.Request, set rateSet, scope string) error {
	l := g.limiters[set]
	if l == nil || l.Rule().Capacity <= 0 {
		return nil
	}
	d := l.Take(string(set) + "|" + scope)
	rule := l.Rule()
	w.Header().Set("RateLimit-Limit", strconv.Itoa(rule.Capacity))
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	if d.Allowed {
		return nil
	}
	return tooManyRequests(w, r.URL.Path, rule, d)
}

func tooManyRequests(w http.ResponseWriter, path string, rule ratelimit.Rule, d ratelimit.Decision) error {
	retry := int(math.Ceil(d.RetryAfter.Seconds()))
	if retry < 1 {
		retry = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	period := int(rule.Period / time.Second)
	return app.ErrRateLimited(strings.TrimPrefix(path, "/"), retry, rule.Capacity, rule.Refill, period)
}

// notOnAccessList is the 403 of a credential used from outside its access list.
func notOnAccessList(addr netip.Addr) error {
	return app.ErrNotOnAccessList(addr.String())
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// privileged reports whether a request changes something and so is audited
// before and after it runs.
func privileged(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// failureScope is the bucket of failed authentications a client address
// counts against: the address itself for IPv4, its /64 for IPv6, since one
// host usually holds a whole /64 and could rotate through it.
func failureScope(source string) string {
	addr, err := netip.ParseAddr(source)
	if err != nil || !addr.Is6() || addr.Is4In6() {
		return source
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
