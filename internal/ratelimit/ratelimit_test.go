package ratelimit

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestTokenBucket(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(Rule{Name: "X509 Authentication", Capacity: 3, Refill: 1, Period: 10 * time.Second}, c.now)
	for i, want := range []int{2, 1, 0} {
		d := l.Take("g1")
		if !d.Allowed || d.Remaining != want {
			t.Fatalf("request %d: %+v, want allowed with %d left", i, d, want)
		}
	}
	d := l.Take("g1")
	if d.Allowed || d.RetryAfter != 10*time.Second {
		t.Fatalf("4th request: %+v", d)
	}
	if d := l.Take("g2"); !d.Allowed {
		t.Fatalf("another scope is limited too: %+v", d)
	}
	c.t = c.t.Add(5 * time.Second)
	if d := l.Take("g1"); d.Allowed || d.RetryAfter != 5*time.Second {
		t.Fatalf("half refilled: %+v", d)
	}
	c.t = c.t.Add(5 * time.Second)
	if d := l.Take("g1"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("one token back: %+v", d)
	}
	c.t = c.t.Add(time.Hour)
	if d := l.Peek("g1"); !d.Allowed || d.Remaining != 3 {
		t.Fatalf("refill stops at capacity: %+v", d)
	}
}

func TestZeroCapacityIsUnlimited(t *testing.T) {
	l := New(Rule{Name: "none"}, nil)
	for i := 0; i < 1000; i++ {
		if !l.Take("x").Allowed {
			t.Fatal("limited")
		}
	}
}

func TestConcurrentTakesNeverOverspend(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := New(Rule{Name: "r", Capacity: 100, Refill: 1, Period: time.Hour}, c.now)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if l.Take("s").Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Errorf("%d requests allowed, want exactly the capacity 100", allowed)
	}
}

func TestSweepBoundsMemory(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := New(Rule{Name: "r", Capacity: 2, Refill: 2, Period: time.Second}, c.now)
	for i := 0; i < maxBuckets; i++ {
		l.Take(strconv.Itoa(i))
	}
	c.t = c.t.Add(time.Minute) // every bucket refilled
	l.Take("new")
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after a sweep, want 1", n)
	}
}
