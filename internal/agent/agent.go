// Package agent keeps one mongod's trust files current: it fetches a
// project's CA bundle and CRLs from an atlasx509 server, checks them, writes
// each file atomically when its content changed, and runs a command (for
// example mongosh running rotateCertificates) after each change.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultInterval = time.Minute
	// FirstRetry is the first wait after a failed sync; each further
	// failure doubles it, up to the interval.
	FirstRetry = time.Second
	// CommandTimeout bounds one run of the on-change command.
	CommandTimeout = 5 * time.Minute
	// maxBody bounds an answer: a CRL with a million entries is about 40 MB.
	maxBody = 64 << 20
	// acceptV2 is the resource version of the managed X.509 routes.
	acceptV2 = "application/vnd.atlas.2023-01-01+json"
)

// Config configures an Agent. HTTPClient must add the credentials.
type Config struct {
	// BaseURL is the server, for example https://atlasx509.internal:8080.
	BaseURL string
	// GroupID is the project whose CA and CRLs the mongod trusts.
	GroupID string
	// CAFile and CRLFile are mongod's net.tls.CAFile and net.tls.CRLFile.
	CAFile, CRLFile string
	// Interval is the time between two successful syncs; zero means
	// DefaultInterval.
	Interval time.Duration
	// OnChange is a shell command run through sh -c after a sync that
	// changed either file; empty runs nothing.
	OnChange string
	// HTTPClient sends the requests, authenticated.
	HTTPClient *http.Client
	// Logger receives the agent's log; nil discards it.
	Logger *slog.Logger
	// Now is the clock CRLs are checked against; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, then returns ctx.Err(); nil
	// means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// RunCommand runs the on-change command and returns its exit status;
	// nil means sh -c with the command's output on CommandOutput.
	RunCommand func(ctx context.Context, command string) (exitCode int, err error)
	// CommandOutput receives the default runner's stdout and stderr; nil
	// means os.Stderr.
	CommandOutput io.Writer
}

// Agent syncs one pair of trust files. It is not safe for concurrent use.
type Agent struct {
	cfg    Config
	caURL  string
	crlURL string
	log    *slog.Logger
	// Validators and bodies of the last good answers, for If-None-Match.
	ca, crl cached
	// pending is set when files changed but the on-change command has not
	// yet succeeded: the next sync runs it again.
	pending bool
}

// cached is the last good answer of one route.
type cached struct {
	etag string
	body []byte
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want an http:// or https:// URL of the server", cfg.BaseURL)
	}
	switch {
	case cfg.GroupID == "" || strings.ContainsAny(cfg.GroupID, "/?#%"):
		return nil, fmt.Errorf("--project %q: want a project (group) id", cfg.GroupID)
	case cfg.CAFile == "":
		return nil, errors.New("--ca-file is required")
	case cfg.CRLFile == "":
		return nil, errors.New("--crl-file is required")
	case cfg.CAFile == cfg.CRLFile:
		return nil, errors.New("--ca-file and --crl-file must be different files")
	case cfg.Interval < 0:
		return nil, fmt.Errorf("--interval %s: want a positive duration", cfg.Interval)
	case cfg.HTTPClient == nil:
		return nil, errors.New("agent: no HTTP client")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.CommandOutput == nil {
		cfg.CommandOutput = os.Stderr
	}
	if cfg.RunCommand == nil {
		cfg.RunCommand = shellRunner(cfg.CommandOutput)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/") + "/api/atlas/v2/groups/" + cfg.GroupID + "/userSecurity/managedX509"
	return &Agent{cfg: cfg, caURL: base + "/ca", crlURL: base + "/crl", log: log}, nil
}

// Run syncs until ctx is done, then returns nil. After a success it waits
// the interval; after a failure it keeps the files as they are and retries
// after FirstRetry, doubling the wait with each failure up to the interval.
func (a *Agent) Run(ctx context.Context) error {
	retry := FirstRetry
	for {
		wait := a.cfg.Interval
		if err := a.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			wait = min(retry, a.cfg.Interval)
			retry *= 2
			a.log.Error("sync failed; keeping the current files", "err", err, "retry_in", wait)
		} else {
			retry = FirstRetry
		}
		if err := a.cfg.Sleep(ctx, wait); err != nil {
			a.log.Info("agent stopped")
			return nil
		}
	}
}

