package main

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// replica is one `atlasx509 serve` process.
type replica struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
	out  lockedBuffer // stdout: the bootstrap line, if any
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

func startReplica(t *testing.T, bin, dataDir, masterKey, dbURL string) *replica {
	t.Helper()
	r := &replica{done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--db", dbURL,
		"--master-key-file", masterKey, "--audit-log", "off", "--rate-limit-x509", "0", "--rate-limit-database-users", "0",
		"--key-pool", "off")
	r.cmd.Stdout = &r.out
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.stop(syscall.SIGTERM) })
	select {
	case a := <-addr:
		r.base = "http://" + a
	case <-r.done:
		t.Fatalf("replica exited before listening")
	case <-time.After(60 * time.Second):
		t.Fatalf("replica did not start")
	}
	return r
}

func (r *replica) stop(sig syscall.Signal) {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// TestReplicasOnPostgres runs three serve processes on one PostgreSQL
// database and drives them concurrently, killing one mid-load: every
// answered certificate is listed by every surviving replica, serials are
// unique, the project has one CA, and a token minted or revoked on one
// replica is honoured by the others at once.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	t.Parallel()
	dbURL := testkit.PostgresDatabase(t, "atlasx509_replicas_")

	dir := t.TempDir()
	bin := filepath.Join(dir, "atlasx509")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	masterKey := filepath.Join(dir, "master.key")
	replicas := []*replica{startReplica(t, bin, filepath.Join(dir, "r0"), masterKey, dbURL)}
	// stdout is copied from a pipe of its own: the line may trail the log.
	for deadline := time.Now().Add(10 * time.Second); replicas[0].out.String() == "" && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	var boot atlasapi.Bootstrap
	if err := json.Unmarshal([]byte(strings.TrimSpace(replicas[0].out.String())), &boot); err != nil {
		t.Fatalf("bootstrap line %q: %v", replicas[0].out.String(), err)
	}
	for i := 1; i < 3; i++ {
		replicas = append(replicas, startReplica(t, bin, filepath.Join(dir, fmt.Sprintf("r%d", i)), masterKey, dbURL))
	}
	for i, r := range replicas[1:] {
		if r.out.String() != "" {
			t.Errorf("replica %d printed a second bootstrap: %q", i+1, r.out.String())
		}
	}
	c := &replicaClient{t: t, http: &http.Client{Timeout: 30 * time.Second}}
	c.token = c.tokenFrom(replicas[1], boot) // minted on one replica, used on all
	g := "/api/atlas/v1.0/groups/" + boot.ProjectID
	if st, body := c.do(replicas[2], "PATCH", g+"/userSecurity/managedX509", `{"leafKeyType":"ECDSA_P256"}`); st != 200 {
		t.Fatalf("leaf key type: %d %s", st, body)
	}

	const workers, perWorker = 6, 12
	var (
		mu         sync.Mutex
		answered   = map[int64]string{} // serial → username
		unanswered int
		third      = make(chan struct{})
		thirdOnce  sync.Once
	)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("worker%d", w)
			for {
				st, _ := c.do(replicas[w%3], "POST", g+"/databaseUsers", fmt.Sprintf(`{"username":%q,"databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"read","databaseName":"app"}]}`, user))
				if st == 201 || st == 409 {
					break
				}
				w++ // that replica is gone: use another
			}
			for i := 0; i < perWorker; i++ {
				r := replicas[(w+i)%3]
				st, body := c.do(r, "POST", g+"/databaseUsers/"+user+"/certs", `{"monthsUntilExpiration":1}`)
				if st != 201 {
					if st != 0 {
						t.Errorf("issuance on %s: %d %s", r.base, st, body)
					}
					mu.Lock()
					unanswered++ // a killed replica answers nothing; nothing was promised
					mu.Unlock()
					continue
				}
				block, _ := pem.Decode([]byte(body))
				cert, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					t.Errorf("answer is not a certificate: %v", err)
					return
				}
				mu.Lock()
				if prev, dup := answered[cert.SerialNumber.Int64()]; dup {
					t.Errorf("serial %d answered twice (%s and %s)", cert.SerialNumber, prev, user)
				}
				answered[cert.SerialNumber.Int64()] = user
				if len(answered) >= workers*perWorker/3 {
					thirdOnce.Do(func() { close(third) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-third:
	case <-time.After(2 * time.Minute):
		t.Fatal("a third of the certificates never came")
	}
	replicas[1].stop(syscall.SIGKILL) // mid-load, no goodbye
	wg.Wait()
	t.Logf("%d certificates answered, %d requests unanswered by the killed replica", len(answered), unanswered)
	if len(answered) < workers*perWorker/2 || unanswered == 0 {
		t.Fatalf("the kill did not happen under load: %d answered, %d unanswered", len(answered), unanswered)
	}

	for _, r := range []*replica{replicas[0], replicas[2]} {
		listed := map[int64]bool{}
		for w := 0; w < workers; w++ {
			st, body := c.do(r, "GET", fmt.Sprintf("%s/databaseUsers/worker%d/certs?itemsPerPage=500", g, w), "")
			if st != 200 {
				t.Fatalf("list on %s: %d %s", r.base, st, body)
			}
			var page atlasapi.Paginated[atlasapi.UserCert]
			json.Unmarshal([]byte(body), &page)
			for _, it := range page.Results {
				if listed[it.ID] {
					t.Errorf("serial %d listed twice", it.ID)
				}
				listed[it.ID] = true
			}
		}
		for serial := range answered {
			if !listed[serial] {
				t.Errorf("replica %s does not list answered serial %d", r.base, serial)
			}
		}
		st, body := c.do(r, "GET", g+"/userSecurity/managedX509/ca", "")
		if st != 200 || strings.Count(body, "BEGIN CERTIFICATE") != 1 {
			t.Errorf("replica %s: %d CA certificates", r.base, strings.Count(body, "BEGIN CERTIFICATE"))
		}
	}

	users := make([]string, workers)
	for w := range users {
		users[w] = fmt.Sprintf("worker%d", w)
	}
	checkRotationAcrossReplicas(t, c, []*replica{replicas[0], replicas[2]}, g, users)

	// Revocation on one replica is seen by another at once.
	if st, _ := c.do(replicas[2], "GET", g, ""); st != 200 {
		t.Fatalf("token refused before revocation: %d", st)
	}
	form := url.Values{"token": {c.token}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest("POST", replicas[0].base+"/api/oauth/revoke", strings.NewReader(form.Encode()))
	req.SetBasicAuth(boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	resp.Body.Close()
	if st, _ := c.do(replicas[2], "GET", g, ""); st != 401 {
		t.Errorf("revoked token still accepted by another replica: %d", st)
	}
}

type replicaClient struct {
	t     *testing.T
	http  *http.Client
	token string
}

func (c *replicaClient) tokenFrom(r *replica, boot atlasapi.Bootstrap) string {
	req, _ := http.NewRequest("POST", r.base+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok atlasapi.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		c.t.Fatalf("token: %v %+v", err, tok)
	}
	return tok.AccessToken
}

// do sends a request to r; a replica that is gone answers status 0.
func (c *replicaClient) do(r *replica, method, path, body string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
