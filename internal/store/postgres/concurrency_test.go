package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// seedProject inserts an organization and a project with CA generation 1,
// and returns the project.
func seedProject(t testing.TB, s *Store) atlasx509.Project {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	o := atlasx509.Organization{ID: atlasx509.NewID(now), Name: "org", Created: now}
	p := atlasx509.Project{ID: atlasx509.NewID(now), OrgID: o.ID, Name: "project", Created: now}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, o); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		return tx.InsertProjectCA(ctx, atlasx509.ProjectCA{
			GroupID: p.ID, Generation: 1, CertDER: make([]byte, 800), SealedKey: make([]byte, 200),
			NotBefore: now, NotAfter: now.AddDate(10, 0, 0), Created: now,
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testUser(p atlasx509.Project, username string) atlasx509.DatabaseUser {
	now := time.Now().UTC()
	return atlasx509.DatabaseUser{
		GroupID: p.ID, Username: username, DatabaseName: atlasx509.DatabaseExternal,
		X509Type: atlasx509.X509Managed, Created: now, Updated: now,
	}
}

func testCertificate(u atlasx509.DatabaseUser, serial int64) atlasx509.Certificate {
	now := time.Now().UTC()
	return atlasx509.Certificate{
		GroupID: u.GroupID, Username: u.Username, Serial: serial, Subject: "CN=" + u.Username,
		CAGeneration: 1, NotBefore: now, NotAfter: now.AddDate(0, 3, 0),
		FingerprintSHA256: fmt.Sprintf("%064x", serial), Created: now,
	}
}

// barrier lets n goroutines wait for each other once.
type barrier struct {
	wg sync.WaitGroup
}

func newBarrier(n int) *barrier {
	b := &barrier{}
	b.wg.Add(n)
	return b
}

func (b *barrier) wait() {
	b.wg.Done()
	b.wg.Wait()
}

// TestSerializationRetry makes two Updates read the same row, wait for each
// other, then both write it: the second writer fails with a serialization
// failure and Update runs its fn again, which then reads the first one's
// write. No update is lost.
func TestSerializationRetry(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	p := seedProject(t, s)
	u := testUser(p, "counter")
	u.Description = "0"
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	b := newBarrier(2)
	var runs atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			first := true
			err := s.Update(ctx, func(tx store.Tx) error {
				runs.Add(1)
				got, err := tx.FindDatabaseUser(ctx, p.ID, u.Username)
				if err != nil {
					return err
				}
				if first {
					first = false
					b.wait() // both have read
				}
				n, err := strconv.Atoi(got.Description)
				if err != nil {
					return err
				}
				got.Description = strconv.Itoa(n + 1)
				return tx.UpdateDatabaseUser(ctx, got)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := runs.Load(); got != 3 {
		t.Errorf("fn ran %d times, want 3 (one retry)", got)
	}
	checkDescription(t, s, p.ID, u.Username, "2")
}

func checkDescription(t *testing.T, s *Store, groupID, username, want string) {
	t.Helper()
	err := s.View(t.Context(), func(tx store.Tx) error {
		got, err := tx.FindDatabaseUser(t.Context(), groupID, username)
		if err != nil {
			return err
		}
		if got.Description != want {
			t.Errorf("Description = %s, want %s", got.Description, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoLostUpdate runs read-modify-write Updates from several goroutines
// on two Stores (two replicas): every increment is kept.
func TestNoLostUpdate(t *testing.T) {
	t.Parallel()
	s1, u1 := openTest(t)
	s2, err := Open(t.Context(), u1)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := t.Context()
	p := seedProject(t, s1)
	u := testUser(p, "counter")
	u.Description = "0"
	if err := s1.Update(ctx, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	const goroutines, increments = 6, 10
	var runs atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		s := []*Store{s1, s2}[g%2]
		wg.Go(func() {
			for range increments {
				err := s.Update(ctx, func(tx store.Tx) error {
					runs.Add(1)
					got, err := tx.FindDatabaseUser(ctx, p.ID, u.Username)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(got.Description)
					if err != nil {
						return err
					}
					got.Description = strconv.Itoa(n + 1)
					return tx.UpdateDatabaseUser(ctx, got)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkDescription(t, s1, p.ID, u.Username, strconv.Itoa(goroutines*increments))
	t.Logf("%d commits took %d runs of fn", goroutines*increments, runs.Load())
}

// TestCountThenInsert runs Updates that count a project's users and insert
// one named after the count, as the application counts users before
// inserting one: the keys of concurrent transactions collide, which
// SERIALIZABLE turns into serialization failures (the count was read), so
// every Update succeeds after retries and the names are consecutive.
func TestCountThenInsert(t *testing.T) {
	t.Parallel()
	s1, u1 := openTest(t)
	s2, err := Open(t.Context(), u1)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := t.Context()
	p := seedProject(t, s1)
	const n = 12
	var runs atomic.Int32
	var wg sync.WaitGroup
	for g := range n {
		s := []*Store{s1, s2}[g%2]
		wg.Go(func() {
			err := s.Update(ctx, func(tx store.Tx) error {
				runs.Add(1)
				c, err := tx.CountDatabaseUsers(ctx, p.ID)
				if err != nil {
					return err
				}
				return tx.InsertDatabaseUser(ctx, testUser(p, fmt.Sprintf("user%03d", c)))
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	err = s1.View(ctx, func(tx store.Tx) error {
		users, err := tx.ListDatabaseUsers(ctx, p.ID, store.Page{})
		if err != nil {
			return err
		}
		if len(users) != n {
			t.Errorf("%d users, want %d", len(users), n)
		}
		for i, u := range users {
			if want := fmt.Sprintf("user%03d", i); u.Username != want {
				t.Errorf("user %d is %s, want %s", i, u.Username, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits took %d runs of fn", n, runs.Load())
}

// TestLimitHolds runs Updates that each insert their own user when the
// project has fewer than limit (the application's limit of users per
// project): no write skew lets more in.
func TestLimitHolds(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	p := seedProject(t, s)
	const limit, n = 2, testPoolConns // n transactions at once: one connection each
	errFull := errors.New("project full")
	b := newBarrier(n)
	var wg sync.WaitGroup
	var full atomic.Int32
	for g := range n {
		wg.Go(func() {
			first := true
			err := s.Update(ctx, func(tx store.Tx) error {
				c, err := tx.CountDatabaseUsers(ctx, p.ID)
				if err != nil {
					return err
				}
				if first {
					first = false
					b.wait() // all have counted before any inserts
				}
				if c >= limit {
					return errFull
				}
				return tx.InsertDatabaseUser(ctx, testUser(p, fmt.Sprintf("g%02d", g)))
			})
			if errors.Is(err, errFull) {
				full.Add(1)
			} else if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	err := s.View(ctx, func(tx store.Tx) error {
		c, err := tx.CountDatabaseUsers(ctx, p.ID)
		if err != nil {
			return err
		}
		if c != limit {
			t.Errorf("%d users after concurrent limited inserts, want %d", c, limit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := full.Load(); got != n-limit {
		t.Errorf("%d Updates found the project full, want %d", got, n-limit)
	}
}

// TestDeleteBeatsIssuance: an issuance that checked the user exists, then
// inserts a certificate after the user's deletion committed, is retried,
// and then finds no user: no certificate of a deleted user is ever stored.
func TestDeleteBeatsIssuance(t *testing.T) {
	t.Parallel()
	s1, u1 := openTest(t)
	s2, err := Open(t.Context(), u1)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := t.Context()
	p := seedProject(t, s1)
	u := testUser(p, "alice")
	if err := s1.Update(ctx, func(tx store.Tx) error { return tx.InsertDatabaseUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	checked := make(chan struct{})
	deleted := make(chan struct{})
	var runs atomic.Int32
	issued := make(chan error, 1)
	go func() {
		issued <- s1.Update(ctx, func(tx store.Tx) error {
			runs.Add(1)
			if _, err := tx.FindDatabaseUser(ctx, p.ID, u.Username); err != nil {
				return err
			}
			if runs.Load() == 1 {
				close(checked)
				<-deleted
			}
			return tx.InsertCertificate(ctx, testCertificate(u, 1))
		})
	}()
	<-checked
	if err := s2.Update(ctx, func(tx store.Tx) error {
		return tx.DeleteDatabaseUser(ctx, p.ID, u.DatabaseName, u.Username, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	close(deleted)
	err = <-issued
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("issuance racing a committed deletion: err = %v, want ErrNotFound from the retried check", err)
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("issuance fn ran %d times, want 2", got)
	}
	var certs int
	if err := s1.pool.QueryRow(ctx, `SELECT count(*) FROM certificates`).Scan(&certs); err != nil {
		t.Fatal(err)
	}
	if certs != 0 {
		t.Errorf("%d certificates stored for a deleted user", certs)
	}
}

// TestConflict checks that a unique violation is ErrConflict, returned by
// Update as fn returned it and not retried, and that a transaction whose
// statement failed cannot commit even when fn ignores the error.
func TestConflict(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	p := seedProject(t, s)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSetting(ctx, "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := s.Update(ctx, func(tx store.Tx) error {
		runs++
		return tx.InsertSetting(ctx, "k", []byte("w"))
	})
	if !errors.Is(err, store.ErrConflict) || runs != 1 {
		t.Errorf("duplicate InsertSetting: err = %v after %d runs, want ErrConflict after 1", err, runs)
	}
	if sqlState(err) != codeUniqueViolation {
		t.Errorf("ErrConflict does not wrap the PostgreSQL error: %v", err)
	}

	// fn ignores the conflict and goes on: its writes are not committed.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertSetting(ctx, "k2", nil); err != nil {
			return err
		}
		_ = tx.InsertProject(ctx, p) // a conflict, ignored
		return nil
	})
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update whose fn ignored a failed statement: err = %v, want an internal error", err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting(ctx, "k2")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write of a transaction that could not commit: GetSetting = %v, want ErrNotFound", err)
	}
}

// TestConcurrentCAGeneration inserts CA generation 1 of one project from
// two Stores at once. Blind inserts: one wins, the other gets ErrConflict.
// Read then insert (as the application does): the loser's transaction had
// read the key, so it fails with a serialization failure instead, is
// retried, and uses the winner's CA.
func TestConcurrentCAGeneration(t *testing.T) {
	t.Parallel()
	s1, u1 := openTest(t)
	s2, err := Open(t.Context(), u1)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := t.Context()
	now := time.Now().UTC()
	o := atlasx509.Organization{ID: atlasx509.NewID(now), Name: "org", Created: now}
	projects := []atlasx509.Project{
		{ID: atlasx509.NewID(now), OrgID: o.ID, Name: "blind", Created: now},
		{ID: atlasx509.NewID(now), OrgID: o.ID, Name: "read first", Created: now},
	}
	if err := s1.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, o); err != nil {
			return err
		}
		for _, p := range projects {
			if err := tx.InsertProject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ca := func(p atlasx509.Project, who int) atlasx509.ProjectCA {
		return atlasx509.ProjectCA{
			GroupID: p.ID, Generation: 1, CertDER: []byte{byte(who)}, SealedKey: []byte{byte(who)},
			NotBefore: now, NotAfter: now.AddDate(10, 0, 0), Created: now,
		}
	}
	stores := []*Store{s1, s2}

	t.Run("blind", func(t *testing.T) {
		p := projects[0]
		b := newBarrier(2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				first := true
				errs[i] = s.Update(ctx, func(tx store.Tx) error {
					if first {
						first = false
						// Both transactions have begun (a statement
						// takes the snapshot) before either inserts.
						if _, err := tx.GetSetting(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
							return err
						}
						b.wait()
					}
					return tx.InsertProjectCA(ctx, ca(p, i))
				})
			})
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Errorf("store %d: %v", i, err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Errorf("%d inserts succeeded and %d conflicted, want 1 and 1", ok, conflicts)
		}
	})

	t.Run("read first", func(t *testing.T) {
		p := projects[1]
		b := newBarrier(2)
		got := make([]atlasx509.ProjectCA, 2)
		errs := make([]error, 2)
		var runs atomic.Int32
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				first := true
				errs[i] = s.Update(ctx, func(tx store.Tx) error {
					runs.Add(1)
					cas, err := tx.ListProjectCAs(ctx, p.ID)
					if err != nil {
						return err
					}
					if first {
						first = false
						b.wait() // both found no CA
					}
					if len(cas) > 0 {
						got[i] = cas[0]
						return nil
					}
					got[i] = ca(p, i)
					return tx.InsertProjectCA(ctx, got[i])
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("store %d: %v", i, err)
			}
		}
		if !bytes.Equal(got[0].CertDER, got[1].CertDER) {
			t.Errorf("the two transactions use different CAs: %x and %x", got[0].CertDER, got[1].CertDER)
		}
		if r := runs.Load(); r != 3 {
			t.Errorf("fn ran %d times, want 3 (one retry)", r)
		}
		var n int
		if err := s1.pool.QueryRow(ctx, `SELECT count(*) FROM project_cas WHERE group_id = $1`, p.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d CAs, want 1", n)
		}
	})
}

// TestRetryBounded checks that Update gives up after maxAttempts
// serialization failures, and that a retried error is not mistaken for
// fn's own.
func TestRetryBounded(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	runs := 0
	err := s.Update(ctx, func(stx store.Tx) error {
		runs++
		// A serialization failure raised by the server, as PostgreSQL
		// would on a conflict.
		_, err := stx.(*tx).exec(ctx, "raise",
			`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$`)
		return err
	})
	if runs != maxAttempts {
		t.Errorf("fn ran %d times, want %d", runs, maxAttempts)
	}
	if !isRetryable(err) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update after exhausted retries: %v, want the serialization failure", err)
	}

	// fn swallows the failure and returns its own error: retried anyway,
	// since what fn read is not to be trusted.
	runs = 0
	mine := errors.New("mine")
	err = s.Update(ctx, func(stx store.Tx) error {
		runs++
		if runs == 1 {
			stx.(*tx).exec(ctx, "raise",
				`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'deadlock_detected'; END $$`)
		}
		return mine
	})
	if err != mine || runs != 2 {
		t.Errorf("Update = %v after %d runs, want fn's error after 2", err, runs)
	}

	// A canceled context stops the retries.
	cctx, cancel := context.WithCancel(ctx)
	runs = 0
	err = s.Update(cctx, func(stx store.Tx) error {
		runs++
		cancel()
		_, err := stx.(*tx).exec(ctx, "raise",
			`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$`)
		return err
	})
	if !errors.Is(err, context.Canceled) || runs != 1 {
		t.Errorf("Update canceled while retrying = %v after %d runs, want context.Canceled after 1", err, runs)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 70; n++ {
		ceiling := retryMaxDelay
		if n < 16 {
			ceiling = min(retryMaxDelay, retryBaseDelay<<(n-1))
		}
		for range 20 {
			if d := backoff(n); d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want between %v and %v", n, d, ceiling/2, ceiling)
			}
		}
	}
}
