// Package keypool keeps leaf private keys generated ahead of requests, so
// that issuing a certificate costs a signature rather than a prime search.
//
// A Pool is a pki.KeySource. Per key type it holds up to a target depth of
// keys made by a bounded number of background workers; NewKey removes one
// key from the pool and hands it out, so each key is used exactly once. When
// the pool of a type is empty, NewKey generates the key inline (a miss, or
// fallback). Only types that are asked for are warmed: a type is refilled
// once it has been requested at least once, or from Start when Config.Depth
// lists it.
//
// Keys live only in memory and are never written anywhere: not to disk, not
// to a log (the pool does not mlock them, so an OS with unencrypted swap may
// page them out, as any memory of the process). Close drops every pooled key and clears the references, which
// makes them unreachable so the garbage collector frees them; Go offers no
// reliable way to wipe the memory of a big.Int (an RSA key's primes) or of
// the copies the runtime may have made of it, so the key material stays in
// freed memory until it is reused. The same holds for every key the server
// generates, pooled or not.
//
// Go cannot lower the OS priority of one goroutine. Refilling leaves room
// for request handling by bounding its concurrency instead: by default
// GOMAXPROCS−1 workers (at least one), so that on two or more cores one is
// always free to serve requests.
package keypool

import (
	"context"
	"crypto"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// DefaultDepth returns the target depth of key type t when Config.Depth does
// not set it: 32 for RSA 4096 (about 200 KB of key material and 18 s of one
// core to fill on the reference machine), 64 for RSA 2048 and 3072, 256 for
// the ECDSA curves, 0 for an unknown type.
func DefaultDepth(t pki.KeyType) int {
	switch t {
	case pki.RSA4096:
		return 32
	case pki.RSA2048, pki.RSA3072:
		return 64
	case pki.ECDSAP256, pki.ECDSAP384:
		return 256
	}
	return 0
}

// DefaultWorkers returns the default number of refill workers:
// max(1, GOMAXPROCS−1).
func DefaultWorkers() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// errorBackoff is how long a worker pauses after a failed generation, so a
// persistent failure does not spin a core.
const errorBackoff = time.Second

// rateWindow is the time constant of the refill rate in Stats.
const rateWindow = 30 * time.Second

// Config configures a Pool. The zero value is usable: default depths,
// default workers, keys from pki.Generator.
type Config struct {
	// Depth sets the target depth of key types. A type listed with a depth
	// above zero is warmed from Start; a type listed with zero is never
	// pooled (every key is generated inline). A type not listed gets
	// DefaultDepth and is warmed once it is first requested. Types that
	// pki.KeyTypes does not list are ignored.
	Depth map[pki.KeyType]int
	// Workers bounds the background generations running at once; 0 means
	// DefaultWorkers.
	Workers int
	// Generate makes one key of a type; nil means pki.Generator{}. It must
	// be safe for concurrent use and return a new key on every call.
	Generate func(pki.KeyType) (crypto.Signer, error)
}

// TypeStats describes the pool of one key type.
type TypeStats struct {
	// Type is the key type.
	Type pki.KeyType
	// Depth is the number of keys ready; Target is what refill aims for.
	Depth, Target int
	// Warm reports whether workers refill this type.
	Warm bool
	// Generated counts keys added to the pool, Hits keys handed out from
	// it, Misses keys generated inline because it was empty (fallbacks).
	Generated, Hits, Misses uint64
	// Errors counts failed background generations.
	Errors uint64
	// GenerateSeconds is the time workers spent generating keys of this
	// type: about the CPU time refilling costs.
	GenerateSeconds float64
	// RefillRate is the rate at which keys were added to the pool, in keys
	// per second, averaged exponentially over about 30 s.
	RefillRate float64
}

// Pool is a pki.KeySource that hands out keys generated ahead of time. Its
// methods are safe for concurrent use.
type Pool struct {
	gen     func(pki.KeyType) (crypto.Signer, error)
	workers int
	depth   map[pki.KeyType]int
	now     func() time.Time

	// wake holds one token when workers should look for work; quit is
	// closed when they must stop.
	wake     chan struct{}
	quit     chan struct{}
	quitOnce sync.Once
	wg       sync.WaitGroup

	mu      sync.Mutex
	types   map[pki.KeyType]*slot
	started bool
	closed  bool
}

// slot is the pool of one key type; Pool.mu guards it.
type slot struct {
	t          pki.KeyType
	target     int
	warm       bool
	keys       []crypto.Signer
	generating int
	generated  uint64
	hits       uint64
	misses     uint64
	errors     uint64
	genTime    time.Duration
	rate       decayingRate
}

var _ pki.KeySource = (*Pool)(nil)

// New returns a pool configured by cfg. It generates nothing until Start or
// the first NewKey.
func New(cfg Config) *Pool {
	p := &Pool{
		gen:     cfg.Generate,
		workers: cfg.Workers,
		depth:   make(map[pki.KeyType]int, len(cfg.Depth)),
		now:     time.Now,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		types:   make(map[pki.KeyType]*slot),
	}
	if p.gen == nil {
		p.gen = func(t pki.KeyType) (crypto.Signer, error) {
			return pki.Generator{}.NewKey(context.Background(), t)
		}
	}
	if p.workers <= 0 {
		p.workers = DefaultWorkers()
	}
	for t, n := range cfg.Depth {
		if !slices.Contains(pki.KeyTypes(), t) {
			continue // NewKey refuses unknown types
		}
		p.depth[t] = max(0, n)
		if s := p.slotLocked(t); s.target > 0 {
			s.warm = true
		}
	}
	return p
}

// Start runs the refill workers until ctx is done or Close is called. It
// returns at once; calling it again, or after Close, does nothing. When ctx
// ends the workers stop but the pooled keys stay available to NewKey; Close
// drops them.
func (p *Pool) Start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.closed {
		return
	}
	p.started = true
	p.wg.Add(p.workers + 1)
	for range p.workers {
		go p.work()
	}
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
			p.stop()
		case <-p.quit:
		}
	}()
	p.signal()
}

