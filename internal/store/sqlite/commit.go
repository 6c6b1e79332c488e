package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/atlasx509/atlasx509/internal/store"
)

// Group commit.
//
// An fsync costs more than everything else a typical Update does, so
// concurrent Updates share commits. An Update that finds no transaction
// running leads one: in its own goroutine it begins a write transaction
// (BEGIN IMMEDIATE on the writer connection) and runs its fn in it. The
// Updates that come meanwhile queue and wait. Once the leader's fn has
// succeeded, the leader hands the transaction to the queued Updates one
// after the other, oldest first, up to maxBatch in all; each fn runs in its
// own caller's goroutine while the leader waits, inside a savepoint: when
// an fn fails, the transaction is rolled back to the savepoint and its
// caller returns fn's error at once, the others' writes untouched. When no
// Update is left in the queue, or maxBatch have had their turn, the leader
// commits once, one fsync for all, and wakes every caller whose fn
// succeeded with the outcome of that COMMIT: nil once their writes are
// durable, or the commit error, and then none of their writes happened.
//
// If Updates queued during that batch (while its fns ran or its COMMIT
// synced), the leader starts a committer goroutine that runs batches like
// this one, the first fn of each in no savepoint (when it fails the whole
// transaction is rolled back and the next Update begins another), until
// the queue is empty; then the next Update leads again. So a lone Update
// runs as it would without group commit, in its goroutine with no hand-off
// and no timer, and under load batches form by themselves, from the
// Updates that arrive while the previous batch runs and syncs.
//
// Every fn runs in its caller's goroutine, so that a panic or
// runtime.Goexit (t.Fatal) in fn unwinds the caller's own stack, as without
// group commit: a deferred function reports the abnormal end, and fn's
// writes are rolled back.

// Tuning of group commit.
const (
	// maxBatch bounds how many requests share a transaction, which bounds
	// how long the first of them waits for the commit.
	maxBatch = 64
	// nestedCheckAfter is how long Update waits for its turn before it
	// checks whether it was called from an fn (see inFn), and then again
	// every as long.
	nestedCheckAfter = 100 * time.Millisecond
)

// Errors of Update that concern group commit.
var (
	errClosed = errors.New("sqlite: update: store closed")
	errNested = errors.New("sqlite: update: called from an update function, which the store contract forbids")
)

// Request states: the goroutine that runs the batch (the leader or the
// committer) moves a queued request to started (fn will run); its caller,
// when giving up before that, to abandoned.
const (
	queued int32 = iota
	started
	abandoned
)

// request is a queued Update.
type request struct {
	ctx   context.Context
	state atomic.Int32
	// ch carries from the batch's goroutine first the transaction (a
	// grant with a tx: fn's turn), then, when fn succeeded, the outcome of
	// the commit; or only an error (fn will not run).
	ch chan grant
}

// grant is a message of the batch's goroutine to a request's caller.
type grant struct {
	tx  *tx   // non-nil: fn's turn
	err error // with no tx: what Update returns
}

// Update runs fn in a read-write transaction and commits it when fn returns
// nil; the commit is fsynced before Update returns. When fn returns an
// error, panics or calls runtime.Goexit, fn's writes are rolled back and
// its error returned unchanged, or the panic or Goexit continued. Updates
// are serialised, so fn's reads see no concurrent write.
//
// Concurrent Updates share transactions and commits (see commit.go): fn
// runs in the caller's goroutine but in its turn, while other callers wait,
// and Update returns once the transaction that holds fn's writes is
// committed (or at once, when fn fails). A commit that fails fails every
// Update of the batch whose fn had succeeded, with the commit error.
//
// When ctx is done before fn's turn, Update returns ctx.Err() and fn does
// not run. fn's statements are not interrupted when ctx ends during fn
// (interrupting a statement would roll back the whole shared transaction):
// every statement checks ctx before it starts, and when ctx is done once fn
// has returned nil, fn's writes are rolled back and Update returns an error
// that wraps ctx.Err(). A commit that has begun completes whatever ctx
// does.
//
// fn must not call Update, nor wait for another goroutine that does (see
// store.Store): an Update of the same Store would wait for fn's own
// transaction forever. An Update called from an fn (in its goroutine)
// that waits for its turn returns an error after nestedCheckAfter instead.
// fn must not use its Tx once it has returned. After Close, Update returns
// an error.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	if !s.busy {
		s.busy = true
		s.mu.Unlock()
		return s.lead(ctx, fn)
	}
	r := &request{ctx: ctx, ch: make(chan grant, 1)}
	s.queue = append(s.queue, r)
	s.mu.Unlock()

	g, err := s.awaitTurn(r)
	if err != nil {
		return err
	}
	if g.tx == nil {
		return g.err
	}
	if err := callFn(s, g.tx, ctx, fn, true); err != nil {
		return err
	}
	return (<-r.ch).err // the commit
}

