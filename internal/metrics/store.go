package metrics

import (
	"context"
	"time"

	"github.com/atlasx509/atlasx509/internal/store"
)

// InstrumentStore returns st with the duration of every Update and View
// recorded by ObserveTx: the time from the call to the return, so it
// includes waiting for the writer and the durable commit. The returned
// store embeds st, so methods added to store.Store later pass through
// untimed; a type assertion to st's concrete type no longer matches. On a
// nil *Metrics it returns st.
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	if m == nil {
		return st
	}
	return &timedStore{Store: st, m: m}
}

type timedStore struct {
	store.Store
	m *Metrics
}

func (s *timedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	start := time.Now()
	defer func() { s.m.ObserveTx(TxUpdate, time.Since(start)) }()
	return s.Store.Update(ctx, fn)
}

func (s *timedStore) View(ctx context.Context, fn func(store.Tx) error) error {
	start := time.Now()
	defer func() { s.m.ObserveTx(TxView, time.Since(start)) }()
	return s.Store.View(ctx, fn)
}