// Sync fetches the CA bundle and the CRLs, checks them, writes the files
// whose content changed (CRLs first, so that a new CA never sits in the CA
// file without its CRL beside it) and runs the on-change command once if
// either changed or a previous run of it failed. On any error the files
// stay as they were.
func (a *Agent) Sync(ctx context.Context) error {
	caPEM, err := a.fetch(ctx, a.caURL, &a.ca)
	if err != nil {
		return fmt.Errorf("CA bundle: %w", err)
	}
	cas, err := parseCABundle(caPEM)
	if err != nil {
		return fmt.Errorf("refusing the CA bundle from the server: %w", err)
	}
	crlPEM, err := a.fetch(ctx, a.crlURL, &a.crl)
	if err != nil {
		return fmt.Errorf("CRLs: %w", err)
	}
	if err := checkCRLs(crlPEM, cas, a.cfg.Now()); err != nil {
		return fmt.Errorf("refusing the CRLs from the server: %w", err)
	}
	var changed []string
	for _, f := range []struct {
		path string
		data []byte
	}{{a.cfg.CRLFile, crlPEM}, {a.cfg.CAFile, caPEM}} {
		same, err := sameContent(f.path, f.data)
		if err != nil {
			return err
		}
		if same {
			continue
		}
		if err := writeAtomic(f.path, f.data); err != nil {
			return err
		}
		changed = append(changed, f.path)
		a.pending = true
	}
	if len(changed) > 0 {
		a.log.Info("trust files updated", "files", changed, "cas", len(cas))
	} else {
		a.log.Debug("trust files unchanged")
	}
	if !a.pending || a.cfg.OnChange == "" {
		a.pending = false
		return nil
	}
	return a.runOnChange(ctx)
}

// runOnChange runs the on-change command and logs its exit status. It is
// not cancelled by ctx: a mongod reloading its files should not be cut
// short by the agent stopping.
func (a *Agent) runOnChange(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CommandTimeout)
	defer cancel()
	code, err := a.cfg.RunCommand(cctx, a.cfg.OnChange)
	if err != nil {
		a.log.Error("on-change command failed to run; it runs again at the next sync", "command", a.cfg.OnChange, "err", err)
		return fmt.Errorf("on-change command: %w", err)
	}
	if code != 0 {
		a.log.Error("on-change command failed; it runs again at the next sync", "command", a.cfg.OnChange, "exit_status", code)
		return fmt.Errorf("on-change command exited with status %d", code)
	}
	a.log.Info("on-change command succeeded", "command", a.cfg.OnChange, "exit_status", 0)
	a.pending = false
	return nil
}

// fetch GETs url, sending the ETag of the last answer, and returns the
// body: the cached one on 304. A body the caller refuses stays cached: the
// server answers 304 for it until its content changes, and the caller
// refuses it again each time, so the files stay as they were.
func (a *Agent) fetch(ctx context.Context, url string, c *cached) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptV2)
	if c.etag != "" {
		req.Header.Set("If-None-Match", c.etag)
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && c.etag != "":
		a.log.Debug("not modified", "url", url)
		return c.body, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, snippet(body))
	case len(body) > maxBody:
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", url, maxBody)
	}
	*c = cached{etag: resp.Header.Get("ETag"), body: body}
	return body, nil
}

// snippet is the start of an error answer, for the log.
func snippet(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shellRunner runs a command through sh -c with its output on out.
func shellRunner(out io.Writer) func(ctx context.Context, command string) (int, error) {
	return func(ctx context.Context, command string) (int, error) {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 5 * time.Second
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) && ctx.Err() == nil {
			return exit.ExitCode(), nil
		}
		if err != nil {
			return -1, err
		}
		return 0, nil
	}
}
