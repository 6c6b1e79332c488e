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
