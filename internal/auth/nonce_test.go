package auth

import (
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testNonceKey = []byte("nonce-key-0123456789abcdef012345")

func TestNonceFormat(t *testing.T) {
	n := NewNonces(testNonceKey, 0, nil)
	seen := map[string]bool{}
	for range 1000 {
		s := n.New()
		if len(s) != 43 {
			t.Fatalf("nonce %q has length %d, want 43", s, len(s))
		}
		if strings.ContainsAny(s, "\", =") {
			t.Fatalf("nonce %q contains a forbidden character", s)
		}
		if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
			t.Fatalf("nonce %q: %v", s, err)
		}
		if seen[s] {
			t.Fatalf("duplicate nonce %q", s)
		}
		seen[s] = true
		if st := n.Check(s); st != NonceValid {
			t.Fatalf("Check(New()) = %v", st)
		}
	}
	if n.ttl != DefaultNonceTTL {
		t.Errorf("ttl = %v, want DefaultNonceTTL", n.ttl)
	}
}

func TestNonceCheck(t *testing.T) {
	const ttl = time.Minute
	clock := newFakeClock()
	n := NewNonces(testNonceKey, ttl, clock.Now)
	nonce := n.New()

	tamper := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	ahead := newFakeClock()
	ahead.Add(MaxNonceClockSkew + time.Second)
	future := NewNonces(testNonceKey, ttl, ahead.Now).New()
	slightlyAhead := newFakeClock()
	slightlyAhead.Add(MaxNonceClockSkew - time.Second)
	nearFuture := NewNonces(testNonceKey, ttl, slightlyAhead.Now).New()

	tests := []struct {
		name    string
		nonce   string
		advance time.Duration // clock advance before Check (cumulative)
		want    NonceStatus
	}{
		{"fresh", nonce, 0, NonceValid},
		{"tampered timestamp", tamper(nonce, 3), 0, NonceInvalid},
		{"tampered random", tamper(nonce, 15), 0, NonceInvalid},
		{"tampered mac", tamper(nonce, 30), 0, NonceInvalid},
		{"tampered last char", tamper(nonce, 42), 0, NonceInvalid},
		{"wrong key", NewNonces([]byte("other key"), ttl, clock.Now).New(), 0, NonceInvalid},
		{"empty", "", 0, NonceInvalid},
		{"truncated", nonce[:42], 0, NonceInvalid},
		{"extended", nonce + "A", 0, NonceInvalid},
		{"std base64 alphabet", nonce[:5] + "+" + nonce[6:], 0, NonceInvalid},
		{"newline inside", nonce[:20] + "\n" + nonce[21:], 0, NonceInvalid},
		{"padding char", nonce[:42] + "=", 0, NonceInvalid},
		{"garbage of right length", strings.Repeat("A", 43), 0, NonceInvalid},
		{"from the near future", nearFuture, 0, NonceValid},
		{"from the far future", future, 0, NonceStale},
		{"at ttl", nonce, ttl, NonceValid},
		{"past ttl", nonce, time.Nanosecond, NonceStale},
		{"tampered and past ttl", tamper(nonce, 15), 0, NonceInvalid},
	}
	for _, tt := range tests {
		clock.Add(tt.advance)
		if got := n.Check(tt.nonce); got != tt.want {
			t.Errorf("%s: Check(%q) = %v, want %v", tt.name, tt.nonce, got, tt.want)
		}
	}
}

