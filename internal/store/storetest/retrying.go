package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/atlasx509/atlasx509/internal/store"
)

// Retrying returns s with an Update that runs every fn twice: it runs fn,
// rolls that run back whatever fn returned, and runs fn again in a new
// transaction, whose outcome Update returns. It is the retry that the
// PostgreSQL driver makes on a serialization failure, made on every call
// and on any driver, so that the fast tests of a caller fail when one of
// its fns breaks the contract of store.Store (fn may run more than once).
// View and Close are s's.
func Retrying(s store.Store) store.Store { return retrying{s} }

type retrying struct{ store.Store }

// errFirstRun ends the first run of an fn so that the driver rolls it back.
var errFirstRun = errors.New("storetest: rolling back the first run of fn")

// Update runs fn, rolls it back, and runs it again (see Retrying).
func (r retrying) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		fn(tx) // its error is the second run's to return
		return errFirstRun
	})
	if err != errFirstRun {
		return err // fn did not run (ctx ended, the store is closed, ...)
	}
	return r.Store.Update(ctx, fn)
}

// testRetrying checks Retrying on the driver: fn runs twice, the second run
// does not see the first one's writes, and only the second run's outcome
// counts.
func testRetrying(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := Retrying(s)
	runs := 0
	update(t, r, func(tx store.Tx) error {
		runs++
		if _, err := tx.GetSetting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("run %d: GetSetting: %v, want ErrNotFound (the first run rolled back)", runs, err)
		}
		return tx.InsertSetting(ctx, "k", []byte{byte(runs)})
	})
	if runs != 2 {
		t.Errorf("fn ran %d times, want 2", runs)
	}
	view(t, s, func(tx store.Tx) error {
		v, err := tx.GetSetting(ctx, "k")
		if err != nil || string(v) != "\x02" {
			t.Errorf("after Update: setting %q, %v; want the second run's value", v, err)
		}
		return nil
	})

	// fn's error is the second run's, returned unchanged, and nothing of
	// either run is committed.
	sentinel := &testError{"second run failed"}
	runs = 0
	err := r.Update(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.InsertOrganization(ctx, org(runs)); err != nil {
			return err
		}
		if runs == 2 {
			return sentinel
		}
		return nil
	})
	if err != error(sentinel) || runs != 2 {
		t.Errorf("Update returned %v after %d runs, want the second run's error", err, runs)
	}
	checkNoOrganization(t, s, 1)
	checkNoOrganization(t, s, 2)
	checkUsable(t, s, 3)
}
