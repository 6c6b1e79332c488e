package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/google/go-cmp/cmp"
)

// cliResult is what one run of the binary produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the program in-process with args after the program name and
// env as its whole environment.
func runCLI(tb testing.TB, env map[string]string, args ...string) cliResult {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(context.Background(), append([]string{"atlasx509"}, args...), getenv, &stdout, &stderr)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "version")
	if r.code != 0 {
		t.Fatalf("version exited %d; stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "atlasx509") || strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("version printed %q, want one line starting with atlasx509", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("version wrote on stderr: %q", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"no command", nil, "usage: atlasx509"},
		{"unknown flag", []string{"init", "--no-such-flag"}, "no-such-flag"},
		{"stray argument", []string{"init", "--data-dir", "x", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

// TestInit initializes a store, checks that a second init refuses and
// changes nothing, and that serve then uses the first credentials without
// printing any.
func TestInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := runCLI(t, nil, "init", "--data-dir", dir)
	if first.code != 0 {
		t.Fatalf("init exited %d; stderr:\n%s", first.code, first.stderr)
	}
	b := parseBootstrap(t, first.stdout)
	if !strings.Contains(first.stderr, "master key") || !strings.Contains(first.stderr, "production") {
		t.Errorf("init on a new directory did not warn about the new master key; stderr:\n%s", first.stderr)
	}
	keyFile := filepath.Join(dir, "master.key")
	requireMode0600(t, keyFile)
	keyBefore, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	second := runCLI(t, nil, "init", "--data-dir", dir)
	if second.code != 1 {
		t.Errorf("second init exited %d, want 1", second.code)
	}
	if second.stdout != "" {
		t.Errorf("second init printed on stdout: %q", second.stdout)
	}
	if strings.Count(second.stderr, "\n") != 1 || !strings.HasSuffix(second.stderr, "\n") || !strings.HasPrefix(second.stderr, "atlasx509 init: ") {
		t.Errorf("second init stderr %q, want one line starting with %q", second.stderr, "atlasx509 init: ")
	}
	if !strings.Contains(second.stderr, "already initialized") {
		t.Errorf("second init stderr %q does not say the store is already initialized", second.stderr)
	}
	keyAfter, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keyBefore, keyAfter) {
		t.Error("the second init changed the master key")
	}

	// serve on the initialized store: no bootstrap output, and the first
	// credentials still authenticate and see the first project only.
	s := startServer(t, serverOptions{dataDir: dir, initialized: true})
	s.Bootstrap = b
	r := do(t, s.digestClient(), "GET", s.URL+apiV1+"/groups", "")
	mustStatus(t, r, http.StatusOK, "GET /groups with the first API key")
	var page atlasapi.Paginated[atlasapi.Group]
	decodeJSON(t, r.Body, &page)
	var ids []string
	for _, g := range page.Results {
		ids = append(ids, g.ID)
	}
	if diff := cmp.Diff([]string{b.ProjectID}, ids); diff != "" {
		t.Errorf("projects (-want +got):\n%s", diff)
	}
}

// TestServeCommand runs "serve" through run as main does: on a new store it
// prints the bootstrap line, logs the address it listens on, answers
// /healthz, and exits 0 when its context is cancelled.
func TestServeCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"atlasx509", "serve", "--data-dir", dir, "--listen", "127.0.0.1:0"}, func(string) string { return "" }, stdout, stderr)
	}()
	addrRE := regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before listening; stderr:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log its address; stderr:\n%s", stderr.String())
		}
	}
	r := do(t, http.DefaultClient, "GET", "http://"+addr+"/healthz", "")
	mustStatus(t, r, http.StatusOK, "GET /healthz")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after cancellation, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after cancellation")
	}
	parseBootstrap(t, stdout.String())
	requireMode0600(t, filepath.Join(dir, "master.key"))
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("data dir from the environment", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r := runCLI(t, map[string]string{"ATLASX509_DATA_DIR": dir}, "init")
		if r.code != 0 {
			t.Fatalf("init exited %d; stderr:\n%s", r.code, r.stderr)
		}
		parseBootstrap(t, r.stdout)
		requireMode0600(t, filepath.Join(dir, "master.key"))
		requireExists(t, filepath.Join(dir, "atlasx509.db"))
	})
	t.Run("flag wins over the environment", func(t *testing.T) {
		t.Parallel()
		envDir, flagDir := t.TempDir(), t.TempDir()
		r := runCLI(t, map[string]string{"ATLASX509_DATA_DIR": envDir}, "init", "--data-dir", flagDir)
		if r.code != 0 {
			t.Fatalf("init exited %d; stderr:\n%s", r.code, r.stderr)
		}
		requireMode0600(t, filepath.Join(flagDir, "master.key"))
		if entries, err := os.ReadDir(envDir); err != nil || len(entries) != 0 {
			t.Errorf("the environment's data dir was used: %v %v", entries, err)
		}
	})
	t.Run("master key file and db from the environment", func(t *testing.T) {
		t.Parallel()
		dataDir, keyDir, dbDir := t.TempDir(), t.TempDir(), t.TempDir()
		env := map[string]string{
			"ATLASX509_DATA_DIR":        dataDir,
			"ATLASX509_MASTER_KEY_FILE": filepath.Join(keyDir, "kek"),
			"ATLASX509_DB":              "sqlite:" + filepath.Join(dbDir, "x.db"),
		}
		r := runCLI(t, env, "init")
		if r.code != 0 {
			t.Fatalf("init exited %d; stderr:\n%s", r.code, r.stderr)
		}
		requireMode0600(t, filepath.Join(keyDir, "kek"))
		requireExists(t, filepath.Join(dbDir, "x.db"))
		if _, err := os.Stat(filepath.Join(dataDir, "master.key")); err == nil {
			t.Error("master.key was created in the data dir although ATLASX509_MASTER_KEY_FILE names another file")
		}
		// The same environment with a flag for the database: a new store.
		otherDB := filepath.Join(dbDir, "y.db")
		r = runCLI(t, env, "init", "--db", "sqlite:"+otherDB)
		if r.code != 0 {
			t.Fatalf("init --db exited %d; stderr:\n%s", r.code, r.stderr)
		}
		requireExists(t, otherDB)
	})
}

func requireMode0600(tb testing.TB, path string) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatalf("master key: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		tb.Errorf("%s has mode %v, want 0600", path, got)
	}
}

func requireExists(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		tb.Errorf("want %s: %v", path, err)
	}
}