// Close stops the workers, waiting for a generation in progress to finish
// (up to about a second for RSA 4096), and drops every pooled key. NewKey
// still works after Close, generating every key inline.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	for _, s := range p.types {
		clear(s.keys[:cap(s.keys)])
		s.keys = nil
	}
	p.mu.Unlock()
	p.stop()
	p.wg.Wait()
}

func (p *Pool) stop() { p.quitOnce.Do(func() { close(p.quit) }) }

// signal wakes one worker without blocking.
func (p *Pool) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// NewKey returns a key of type t: one from the pool, removed from it, or,
// when the pool is empty, one generated inline. It returns ctx's error
// without waiting when ctx ends during an inline generation; that key then
// goes into the pool, as it was never handed out.
func (p *Pool) NewKey(ctx context.Context, t pki.KeyType) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !slices.Contains(pki.KeyTypes(), t) {
		return nil, fmt.Errorf("%w %q", pki.ErrKeyType, string(t))
	}
	p.mu.Lock()
	s := p.slotLocked(t)
	if s.target > 0 && !s.warm && !p.closed {
		s.warm = true
	}
	if n := len(s.keys); n > 0 {
		key := s.keys[n-1]
		s.keys[n-1] = nil
		s.keys = s.keys[:n-1]
		s.hits++
		p.mu.Unlock()
		p.signal()
		return key, nil
	}
	s.misses++
	p.mu.Unlock()
	p.signal()
	return p.inline(ctx, s)
}

