package atlasx509

import (
	"testing"
	"time"
)

func TestNewSequentialID(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name string
		at   []time.Time
	}{
		{"same second", []time.Time{now, now, now, now}},
		{"seconds apart", []time.Time{now, now.Add(time.Second), now.Add(time.Hour)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := ""
			for i, at := range tc.at {
				id := NewSequentialID(at)
				if !ValidID(id) {
					t.Fatalf("id %d %q is not an Atlas identifier", i, id)
				}
				// The counter wraps once in 2^24 ids; a wrap between two of
				// these would be a one-in-millions chance per run.
				if id <= prev {
					t.Errorf("id %d %q does not sort after %q", i, id, prev)
				}
				if prev != "" && id[8:18] != prev[8:18] {
					t.Errorf("process bytes differ: %q then %q", prev, id)
				}
				prev = id
			}
		})
	}
}

func TestNewIDRandom(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a, b := NewID(now), NewID(now)
	if a == b || a[:8] != b[:8] || a[8:18] == b[8:18] {
		t.Errorf("NewID(same second) = %q, %q: want the same time prefix and random rest", a, b)
	}
}
