package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// hold starts an Update whose fn inserts the setting name and then waits
// until release is called: the Updates queued meanwhile join its batch
// (up to maxBatch), and run once release is called. wait returns the held
// Update's result.
func hold(t *testing.T, s *Store, name string) (release func(), wait func() error) {
	t.Helper()
	inside := make(chan struct{})
	gate := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.InsertSetting(context.Background(), name, []byte(name)); err != nil {
				return err
			}
			close(inside)
			<-gate
			return nil
		})
	}()
	select {
	case <-inside:
	case err := <-done:
		t.Fatalf("held Update returned before its fn waited: %v", err)
	}
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release, func() error { return <-done }
}

// waitQueued waits until n requests are queued in s (abandoned ones
// included until the committer drops them).
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		q := len(s.queue)
		s.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued after 20 s, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// settings returns which of names are stored in the file at path, read by
// a new Store once s is closed: what survived.
func settingsAfterReopen(t *testing.T, s *Store, path string, names []string) map[string]bool {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	found := map[string]bool{}
	err = s2.View(t.Context(), func(tx store.Tx) error {
		for _, name := range names {
			v, err := tx.GetSetting(t.Context(), name)
			switch {
			case err == nil:
				if string(v) != name {
					t.Errorf("setting %s = %q, want %q", name, v, name)
				}
				found[name] = true
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

type fnError struct{ i int }

func (e *fnError) Error() string { return fmt.Sprintf("fn %d failed", e.i) }

type fnPanic struct{ i int }

// TestGroupCommitMixed runs many concurrent Updates that succeed, fail,
// panic, conflict or see their context canceled during fn, first queued
// behind a held Update so that they share one batch, then free-running.
// Each gets its own outcome (a panic in its own goroutine), and after
// reopening the file exactly the successful ones' writes are there.
func TestGroupCommitMixed(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "dup", []byte("dup")) }); err != nil {
		t.Fatal(err)
	}
	const (
		succeed = iota
		fail
		panics
		conflict
		cancel
		modes
	)
	var (
		mu     sync.Mutex
		want   = map[string]bool{"dup": true} // name → whether it must survive
		names  = []string{"dup"}
		errsMu sync.Mutex
		errs   []string
	)
	report := func(format string, args ...any) {
		errsMu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		errsMu.Unlock()
	}
	// run does Update number i, in mode i%modes, and checks its outcome.
	run := func(round, i int) {
		name := fmt.Sprintf("r%d-%d", round, i)
		mode := i % modes
		mu.Lock()
		want[name] = mode == succeed
		names = append(names, name)
		mu.Unlock()
		uctx, cancelCtx := context.WithCancel(ctx)
		defer cancelCtx()
		panicked := true
		defer func() {
			r := recover()
			switch {
			case mode == panics && r != (fnPanic{i}):
				report("%s: recovered %v, want fnPanic{%d}", name, r, i)
			case mode != panics && (r != nil || panicked):
				report("%s: panic %v in the goroutine of an Update that did not panic", name, r)
			}
		}()
		err := s.Update(uctx, func(tx store.Tx) error {
			if err := tx.InsertSetting(uctx, name, []byte(name)); err != nil {
				return err
			}
			switch mode {
			case fail:
				return &fnError{i}
			case panics:
				panic(fnPanic{i})
			case conflict:
				return tx.InsertSetting(uctx, "dup", nil)
			case cancel:
				cancelCtx()
			}
			return nil
		})
		panicked = false
		switch mode {
		case succeed:
			if err != nil {
				report("%s: Update: %v", name, err)
			}
		case fail:
			if e, ok := err.(*fnError); !ok || e.i != i {
				report("%s: Update returned %v, want fn's error itself", name, err)
			}
		case panics:
			report("%s: Update returned %v after fn panicked", name, err)
		case conflict:
			if !errors.Is(err, store.ErrConflict) {
				report("%s: Update returned %v, want ErrConflict", name, err)
			}
		case cancel:
			if !errors.Is(err, context.Canceled) {
				report("%s: Update returned %v, want context.Canceled", name, err)
			}
		}
	}

	// Round 0: one batch, queued behind a held Update.
	const queued = 50 // below maxBatch
	release, wait := hold(t, s, "held")
	want["held"] = true
	names = append(names, "held")
	commitsBefore := s.commits.Load()
	var wg sync.WaitGroup
	for i := range queued {
		wg.Go(func() { run(0, i) })
	}
	waitQueued(t, s, queued)
	release()
	if err := wait(); err != nil {
		t.Fatalf("held Update: %v", err)
	}
	wg.Wait()
	if n := s.commits.Load() - commitsBefore; n != 1 {
		t.Errorf("%d commits for a held Update and %d queued behind it, want 1", n, queued)
	}

	// Rounds 1 to 20: free-running goroutines.
	for round := 1; round <= 20; round++ {
		for i := range 40 {
			wg.Go(func() { run(round, i) })
		}
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	t.Logf("%d Updates carried by %d commits", s.committed.Load(), s.commits.Load())

	found := settingsAfterReopen(t, s, path, names)
	for _, name := range names {
		if found[name] != want[name] {
			t.Errorf("after reopening: setting %s present = %v, want %v", name, found[name], want[name])
		}
	}
}

// TestGroupCommitCommitFails makes the COMMIT of a batch fail (a deferred
// foreign key violation, reported only at COMMIT): every Update of the
// batch whose fn succeeded gets the commit error, one whose fn failed its
// own error, and none of their writes happened.
func TestGroupCommitCommitFails(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	release, wait := hold(t, s, "held")
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("s%d", i)
			errs[i] = s.Update(ctx, func(stx store.Tx) error {
				if err := stx.InsertSetting(ctx, name, []byte(name)); err != nil {
					return err
				}
				switch i {
				case 3:
					if _, err := stx.(*tx).tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
						return err
					}
					return stx.InsertProject(ctx, atlasx509.Project{ID: "p", OrgID: "no such org", Name: "p"})
				case 5:
					return &fnError{i}
				}
				return nil
			})
		})
	}
	waitQueued(t, s, n)
	release()
	heldErr := wait()
	wg.Wait()
	var commitErr error
	for i, err := range append(errs, heldErr) { // the held Update is of the batch
		switch {
		case i == 5:
			if e, ok := err.(*fnError); !ok || e.i != 5 {
				t.Errorf("Update %d returned %v, want fn's error", i, err)
			}
		case err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound):
			t.Errorf("Update %d of a batch whose commit failed returned %v, want the commit error", i, err)
		case commitErr == nil:
			commitErr = err
		case err.Error() != commitErr.Error():
			t.Errorf("Update %d returned %v, another %v: want the same commit error", i, err, commitErr)
		}
	}
	t.Logf("commit error: %v", commitErr)
	// The store still works.
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "after", []byte("after")) }); err != nil {
		t.Fatalf("Update after a failed commit: %v", err)
	}
	names := []string{"held", "after"}
	for i := range n {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	found := settingsAfterReopen(t, s, path, names)
	for _, name := range names {
		if want := name == "after"; found[name] != want {
			t.Errorf("after reopening: setting %s present = %v, want %v", name, found[name], want)
		}
	}
}

