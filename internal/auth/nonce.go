package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"
	"time"
)

// DefaultNonceTTL is the default lifetime of a Digest server nonce. The Atlas
// clients answer a challenge immediately and use a fresh nonce for every
// request, so a few minutes is ample.
const DefaultNonceTTL = 5 * time.Minute

// MaxNonceClockSkew is how far in the future a nonce's timestamp may be and
// still be accepted (replicas' clocks differ slightly).
const MaxNonceClockSkew = 5 * time.Second

// NonceLedgerSize is the maximum number of accepted nonces a [Nonces] tracks
// for replay detection (about 70 MB at most). When the ledger is full, nonces
// not yet in it are reported stale by [Nonces.Check] and refused by
// [Nonces.Accept] until expired entries age out; the ledger never grows
// beyond this bound.
const NonceLedgerSize = 1 << 20

// NonceBudget is the share of the ledger one credential may hold (see
// [Nonces.AcceptFor]): 65 536 nonces within a TTL, over 200 fresh nonces a
// second for five minutes. One client, however busy, then cannot fill the
// ledger and starve the others.
const NonceBudget = 1 << 16

// nonceRawLen is the decoded nonce length: timestamp(8) || random(8) || mac(16).
const nonceRawLen = 32

// nonceLen is the encoded nonce length: base64url without padding of 32 bytes.
const nonceLen = 43

var nonceEncoding = base64.RawURLEncoding.Strict()

// NonceStatus is the result of [Nonces.Check].
type NonceStatus int

const (
	// NonceInvalid means the nonce was not issued with this key (bad format
	// or MAC). Respond 401 with a fresh challenge (stale=false). It is the
	// zero value.
	NonceInvalid NonceStatus = iota
	// NonceValid means the nonce is authentic, within its TTL and there is
	// room to record it.
	NonceValid
	// NonceStale means the nonce is authentic but older than the TTL, more
	// than [MaxNonceClockSkew] in the future, or cannot be recorded because
	// the replay ledger is full. Respond 401 with Challenge(New(), true).
	NonceStale
	// NonceReplayed means the nonce was already accepted with a nonce count
	// at least as high. Check never returns it (it does not know the nonce
	// count); it names the condition under which [Nonces.Accept] returns
	// false, for callers that log a status.
	NonceReplayed
)

// String returns the status name.
func (s NonceStatus) String() string {
	switch s {
	case NonceInvalid:
		return "invalid"
	case NonceValid:
		return "valid"
	case NonceStale:
		return "stale"
	case NonceReplayed:
		return "replayed"
	}
	return "NonceStatus(unknown)"
}

// Nonces issues and checks stateless Digest server nonces. A nonce is the
// base64url encoding (no padding, 43 characters, never containing `"` or
// ',') of
//
//	8-byte big-endian issue time (unix nanoseconds) || 8 random bytes ||
//	first 16 bytes of HMAC-SHA256(key, time || random)
//
// so any replica holding the same key can verify it without shared state.
//
// Replay protection is per process: an in-memory ledger maps each accepted
// nonce to the highest nonce count accepted with it. Entries are grouped in
// buckets by issue time and a bucket is dropped as a whole once all its
// nonces are past the TTL; that sweep runs lazily (when the clock enters a new
// bucket) inside Check/Accept, so there is no background goroutine. The ledger
// is bounded by [NonceLedgerSize], and each credential by [NonceBudget]. Across replicas a nonce could be replayed
// once per replica within its TTL; put replicas behind sticky routing, or
// accept that (the response is still bound to method and URI).
//
// The HTTP layer must call, in this order: [Nonces.Check] (authenticity and
// age), then look up the user and [DigestCredentials.Verify], then
// [Nonces.Accept] (records the nonce count; false means replay). Recording only
// after a verified response means an attacker with a wrong password cannot
// burn a legitimate client's nonce.
//
// A Nonces is safe for concurrent use.
type Nonces struct {
	key         []byte
	ttl         time.Duration
	now         func() time.Time
	maxEntries  int
	maxPerOwner int
	width       int64 // bucket width in nanoseconds

	mu        sync.Mutex
	buckets   map[int64]map[[16]byte]ledgerEntry
	owners    map[string]int // recorded entries per owner ("" is not counted)
	entries   int
	lastSweep int64 // bucket index of the last sweep
	highWater int64 // latest clock reading seen, guards against clock steps back
}

// ledgerEntry is what the ledger keeps of an accepted nonce.
type ledgerEntry struct {
	nc    uint32
	owner string
}

// NewNonces returns a nonce issuer/verifier. key is the shared HMAC key (use
// at least 32 random bytes; the same on every replica); it is copied.
// ttl <= 0 selects [DefaultNonceTTL]; now == nil selects time.Now. NewNonces
// panics if key is empty, since every nonce would then be forgeable.
func NewNonces(key []byte, ttl time.Duration, now func() time.Time) *Nonces {
	if len(key) == 0 {
		panic("auth: NewNonces with empty key")
	}
	if ttl <= 0 {
		ttl = DefaultNonceTTL
	}
	if now == nil {
		now = time.Now
	}
	width := int64(ttl+MaxNonceClockSkew) / 8
	if width < 1 {
		width = 1
	}
	return &Nonces{
		key:         append([]byte(nil), key...),
		ttl:         ttl,
		now:         now,
		maxEntries:  NonceLedgerSize,
		maxPerOwner: NonceBudget,
		width:       width,
		buckets:     make(map[int64]map[[16]byte]ledgerEntry),
		owners:      make(map[string]int),
		lastSweep:   math.MinInt64,
		highWater:   math.MinInt64,
	}
}