func TestNonceAccept(t *testing.T) {
	clock := newFakeClock()
	n := NewNonces(testNonceKey, time.Minute, clock.Now)
	a, b := n.New(), n.New()
	steps := []struct {
		nonce string
		nc    uint32
		want  bool
	}{
		{a, 1, true},
		{a, 1, false}, // replay, same nc
		{a, 0, false}, // lower nc
		{a, 2, true},  // higher nc
		{a, 5, true},  // gaps are fine
		{a, 3, false}, // lower than the highest seen
		{b, 0, true},  // no-qop: nc 0, usable once
		{b, 0, false},
		{"not-a-nonce", 1, false},
		{NewNonces([]byte("x"), time.Minute, clock.Now).New(), 1, false},
	}
	for i, s := range steps {
		if got := n.Accept(s.nonce, s.nc); got != s.want {
			t.Errorf("step %d: Accept(%q, %d) = %v, want %v", i, s.nonce, s.nc, got, s.want)
		}
	}
	if got := n.ledgerLen(); got != 2 {
		t.Errorf("ledger has %d entries, want 2", got)
	}
	// Expired nonces are neither accepted nor kept.
	clock.Add(time.Minute + time.Nanosecond)
	if n.Accept(a, 6) {
		t.Error("Accept of an expired nonce = true")
	}
	if st := n.Check(a); st != NonceStale {
		t.Errorf("Check of expired nonce = %v", st)
	}
	clock.Add(time.Minute) // past ttl + bucket width: the bucket is swept
	n.Check(n.New())
	if got := n.ledgerLen(); got != 0 {
		t.Errorf("after expiry the ledger has %d entries, want 0", got)
	}
}

func TestNonceClockStepBack(t *testing.T) {
	clock := newFakeClock()
	n := NewNonces(testNonceKey, time.Minute, clock.Now)
	a := n.New()
	if !n.Accept(a, 1) {
		t.Fatal("Accept = false")
	}
	clock.Add(3 * time.Minute)
	n.Check(a) // sweeps a's bucket
	if n.ledgerLen() != 0 {
		t.Fatalf("ledger not swept")
	}
	clock.Add(-3 * time.Minute) // wall clock steps back
	if n.Accept(a, 1) {
		t.Error("replay accepted after the clock stepped back past a sweep")
	}
	if st := n.Check(a); st != NonceStale {
		t.Errorf("Check after step back = %v, want stale", st)
	}
}

func TestNonceLedgerBound(t *testing.T) {
	clock := newFakeClock()
	n := NewNonces(testNonceKey, time.Minute, clock.Now)
	n.maxEntries = 3
	var accepted []string
	for range 3 {
		s := n.New()
		if !n.Accept(s, 1) {
			t.Fatal("Accept = false below the bound")
		}
		accepted = append(accepted, s)
	}
	extra := n.New()
	if st := n.Check(extra); st != NonceStale {
		t.Errorf("Check of a new nonce with a full ledger = %v, want stale", st)
	}
	if n.Accept(extra, 1) {
		t.Error("Accept of a new nonce with a full ledger = true")
	}
	// Nonces already in the ledger keep working.
	if st := n.Check(accepted[0]); st != NonceValid {
		t.Errorf("Check of a recorded nonce with a full ledger = %v", st)
	}
	if !n.Accept(accepted[0], 2) {
		t.Error("Accept of a recorded nonce with higher nc and a full ledger = false")
	}
	if n.Accept(accepted[1], 1) {
		t.Error("replay accepted with a full ledger")
	}
	if got := n.ledgerLen(); got != 3 {
		t.Errorf("ledger has %d entries, want 3", got)
	}
	// Once the entries expire there is room again.
	clock.Add(2*time.Minute + MaxNonceClockSkew)
	fresh := n.New()
	if st := n.Check(fresh); st != NonceValid {
		t.Errorf("Check after expiry = %v, want valid", st)
	}
	if !n.Accept(fresh, 1) {
		t.Error("Accept after expiry = false")
	}
	if got := n.ledgerLen(); got != 1 {
		t.Errorf("ledger has %d entries, want 1", got)
	}
}

