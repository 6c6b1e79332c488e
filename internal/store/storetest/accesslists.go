package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testAccessListEntries(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	k, sa := apiKey(1, 1), serviceAccount(1, 1)
	// Inserted out of order; e2 and e3 created at the same instant (by CIDR
	// then); e4 without comment; the same CIDR for the service account.
	e1 := accessListEntry(k.ID, "203.0.113.0/24", at(3*time.Hour))
	e2 := accessListEntry(k.ID, "198.51.100.7/32", at(time.Hour))
	e3 := accessListEntry(k.ID, "192.0.2.0/24", at(time.Hour))
	e4 := accessListEntry(k.ID, "2001:db8::/48", at(0))
	e4.Comment = ""
	s1 := accessListEntry(sa.ClientID, "203.0.113.0/24", at(time.Hour))
	insertAll(t, s, []atlasx509.APIKey{k}, []atlasx509.ServiceAccount{sa}, nil,
		[]atlasx509.AccessListEntry{e2, s1, e1, e4, e3})

	dup := e1
	dup.Comment, dup.Created = "another comment", at(5*time.Hour)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertAccessListEntry(ctx, dup) })
	wantIs(t, "InsertAccessListEntry of a held CIDR", err, store.ErrConflict)

	check := func(what string, lists map[string][]atlasx509.AccessListEntry) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for principalID, want := range lists {
				got, err := tx.ListAccessListEntries(ctx, principalID)
				if err != nil {
					t.Errorf("%s: ListAccessListEntries(%s): %v", what, principalID, err)
					continue
				}
				checkList(t, what+": ListAccessListEntries("+principalID+")", want, got)
			}
			return nil
		})
	}
	check("after inserts", map[string][]atlasx509.AccessListEntry{
		k.ID:        {e4, e3, e2, e1},
		sa.ClientID: {s1},
		id(99):      nil,
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteAccessListEntry(ctx, k.ID, e1.CIDR) })
	for _, tc := range []struct {
		name              string
		principalID, cidr string
	}{
		{"deleted entry", k.ID, e1.CIDR},
		{"CIDR of another principal", sa.ClientID, e2.CIDR},
		{"unknown CIDR", k.ID, "10.0.0.0/8"},
		{"unknown principal", id(99), e2.CIDR},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccessListEntry(ctx, tc.principalID, tc.cidr) })
		wantIs(t, "DeleteAccessListEntry, "+tc.name, err, store.ErrNotFound)
	}
	check("after DeleteAccessListEntry", map[string][]atlasx509.AccessListEntry{
		k.ID:        {e4, e3, e2},
		sa.ClientID: {s1},
	})

	// A deleted CIDR can be added again.
	update(t, s, func(tx store.Tx) error { return tx.InsertAccessListEntry(ctx, dup) })
	check("after re-inserting a deleted CIDR", map[string][]atlasx509.AccessListEntry{
		k.ID:        {e4, e3, e2, dup},
		sa.ClientID: {s1},
	})
}

func testAccessListUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	k := apiKey(1, 1)
	e := accessListEntry(k.ID, "192.0.2.0/24", at(0))
	other := accessListEntry(k.ID, "198.51.100.7/32", at(time.Hour))
	insertAll(t, s, []atlasx509.APIKey{k}, nil, nil, []atlasx509.AccessListEntry{e, other})

	record := func(count int64, when time.Duration, addr string) {
		t.Helper()
		update(t, s, func(tx store.Tx) error { return tx.RecordAccessListUse(ctx, k.ID, e.CIDR, count, at(when), addr) })
	}
	// Batches add up; the latest use names the address, whatever the order
	// in which batches arrive (two replicas may flush out of order).
	record(3, 2*time.Hour, "192.0.2.7")
	record(2, 4*time.Hour, "192.0.2.9")
	record(5, 3*time.Hour, "192.0.2.8")
	last := at(4 * time.Hour)
	e.UseCount, e.LastUsed, e.LastUsedAddress = 10, &last, "192.0.2.9"
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListAccessListEntries(ctx, k.ID)
		if err != nil {
			return err
		}
		checkList(t, "ListAccessListEntries after uses", []atlasx509.AccessListEntry{e, other}, got)
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.RecordAccessListUse(ctx, k.ID, "10.0.0.0/8", 1, at(time.Hour), "10.0.0.1")
	})
	wantIs(t, "RecordAccessListUse of a missing entry", err, store.ErrNotFound)
}
