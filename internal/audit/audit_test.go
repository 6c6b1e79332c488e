package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFileLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Intent(Event{RequestID: "r", Principal: "k", Method: "POST", Path: "/p", Source: "127.0.0.1"}); err != nil {
				t.Error(err)
			}
			if err := l.Outcome(Event{RequestID: "r", Method: "POST", Path: "/p", Source: "127.0.0.1", Status: 201, Outcome: "allowed"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	l.Close()
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	f, _ := os.Open(path)
	defer f.Close()
	phases := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.Time.IsZero() {
			t.Error("no time")
		}
		phases[e.Phase]++
	}
	if diff := cmp.Diff(map[string]int{"request": 20, "response": 20}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFailsClosed(t *testing.T) {
	l := New(brokenWriter{})
	if err := l.Intent(Event{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Intent on a broken destination: %v", err)
	}
}

func TestNoSecretFields(t *testing.T) {
	// The record type has no field that could carry a secret.
	b, _ := json.Marshal(Event{})
	for _, word := range []string{"secret", "password", "token", "privateKey", "authorization"} {
		if strings.Contains(strings.ToLower(string(b)), strings.ToLower(word)) {
			t.Errorf("audit event has a %q field: %s", word, b)
		}
	}
}

// TestOpenFileRefusesReadableByOthers: an audit file others may read or
// write is refused with a message that says what to do; a new file is 0600.
func TestOpenFileRefusesReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v", fi.Mode(), err)
	}
	for _, mode := range []os.FileMode{0o644, 0o604, 0o622} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := OpenFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %v: %v", mode, err)
		}
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	l, err = OpenFile(path)
	if err != nil {
		t.Fatalf("mode 0640 (a log shipper's group): %v", err)
	}
	l.Close()
}

// TestIntentWaitsForASyncAfterIt: an intent returns once a sync that began
// after its line was written has finished; the intents written while a sync
// runs share the next one; a failed sync fails the intents it covered, and
// the next intents sync again.
func TestIntentWaitsForASyncAfterIt(t *testing.T) {
	release := make(chan error)
	var syncs int
	l := newSynced(&strings.Builder{}, func() error {
		syncs++ // one sync at a time
		return <-release
	}, nil)
	intent := func() chan error {
		done := make(chan error, 1)
		go func() { done <- l.Intent(Event{RequestID: "r"}) }()
		return done
	}
	written := func(n uint64) {
		t.Helper()
		for range 500 {
			l.mu.Lock()
			w := l.written
			l.mu.Unlock()
			if w >= n {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("line %d never written", n)
	}
	pending := func(what string, done chan error) {
		t.Helper()
		select {
		case err := <-done:
			t.Fatalf("%s returned (%v) before its sync", what, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	returns := func(what string, done chan error, wantErr bool) {
		t.Helper()
		select {
		case err := <-done:
			if (err != nil) != wantErr || wantErr && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%s: %v, want error %v", what, err, wantErr)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not return", what)
		}
	}

	a := intent()
	written(1)
	pending("a", a) // its sync runs
	b, c := intent(), intent()
	written(3)
	pending("b", b)
	release <- nil // the sync that began before b and c were written
	returns("a", a, false)
	pending("b, written during a's sync", b)
	pending("c, written during a's sync", c)
	release <- nil // one sync for b and c
	returns("b", b, false)
	returns("c", c, false)
	if syncs != 2 {
		t.Errorf("%d syncs for three intents, two of them written during the first; want 2", syncs)
	}

	d := intent()
	written(4)
	pending("d", d)
	release <- errors.New("EIO")
	returns("d, whose sync failed", d, true)
	e := intent()
	written(5)
	pending("e", e)
	release <- nil
	returns("e, after a failed sync", e, false)
	if err := l.Outcome(Event{}); err != nil { // not synced
		t.Errorf("outcome: %v", err)
	}
}
