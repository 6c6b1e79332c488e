package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/config"
)

// waitFor polls cond until it holds, failing the test after a generous
// deadline (a wait for an asynchronous effect, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crlSerials parses every CRL of a PEM file and returns the revoked serials.
func crlSerials(t *testing.T, path string) (map[string]bool, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	out := map[string]bool{}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out, true
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			t.Fatalf("CRL file: %v", err)
		}
		for _, e := range crl.RevokedCertificateEntries {
			out[e.SerialNumber.String()] = true
		}
	}
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// TestAgentEndToEnd runs the agent against a real server: the files appear
// and the on-change command runs once; a revocation changes the CRL file
// and runs the command once more, and openssl then refuses the revoked
// certificate; so does deleting the user; with the server stopped the files are kept while the agent
// retries; --once exits 0 against a running server and 1 against a stopped
// one, with a service account and with an API key.
func TestAgentEndToEnd(t *testing.T) {
	s := startServer(t, serverOptions{})
	c := s.digestClient()
	group := s.Bootstrap.ProjectID
	createManagedUser(t, c, s.URL, group, "alice")
	revoked := issueCert(t, c, s.URL, group, "alice", 3)
	kept := issueCert(t, c, s.URL, group, "alice", 3)

	dir := t.TempDir()
	caFile, crlFile, marker := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem"), filepath.Join(dir, "changes")
	sa := map[string]string{config.EnvAgentClientID: s.Bootstrap.ServiceAccount.ClientID, config.EnvAgentClientSecret: s.Bootstrap.ServiceAccount.ClientSecret}
	apiKey := map[string]string{config.EnvAgentPublicKey: s.Bootstrap.APIKey.PublicKey, config.EnvAgentPrivateKey: s.Bootstrap.APIKey.PrivateKey}
	args := func(caFile, crlFile string, extra ...string) []string {
		return append([]string{"atlasx509", "agent", "--url", s.URL, "--project", group, "--ca-file", caFile, "--crl-file", crlFile}, extra...)
	}

	// A project API key with only GROUP_READ_ONLY is enough.
	r := do(t, c, "POST", s.URL+apiV1+"/groups/"+group+"/apiKeys", `{"desc":"mongod agent","roles":["GROUP_READ_ONLY"]}`)
	mustStatus(t, r, http.StatusOK, "create a read-only project API key")
	var readOnly atlasapi.APIKey
	decodeJSON(t, r.Body, &readOnly)
	readOnlyKey := map[string]string{config.EnvAgentPublicKey: readOnly.PublicKey, config.EnvAgentPrivateKey: readOnly.PrivateKey}

	// --once against the running server, with each credential.
	for name, env := range map[string]map[string]string{"service account": sa, "API key": apiKey, "read-only project API key": readOnlyKey} {
		d := t.TempDir()
		var stderr bytes.Buffer
		if code := run(context.Background(), args(filepath.Join(d, "ca"), filepath.Join(d, "crl"), "--once"), func(k string) string { return env[k] }, io.Discard, &stderr); code != 0 {
			t.Fatalf("--once with a %s exited %d:\n%s", name, code, stderr.String())
		}
	}

	stderr := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args(caFile, crlFile, "--interval", "1s", "--log-level", "debug", "--on-change", "echo changed >> "+marker), func(k string) string { return sa[k] }, io.Discard, stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("the agent exited %d after SIGTERM's cancellation, want 0", code)
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", stderr.String())
		}
	}()

	waitFor(t, "the files and one on-change run", func() bool { return lines(marker) == 1 })
	if ca, _ := os.ReadFile(caFile); !bytes.Equal(ca, fetchCAPEM(t, c, s.URL, group)) {
		t.Error("the CA file differs from the CA route")
	}
	if serials, _ := crlSerials(t, crlFile); len(serials) != 0 {
		t.Errorf("CRL lists %v before any revocation", serials)
	}
	opensslVerify(t, caFile, crlFile, revoked.PEM, true)
	// The next sync finds the CRL unchanged: the server answers 304.
	notModified := `msg="not modified" url=` + s.URL + "/api/atlas/v2/groups/" + group + "/userSecurity/managedX509/crl"
	waitFor(t, "a 304 for the unchanged CRL", func() bool { return strings.Contains(stderr.String(), notModified) })

	r = do(t, c, "DELETE", s.URL+apiV1+"/groups/"+group+"/databaseUsers/alice/certs/"+revoked.Cert.SerialNumber.String(), "")
	mustStatus(t, r, http.StatusNoContent, "revoke a certificate")
	waitFor(t, "the revoked serial in the CRL file", func() bool {
		serials, _ := crlSerials(t, crlFile)
		return serials[revoked.Cert.SerialNumber.String()]
	})
	waitFor(t, "the on-change command after the revocation", func() bool { return lines(marker) >= 2 })
	opensslVerify(t, caFile, crlFile, revoked.PEM, false)
	opensslVerify(t, caFile, crlFile, kept.PEM, true)

	// Deleting the user revokes its other certificate: one more change.
	r = do(t, c, "DELETE", s.URL+apiV1+"/groups/"+group+"/databaseUsers/%24external/alice", "")
	mustStatus(t, r, http.StatusNoContent, "delete the user")
	waitFor(t, "the deleted user's certificate in the CRL file", func() bool {
		serials, _ := crlSerials(t, crlFile)
		return serials[kept.Cert.SerialNumber.String()]
	})
	waitFor(t, "the on-change command after the deletion", func() bool { return lines(marker) >= 3 })
	opensslVerify(t, caFile, crlFile, kept.PEM, false)

	// Server stopped: the agent fails, retries, and keeps the files.
	before := [2][]byte{}
	before[0], _ = os.ReadFile(caFile)
	before[1], _ = os.ReadFile(crlFile)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	failures := func() int { return strings.Count(stderr.String(), "sync failed") }
	waitFor(t, "two failed syncs", func() bool { return failures() >= 2 })
	for i, p := range []string{caFile, crlFile} {
		if now, _ := os.ReadFile(p); !bytes.Equal(now, before[i]) {
			t.Errorf("%s changed while the server was down", p)
		}
	}
	if n := lines(marker); n != 3 {
		t.Errorf("on-change ran %d times, want 3 (first files, a revocation, a deletion)", n)
	}
	var onceErr bytes.Buffer
	if code := run(context.Background(), args(filepath.Join(dir, "x"), filepath.Join(dir, "y"), "--once"), func(k string) string { return sa[k] }, io.Discard, &onceErr); code != 1 {
		t.Errorf("--once against a stopped server exited %d, want 1:\n%s", code, onceErr.String())
	}
}

// opensslVerify runs openssl verify -crl_check on leafPEM's certificate with
// the agent's files and checks that it accepts or refuses it.
func opensslVerify(t *testing.T, caFile, crlFile string, leafPEM []byte, accept bool) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openssl is required in CI: %v", err)
		}
		t.Logf("openssl not found, skipping the check: %v", err)
		return
	}
	block, _ := pem.Decode(leafPEM)
	leaf := filepath.Join(t.TempDir(), "leaf.pem")
	if err := os.WriteFile(leaf, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "verify", "-crl_check", "-CAfile", caFile, "-CRLfile", crlFile, leaf).CombinedOutput()
	switch {
	case accept && err != nil:
		t.Errorf("openssl refuses a certificate that is not revoked: %v\n%s", err, out)
	case !accept && err == nil:
		t.Errorf("openssl accepts a revoked certificate:\n%s", out)
	case !accept && !strings.Contains(string(out), "certificate revoked"):
		t.Errorf("openssl refuses the revoked certificate for another reason:\n%s", out)
	}
}
