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

// serveCommand is "atlasx509 serve" running through run.
type serveCommand struct {
	addr           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int
}

// startServeCommand runs "serve" through run as main does, with env as the
// whole environment, and waits until it logs the address it listens on.
// The cleanup cancels it and fails the test unless it exits 0.
func startServeCommand(tb testing.TB, env map[string]string, args ...string) *serveCommand {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sc := &serveCommand{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		sc.done <- run(ctx, append([]string{"atlasx509", "serve"}, args...), func(k string) string { return env[k] }, sc.stdout, sc.stderr)
	}()
	tb.Cleanup(func() {
		if code := sc.stop(tb); code != 0 {
			tb.Errorf("serve exited %d after cancellation, want 0; stderr:\n%s", code, sc.stderr.String())
		}
	})
	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if m := addrRE.FindStringSubmatch(sc.stderr.String()); m != nil {
			sc.addr = m[1]
			return sc
		}
		select {
		case code := <-sc.done:
			sc.done <- code
			tb.Fatalf("serve exited %d before listening; stderr:\n%s", code, sc.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("serve did not log its address; stderr:\n%s", sc.stderr.String())
		}
	}
}

// stop cancels the command and returns its exit status.
func (sc *serveCommand) stop(tb testing.TB) int {
	tb.Helper()
	sc.cancel()
	select {
	case code := <-sc.done:
		sc.done <- code // for a later call
		return code
	case <-time.After(45 * time.Second):
		tb.Fatal("serve did not exit within 45s of the cancellation")
		return -1
	}
}

// TestServeCommand runs "serve" through run: on a new store it prints the
// bootstrap line, logs its address, answers /healthz, and exits 0 when its
// context is cancelled.
func TestServeCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sc := startServeCommand(t, nil, "--data-dir", dir, "--listen", "127.0.0.1:0")
	r := do(t, http.DefaultClient, "GET", "http://"+sc.addr+"/healthz", "")
	mustStatus(t, r, http.StatusOK, "GET /healthz")
	if code := sc.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	b := parseBootstrap(t, sc.stdout.String())
	requireMode0600(t, filepath.Join(dir, "master.key"))

	// Serving the same store again prints nothing and keeps the credentials.
	sc = startServeCommand(t, nil, "--data-dir", dir, "--listen", "127.0.0.1:0")
	s := &testServer{URL: "http://" + sc.addr, Bootstrap: b}
	mustStatus(t, do(t, s.digestClient(), "GET", s.URL+apiV1+"/groups/"+b.ProjectID, ""), http.StatusOK, "GET the bootstrap project")
	if code := sc.stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if out := sc.stdout.String(); out != "" {
		t.Errorf("serve on an initialized store printed %q", out)
	}
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
	t.Run("listen address from the environment", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"ATLASX509_DATA_DIR": t.TempDir(), "ATLASX509_LISTEN": "127.0.0.1:0"}
		sc := startServeCommand(t, env)
		mustStatus(t, do(t, http.DefaultClient, "GET", "http://"+sc.addr+"/healthz", ""), http.StatusOK, "GET /healthz")
		parseBootstrap(t, sc.stdout.String())
		requireMode0600(t, filepath.Join(env["ATLASX509_DATA_DIR"], "master.key"))
	})
	t.Run("listen flag wins over the environment", func(t *testing.T) {
		t.Parallel()
		// The environment's address cannot be listened on: serving at
		// all shows the flag was used.
		env := map[string]string{"ATLASX509_DATA_DIR": t.TempDir(), "ATLASX509_LISTEN": "256.0.0.1:1"}
		sc := startServeCommand(t, env, "--listen", "127.0.0.1:0")
		mustStatus(t, do(t, http.DefaultClient, "GET", "http://"+sc.addr+"/healthz", ""), http.StatusOK, "GET /healthz")
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
