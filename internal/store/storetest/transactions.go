package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testTimes(t *testing.T, s store.Store) {
	ctx := t.Context()
	east := time.FixedZone("UTC+5:30", 5*3600+1800)
	tests := []struct {
		name string
		in   time.Time
	}{
		{"zero", time.Time{}},
		{"last representable", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"unix epoch", time.Unix(0, 0).UTC()},
		{"before the epoch", time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)},
		{"one microsecond", t0.Add(time.Microsecond)},
		{"other zone", time.Date(2025, 6, 1, 2, 3, 4, 5000, east)},
		{"local with monotonic reading", localNow()},
		{"now in UTC", now()},
	}
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{project(1, 1)})
	for i, tc := range tests {
		u := user(project(1, 1), fmt.Sprintf("user%d", i))
		u.Created, u.Updated = tc.in, tc.in
		deleteAfter := tc.in
		u.DeleteAfterDate = &deleteAfter
		o := atlasx509.Organization{ID: id(100 + i), Name: tc.name, Created: tc.in}
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertOrganization(ctx, o); err != nil {
				return err
			}
			return tx.InsertDatabaseUser(ctx, u)
		})
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetOrganization(ctx, o.ID)
			if err != nil {
				return err
			}
			if !got.Created.Equal(tc.in) || got.Created.Location() != time.UTC {
				t.Errorf("%s: stored %v, got %v (location %v), want the same instant in UTC",
					tc.name, tc.in, got.Created, got.Created.Location())
			}
			gu, err := tx.FindDatabaseUser(ctx, u.GroupID, u.Username)
			if err != nil {
				return err
			}
			if gu.DeleteAfterDate == nil || !gu.DeleteAfterDate.Equal(tc.in) || gu.DeleteAfterDate.Location() != time.UTC {
				t.Errorf("%s: DeleteAfterDate = %v, want %v in UTC", tc.name, gu.DeleteAfterDate, tc.in)
			}
			if !gu.Updated.Equal(tc.in) || gu.Updated.Location() != time.UTC {
				t.Errorf("%s: Updated = %v, want %v in UTC", tc.name, gu.Updated, tc.in)
			}
			return nil
		})
	}
}

func testPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{user(p, "alice")}, nil)
	for _, page := range []store.Page{{Limit: -1}, {Offset: -1}, {Limit: 1, Offset: -5}} {
		view(t, s, func(tx store.Tx) error {
			_, err := tx.ListProjects(ctx, store.ProjectFilter{OrgIDs: []string{id(1)}}, page)
			wantInternal(t, fmt.Sprintf("ListProjects(%+v)", page), err)
			_, err = tx.ListDatabaseUsers(ctx, p.ID, page)
			wantInternal(t, fmt.Sprintf("ListDatabaseUsers(%+v)", page), err)
			_, err = tx.ListCertificates(ctx, store.CertificateFilter{GroupID: p.ID, Username: "alice", ValidAt: t0}, page)
			wantInternal(t, fmt.Sprintf("ListCertificates(%+v)", page), err)
			_, err = tx.ListAPIKeys(ctx, id(1), page)
			wantInternal(t, fmt.Sprintf("ListAPIKeys(%+v)", page), err)
			_, err = tx.ListServiceAccounts(ctx, id(1), page)
			wantInternal(t, fmt.Sprintf("ListServiceAccounts(%+v)", page), err)
			return nil
		})
	}
}

// checkNoOrganization fails the test if organization n exists.
func checkNoOrganization(t *testing.T, s store.Store, n int) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetOrganization(t.Context(), id(n))
		wantIs(t, fmt.Sprintf("GetOrganization(%d) after a rolled back Update", n), err, store.ErrNotFound)
		return nil
	})
}

// checkUsable fails the test unless the store still commits an Update
// within a few seconds (a leaked transaction would block it).
func checkUsable(t *testing.T, s store.Store, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertOrganization(ctx, org(n)) }); err != nil {
		t.Fatalf("Update after a failed one: %v", err)
	}
}

// testError is an error type that callers would find with errors.As.
type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

func testUpdateRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	sentinel := &testError{"fn failed"}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, org(2)); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, project(1, 1)); err != nil {
			return err
		}
		if err := tx.InsertSetting(ctx, "k", []byte("v")); err != nil {
			return err
		}
		return sentinel
	})
	if err != error(sentinel) {
		t.Errorf("Update returned %v (%T), want fn's error itself", err, err)
	}
	checkNoOrganization(t, s, 2)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetProject(ctx, project(1, 1).ID)
		wantIs(t, "GetProject after a rolled back Update", err, store.ErrNotFound)
		_, err = tx.GetSetting(ctx, "k")
		wantIs(t, "GetSetting after a rolled back Update", err, store.ErrNotFound)
		return nil
	})

	// A conflict returned by fn is returned as is, and the transaction's
	// earlier writes are rolled back too.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, org(3)); err != nil {
			return err
		}
		return tx.InsertOrganization(ctx, org(1))
	})
	wantIs(t, "Update returning a conflict", err, store.ErrConflict)
	checkNoOrganization(t, s, 3)
	checkUsable(t, s, 4)
}

