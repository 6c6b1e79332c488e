package app

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"sync"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Atlas answers, for each access list entry, how many requests it let
// through (count) and the time and address of the last one (lastUsed,
// lastUsedAddress). Writing that on every request would turn every read
// into a write, so uses are counted in memory and written in batches: by
// FlushAccessListUse, which the server calls every AccessListUseFlushEvery
// and at shutdown, and which the access list reads call first so that
// their answer includes the uses this replica has seen. A replica that
// dies loses at most the uses of its last interval.

// AccessListUseFlushEvery is how often the server writes the uses counted
// in memory.
const AccessListUseFlushEvery = 30 * time.Second

type useKey struct{ principalID, cidr string }

type useBatch struct {
	count int64
	last  time.Time
	addr  string
}

// accessUses are the uses not yet written.
type accessUses struct {
	mu      sync.Mutex
	pending map[useKey]useBatch
}

// RecordAccessListUse counts a request of p from addr that p's access list
// let through: the most specific entry that contains addr gets it. A
// credential without an access list records nothing.
func (a *App) RecordAccessListUse(p atlasx509.Principal, addr netip.Addr) {
	var best netip.Prefix
	for _, n := range p.AccessList {
		if n.Contains(addr.Unmap()) && (!best.IsValid() || n.Bits() > best.Bits()) {
			best = n
		}
	}
	if !best.IsValid() {
		return
	}
	now := a.now().UTC()
	a.uses.mu.Lock()
	defer a.uses.mu.Unlock()
	if a.uses.pending == nil {
		a.uses.pending = map[useKey]useBatch{}
	}
	k := useKey{p.ID, best.String()}
	b := a.uses.pending[k]
	b.count++
	if !now.Before(b.last) {
		b.last, b.addr = now, addr.Unmap().String()
	}
	a.uses.pending[k] = b
}

// FlushAccessListUse writes the uses counted in memory in one transaction.
// Uses of an entry deleted meanwhile are dropped; when the write fails the
// uses are kept for the next flush.
func (a *App) FlushAccessListUse(ctx context.Context) error {
	a.uses.mu.Lock()
	batch := a.uses.pending
	a.uses.pending = nil
	a.uses.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := a.store.Update(ctx, func(tx store.Tx) error {
		for k, b := range batch {
			err := tx.RecordAccessListUse(ctx, k.principalID, k.cidr, b.count, b.last, b.addr)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.uses.mu.Lock()
		defer a.uses.mu.Unlock()
		merged := maps.Clone(batch)
		for k, b := range a.uses.pending {
			m := merged[k]
			m.count += b.count
			if !b.last.Before(m.last) {
				m.last, m.addr = b.last, b.addr
			}
			merged[k] = m
		}
		a.uses.pending = merged
		return internal("record access list use", err)
	}
	return nil
}
