package testkit

import (
	"sync"
	"time"
)

// Start is the instant that test clocks start at.
var Start = time.Date(2026, 8, 10, 3, 6, 35, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use: give its Now to the
// code under test, and move it with Set or Add.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads Start until moved.
func NewClock() *Clock { return &Clock{now: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
