package storetest

import (
	"bytes"
	"io"
	"log"
	"os"
	"testing"

	"github.com/atlasx509/atlasx509/internal/store"
)

// CheckQuietOpen checks that open, called twice on the same new database
// (migrating it, then finding it current), prints nothing: stdout is
// reserved for the program's one JSON line, and goose logs through the
// standard logger by default. It swaps os.Stdout and the standard logger's
// output while open runs, so the calling test must not run in parallel.
func CheckQuietOpen(t *testing.T, open func() (store.Store, error)) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	var logged bytes.Buffer
	log.SetOutput(&logged)
	os.Stdout = w
	restore := func() {
		os.Stdout = stdout
		log.SetOutput(os.Stderr)
	}
	defer restore()
	for range 2 {
		s, err := open()
		if err != nil {
			restore()
			t.Fatal(err)
		}
		s.Close()
	}
	restore()
	w.Close()
	printed, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) != 0 || logged.Len() != 0 {
		t.Errorf("Open printed %q to stdout and logged %q", printed, logged.String())
	}
}