// lead runs an Update that found no transaction running (s.busy was false
// and is now true): it begins one, runs fn in it, then the queued Updates'
// fns, commits, and hands what is left in the queue to a committer.
func (s *Store) lead(ctx context.Context, fn func(store.Tx) error) error {
	// The transaction is shared: no caller's context may end it.
	sqlTx, err := begin(context.Background(), s.writer, nil)
	if err != nil {
		s.handOff()
		return err
	}
	done := false
	defer func() {
		if !done { // fn failed, panicked or called runtime.Goexit
			sqlTx.Rollback()
			s.handOff()
		}
	}()
	if err := callFn(s, &tx{tx: sqlTx, update: true}, ctx, fn, false); err != nil {
		return err
	}
	done = true
	err = s.runBatch(sqlTx)
	s.handOff()
	return err
}

// handOff ends the turn of the goroutine that runs batches: it starts a
// committer when Updates are queued, and otherwise lets the next Update
// lead.
func (s *Store) handOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		go s.commitLoop()
		return
	}
	s.busy = false
	s.idle.Broadcast()
}

// awaitTurn waits for the first message to r. It returns an error instead
// when r's context ends before fn's turn, or when the Update turns out
// called from an fn: then the turn may never come.
func (s *Store) awaitTurn(r *request) (grant, error) {
	select {
	case g := <-r.ch:
		return g, nil
	default:
	}
	done := r.ctx.Done()
	timer := time.NewTimer(nestedCheckAfter)
	defer timer.Stop()
	for {
		select {
		case g := <-r.ch:
			return g, nil
		case <-done:
			if r.state.CompareAndSwap(queued, abandoned) {
				return grant{}, r.ctx.Err()
			}
			done = nil // started meanwhile: the turn is coming
		case <-timer.C:
			if inFn() && r.state.CompareAndSwap(queued, abandoned) {
				return grant{}, errNested
			}
			timer.Reset(nestedCheckAfter)
		}
	}
}

// callFn runs fn with t, in the caller's goroutine. When report is set (a
// queued Update's turn), it reports to the goroutine that runs the batch
// whether fn succeeded, also when fn panics or calls runtime.Goexit: the
// deferred report runs, then the panic or Goexit goes on. inFn looks for
// this function on the stack: it must not be inlined.
//
//go:noinline
func callFn(s *Store, t *tx, ctx context.Context, fn func(store.Tx) error, report bool) (err error) {
	ok := false
	defer func() {
		t.done.Store(true)
		if report {
			s.back <- ok
		}
	}()
	if err := ctx.Err(); err != nil {
		return err // ended before fn's turn: fn does not run
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: update: %w", err)
	}
	ok = true
	return nil
}

// commitLoop is the committer: it runs batches while Updates are queued,
// then lets the next Update lead.
func (s *Store) commitLoop() {
	for {
		s.runBatch(nil)
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.busy = false
			s.idle.Broadcast()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// next dequeues the oldest request whose caller still waits and marks it
// started; nil if there is none. A request whose context has ended gets
// its context's error, and fn does not run.
func (s *Store) next() *request {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return nil
		}
		r := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil // drop the consumed backing array
		}
		s.mu.Unlock()
		if err := r.ctx.Err(); err != nil {
			if r.state.CompareAndSwap(queued, abandoned) {
				r.ch <- grant{err: err}
			}
			continue
		}
		if r.state.CompareAndSwap(queued, started) {
			return r
		}
	}
}

