package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestRekey rotates the master key of a SQLite store that served two
// projects: rekey re-seals every value under the new key (and is a no-op
// the second time), then, with the old key gone, the server starts, signs
// with the same CA certificates and the existing API key authenticates.
// Without the key that sealed the values, serve, check and rekey refuse
// to go on and say which key is missing.
func TestRekey(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.digestClient()
	gids := []string{s.Bootstrap.ProjectID, createProject(t, s, "second")}
	var caPEMs [][]byte
	for _, gid := range gids {
		createManagedUser(t, c, s.URL, gid, "alice")
		issueCert(t, c, s.URL, gid, "alice", 1)
		caPEMs = append(caPEMs, fetchCAPEM(t, c, s.URL, gid))
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	// The old key leaves the data directory; a new one is made elsewhere.
	keys := t.TempDir()
	oldKey, newKey := filepath.Join(keys, "old.key"), filepath.Join(keys, "new.key")
	if err := os.Rename(filepath.Join(s.DataDir, "master.key"), oldKey); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Create(newKey); err != nil {
		t.Fatal(err)
	}
	oldKr, err := keyring.Load(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := []string{"--data-dir", s.DataDir}
	newOnly := append(dir, "--master-key-file", newKey)
	both := append(newOnly, "--old-master-key-files", oldKey)
	// 2 server secrets, 2 CA keys, 2 HA1 of the bootstrap API key.
	const sealedValues = 6

	// Before rekey, the new key alone opens nothing: each command refuses.
	if r := runCLI(t, nil, append([]string{"serve", "--listen", "127.0.0.1:0"}, newOnly...)...); r.code != 1 ||
		!strings.Contains(r.stderr, "6 sealed with master key "+oldKr.ID()) || !strings.Contains(r.stderr, "--old-master-key-files") {
		t.Errorf("serve without the old key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, append([]string{"rekey"}, newOnly...)...); r.code != 1 || strings.Count(r.stdout, "FAIL ") != sealedValues {
		t.Errorf("rekey without the old key: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// With both keys, check opens everything and warns about the old key.
	r := runCLI(t, nil, append([]string{"check"}, both...)...)
	if r.code != 0 || strings.Count(r.stdout, "WARN ") != sealedValues || !strings.Contains(r.stdout, oldKr.ID()) {
		t.Errorf("check with both keys: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	for i, want := range []string{"resealed 6 value(s)", "resealed 0 value(s)"} {
		r := runCLI(t, nil, append([]string{"rekey"}, both...)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "ok nothing needs the old master key(s) "+oldKr.ID()) {
			t.Errorf("rekey #%d: exit %d, want 0 and %q; stdout:\n%s\nstderr:\n%s", i+1, r.code, want, r.stdout, r.stderr)
		}
	}
	oldKeyText, err := os.ReadFile(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(oldKey); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, append([]string{"check"}, newOnly...)...)
	if r.code != 0 || strings.Contains(r.stdout, "WARN") || strings.Contains(r.stdout, "FAIL") {
		t.Errorf("check with the new key alone: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// The old key alone no longer opens the store.
	if err := os.WriteFile(oldKey, oldKeyText, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, append([]string{"serve", "--listen", "127.0.0.1:0", "--master-key-file", oldKey}, dir...)...); r.code != 1 ||
		!strings.Contains(r.stderr, "6 sealed with master key ") {
		t.Errorf("serve with the old key alone after rekey: exit %d, stderr %q", r.code, r.stderr)
	}
	s2 := startServer(t, serverOptions{dataDir: s.DataDir, initialized: true, args: []string{"--master-key-file", newKey}})
	s2.Bootstrap = s.Bootstrap
	c2 := s2.digestClient()
	for i, gid := range gids {
		if got := fetchCAPEM(t, c2, s2.URL, gid); !bytes.Equal(got, caPEMs[i]) {
			t.Errorf("project %s: CA PEM changed by rekey:\n%s\nwant:\n%s", gid, got, caPEMs[i])
		}
		ca := parseCAs(t, caPEMs[i])[0]
		cert := issueCert(t, c2, s2.URL, gid, "alice", 1).Cert
		if err := cert.CheckSignatureFrom(ca); err != nil {
			t.Errorf("project %s: certificate after rekey not signed by the CA of before: %v", gid, err)
		}
	}
}

// TestRekeyPostgres rotates the master key of a PostgreSQL store while a
// replica that holds both keys issues certificates: every issuance
// succeeds, rekey leaves nothing to the old key, and a replica with the new
// key alone signs with the same CA and authenticates the same API key.
func TestRekeyPostgres(t *testing.T) {
	t.Parallel()
	dbURL := testkit.PostgresDatabase(t, "atlasx509_rekey_")
	keys := t.TempDir()
	oldKey, newKey := filepath.Join(keys, "old.key"), filepath.Join(keys, "new.key")
	for _, k := range []string{oldKey, newKey} {
		if _, err := keyring.Create(k); err != nil {
			t.Fatal(err)
		}
	}
	db := []string{"--db", dbURL}
	s := startServer(t, serverOptions{args: append(slices.Clone(db), "--master-key-file", oldKey)})
	c := s.digestClient()
	gid := s.Bootstrap.ProjectID
	createManagedUser(t, c, s.URL, gid, "alice")
	issueCert(t, c, s.URL, gid, "alice", 1)
	caPEM := fetchCAPEM(t, c, s.URL, gid)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	both := append(slices.Clone(db), "--master-key-file", newKey, "--old-master-key-files", oldKey)
	s2 := startServer(t, serverOptions{initialized: true, args: both})
	s2.Bootstrap = s.Bootstrap
	c2 := s2.digestClient()
	if _, err := issueSerial(c2, s2.URL, gid, "alice"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var issued int
	var issueErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := issueSerial(c2, s2.URL, gid, "alice"); err != nil {
				issueErr = err
				return
			}
			issued++
		}
	}()
	r := runCLI(t, nil, append([]string{"rekey", "--data-dir", t.TempDir()}, both...)...)
	close(stop)
	<-done
	if issueErr != nil {
		t.Errorf("issuance during rekey (after %d): %v", issued, issueErr)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "resealed 5 value(s)") {
		t.Errorf("rekey: exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, append([]string{"check", "--data-dir", t.TempDir(), "--master-key-file", newKey}, db...)...)
	if r.code != 0 || strings.Contains(r.stdout, "WARN") {
		t.Errorf("check with the new key alone: exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if err := s2.stop(); err != nil {
		t.Fatal(err)
	}

	s3 := startServer(t, serverOptions{initialized: true, args: append(slices.Clone(db), "--master-key-file", newKey)})
	s3.Bootstrap = s.Bootstrap
	c3 := s3.digestClient()
	if got := fetchCAPEM(t, c3, s3.URL, gid); !bytes.Equal(got, caPEM) {
		t.Errorf("CA PEM changed by rekey:\n%s\nwant:\n%s", got, caPEM)
	}
	cert := issueCert(t, c3, s3.URL, gid, "alice", 1).Cert
	if err := cert.CheckSignatureFrom(parseCAs(t, caPEM)[0]); err != nil {
		t.Errorf("certificate after rekey not signed by the CA of before: %v", err)
	}
}
