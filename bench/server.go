package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// modulePath is the module the benchmark builds.
const modulePath = "github.com/atlasx509/atlasx509"

// buildServer builds ./cmd/atlasx509 of the module in the current directory
// (or a parent) into bin.
// With profile, it builds with -tags benchprofile (see bench/profile.go).
func buildServer(ctx context.Context, bin string, profile bool, log io.Writer) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	data, err := os.ReadFile(gomod)
	if gomod == "" || gomod == os.DevNull || err != nil || !strings.Contains(string(data), "module "+modulePath+"\n") {
		return fmt.Errorf("run the benchmark from the atlasx509 repository (go.mod of %s), or pass -server", modulePath)
	}
	args := []string{"build", "-o", bin}
	if profile {
		args = append(args, "-tags", "benchprofile")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/atlasx509")...)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/atlasx509: %w", err)
	}
	return nil
}

// server is the atlasx509 child process.
type server struct {
	pid     int
	base    string
	boot    atlasapi.Bootstrap
	dataDir string
	logPath string
	args    []string // of serve, besides --data-dir and --listen

	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	err    error // the exit status once exited is closed
}

// startServer starts bin serve with args on a new data directory under work
// and a free loopback port, reads the bootstrap line and waits for /healthz.
// A port taken between choosing and listening makes it retry on another.
// env is added to the server's environment. A non-nil boot is the bootstrap
// of a store that another server initialized: this one, opening it, prints
// none.
func startServer(ctx context.Context, bin, work string, args, env []string, boot *atlasapi.Bootstrap, log io.Writer) (*server, error) {
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		s, err := startOnce(ctx, bin, filepath.Join(work, fmt.Sprintf("data%d", attempt)), args, env, boot)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(log, "bench: server start %d failed: %v\n", attempt, err)
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, bin, dataDir string, args, env []string, boot *atlasapi.Bootstrap) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &server{base: "http://" + addr, dataDir: dataDir, logPath: filepath.Join(dataDir, "server.log"), args: args, exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	s.cmd = exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--listen", addr}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = logFile
	s.cmd.SysProcAttr = childAttr()
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r) // keep the pipe drained
	}()
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.exited)
	}()

	fail := func(err error) (*server, error) {
		s.stop()
		return nil, fmt.Errorf("%w (server log: %s)", err, s.logTail())
	}
	if boot != nil {
		// The store was initialized: waitHealthy tells when this one serves.
		s.boot = *boot
	} else {
		select {
		case line := <-lines:
			if err := json.Unmarshal([]byte(line), &s.boot); err != nil || s.boot.ServiceAccount.ClientID == "" {
				return fail(fmt.Errorf("the server's first stdout line is not the bootstrap JSON: %q", truncate(line, 200)))
			}
		case <-s.exited:
			return fail(fmt.Errorf("the server exited at start: %v", s.exitStatus()))
		case <-time.After(60 * time.Second):
			return fail(errors.New("no bootstrap line from the server within 60 s"))
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		return fail(err)
	}
	return s, nil
}

// serveFlags returns the flags that bin serve accepts, from its -h.
func serveFlags(ctx context.Context, bin string) map[string]bool {
	out, _ := exec.CommandContext(ctx, bin, "serve", "-h").CombinedOutput()
	flags := make(map[string]bool)
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], "-") {
			flags[strings.TrimLeft(f[0], "-")] = true
		}
	}
	return flags
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := s.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET /healthz not 200 within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// alive reports an error when the server has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("the server exited: %v (log: %s)", s.exitStatus(), s.logTail())
	default:
		return nil
	}
}

func (s *server) exitStatus() string {
	select {
	case <-s.exited:
	default:
		return "running"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return "exit status 0"
	}
	return s.err.Error()
}

// stop sends SIGTERM to the server's PID and waits for it to exit (the
// server lets in-flight requests finish for up to 30 s), then kills it.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM to %d: %w", s.pid, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(40 * time.Second):
	}
	s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("the server (pid %d) did not stop within 40 s of SIGTERM: killed", s.pid)
}

// logTail returns the end of the server's log.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	const n = 600
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
