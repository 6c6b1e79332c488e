package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
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
	"time"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// The peer of -peers: cfssl, built from the module proxy at this version.
const (
	cfsslPackage = "github.com/cloudflare/cfssl/cmd/cfssl"
	cfsslVersion = "v1.6.5"
	// cfsslPath is the route of cfssl serve that generates a key and signs
	// its certificate in one request, as atlasx509's certificate route does.
	cfsslPath = "/api/v1/cfssl/newcert"
)

// cfsslBody asks cfssl for an ECDSA P-256 leaf key and its certificate, with
// a subject of one CN as atlasx509's.
var cfsslBody = []byte(`{"request":{"CN":"bench-user","key":{"algo":"ecdsa","size":256}}}`)

// cfsslConfig is the signing policy of the peer: client certificates valid
// 30 days, as -months 1 of atlasx509.
const cfsslConfig = `{"signing":{"default":{"expiry":"720h","usages":["digital signature","client auth"]}}}`

// cfsslBinary returns the cfssl binary: -cfssl when given, otherwise the one
// built earlier in the user's cache directory, otherwise it builds it there
// with go install (from the module proxy, outside this module, so that
// go.mod is untouched).
func cfsslBinary(ctx context.Context, given string, log io.Writer) (string, error) {
	if given != "" {
		return given, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "atlasx509-bench", "cfssl-"+cfsslVersion)
	bin := filepath.Join(dir, "cfssl")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "bench: building the peer: GOBIN=%s go install %s@%s (once; later runs reuse it)\n", dir, cfsslPackage, cfsslVersion)
	cmd := exec.CommandContext(ctx, "go", "install", cfsslPackage+"@"+cfsslVersion)
	cmd.Dir = dir // outside any module
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w (or pass -cfssl BIN)", cfsslPackage, cfsslVersion, err)
	}
	return bin, nil
}

// startCfssl writes an ECDSA P-256 CA (made by internal/pki, as a project's)
// and a signing policy into dir and starts cfssl serve on a free loopback
// port, and waits until it issues a certificate.
func startCfssl(ctx context.Context, bin, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	certDER, keyDER, err := pki.NewCA("bench-cfssl", time.Now(), nil)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"ca.pem":      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
		"ca-key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"config.json": []byte(cfsslConfig),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), logPath: filepath.Join(dir, "cfssl.log"), exited: make(chan struct{})}
	s.args = []string{"serve", "-address", "127.0.0.1", "-port", strconv.Itoa(port),
		"-ca", filepath.Join(dir, "ca.pem"), "-ca-key", filepath.Join(dir, "ca-key.pem"), "-config", filepath.Join(dir, "config.json")}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.exited)
	}()
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body, err := send(ctx, hc, "", "POST", s.base+cfsslPath, cfsslBody, true)
		if err == nil && status == http.StatusOK {
			if msg := checkCfssl(body); msg != "" {
				s.stop()
				return nil, fmt.Errorf("cfssl: %s", msg)
			}
			return s, nil
		}
		if aerr := s.alive(); aerr != nil {
			return nil, aerr
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("cfssl serve did not issue a certificate within 30 s: %v %d %s (log: %s)", err, status, truncate(string(body), 200), s.logTail())
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

// checkCfssl checks a newcert answer: success and an ECDSA P-256 leaf.
func checkCfssl(body []byte) string {
	var ans struct {
		Success bool `json:"success"`
		Result  struct {
			Certificate string `json:"certificate"`
			PrivateKey  string `json:"private_key"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || !ans.Success {
		return "newcert did not succeed: " + truncate(string(body), 200)
	}
	if ans.Result.PrivateKey == "" {
		return "newcert answered no private key"
	}
	return checkLeaf([]byte(ans.Result.Certificate), pki.ECDSAP256)
}

// loadAverage returns /proc/loadavg's first three fields ("" elsewhere).
func loadAverage() string {
	f, err := os.Open("/proc/loadavg")
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}

// startPeer builds and starts cfssl for a run with -peers.
func (b *bench) startPeer(ctx context.Context, work string) error {
	bin, err := cfsslBinary(ctx, b.opts.cfsslBin, b.log)
	if err != nil {
		return err
	}
	b.peer, err = startCfssl(ctx, bin, filepath.Join(work, "cfssl"))
	if err != nil {
		return err
	}
	b.logf("cfssl %s pid %d on %s", cfsslVersion, b.peer.pid, b.peer.base)
	return nil
}

// stopPeer stops cfssl.
func (b *bench) stopPeer() {
	if b.peer == nil {
		return
	}
	b.logf("stopping cfssl (pid %d)", b.peer.pid)
	if err := b.peer.stop(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		b.logf("%v", err)
	}
}