// TestGroupCommitAborted ends the shared transaction under the batch (as
// SQLite does on some I/O errors): the Updates that were waiting for its
// commit fail, and the next batch is unaffected.
func TestGroupCommitAborted(t *testing.T) {
	for _, fnFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("fnFails=%v", fnFails), func(t *testing.T) {
			s, path := openTemp(t)
			ctx := t.Context()
			release, wait := hold(t, s, "held")
			const n = 6
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					name := fmt.Sprintf("s%d", i)
					errs[i] = s.Update(ctx, func(stx store.Tx) error {
						if err := stx.InsertSetting(ctx, name, []byte(name)); err != nil {
							return err
						}
						if i == 2 {
							if _, err := stx.(*tx).tx.ExecContext(ctx, `ROLLBACK`); err != nil {
								return err
							}
							if fnFails {
								return &fnError{i}
							}
						}
						return nil
					})
				})
				waitQueued(t, s, i+1) // in order: 0 and 1 run before 2
			}
			release()
			// The held Update, 0, 1 and 2 share the aborted transaction;
			// 3, 4 and 5 the next.
			if err := wait(); err == nil {
				t.Errorf("held Update, whose transaction was aborted, succeeded")
			}
			wg.Wait()
			for i, err := range errs {
				switch {
				case i < 2 || (i == 2 && !fnFails):
					if err == nil {
						t.Errorf("Update %d, whose transaction was aborted, succeeded", i)
					}
				case i == 2:
					if e, ok := err.(*fnError); !ok || e.i != 2 {
						t.Errorf("Update %d returned %v, want fn's error", i, err)
					}
				default: // in a later batch
					if err != nil {
						t.Errorf("Update %d, after the aborted batch: %v", i, err)
					}
				}
			}
			names := []string{"held"}
			for i := range n {
				names = append(names, fmt.Sprintf("s%d", i))
			}
			found := settingsAfterReopen(t, s, path, names)
			for i, name := range names {
				if want := i > 3; found[name] != want {
					t.Errorf("after reopening: setting %s present = %v, want %v", name, found[name], want)
				}
			}
		})
	}
}