func TestNonceSweepKeepsLiveEntries(t *testing.T) {
	clock := newFakeClock()
	const ttl = time.Minute
	n := NewNonces(testNonceKey, ttl, clock.Now)
	// Accept one nonce every 5 s for 3 minutes, checking after each step that
	// every nonce younger than ttl is still recorded (a replay is refused)
	// and the ledger holds no more than the live window plus one bucket.
	type rec struct {
		nonce  string
		issued time.Time
	}
	var all []rec
	for range 36 {
		s := n.New()
		if !n.Accept(s, 1) {
			t.Fatal("Accept = false")
		}
		all = append(all, rec{s, clock.Now()})
		for _, r := range all {
			if clock.Now().Sub(r.issued) <= ttl && n.Accept(r.nonce, 1) {
				t.Fatalf("live nonce replay accepted")
			}
		}
		clock.Add(5 * time.Second)
	}
	maxLive := int((ttl+time.Duration(n.width))/(5*time.Second)) + 2
	if got := n.ledgerLen(); got > maxLive {
		t.Errorf("ledger holds %d entries, want <= %d", got, maxLive)
	}
}

func TestNoncePanicsOnEmptyKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewNonces(nil) did not panic")
		}
	}()
	NewNonces(nil, 0, nil)
}

func TestNonceKeyIsCopied(t *testing.T) {
	key := []byte("0123456789abcdef")
	n := NewNonces(key, 0, nil)
	s := n.New()
	key[0] = 'X'
	if st := n.Check(s); st != NonceValid {
		t.Errorf("Check after caller mutated key = %v", st)
	}
}

func TestNonceStatusString(t *testing.T) {
	for st, want := range map[NonceStatus]string{
		NonceInvalid: "invalid", NonceValid: "valid", NonceStale: "stale", NonceReplayed: "replayed", 42: "NonceStatus(unknown)",
	} {
		if got := st.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(st), got, want)
		}
	}
}

func TestNonceConcurrent(t *testing.T) {
	clock := newFakeClock()
	n := NewNonces(testNonceKey, time.Minute, clock.Now)
	shared := n.New()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n.Accept(shared, 1) {
				wins.Add(1)
			}
			for i := range 300 {
				if g == 0 && i%50 == 0 {
					clock.Add(10 * time.Second) // drive sweeps concurrently
				}
				s := n.New()
				if st := n.Check(s); st != NonceValid {
					t.Errorf("Check = %v", st)
					return
				}
				if !n.Accept(s, 1) {
					t.Error("first Accept = false")
					return
				}
				if n.Accept(s, 1) {
					t.Error("replay Accept = true")
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("%d goroutines accepted the same nonce and nc, want 1", got)
	}
}

// TestNonceLedgerBudgetPerCredential: one credential that fills its budget
// of the ledger cannot starve another; its own new nonces are answered
// stale until its entries expire.
func TestNonceLedgerBudgetPerCredential(t *testing.T) {
	clock := newFakeClock()
	n := NewNonces(testNonceKey, time.Minute, clock.Now)
	n.maxEntries, n.maxPerOwner = 6, 3
	var first string
	for i := range 3 {
		s := n.New()
		if i == 0 {
			first = s
		}
		if st := n.AcceptFor(s, 1, "greedy"); st != NonceValid {
			t.Fatalf("greedy nonce %d = %v", i, st)
		}
	}
	if st := n.AcceptFor(n.New(), 1, "greedy"); st != NonceStale {
		t.Errorf("past its budget = %v, want stale", st)
	}
	if st := n.AcceptFor(first, 2, "greedy"); st != NonceValid {
		t.Errorf("a recorded nonce past the budget = %v, want valid", st)
	}
	if st := n.AcceptFor(first, 2, "greedy"); st != NonceReplayed {
		t.Errorf("a replay = %v, want replayed", st)
	}
	for i := range 3 {
		if st := n.AcceptFor(n.New(), 1, "other"); st != NonceValid {
			t.Fatalf("the other credential's nonce %d = %v", i, st)
		}
	}
	clock.Add(2*time.Minute + MaxNonceClockSkew)
	if st := n.AcceptFor(n.New(), 1, "greedy"); st != NonceValid {
		t.Errorf("after expiry = %v, want valid", st)
	}
	if got := n.ledgerLen(); got != 1 {
		t.Errorf("ledger has %d entries, want 1", got)
	}
}
