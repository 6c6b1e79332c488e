package httpapi

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/audit"
)

// ConsoleGate is what the web console shares with the API it is served
// beside: the client address as the API sees it (trusted proxies), the
// failed-authentication limit per address, the per-project rate limits,
// the access log's principal and the audit trail. The console is mounted
// by Options.Console under /console/, behind the API's middleware.
type ConsoleGate struct{ s *server }

// RateSet names a per-project rate limit of the API that a console action
// spends, like the API route doing the same.
type RateSet string

// The rate limits the console spends.
const (
	RateDatabaseUsers RateSet = setDatabaseUsers
	RateX509          RateSet = setX509
)

// ClientAddr is the address the request came from.
func (g ConsoleGate) ClientAddr(r *http.Request) netip.Addr {
	a, _ := netip.ParseAddr(logState(r).source)
	return a
}

// SignInBlocked reports whether the client's address has failed to
// authenticate too often (on the API or the console) and, if so, when it
// may try again.
func (g ConsoleGate) SignInBlocked(r *http.Request) (time.Duration, bool) {
	d := g.s.guard.authFailures.Peek(failureScope(logState(r).source))
	return d.RetryAfter, !d.Allowed
}

// SignInFailed counts a failed sign-in against the client's address.
func (g ConsoleGate) SignInFailed(r *http.Request) {
	logState(r).presented = true
	g.s.guard.authFailures.Take(failureScope(logState(r).source))
}

// RateLimited spends a token of the project's bucket of set for a caller
// that reaches the project, and returns the Atlas 429 error when it is
// empty.
func (g ConsoleGate) RateLimited(w http.ResponseWriter, r *http.Request, p atlasx509.Principal, set RateSet, groupID string) error {
	if !g.s.guard.limited(rateSet(set)) || !g.s.app.ReachesProject(r.Context(), p, groupID) {
		return nil
	}
	return g.s.guard.rateLimit(w, r, rateSet(set), groupID)
}

// Begin names the request's principal and operation in the access log
// and, for a change (a method other than GET and HEAD), writes the audit
// intent; the middleware writes the outcome. An error means the audit
// trail is unavailable: the change must not run.
func (g ConsoleGate) Begin(r *http.Request, p atlasx509.Principal, op string, groupID string) error {
	rl := logState(r)
	rl.principal, rl.principalKind, rl.op, rl.presented, rl.groupID = p.ID, p.Kind.String(), op, true, groupID
	if !privileged(r.Method) {
		return nil
	}
	ev := audit.Event{RequestID: rl.id, Principal: p.ID, PrincipalKind: rl.principalKind, Operation: op,
		Method: r.Method, Path: r.URL.Path, GroupID: groupID, OrgID: p.OrgID, Source: rl.source}
	if err := g.s.guard.audit.Intent(ev); err != nil {
		return &atlasx509.Error{Kind: atlasx509.KindInternal, Err: err}
	}
	rl.intent = true
	return nil
}