// inline generates a key for a caller the pool could not serve.
func (p *Pool) inline(ctx context.Context, s *slot) (crypto.Signer, error) {
	if ctx.Done() == nil {
		return p.gen(s.t)
	}
	type result struct {
		key crypto.Signer
		err error
	}
	// Unbuffered: a result nobody receives any more goes to the pool.
	done := make(chan result)
	go func() {
		key, err := p.gen(s.t)
		select {
		case done <- result{key, err}:
		case <-ctx.Done():
			if err == nil {
				p.put(s, key, 0)
			}
		}
	}()
	select {
	case r := <-done:
		return r.key, r.err
	case <-ctx.Done():
		// The generator may have finished at the same moment.
		select {
		case r := <-done:
			if r.err == nil {
				p.put(s, r.key, 0)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

// put adds a key that nobody has seen to the pool of s, or drops it when the
// pool is closed or full.
func (p *Pool) put(s *slot, key crypto.Signer, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.genTime += took
	if p.closed || len(s.keys) >= s.target {
		return
	}
	s.keys = append(s.keys, key)
	s.generated++
	s.rate.add(p.now())
}

// slotLocked returns the slot of t, creating it; p.mu must be held.
func (p *Pool) slotLocked(t pki.KeyType) *slot {
	s, ok := p.types[t]
	if !ok {
		target, listed := p.depth[t]
		if !listed {
			target = DefaultDepth(t)
		}
		s = &slot{t: t, target: target}
		p.types[t] = s
	}
	return s
}

// work is one refill worker.
func (p *Pool) work() {
	defer p.wg.Done()
	for {
		s := p.claim()
		if s == nil {
			select {
			case <-p.quit:
				return
			case <-p.wake:
				continue
			}
		}
		start := p.now()
		key, err := p.gen(s.t)
		took := p.now().Sub(start)
		if err != nil {
			p.mu.Lock()
			s.generating--
			s.genTime += took
			s.errors++
			p.mu.Unlock()
			select {
			case <-p.quit:
				return
			case <-time.After(errorBackoff):
			}
			continue
		}
		p.mu.Lock()
		s.generating--
		p.mu.Unlock()
		p.put(s, key, took)
		select {
		case <-p.quit:
			return
		default:
		}
	}
}

// claim picks the warm type furthest below its target, counting the keys
// being generated, and reserves one generation for it. It returns nil when
// no type needs a key or the workers must stop.
func (p *Pool) claim() *slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	select {
	case <-p.quit:
		return nil
	default:
	}
	var best *slot
	bestFill := 1.0
	more := false
	for _, t := range pki.KeyTypes() {
		s := p.types[t]
		if s == nil || !s.warm || s.target <= 0 {
			continue
		}
		have := len(s.keys) + s.generating
		if have >= s.target {
			continue
		}
		if fill := float64(have) / float64(s.target); best == nil || fill < bestFill {
			if best != nil {
				more = true
			}
			best, bestFill = s, fill
		} else {
			more = true
		}
	}
	if best == nil {
		return nil
	}
	best.generating++
	if more || len(best.keys)+best.generating < best.target {
		p.signal() // another idle worker can take the next key
	}
	return best
}

// Stats returns the state of every key type the pool knows, in the order of
// pki.KeyTypes.
func (p *Pool) Stats() []TypeStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]TypeStats, 0, len(p.types))
	for _, t := range pki.KeyTypes() {
		s := p.types[t]
		if s == nil {
			continue
		}
		out = append(out, TypeStats{
			Type: t, Depth: len(s.keys), Target: s.target, Warm: s.warm,
			Generated: s.generated, Hits: s.hits, Misses: s.misses, Errors: s.errors,
			GenerateSeconds: s.genTime.Seconds(), RefillRate: s.rate.at(now),
		})
	}
	return out
}

// decayingRate is an event rate averaged exponentially over rateWindow.
type decayingRate struct {
	value float64 // events per second at last
	last  time.Time
}

func (r *decayingRate) add(now time.Time) {
	r.value = r.at(now) + 1/rateWindow.Seconds()
	r.last = now
}

func (r *decayingRate) at(now time.Time) float64 {
	if r.last.IsZero() {
		return 0
	}
	dt := now.Sub(r.last).Seconds()
	if dt <= 0 {
		return r.value
	}
	return r.value * math.Exp(-dt/rateWindow.Seconds())
}

// ParseDepths parses a depth setting for Config.Depth, as a command-line flag
// gives it: comma-separated TYPE=N pairs with the names of pki.KeyTypes, for
// example "RSA4096=32,ECDSA_P256=0"; "" means nil (every default), and "off"
// sets every type to zero (no pooling, every key inline).
func ParseDepths(s string) (map[pki.KeyType]int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "off":
		out := make(map[pki.KeyType]int)
		for _, t := range pki.KeyTypes() {
			out[t] = 0
		}
		return out, nil
	}
	out := make(map[pki.KeyType]int)
	for _, pair := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, fmt.Errorf("key pool depth %q: want TYPE=N", pair)
		}
		t, err := pki.ParseKeyType(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > maxDepth {
			return nil, fmt.Errorf("key pool depth %q: want a number from 0 to %d", pair, maxDepth)
		}
		if _, dup := out[t]; dup {
			return nil, fmt.Errorf("key pool depth: %s given twice", t)
		}
		out[t] = n
	}
	return out, nil
}

// maxDepth bounds a configured depth: 100 000 RSA 4096 keys are about 600 MB.
const maxDepth = 100000
