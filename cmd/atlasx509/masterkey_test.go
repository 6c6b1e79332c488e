package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/keyring"
)

// TestServeRefusesWrongOrMissingMasterKey: serve on a store that holds
// sealed values stops at startup, with a message that says what to do,
// when its master key is another key, is missing (serve must not create a
// new one) or is not a key; the store is left as it was.
func TestServeRefusesWrongOrMissingMasterKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if r := runCLI(t, nil, "init", "--data-dir", dir); r.code != 0 {
		t.Fatalf("init: exit %d: %s", r.code, r.stderr)
	}
	keyFile := filepath.Join(dir, "master.key")
	kr, err := keyring.Load(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	other := filepath.Join(keys, "other.key")
	otherKr, err := keyring.Create(other)
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(keys, "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(keys, "moved.key")

	for _, c := range []struct {
		name  string
		setup func(t *testing.T) // before serve, undone after
		undo  func(t *testing.T)
		args  []string
		want  []string // in the one line on stderr
	}{
		{name: "another key", args: []string{"--master-key-file", other},
			want: []string{"not configured", "sealed with master key " + kr.ID(), "configured: " + otherKr.ID(), "--master-key-file"}},
		{name: "missing key",
			setup: func(t *testing.T) { rename(t, keyFile, moved) }, undo: func(t *testing.T) { rename(t, moved, keyFile) },
			want: []string{"master key file " + keyFile + " is missing", "already holds data sealed"}},
		{name: "not a key", args: []string{"--master-key-file", garbage}, want: []string{"master key: "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup(t)
				defer c.undo(t)
			}
			// A server that wrongly starts is stopped by the timeout, and
			// fails the test by exiting 0.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			args := append([]string{"atlasx509", "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--key-pool", "off"}, c.args...)
			code := run(ctx, args, func(string) string { return "" }, &stdout, &stderr)
			line := stderr.String()
			if code != 1 || strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, "atlasx509 serve: ") {
				t.Fatalf("exit %d, stderr %q, want 1 and one line", code, line)
			}
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q does not say %q", line, w)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
			if c.name == "missing key" {
				if _, err := os.Stat(keyFile); err == nil {
					t.Errorf("serve created a new master key in place of the missing one")
				}
			}
		})
	}
	// The right key still serves the store.
	s := startServer(t, serverOptions{dataDir: dir, initialized: true})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
