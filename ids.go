package atlasx509

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// NewID returns a new 24-hex-digit identifier in the layout of a MongoDB
// ObjectId, as Atlas uses for organizations, projects and API keys: four bytes
// of Unix seconds, then eight random bytes, so that identifiers sort roughly by
// creation time and cannot be guessed.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	rand.Read(b[4:]) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b[:])
}

// sequence is the state of NewSequentialID: five random bytes that name this
// process, and a counter that starts at a random value.
var sequence = func() (s struct {
	process [5]byte
	counter atomic.Uint32
}) {
	var b [8]byte
	rand.Read(b[:])
	copy(s.process[:], b[:5])
	s.counter.Store(uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]))
	return
}()

// NewSequentialID returns a new identifier in the full layout of a MongoDB
// ObjectId: four bytes of Unix seconds, five random bytes chosen once per
// process, and a three-byte counter. The identifiers one process makes in the
// same second increase, so an index of them grows at its end instead of at
// random places (one page written per commit instead of one per record); they
// are not secret (the counter can be guessed), which is why only records that
// are numerous and never used as a credential use it: events.
func NewSequentialID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	copy(b[4:9], sequence.process[:])
	n := sequence.counter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an Atlas identifier: 24 lower-case hex digits.
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