// runBatch runs the turns of queued Updates in one transaction, then
// commits it. With a nil lead, it begins the transaction for the first
// turn; otherwise lead is the transaction in which the leader's fn has
// succeeded, and runBatch returns what the leader's Update returns.
func (s *Store) runBatch(lead *sql.Tx) error {
	// The transaction is shared: no caller's context may end it.
	ctx := context.Background()
	var (
		sqlTx = lead
		// ownErr is the leader's outcome.
		ownErr error
		// members counts the fns that succeeded in sqlTx; waiting are the
		// callers of those (the leader's excepted), who wait for the
		// commit.
		members int
		waiting []*request
	)
	if lead != nil {
		members = 1
	}
	for n := members; n < maxBatch; n++ {
		r := s.next()
		if r == nil {
			break
		}
		if sqlTx == nil {
			var err error
			if sqlTx, err = begin(ctx, s.writer, nil); err != nil {
				// The Updates queued meanwhile would wait for the same
				// lock: they fail alike.
				r.ch <- grant{err: err}
				for ; n < maxBatch; n++ {
					if r = s.next(); r == nil {
						break
					}
					r.ch <- grant{err: err}
				}
				return nil
			}
		}
		// The first fn of a transaction needs no savepoint: when it fails,
		// the whole transaction is rolled back.
		savepoint := members > 0
		if savepoint {
			if _, err := sqlTx.ExecContext(ctx, `SAVEPOINT fn`); err != nil {
				r.ch <- grant{err: abortErr(err)}
				return abort(sqlTx, lead, waiting, err)
			}
		}
		r.ch <- grant{tx: &tx{tx: sqlTx, update: true}}
		if <-s.back {
			if savepoint {
				if _, err := sqlTx.ExecContext(ctx, `RELEASE fn`); err != nil {
					return abort(sqlTx, lead, append(waiting, r), err)
				}
			}
			members++
			waiting = append(waiting, r)
			continue
		}
		// fn failed, and its caller has returned: undo fn's writes.
		if !savepoint {
			sqlTx.Rollback()
			sqlTx = nil
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, `ROLLBACK TO fn; RELEASE fn`); err != nil {
			// The transaction is no longer what the waiting callers
			// wrote: SQLite may have rolled it back on an error of fn's
			// statements (an I/O error, a full disk).
			return abort(sqlTx, lead, waiting, err)
		}
	}
	if sqlTx == nil {
		return nil
	}
	s.commits.Add(1)
	s.committed.Add(int64(members))
	err := sqlTx.Commit()
	if err != nil {
		// database/sql (with the driver) rolls back a transaction whose
		// COMMIT failed: none of the batch's writes happened.
		err = fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, r := range waiting {
		r.ch <- grant{err: err}
	}
	if lead != nil {
		ownErr = err
	}
	return ownErr
}

// abort rolls back sqlTx after a savepoint statement failed with err, and
// fails the Updates that were waiting for its commit: the waiting callers,
// and the leader's Update (its error is returned) if sqlTx is lead.
func abort(sqlTx, lead *sql.Tx, waiting []*request, err error) error {
	sqlTx.Rollback()
	err = abortErr(err)
	for _, r := range waiting {
		r.ch <- grant{err: err}
	}
	if sqlTx == lead {
		return err
	}
	return nil
}

func abortErr(err error) error {
	return fmt.Errorf("sqlite: transaction aborted: %w", err)
}

// Close stops accepting Updates, waits for the Updates already running or
// queued to end (their fns run and commit as usual), then closes both
// pools. It must not be called from an Update's fn.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for s.busy {
			s.idle.Wait()
		}
		s.mu.Unlock()
		s.closeErr = errors.Join(s.reader.Close(), s.writer.Close())
	})
	return s.closeErr
}

// inFn reports whether the calling goroutine runs an Update fn, of any
// Store: whether callFn, which runs every fn, is on its stack. An Update
// waiting for its turn there was called from an fn, which the contract of
// store.Store forbids; if the fn is of the same Store, the turn will never
// come. Go exposes no goroutine identity, and fn gets no context that
// Update could mark, so the stack is where the check looks. A walk costs
// about a tenth of a grouped Update (BenchmarkInFn), which is why only an
// Update that has waited nestedCheckAfter makes it.
func inFn() bool { return onStack(callFnName) }

// callFnName is the name of callFn as runtime.Frame.Function spells it.
var callFnName = runtime.FuncForPC(reflect.ValueOf(callFn).Pointer()).Name()

// onStack reports whether the function named fn is on the calling
// goroutine's stack (within its innermost 16384 frames).
func onStack(fn string) bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(2, pcs)
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Function == fn {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) || len(pcs) >= 1<<14 {
			return false
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
}