func testUpdatePanic(t *testing.T, s store.Store) {
	ctx := t.Context()
	type panicValue struct{ v int }
	func() {
		defer func() {
			if r := recover(); r != (panicValue{42}) {
				t.Errorf("recovered %v, want the panic value of fn", r)
			}
		}()
		s.Update(ctx, func(tx store.Tx) error {
			if err := tx.InsertOrganization(ctx, org(1)); err != nil {
				return err
			}
			panic(panicValue{42})
		})
		t.Errorf("Update returned after fn panicked")
	}()
	checkNoOrganization(t, s, 1)
	checkUsable(t, s, 2)

	// runtime.Goexit, as t.Fatal inside fn does, rolls back too.
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Update(ctx, func(tx store.Tx) error {
			if err := tx.InsertOrganization(ctx, org(3)); err != nil {
				return err
			}
			runtime.Goexit()
			return nil
		})
	}()
	<-done
	checkNoOrganization(t, s, 3)
	checkUsable(t, s, 4)
}

func testUpdateCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.Update(ctx, func(tx store.Tx) error {
		called = true
		return nil
	})
	wantIs(t, "Update with a canceled context", err, context.Canceled)
	if called {
		t.Errorf("Update with a canceled context called fn")
	}

	// Canceled while fn runs: nothing is committed even though fn succeeds.
	ctx, cancel = context.WithCancel(t.Context())
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, org(1)); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err == nil {
		t.Errorf("Update canceled during fn succeeded")
	}
	checkNoOrganization(t, s, 1)
	checkUsable(t, s, 2)
}

func testViewReadOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := project(1, 1)
	seedUsers(t, s, []atlasx509.Project{p}, []atlasx509.DatabaseUser{user(p, "alice")}, nil)
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"InsertOrganization", func(tx store.Tx) error { return tx.InsertOrganization(ctx, org(2)) }},
		{"InsertSetting", func(tx store.Tx) error { return tx.InsertSetting(ctx, "k", []byte("v")) }},
		{"DeleteProject", func(tx store.Tx) error { return tx.DeleteProject(ctx, p.ID) }},
		{"DeleteDatabaseUser", func(tx store.Tx) error {
			return tx.DeleteDatabaseUser(ctx, p.ID, atlasx509.DatabaseExternal, "alice", t0)
		}},
		{"UpdateProject", func(tx store.Tx) error {
			changed := p
			changed.Name = "changed in a View"
			return tx.UpdateProject(ctx, changed)
		}},
		{"DeleteExpiredDatabaseUsers", func(tx store.Tx) error {
			_, err := tx.DeleteExpiredDatabaseUsers(ctx, t0)
			return err
		}},
		{"InsertAccessListEntry", func(tx store.Tx) error {
			return tx.InsertAccessListEntry(ctx, accessListEntry(id(2001), "192.0.2.0/24", t0))
		}},
	}
	for _, w := range writes {
		var writeErr error
		err := s.View(ctx, func(tx store.Tx) error {
			writeErr = w.fn(tx)
			return nil
		})
		if err != nil {
			t.Errorf("View of %s: %v", w.name, err)
		}
		wantInternal(t, w.name+" in a View", writeErr)
	}
	checkNoOrganization(t, s, 2)
	view(t, s, func(tx store.Tx) error {
		if got, err := tx.GetProject(ctx, p.ID); err != nil {
			t.Errorf("GetProject after a delete in a View: %v", err)
		} else if d := diff(p, got); d != "" {
			t.Errorf("project changed by an update in a View (-want +got):\n%s", d)
		}
		if l, err := tx.ListAccessListEntries(ctx, id(2001)); err != nil || len(l) != 0 {
			t.Errorf("ListAccessListEntries after an insert in a View = %+v, %v; want none", l, err)
		}
		if _, err := tx.FindDatabaseUser(ctx, p.ID, "alice"); err != nil {
			t.Errorf("FindDatabaseUser after a delete in a View: %v", err)
		}
		_, err := tx.GetSetting(ctx, "k")
		wantIs(t, "GetSetting after an insert in a View", err, store.ErrNotFound)
		return nil
	})
}

func testViewError(t *testing.T, s store.Store) {
	sentinel := errors.New("view failed")
	if err := s.View(t.Context(), func(store.Tx) error { return sentinel }); err != sentinel {
		t.Errorf("View returned %v, want fn's error itself", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.View(ctx, func(store.Tx) error { return nil })
	wantIs(t, "View with a canceled context", err, context.Canceled)
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, perWriter, readers = 8, 15, 4
	seed(t, s, []atlasx509.Organization{org(1)}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				n := w*perWriter + i
				err := s.Update(ctx, func(tx store.Tx) error {
					if err := tx.InsertProject(ctx, project(n, 1)); err != nil {
						return err
					}
					return tx.InsertSetting(ctx, fmt.Sprintf("setting %d", n), []byte{byte(n)})
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	var rwg sync.WaitGroup
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int
				err := s.View(ctx, func(tx store.Tx) error {
					var err error
					n, err = tx.CountProjects(ctx, store.ProjectFilter{OrgIDs: []string{id(1)}})
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
				if n < last {
					errs <- fmt.Errorf("reader: count went from %d down to %d", last, n)
					return
				}
				last = n
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountProjects(ctx, store.ProjectFilter{OrgIDs: []string{id(1)}})
		if err != nil {
			return err
		}
		if n != writers*perWriter {
			t.Errorf("CountProjects = %d after concurrent Updates, want %d", n, writers*perWriter)
		}
		for n := range writers * perWriter {
			if _, err := tx.GetSetting(ctx, fmt.Sprintf("setting %d", n)); err != nil {
				t.Errorf("setting %d: %v", n, err)
			}
		}
		return nil
	})
}