// TestUpdateCanceledWhileQueued cancels Updates queued behind a held one:
// they return their context's error and their fn never runs.
func TestUpdateCanceledWhileQueued(t *testing.T) {
	s, _ := openTemp(t)
	release, wait := hold(t, s, "held")
	type result struct {
		err    error
		called bool
	}
	type canceled struct {
		ctx  context.Context
		stop context.CancelFunc
		want error
	}
	c1, stop1 := context.WithCancel(t.Context())
	c2, stop2 := context.WithTimeout(t.Context(), 500*time.Millisecond)
	ctxs := []canceled{{c1, stop1, context.Canceled}, {c2, stop2, context.DeadlineExceeded}}
	results := make([]chan result, len(ctxs))
	for i, c := range ctxs {
		results[i] = make(chan result, 1)
		go func() {
			called := false
			err := s.Update(c.ctx, func(tx store.Tx) error {
				called = true
				return tx.InsertSetting(c.ctx, fmt.Sprint(i), nil)
			})
			results[i] <- result{err, called}
		}()
		waitQueued(t, s, i+1)
	}
	// One behind them that is not canceled.
	okDone := make(chan error, 1)
	go func() {
		okDone <- s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertSetting(t.Context(), "ok", nil) })
	}()
	waitQueued(t, s, len(ctxs)+1)
	stop1()
	for i, c := range ctxs {
		r := <-results[i] // the held Update still runs: no turn came
		if !errors.Is(r.err, c.want) || r.called {
			t.Errorf("Update %d canceled while queued: err %v, fn called %v; want %v, not called", i, r.err, r.called, c.want)
		}
		c.stop()
	}
	release()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-okDone; err != nil {
		t.Errorf("Update queued behind canceled ones: %v", err)
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		for _, name := range []string{"0", "1"} {
			if _, err := tx.GetSetting(t.Context(), name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("setting of a canceled Update: %v, want ErrNotFound", err)
			}
		}
		_, err := tx.GetSetting(t.Context(), "ok")
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestCloseWithQueuedUpdates closes a Store while Updates are queued: they
// run and commit, Updates after Close fail at once, and Close returns once
// all is done.
func TestCloseWithQueuedUpdates(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atlasx509.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	release, wait := hold(t, s, "held")
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			name := fmt.Sprintf("s%d", i)
			errs <- s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, name, []byte(name)) })
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for {
		s.mu.Lock()
		c := s.closed
		s.mu.Unlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "late", nil) }); err == nil {
		t.Errorf("Update after Close succeeded")
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while Updates were queued", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := wait(); err != nil {
		t.Error(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Update queued before Close: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	names := []string{"held", "late"}
	for i := range n {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	found := settingsAfterReopen(t, s, path, names)
	for _, name := range names {
		if want := name != "late"; found[name] != want {
			t.Errorf("after reopening: setting %s present = %v, want %v", name, found[name], want)
		}
	}
}

// TestNestedUpdate calls Update from an fn of the same Store: the inner
// Update fails instead of waiting for itself, and the Store stays usable.
// So does an fn's Update of another Store that keeps it waiting (the store
// contract forbids both).
func TestNestedUpdate(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	var inner error
	start := time.Now()
	err := s.Update(ctx, func(tx store.Tx) error {
		inner = s.Update(ctx, func(tx store.Tx) error { return nil })
		return inner
	})
	if !errors.Is(inner, errNested) || err != inner {
		t.Errorf("nested Update returned %v (outer %v), want errNested", inner, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("nested Update detected after %v", d)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "k", nil) }); err != nil {
		t.Fatalf("Update after a nested one: %v", err)
	}

	s2, _ := openTemp(t)
	release, wait := hold(t, s2, "held")
	err = s.Update(ctx, func(tx store.Tx) error {
		return s2.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "from s", nil) })
	})
	release()
	if !errors.Is(err, errNested) {
		t.Errorf("Update of a busy Store from an fn: %v, want errNested", err)
	}
	if err := wait(); err != nil {
		t.Error(err)
	}
}

