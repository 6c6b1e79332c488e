package keypool

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// fakeKey is a cheap distinct key: tests compare pointers, never sign.
type fakeKey struct {
	t  pki.KeyType
	id int64
}

func (k *fakeKey) Public() crypto.PublicKey { return k.id }

func (k *fakeKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("fake key")
}

// counter is a Generate that makes fake keys and counts them per type.
type counter struct {
	mu    sync.Mutex
	next  int64
	calls map[pki.KeyType]int
}

func (c *counter) generate(t pki.KeyType) (crypto.Signer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = make(map[pki.KeyType]int)
	}
	c.next++
	c.calls[t]++
	return &fakeKey{t: t, id: c.next}, nil
}

func (c *counter) snapshot() map[pki.KeyType]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[pki.KeyType]int, len(c.calls))
	for t, n := range c.calls {
		out[t] = n
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// depths returns the pool depth per type.
func depths(p *Pool) map[pki.KeyType]int {
	out := make(map[pki.KeyType]int)
	for _, s := range p.Stats() {
		out[s.Type] = s.Depth
	}
	return out
}

func statsOf(tb testing.TB, p *Pool, t pki.KeyType) TypeStats {
	tb.Helper()
	for _, s := range p.Stats() {
		if s.Type == t {
			return s
		}
	}
	tb.Fatalf("no stats for %s", t)
	return TypeStats{}
}

// poolGoroutines counts the goroutines running code of a Pool (workers,
// the context watcher, inline generations); other tests' goroutines that
// are still exiting do not count.
func poolGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "keypool.(*Pool)") {
			n++
		}
	}
	return n
}

// waitNoPoolGoroutines waits until no goroutine runs pool code.
func waitNoPoolGoroutines(tb testing.TB) {
	tb.Helper()
	waitFor(tb, "the pool's goroutines to exit", 5*time.Second, func() bool { return poolGoroutines() == 0 })
}

func TestDefaultDepth(t *testing.T) {
	got := make(map[pki.KeyType]int)
	for _, kt := range append(pki.KeyTypes(), "DSA") {
		got[kt] = DefaultDepth(kt)
	}
	want := map[pki.KeyType]int{pki.RSA4096: 32, pki.RSA3072: 64, pki.RSA2048: 64, pki.ECDSAP256: 256, pki.ECDSAP384: 256, "DSA": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultDepth (-want +got):\n%s", diff)
	}
}

func TestRefillsToDepth(t *testing.T) {
	tests := []struct {
		name      string
		depth     map[pki.KeyType]int
		requested []pki.KeyType // one NewKey each, after Start
		want      map[pki.KeyType]int
	}{
		{
			name:  "listed types are warmed from Start",
			depth: map[pki.KeyType]int{pki.RSA4096: 5, pki.ECDSAP256: 3},
			want:  map[pki.KeyType]int{pki.RSA4096: 5, pki.ECDSAP256: 3},
		},
		{
			name:      "an unlisted type is warmed once requested, to its default depth",
			depth:     map[pki.KeyType]int{pki.RSA4096: 2},
			requested: []pki.KeyType{pki.ECDSAP384},
			want:      map[pki.KeyType]int{pki.RSA4096: 2, pki.ECDSAP384: 256},
		},
		{
			name:      "depth zero is never pooled",
			depth:     map[pki.KeyType]int{pki.RSA4096: 0, pki.RSA2048: 4},
			requested: []pki.KeyType{pki.RSA4096, pki.RSA2048},
			want:      map[pki.KeyType]int{pki.RSA4096: 0, pki.RSA2048: 4},
		},
		{
			name: "nothing requested, nothing listed, nothing generated",
			want: map[pki.KeyType]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &counter{}
			p := New(Config{Depth: tt.depth, Workers: 3, Generate: c.generate})
			defer p.Close()
			p.Start(context.Background())
			for _, kt := range tt.requested {
				if _, err := p.NewKey(context.Background(), kt); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "the pool to fill", 5*time.Second, func() bool { return cmp.Equal(tt.want, nonZero(depths(p), tt.want)) })
			// Once full, the workers stop generating.
			before := c.snapshot()
			time.Sleep(20 * time.Millisecond)
			if diff := cmp.Diff(before, c.snapshot()); diff != "" {
				t.Errorf("generated more keys once full (-before +after):\n%s", diff)
			}
			for _, s := range p.Stats() {
				if got, want := s.Generated, uint64(s.Depth+int(s.Hits)); s.Warm && got != want {
					t.Errorf("%s: Generated = %d, want depth+hits %d", s.Type, got, want)
				}
			}
		})
	}
}

