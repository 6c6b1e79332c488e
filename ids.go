package atlasx509

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
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