// TestTxAfterFn uses an Update's Tx after fn returned: it fails.
func TestTxAfterFn(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	var leaked store.Tx
	if err := s.Update(ctx, func(tx store.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := leaked.InsertSetting(ctx, "late", nil); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("InsertSetting through a Tx after its fn returned: %v, want sql.ErrTxDone", err)
	}
	if _, err := leaked.GetSetting(ctx, "late"); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("GetSetting through a Tx after its fn returned: %v, want sql.ErrTxDone", err)
	}
}

// TestLoneUpdateCommitsAtOnce checks that an Update with nothing queued
// commits alone, without waiting for company.
func TestLoneUpdateCommitsAtOnce(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	for i := range 20 {
		before := s.commits.Load()
		start := time.Now()
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, fmt.Sprint(i), nil) }); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("lone Update took %v", d)
		}
		if n := s.commits.Load() - before; n != 1 {
			t.Errorf("lone Update: %d commits, want 1", n)
		}
	}
}

// TestLeaderFailsWithQueue makes the fn of an Update that leads a batch
// fail, panic or call runtime.Goexit while other Updates are queued behind
// it: its writes are rolled back, its goroutine sees its own outcome, and
// the queued Updates commit.
func TestLeaderFailsWithQueue(t *testing.T) {
	for _, mode := range []string{"error", "panic", "goexit"} {
		t.Run(mode, func(t *testing.T) {
			s, path := openTemp(t)
			ctx := t.Context()
			inside := make(chan struct{})
			gate := make(chan struct{})
			outcome := make(chan string, 1)
			go func() {
				returned := false
				defer func() {
					r := recover()
					switch {
					case returned:
					case r != nil:
						outcome <- fmt.Sprint("panic ", r)
					default:
						outcome <- "goexit"
					}
				}()
				err := s.Update(ctx, func(tx store.Tx) error {
					if err := tx.InsertSetting(ctx, "leader", []byte("leader")); err != nil {
						return err
					}
					close(inside)
					<-gate
					switch mode {
					case "panic":
						panic("leader")
					case "goexit":
						runtime.Goexit()
					}
					return &fnError{-1}
				})
				returned = true
				outcome <- fmt.Sprint("error ", err)
			}()
			<-inside
			const n = 5
			errs := make(chan error, n)
			for i := range n {
				go func() {
					name := fmt.Sprintf("s%d", i)
					errs <- s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, name, []byte(name)) })
				}()
			}
			waitQueued(t, s, n)
			close(gate)
			want := map[string]string{"error": "error fn -1 failed", "panic": "panic leader", "goexit": "goexit"}[mode]
			if got := <-outcome; got != want {
				t.Errorf("leader's goroutine saw %q, want %q", got, want)
			}
			for range n {
				if err := <-errs; err != nil {
					t.Errorf("Update queued behind a failed leader: %v", err)
				}
			}
			names := []string{"leader"}
			for i := range n {
				names = append(names, fmt.Sprintf("s%d", i))
			}
			found := settingsAfterReopen(t, s, path, names)
			for _, name := range names {
				if want := name != "leader"; found[name] != want {
					t.Errorf("after reopening: setting %s present = %v, want %v", name, found[name], want)
				}
			}
		})
	}
}