// nonZero keeps the entries of got that want has or that are not zero, so
// that types known with depth zero compare equal to absent ones.
func nonZero(got, want map[pki.KeyType]int) map[pki.KeyType]int {
	out := make(map[pki.KeyType]int)
	for t, n := range got {
		if _, ok := want[t]; ok || n != 0 {
			out[t] = n
		}
	}
	return out
}

func TestNeverHandsOutAKeyTwice(t *testing.T) {
	c := &counter{}
	p := New(Config{Depth: map[pki.KeyType]int{pki.ECDSAP256: 8, pki.RSA2048: 4}, Workers: 4, Generate: c.generate})
	defer p.Close()
	p.Start(context.Background())

	const clients, each = 16, 300
	var mu sync.Mutex
	seen := make(map[crypto.Signer]bool)
	dup := 0
	var wg sync.WaitGroup
	for i := range clients {
		kt := pki.ECDSAP256
		if i%2 == 1 {
			kt = pki.RSA2048
		}
		wg.Go(func() {
			for range each {
				key, err := p.NewKey(context.Background(), kt)
				if err != nil {
					t.Error(err)
					return
				}
				if key.(*fakeKey).t != kt {
					t.Errorf("asked for %s, got a %s key", kt, key.(*fakeKey).t)
				}
				mu.Lock()
				if seen[key] {
					dup++
				}
				seen[key] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if dup != 0 {
		t.Errorf("%d keys were handed out twice", dup)
	}
	var served uint64
	for _, s := range p.Stats() {
		served += s.Hits + s.Misses
	}
	if served != clients*each {
		t.Errorf("hits+misses = %d, want %d", served, clients*each)
	}
}

func TestFallbackWhenEmpty(t *testing.T) {
	tests := []struct {
		name  string
		depth map[pki.KeyType]int
		start bool
	}{
		{name: "not started", depth: nil, start: false},
		{name: "depth zero", depth: map[pki.KeyType]int{pki.ECDSAP256: 0}, start: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &counter{}
			p := New(Config{Depth: tt.depth, Generate: c.generate})
			defer p.Close()
			if tt.start {
				p.Start(context.Background())
			}
			for range 3 {
				key, err := p.NewKey(context.Background(), pki.ECDSAP256)
				if err != nil || key == nil {
					t.Fatalf("NewKey = %v, %v; want a key", key, err)
				}
			}
			got := statsOf(t, p, pki.ECDSAP256)
			want := TypeStats{Type: pki.ECDSAP256, Target: DefaultDepth(pki.ECDSAP256), Warm: true, Misses: 3}
			if tt.depth != nil {
				want.Target, want.Warm = 0, false
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownKeyType(t *testing.T) {
	c := &counter{}
	p := New(Config{Generate: c.generate})
	defer p.Close()
	if _, err := p.NewKey(context.Background(), "DSA1024"); !errors.Is(err, pki.ErrKeyType) {
		t.Errorf("NewKey(DSA1024) error = %v, want pki.ErrKeyType", err)
	}
	if got := p.Stats(); len(got) != 0 {
		t.Errorf("Stats = %v, want nothing for an unknown type", got)
	}
}

func TestNewKeyContext(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	gen := func(t pki.KeyType) (crypto.Signer, error) {
		calls.Add(1)
		<-release
		return &fakeKey{t: t, id: 1}, nil
	}
	p := New(Config{Generate: gen}) // not started: every key is inline
	defer p.Close()

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.NewKey(done, pki.RSA4096); !errors.Is(err, context.Canceled) {
		t.Fatalf("NewKey on a done context: error = %v, want context.Canceled", err)
	}
	if calls.Load() != 0 {
		t.Fatalf("a done context still generated a key")
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.NewKey(ctx, pki.RSA4096)
		errc <- err
	}()
	waitFor(t, "the inline generation to start", 5*time.Second, func() bool { return calls.Load() == 1 })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("NewKey error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("NewKey did not return when its context was cancelled")
	}
	// The key finished after its caller left: it goes to the pool.
	close(release)
	waitFor(t, "the abandoned key to be pooled", 5*time.Second, func() bool { return depths(p)[pki.RSA4096] == 1 })
	key, err := p.NewKey(context.Background(), pki.RSA4096)
	if err != nil || key.(*fakeKey).id != 1 {
		t.Fatalf("NewKey = %v, %v; want the pooled key", key, err)
	}
	if got := statsOf(t, p, pki.RSA4096); got.Hits != 1 || got.Misses != 1 || got.Generated != 1 {
		t.Errorf("Stats = %+v, want 1 hit, 1 miss, 1 generated", got)
	}
	waitNoPoolGoroutines(t) // the abandoned generation's goroutine ended
}

func TestCloseDropsKeysAndStopsWorkers(t *testing.T) {
	waitNoPoolGoroutines(t)
	c := &counter{}
	p := New(Config{Depth: map[pki.KeyType]int{pki.ECDSAP256: 16}, Workers: 3, Generate: c.generate})
	p.Start(context.Background())
	waitFor(t, "the pool to fill", 5*time.Second, func() bool { return depths(p)[pki.ECDSAP256] == 16 })
	if n := poolGoroutines(); n != 4 {
		t.Fatalf("%d pool goroutines after Start, want 4 (3 workers and a watcher)", n)
	}

	p.mu.Lock()
	backing := p.types[pki.ECDSAP256].keys[:16]
	p.mu.Unlock()
	p.Close()

	for i, k := range backing {
		if k != nil {
			t.Errorf("pooled key %d still referenced after Close", i)
		}
	}
	if got := depths(p)[pki.ECDSAP256]; got != 0 {
		t.Errorf("depth after Close = %d, want 0", got)
	}
	waitNoPoolGoroutines(t)

	// After Close every key is inline, and nothing is pooled again.
	before := c.snapshot()[pki.ECDSAP256]
	if _, err := p.NewKey(context.Background(), pki.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	p.Start(context.Background()) // no effect after Close
	time.Sleep(10 * time.Millisecond)
	if got := c.snapshot()[pki.ECDSAP256]; got != before+1 {
		t.Errorf("after Close: %d keys generated, want %d (one inline)", got, before+1)
	}
	if got := depths(p)[pki.ECDSAP256]; got != 0 {
		t.Errorf("depth after Close and NewKey = %d, want 0", got)
	}
	p.Close() // a second Close is harmless
}

func TestStartContextStopsWorkers(t *testing.T) {
	waitNoPoolGoroutines(t)
	c := &counter{}
	p := New(Config{Depth: map[pki.KeyType]int{pki.ECDSAP256: 4}, Workers: 2, Generate: c.generate})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx)
	p.Start(ctx) // a second Start does nothing
	waitFor(t, "the pool to fill", 5*time.Second, func() bool { return depths(p)[pki.ECDSAP256] == 4 })
	cancel()
	waitNoPoolGoroutines(t)

	// The keys stay available; taking them refills nothing.
	for range 4 {
		if _, err := p.NewKey(context.Background(), pki.ECDSAP256); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond)
	got := statsOf(t, p, pki.ECDSAP256)
	if got.Depth != 0 || got.Hits != 4 || got.Generated != 4 {
		t.Errorf("Stats = %+v, want depth 0, 4 hits, 4 generated", got)
	}
}

func TestGenerateErrors(t *testing.T) {
	waitNoPoolGoroutines(t)
	var calls atomic.Int64
	gen := func(pki.KeyType) (crypto.Signer, error) {
		calls.Add(1)
		return nil, errors.New("no entropy today")
	}
	p := New(Config{Depth: map[pki.KeyType]int{pki.RSA4096: 8}, Workers: 2, Generate: gen})
	p.Start(context.Background())
	waitFor(t, "a failed generation", 5*time.Second, func() bool { return statsOf(t, p, pki.RSA4096).Errors >= 1 })
	// The workers back off instead of spinning.
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n > 4 {
		t.Errorf("%d generations in 50 ms after a failure, want the workers to back off", n)
	}
	if _, err := p.NewKey(context.Background(), pki.RSA4096); err == nil {
		t.Error("NewKey with a failing generator: want an error")
	}
	start := time.Now()
	p.Close() // interrupts the back-off
	if d := time.Since(start); d > errorBackoff/2 {
		t.Errorf("Close took %v, want it to interrupt the back-off", d)
	}
	waitNoPoolGoroutines(t)
}

// TestRealRSA is the one test with real keys from pki.Generator.
func TestRealRSA(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an RSA key")
	}
	p := New(Config{Depth: map[pki.KeyType]int{pki.RSA2048: 1}, Workers: 1})
	defer p.Close()
	p.Start(context.Background())
	waitFor(t, "an RSA 2048 key", 2*time.Minute, func() bool { return depths(p)[pki.RSA2048] == 1 })
	key, err := p.NewKey(context.Background(), pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("key is a %T, want *rsa.PrivateKey", key)
	}
	if rk.N.BitLen() != 2048 {
		t.Errorf("modulus of %d bits, want 2048", rk.N.BitLen())
	}
	if err := rk.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := statsOf(t, p, pki.RSA2048); got.Hits != 1 || got.Misses != 0 || got.GenerateSeconds <= 0 || got.RefillRate <= 0 {
		t.Errorf("Stats = %+v, want one hit, no miss, time spent and a refill rate", got)
	}
}

func TestDecayingRate(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var r decayingRate
	if got := r.at(t0); got != 0 {
		t.Errorf("empty rate = %v, want 0", got)
	}
	// Ten keys a second for five time constants: close to 10/s.
	for i := range 1500 {
		r.add(t0.Add(time.Duration(i) * 100 * time.Millisecond))
	}
	end := t0.Add(150 * time.Second)
	if got := r.at(end); got < 9.5 || got > 10.5 {
		t.Errorf("steady rate = %v, want about 10", got)
	}
	// Idle for one time constant: divided by e.
	if got, want := r.at(end.Add(rateWindow)), r.at(end)/2.718281828; got < want*0.99 || got > want*1.01 {
		t.Errorf("rate after %v idle = %v, want about %v", rateWindow, got, want)
	}
}

func TestParseDepths(t *testing.T) {
	all0 := map[pki.KeyType]int{pki.RSA4096: 0, pki.RSA2048: 0, pki.RSA3072: 0, pki.ECDSAP256: 0, pki.ECDSAP384: 0}
	tests := []struct {
		in      string
		want    map[pki.KeyType]int
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "off", want: all0},
		{in: "RSA4096=32", want: map[pki.KeyType]int{pki.RSA4096: 32}},
		{in: " RSA4096 = 8 , ECDSA_P256=0", want: map[pki.KeyType]int{pki.RSA4096: 8, pki.ECDSAP256: 0}},
		{in: "RSA4096", wantErr: true},
		{in: "RSA4096=-1", wantErr: true},
		{in: "RSA4096=many", wantErr: true},
		{in: "RSA4096=1000000", wantErr: true},
		{in: "rsa4096=3", wantErr: true},
		{in: "RSA4096=1,RSA4096=2", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDepths(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDepths(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseDepths(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
