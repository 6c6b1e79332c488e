package main

import (
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestBackupUnderIssuance backs up the store with `atlasx509 backup` while
// clients keep getting certificates from the serving process, restores the
// backup into a new data directory, checks it, serves from it and finds
// every certificate whose answer was received before the backup began.
func TestBackupUnderIssuance(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey, tr), Timeout: 60 * time.Second}
	gid := createProject(t, s, "backed-up")
	users := []string{"u0", "u1", "u2", "u3"}
	for _, u := range users {
		createManagedUser(t, c, s.URL, gid, u)
	}

	// Issuers run until stopped; each answer received before the backup
	// started is one the backup must hold.
	var (
		started   atomic.Bool
		stop      = make(chan struct{})
		mu        sync.Mutex
		before    []int64
		during    int
		issueErrs []error
		wg        sync.WaitGroup
	)
	for _, u := range users {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				serial, err := issueSerial(c, s.URL, gid, u)
				answeredBefore := !started.Load()
				mu.Lock()
				switch {
				case err != nil:
					issueErrs = append(issueErrs, err)
				case answeredBefore:
					before = append(before, serial)
				default:
					during++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	// Let some certificates be issued, then back up under the load.
	for {
		mu.Lock()
		n := len(before)
		mu.Unlock()
		if n >= 20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "atlasx509-backup.db")
	started.Store(true)
	r := runCLI(t, nil, "backup", "--data-dir", s.DataDir, "--out", out)
	// Keep issuing a little after the backup, then stop.
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("backup exited %d; stderr:\n%s", r.code, r.stderr)
	}
	if len(issueErrs) > 0 {
		t.Fatalf("issuance failed during the backup: %v", issueErrs)
	}
	t.Logf("%d certificates answered before the backup, %d during and after it", len(before), during)
	// check runs beside the serving process too.
	if r := runCLI(t, nil, "check", "--data-dir", s.DataDir); r.code != 0 {
		t.Errorf("check of the serving store exited %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	requireMode0600(t, out)
	if r := runCLI(t, nil, "backup", "--data-dir", s.DataDir, "--out", out); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup onto an existing file: exit %d, stderr %q; want 1 and a refusal", r.code, r.stderr)
	}

	// Restore into a new data directory, with the master key put back.
	dir := filepath.Join(t.TempDir(), "restored")
	if r := runCLI(t, nil, "restore", "--data-dir", dir, "--from", out); r.code != 0 {
		t.Fatalf("restore exited %d; stderr:\n%s", r.code, r.stderr)
	}
	requireMode0600(t, filepath.Join(dir, "atlasx509.db"))
	key, err := os.ReadFile(filepath.Join(s.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "check", "--data-dir", dir); r.code != 0 {
		t.Fatalf("check of the restored store exited %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "restore", "--data-dir", dir, "--from", out); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore onto the restored store: exit %d, stderr %q; want 1 and a refusal", r.code, r.stderr)
	}

	restored := startServer(t, serverOptions{dataDir: dir, initialized: true})
	restored.Bootstrap = s.Bootstrap
	rc := restored.digestClient()
	listed := map[int64]bool{}
	for _, u := range users {
		r := do(t, rc, "GET", restored.URL+apiV1+"/groups/"+gid+"/databaseUsers/"+u+"/certs?itemsPerPage=500", "")
		mustStatus(t, r, http.StatusOK, "list the certificates of "+u)
		var page atlasapi.Paginated[atlasapi.UserCert]
		decodeJSON(t, r.Body, &page)
		for _, item := range page.Results {
			listed[item.ID] = true
		}
	}
	var missing []int64
	for _, serial := range before {
		if !listed[serial] {
			missing = append(missing, serial)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("the restored store lacks %d of the %d certificates answered before the backup: %v", len(missing), len(before), missing)
	}
	// The restored server signs with the same CA.
	issued := issueCert(t, rc, restored.URL, gid, "u0", 1)
	cas := parseCAs(t, fetchCAPEM(t, c, s.URL, gid))
	if len(cas) != 1 || issued.Cert.CheckSignatureFrom(cas[0]) != nil {
		t.Error("a certificate issued by the restored server is not signed by the original project CA")
	}
}

// issueSerial asks for a certificate and returns its serial; safe to call
// from any goroutine.
func issueSerial(c *http.Client, base, gid, user string) (int64, error) {
	resp, err := c.Post(base+apiV1+"/groups/"+gid+"/databaseUsers/"+user+"/certs", "application/json",
		strings.NewReader(`{"monthsUntilExpiration":1}`))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("issuance: %d %s", resp.StatusCode, b)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return 0, fmt.Errorf("issuance: no PEM in %q", b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return 0, err
	}
	return cert.SerialNumber.Int64(), nil
}

// servedStore returns a data directory whose store served: it holds the
// server secrets, the bootstrap API key and a project CA that signed a
// certificate. It also returns that project's id.
func servedStore(t *testing.T) (dir, gid string) {
	t.Helper()
	s := startServer(t, serverOptions{})
	c := s.digestClient()
	createManagedUser(t, c, s.URL, s.Bootstrap.ProjectID, "alice")
	issueCert(t, c, s.URL, s.Bootstrap.ProjectID, "alice", 1)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	return s.DataDir, s.Bootstrap.ProjectID
}

// copyDataDir copies the store and master key of dir into a new directory.
func copyDataDir(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	for _, name := range []string{"atlasx509.db", "master.key"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(to, name), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// TestCheck: check passes on a store that served, and fails, naming what
// failed, with a wrong or missing master key (which it does not create), a
// corrupted sealed CA key, a corrupted database file and no store at all.
func TestCheck(t *testing.T) {
	t.Parallel()
	dir, gid := servedStore(t)
	// flipCAKeyByte alters one byte of the sealed CA key in the file.
	flipCAKeyByte := func(t *testing.T, dir string) []string {
		db, err := sql.Open("sqlite", filepath.Join(dir, "atlasx509.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var key []byte
		if err := db.QueryRow(`SELECT sealed_key FROM project_cas WHERE group_id = ? AND generation = 1`, gid).Scan(&key); err != nil {
			t.Fatal(err)
		}
		key[len(key)/2] ^= 0x01
		if _, err := db.Exec(`UPDATE project_cas SET sealed_key = ? WHERE group_id = ? AND generation = 1`, key, gid); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	tests := []struct {
		name string
		// spoil changes a copy of the data directory and returns extra
		// arguments of check.
		spoil    func(t *testing.T, dir string) []string
		wantCode int
		want     []string // lines of stdout
	}{
		{"good store", func(*testing.T, string) []string { return nil }, 0,
			[]string{"ok store integrity", "ok sealed values opened", "setting 2, ca-key 1, api-key-ha1 2, webhook-secret 0, outbox-secret 0"}},
		{"wrong master key", func(t *testing.T, dir string) []string {
			other := filepath.Join(t.TempDir(), "other.key")
			if _, err := keyring.Create(other); err != nil {
				t.Fatal(err)
			}
			return []string{"--master-key-file", other}
		}, 1, []string{
			"FAIL setting digest-nonce-key: " + keyring.ErrWrongKey.Error(),
			"FAIL setting oauth-token-key: " + keyring.ErrWrongKey.Error(),
			"FAIL ca-key " + gid + "/1: " + keyring.ErrWrongKey.Error(),
			"FAIL api-key-ha1 ",
		}},
		{"missing master key", func(t *testing.T, dir string) []string {
			os.Remove(filepath.Join(dir, "master.key"))
			t.Cleanup(func() {
				if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
					t.Error("check created a master key")
				}
			})
			return nil
		}, 1, []string{"FAIL master key: "}},
		{"corrupted sealed CA key", flipCAKeyByte, 1, []string{"FAIL ca-key " + gid + "/1: " + keyring.ErrCorrupt.Error()}},
		{"corrupted database file", func(t *testing.T, dir string) []string {
			corruptFile(t, filepath.Join(dir, "atlasx509.db"))
			return nil
		}, 1, []string{"FAIL integrity: "}},
		{"no store", func(t *testing.T, dir string) []string {
			os.Remove(filepath.Join(dir, "atlasx509.db"))
			return nil
		}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := copyDataDir(t, dir)
			args := append([]string{"check", "--data-dir", d}, tc.spoil(t, d)...)
			r := runCLI(t, nil, args...)
			if r.code != tc.wantCode {
				t.Errorf("check exited %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "FAIL") != (tc.wantCode != 0 && tc.want != nil) {
				t.Errorf("stdout:\n%s", r.stdout)
			}
		})
	}
	// check never creates a store.
	empty := t.TempDir()
	if r := runCLI(t, nil, "check", "--data-dir", empty); r.code != 1 || !strings.Contains(r.stderr, "no store at") {
		t.Errorf("check of an empty directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("check of an empty directory left %d files in it", len(entries))
	}
}

// corruptFile overwrites every page but the first of the database file at
// path with garbage.
func corruptFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	for off := int64(4096); off+int64(len(garbage)) <= fi.Size(); off += 4096 {
		if _, err := f.WriteAt(garbage, off); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestoreRefusesNonStore: restoring a file that is not a store fails and
// leaves the target directory as it was (holding the master key only).
func TestRestoreRefusesNonStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "master.key")
	if _, err := keyring.Create(keyFile); err != nil {
		t.Fatal(err)
	}
	notStore := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notStore, []byte("not a database\n"), 0o600)
	r := runCLI(t, nil, "restore", "--data-dir", dir, "--from", notStore)
	if r.code != 1 || !strings.Contains(r.stderr, "not a SQLite database") {
		t.Errorf("restore of a text file: exit %d, stderr %q", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "master.key" {
		t.Errorf("the data directory holds %v after a refused restore, want master.key alone", entries)
	}
}

// TestCheckPostgres: check passes on a store on the local PostgreSQL, and
// backup and restore point to pg_dump there.
func TestCheckPostgres(t *testing.T) {
	t.Parallel()
	dbURL := testkit.PostgresDatabase(t, "atlasx509_check_")
	dir := t.TempDir()
	if r := runCLI(t, nil, "init", "--data-dir", dir, "--db", dbURL); r.code != 0 {
		t.Fatalf("init exited %d; stderr:\n%s", r.code, r.stderr)
	}
	r := runCLI(t, nil, "check", "--data-dir", dir, "--db", dbURL)
	if r.code != 0 || !strings.Contains(r.stdout, "ok sealed values opened") {
		t.Errorf("check exited %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"backup", "--out", filepath.Join(dir, "b.db")}, {"restore", "--from", filepath.Join(dir, "b.db")}} {
		r := runCLI(t, nil, append(args, "--data-dir", dir, "--db", dbURL)...)
		if r.code != 1 || !strings.Contains(r.stderr, "pg_dump") {
			t.Errorf("%s on PostgreSQL: exit %d, stderr %q; want 1 and pg_dump", args[0], r.code, r.stderr)
		}
	}
}
