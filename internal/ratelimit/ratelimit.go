// Package ratelimit implements Atlas's token-bucket rate limits: each
// endpoint set has a capacity and a refill rate per scope (a project, an
// organization or a client address). It keeps its buckets in process memory.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Rule is one endpoint set's limit.
type Rule struct {
	// Name is the endpoint set, as Atlas names it ("Database Users").
	Name string
	// Capacity is the most requests a full bucket allows at once.
	Capacity int
	// Refill tokens come back every Period.
	Refill int
	Period time.Duration
}

// Decision is the outcome of one request against a rule.
type Decision struct {
	Allowed bool
	// Remaining is the whole tokens left after this request.
	Remaining int
	// RetryAfter is how long until a token is back when not allowed.
	RetryAfter time.Duration
}

// maxBuckets bounds memory: past it, buckets that have refilled completely
// (and so carry no information) are dropped.
const maxBuckets = 1 << 16

type bucket struct {
	tokens float64
	last   time.Time
}

// Limiter holds the buckets of one rule. It is safe for concurrent use.
type Limiter struct {
	rule Rule
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// New returns a limiter for rule; now is the clock (nil: time.Now). A rule
// with zero capacity allows everything.
func New(rule Rule, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rule: rule, now: now, buckets: make(map[string]*bucket)}
}

// Rule returns the limiter's rule.
func (l *Limiter) Rule() Rule { return l.rule }

// Take spends one token of scope's bucket.
func (l *Limiter) Take(scope string) Decision {
	return l.take(scope, 1)
}

// Peek reports whether scope has a token left without spending one.
func (l *Limiter) Peek(scope string) Decision {
	return l.take(scope, 0)
}

func (l *Limiter) take(scope string, cost float64) Decision {
	r := l.rule
	if r.Capacity <= 0 {
		return Decision{Allowed: true, Remaining: math.MaxInt32}
	}
	now := l.now()
	rate := float64(r.Refill) / r.Period.Seconds() // tokens per second
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[scope]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now, rate)
		}
		b = &bucket{tokens: float64(r.Capacity), last: now}
		l.buckets[scope] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(r.Capacity), b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		return Decision{Allowed: false, Remaining: 0, RetryAfter: wait}
	}
	b.tokens -= cost
	return Decision{Allowed: true, Remaining: int(b.tokens)}
}

// sweepLocked drops buckets that have refilled completely by now.
func (l *Limiter) sweepLocked(now time.Time, rate float64) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= float64(l.rule.Capacity) {
			delete(l.buckets, k)
		}
	}
}