// New returns a fresh nonce for a challenge.
func (n *Nonces) New() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(n.now().UnixNano()))
	_, _ = rand.Read(raw[8:16]) // never fails since Go 1.24
	n.sign(&raw)
	return nonceEncoding.EncodeToString(raw[:])
}

func (n *Nonces) sign(raw *[nonceRawLen]byte) {
	m := hmac.New(sha256.New, n.key)
	m.Write(raw[:16])
	var sum [sha256.Size]byte
	copy(raw[16:], m.Sum(sum[:0]))
}

// decode authenticates nonce and returns its ledger id and issue time.
func (n *Nonces) decode(nonce string) (id [16]byte, issued int64, ok bool) {
	if len(nonce) != nonceLen {
		return id, 0, false
	}
	var raw [nonceRawLen + 2]byte // slack: Decode may write up to DecodedLen
	k, err := nonceEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || k != nonceRawLen {
		return id, 0, false
	}
	m := hmac.New(sha256.New, n.key)
	m.Write(raw[:16])
	var sum [sha256.Size]byte
	if !hmac.Equal(m.Sum(sum[:0])[:16], raw[16:nonceRawLen]) {
		return id, 0, false
	}
	copy(id[:], raw[:16])
	ts := binary.BigEndian.Uint64(raw[:8])
	if ts > math.MaxInt64 {
		return id, 0, false
	}
	return id, int64(ts), true
}

// fresh reports whether a nonce issued at issued is usable at now.
func (n *Nonces) fresh(issued, now int64) bool {
	if issued > now && issued-now > int64(MaxNonceClockSkew) {
		return false
	}
	return now <= issued || now-issued <= int64(n.ttl)
}

// Check reports whether nonce is one of ours ([NonceInvalid] if not), still
// fresh ([NonceStale] if not, or if the replay ledger is full and the nonce is
// not in it), else [NonceValid]. It does not record anything; see
// [Nonces.Accept]. Check never panics, whatever the input.
func (n *Nonces) Check(nonce string) NonceStatus {
	id, issued, ok := n.decode(nonce)
	if !ok {
		return NonceInvalid
	}
	now := n.now().UnixNano()
	n.mu.Lock()
	defer n.mu.Unlock()
	now = n.tickLocked(now)
	if !n.fresh(issued, now) {
		return NonceStale
	}
	if n.entries >= n.maxEntries {
		if _, present := n.buckets[n.bucket(issued)][id]; !present {
			return NonceStale
		}
	}
	return NonceValid
}

// Accept records that a request with nonce and nonce count nc has been
// verified. It returns false, recording nothing, if the nonce was already
// accepted with a count >= nc (a replay), if it is not authentic or no longer
// fresh, or if the ledger is full ([NonceLedgerSize]). Without qop the count
// is 0, so such a nonce can be accepted only once.
func (n *Nonces) Accept(nonce string, nc uint32) bool {
	return n.AcceptFor(nonce, nc, "") == NonceValid
}

// AcceptFor is Accept for a nonce verified as owner's (a credential id),
// which may hold at most [NonceBudget] entries of the ledger: past it, its
// new nonces are [NonceStale] until its entries expire, while the nonces
// it recorded keep working. It returns [NonceValid] when recorded,
// [NonceReplayed] for a count already accepted, [NonceStale] when the
// nonce is no longer fresh or there is no room, and [NonceInvalid] for a
// nonce that is not ours. The owner "" has no budget of its own.
func (n *Nonces) AcceptFor(nonce string, nc uint32, owner string) NonceStatus {
	id, issued, ok := n.decode(nonce)
	if !ok {
		return NonceInvalid
	}
	now := n.now().UnixNano()
	n.mu.Lock()
	defer n.mu.Unlock()
	now = n.tickLocked(now)
	// Must hold under the lock: anything the sweep may have dropped is stale
	// here, so a dropped entry can never be accepted again.
	if !n.fresh(issued, now) {
		return NonceStale
	}
	k := n.bucket(issued)
	b := n.buckets[k]
	if prev, present := b[id]; present {
		if nc <= prev.nc {
			return NonceReplayed
		}
		prev.nc = nc
		b[id] = prev
		return NonceValid
	}
	if n.entries >= n.maxEntries || owner != "" && n.owners[owner] >= n.maxPerOwner {
		return NonceStale
	}
	if b == nil {
		b = make(map[[16]byte]ledgerEntry)
		n.buckets[k] = b
	}
	b[id] = ledgerEntry{nc: nc, owner: owner}
	n.entries++
	if owner != "" {
		n.owners[owner]++
	}
	return NonceValid
}

// bucket returns the ledger bucket index of issue time t (floor division).
func (n *Nonces) bucket(t int64) int64 {
	q := t / n.width
	if t%n.width < 0 {
		q--
	}
	return q
}

// tickLocked advances the high-water clock, sweeps expired buckets when the
// clock enters a new bucket, and returns the effective current time.
func (n *Nonces) tickLocked(now int64) int64 {
	if now < n.highWater {
		now = n.highWater
	}
	n.highWater = now
	cur := n.bucket(now)
	if cur == n.lastSweep {
		return now
	}
	n.lastSweep = cur
	for k, b := range n.buckets {
		// Every nonce in bucket k was issued before end; it is stale once
		// now-issued > ttl, which holds for all of them when end+ttl <= now.
		end := (k + 1) * n.width
		if end <= now-int64(n.ttl) {
			n.entries -= len(b)
			for _, e := range b {
				if e.owner == "" {
					continue
				}
				if n.owners[e.owner]--; n.owners[e.owner] <= 0 {
					delete(n.owners, e.owner)
				}
			}
			delete(n.buckets, k)
		}
	}
	return now
}

// ledgerLen returns the number of recorded nonces (for tests).
func (n *Nonces) ledgerLen() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.entries
}
