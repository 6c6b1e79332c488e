package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver of the store watcher

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// fuzzServer is the server of the route-level fuzz targets: one per fuzz
// worker, serving the real handler on a SQLite file in a temporary
// directory, with fixtures (users, a certificate, keys, accounts, an alert
// configuration, a second project with self-managed X.509) made through
// the API once, and the caller the bootstrap service account (ORG_OWNER).
//
// Every execution starts from the same state: a connection of its own
// watches the file (PRAGMA data_version moves when another connection
// commits), and after a request that wrote, the file is replaced by the
// pristine copy and the App and handler are built anew (which also drops
// what they keep in memory). So a crasher reproduces on its own, and the
// answers' property is checked against a known state:
//   - never a 5xx (a panic is a 500);
//   - an answer ≥ 400 is Atlas's error shape (ApiError of the spec,
//     application/json, X-Error-Code) and changed nothing in the store: a
//     commit during a refused request must leave every row as it was;
//   - every answer conforms to Atlas's spec where the route is in it (the
//     check of withSpecCheck, made per execution).
type fuzzServer struct {
	tb       testing.TB
	live     string
	pristine string
	keyring  *keyring.Keyring
	token    string
	ids      map[string]string // fixture name → value (path parameter defaults)
	spec     *loadedSpec

	st      *sqlite.Store
	app     *app.App
	handler http.Handler
	logBuf  *syncBuffer
	watch   *sql.DB
	wconn   *sql.Conn
	version int64
	rows    map[string][]string // the pristine store, table → sorted rows
	resets  int
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.b.String()
	b.b.Reset()
	return s
}

// fuzzRemote is the client address of every fuzz request.
const fuzzRemote = "192.0.2.10:40000"

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	dir := tb.TempDir()
	s := &fuzzServer{tb: tb, live: filepath.Join(dir, "atlasx509.db"), pristine: filepath.Join(dir, "pristine.db"),
		keyring: testkit.Keyring(tb), spec: loadSpec(tb), logBuf: &syncBuffer{}}
	st, err := sqlite.Open(context.Background(), s.live)
	if err != nil {
		tb.Fatal(err)
	}
	s.st = st
	s.build()
	boot, err := s.app.Bootstrap(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := s.app.IssueToken(context.Background(), boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	if err != nil {
		tb.Fatal(err)
	}
	s.token = tok.AccessToken
	s.ids = map[string]string{"groupId": boot.ProjectID, "orgId": boot.OrgID, "byName": "byName"}
	s.fixtures(boot)
	if err := s.st.Close(); err != nil {
		tb.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := copyFile(s.live+suffix, s.pristine+suffix); err != nil {
			tb.Fatal(err)
		}
	}
	s.open()
	s.rows = s.dump()
	tb.Cleanup(s.close)
	return s
}

// build makes the App and the handler on s.st.
func (s *fuzzServer) build() {
	a, err := app.New(context.Background(), app.Config{Store: s.st, Keyring: s.keyring, Keys: testkit.FastKeys{},
		Logger: slog.New(slog.NewTextHandler(s.logBuf, nil))})
	if err != nil {
		s.tb.Fatal(err)
	}
	s.app = a
	s.handler = NewHandler(Options{App: a, ExternalURL: testExternalURL,
		Logger: slog.New(slog.NewTextHandler(s.logBuf, &slog.HandlerOptions{Level: slog.LevelError}))})
}

// open installs the pristine copy as the live file and opens the store,
// the App, the handler and the watcher on it.
func (s *fuzzServer) open() {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := copyFile(s.pristine+suffix, s.live+suffix); err != nil {
			s.tb.Fatal(err)
		}
	}
	st, err := sqlite.Open(context.Background(), s.live)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.st = st
	s.build()
	s.watch, err = sql.Open("sqlite", "file:"+s.live+"?mode=ro")
	if err != nil {
		s.tb.Fatal(err)
	}
	if s.wconn, err = s.watch.Conn(context.Background()); err != nil {
		s.tb.Fatal(err)
	}
	s.version = s.dataVersion()
}

func (s *fuzzServer) close() {
	if s.wconn != nil {
		s.wconn.Close()
		s.watch.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
	s.wconn, s.watch, s.st = nil, nil, nil
}

// reset brings the live file back to the pristine state.
func (s *fuzzServer) reset() {
	s.close()
	s.open()
	s.resets++
}

// copyFile copies src to dst (mode 0600); a missing src removes dst.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

func (s *fuzzServer) dataVersion() int64 {
	var v int64
	if err := s.wconn.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
		s.tb.Fatal(err)
	}
	return v
}

// dump reads every row of every table, each table's rows sorted.
func (s *fuzzServer) dump() map[string][]string {
	ctx := context.Background()
	tx, err := s.wconn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		s.tb.Fatal(err)
	}
	defer tx.Rollback()
	var tables []string
	rs, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		s.tb.Fatal(err)
	}
	for rs.Next() {
		var name string
		rs.Scan(&name)
		tables = append(tables, name)
	}
	rs.Close()
	out := map[string][]string{}
	for _, table := range tables {
		rs, err := tx.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			s.tb.Fatal(err)
		}
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				s.tb.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprintf("%q", vals))
		}
		rs.Close()
		sort.Strings(out[table])
	}
	return out
}

// diff describes how the live store differs from the pristine one.
func (s *fuzzServer) diff() string {
	now := s.dump()
	var b strings.Builder
	for _, table := range slices.Sorted(mapKeys(now, s.rows)) {
		before, after := s.rows[table], now[table]
		if slices.Equal(before, after) {
			continue
		}
		fmt.Fprintf(&b, "table %s: %d rows before, %d after\n", table, len(before), len(after))
		for _, r := range after {
			if !slices.Contains(before, r) {
				fmt.Fprintf(&b, "  + %.300s\n", r)
			}
		}
		for _, r := range before {
			if !slices.Contains(after, r) {
				fmt.Fprintf(&b, "  - %.300s\n", r)
			}
		}
	}
	return b.String()
}

func mapKeys(ms ...map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// setupDo serves a fixture request and fails unless the status is want.
func (s *fuzzServer) setupDo(want int, method, path, body string) map[string]any {
	s.tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != want {
		s.tb.Fatalf("fixture %s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body.String())
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	dec.Decode(&v)
	return v
}

// fixtures makes the objects the path parameters name by default.
func (s *fuzzServer) fixtures(boot interface{}) {
	v1 := "/api/atlas/v1.0"
	g := v1 + "/groups/" + s.ids["groupId"]
	o := v1 + "/orgs/" + s.ids["orgId"]
	s.setupDo(http.StatusCreated, "POST", g+"/databaseUsers", managedUserBody("alice"))
	s.setupDo(http.StatusCreated, "POST", g+"/databaseUsers", scramUserBody("bob"))
	s.ids["username"], s.ids["databaseName"] = "alice", "$external"
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", g+"/databaseUsers/alice/certs", strings.NewReader(`{"monthsUntilExpiration":3}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		s.tb.Fatalf("fixture certificate: %d %s", rec.Code, rec.Body.String())
	}
	certs := s.setupDo(http.StatusOK, "GET", g+"/databaseUsers/alice/certs", "")
	s.ids["serial"] = fmt.Sprint(certs["results"].([]any)[0].(map[string]any)["_id"])
	if _, err := strconv.ParseInt(s.ids["serial"], 10, 64); err != nil {
		s.tb.Fatalf("fixture certificate serial %q", s.ids["serial"])
	}
	s.ids["alertConfigId"] = s.setupDo(http.StatusCreated, "POST", g+"/alertConfigs", alertConfigBody)["id"].(string)
	s.ids["alertId"] = "5f1e0e0e0e0e0e0e0e0e0e0e"
	key := s.setupDo(http.StatusOK, "POST", o+"/apiKeys", `{"desc":"fuzz key","roles":["ORG_MEMBER"]}`)
	s.ids["apiUserId"] = key["id"].(string)
	s.setupDo(http.StatusOK, "POST", o+"/apiKeys/"+s.ids["apiUserId"]+"/accessList", `[{"cidrBlock":"192.0.2.0/24"}]`)
	s.ids["ipAddress"] = "192.0.2.0/24"
	s.setupDo(http.StatusNoContent, "POST", g+"/apiKeys/"+s.ids["apiUserId"], `[{"roles":["GROUP_READ_ONLY"]}]`)
	sa := s.setupDo(http.StatusCreated, "POST", o+"/serviceAccounts",
		`{"name":"fuzz account","description":"fuzz","roles":["ORG_MEMBER"],"secretExpiresAfterHours":24}`)
	s.ids["clientId"] = sa["clientId"].(string)
	s.ids["@secret"] = sa["secrets"].([]any)[0].(map[string]any)["secret"].(string)
	s.ids["@basic"] = base64.StdEncoding.EncodeToString([]byte(s.ids["clientId"] + ":" + s.ids["@secret"]))
	s.ids["@token"] = s.token
	s.ids["secretId"] = sa["secrets"].([]any)[0].(map[string]any)["id"].(string)
	s.ids["clientIdAction"] = s.ids["clientId"] + ":invite"
	s.setupDo(http.StatusOK, "POST", o+"/serviceAccounts/"+s.ids["clientId"]+"/accessList", `[{"cidrBlock":"192.0.2.0/24"}]`)
	s.setupDo(http.StatusOK, "POST", g+"/serviceAccounts/"+s.ids["clientIdAction"], `{"roles":["GROUP_READ_ONLY"]}`)
	s.ids["limitName"] = "atlas.project.security.databaseAccess.users"
	other := s.setupDo(http.StatusOK, "POST", v1+"/groups", `{"name":"fuzz other","orgId":"`+s.ids["orgId"]+`"}`)
	s.ids["@other"] = other["id"].(string)
	s.ids["groupName"] = "fuzz other"
	cas, _ := json.Marshal(map[string]any{"customerX509": map[string]string{"cas": customerCA(s.tb, "Fuzz Root", true, time.Now().AddDate(5, 0, 0))}})
	s.setupDo(http.StatusAccepted, "PATCH", v1+"/groups/"+s.ids["@other"]+"/userSecurity", string(cas))
	events := s.setupDo(http.StatusOK, "GET", g+"/events", "")
	s.ids["eventId"] = events["results"].([]any)[0].(map[string]any)["id"].(string)
	orgEvents := s.setupDo(http.StatusOK, "GET", o+"/events", "")
	s.ids["@orgEvent"] = orgEvents["results"].([]any)[0].(map[string]any)["id"].(string)
	s.ids["@scram"] = "bob"
	s.ids["@admin"] = "admin"
}

// fuzzRequest is one request of a fuzz target, before it is read the way
// the server reads it.
type fuzzRequest struct {
	method string
	target string // path and query, as on the request line
	header []string
	body   []byte
	noAuth bool
}

// serve reads req as net/http's server would (a request it refuses is not
// served: the server answers 400 itself), serves it, checks the property
// and returns the answer, or nil when the request was not served.
func (s *fuzzServer) serve(t *testing.T, fr fuzzRequest) (*http.Request, *httptest.ResponseRecorder) {
	t.Helper()
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: example.com\r\n", fr.method, fr.target)
	if !fr.noAuth {
		fmt.Fprintf(&raw, "Authorization: Bearer %s\r\n", s.token)
	}
	for _, h := range fr.header {
		fmt.Fprintf(&raw, "%s\r\n", h)
	}
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(fr.body))
	raw.Write(fr.body)
	req, err := http.ReadRequest(bufio.NewReader(&raw))
	if err != nil {
		return nil, nil
	}
	if req.Header.Get("Transfer-Encoding") != "" || len(req.Header.Values("Content-Length")) > 1 {
		return nil, nil
	}
	req.RemoteAddr = fuzzRemote
	s.logBuf.take()
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	changed := s.dataVersion() != s.version
	var fail string
	switch {
	case rec.Code >= 500:
		fail = fmt.Sprintf("status %d %s\nlog: %s", rec.Code, rec.Body.String(), s.logBuf.take())
	case rec.Code >= 400 && changed:
		if d := s.diff(); d != "" {
			fail = fmt.Sprintf("refused with %d %s, but the store changed:\n%s", rec.Code, rec.Body.String(), d)
		}
	}
	if fail == "" && strings.HasPrefix(req.URL.Path, "/api/atlas/") && req.Method != http.MethodHead {
		if err := s.spec.check(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			fail = fmt.Sprintf("answer %d does not conform to the spec: %v\n%.600s", rec.Code, err, rec.Body.String())
		}
	}
	if fail == "" && rec.Code >= 400 && strings.HasPrefix(req.URL.Path, "/api/atlas/") {
		fail = checkAPIError(rec)
	}
	if changed {
		s.reset() // before failing: the next seed starts clean
	}
	if fail != "" {
		t.Fatalf("%s %s (headers %q, body %q):\n%s", fr.method, fr.target, fr.header, truncate(fr.body), fail)
	}
	return req, rec
}

// checkAPIError checks an error answer's Atlas shape and returns what is
// wrong, or "".
func checkAPIError(rec *httptest.ResponseRecorder) string {
	var e struct {
		BadRequestDetail *struct {
			Fields []struct {
				Description string `json:"description"`
				Field       string `json:"field"`
			} `json:"fields"`
		} `json:"badRequestDetail"`
		Detail     *string `json:"detail"`
		Error      int     `json:"error"`
		ErrorCode  string  `json:"errorCode"`
		Parameters []any   `json:"parameters"`
		Reason     string  `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Sprintf("error body is not Atlas's error: %v: %s", err, rec.Body.String())
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Sprintf("error body has data after the object: %s", rec.Body.String())
	}
	switch {
	case e.Error != rec.Code || e.Reason != http.StatusText(rec.Code):
		return fmt.Sprintf("error body says %d %q for status %d", e.Error, e.Reason, rec.Code)
	case e.ErrorCode == "" || rec.Header().Get("X-Error-Code") != e.ErrorCode:
		return fmt.Sprintf("errorCode %q, X-Error-Code %q", e.ErrorCode, rec.Header().Get("X-Error-Code"))
	case rec.Header().Get("Content-Type") != "application/json":
		return fmt.Sprintf("error Content-Type %q", rec.Header().Get("Content-Type"))
	case e.Detail == nil:
		return "error without detail"
	}
	return ""
}

// TestFuzzServerResets guards the fuzz harness: a request that writes is
// seen, the store is brought back to the fixtures, and a row changed
// behind a refusal would be reported.
func TestFuzzServerResets(t *testing.T) {
	s := newFuzzServer(t)
	g := "/api/atlas/v1.0/groups/" + s.ids["groupId"]
	_, rec := s.serve(t, fuzzRequest{method: "POST", target: g + "/databaseUsers",
		header: []string{"Content-Type: application/json"}, body: []byte(managedUserBody("zed"))})
	if rec.Code != http.StatusCreated || s.resets != 1 {
		t.Fatalf("create: %d, %d resets", rec.Code, s.resets)
	}
	if _, rec := s.serve(t, fuzzRequest{method: "GET", target: g + "/databaseUsers/$external/zed"}); rec.Code != http.StatusNotFound {
		t.Fatalf("after the reset the user is still there: %d", rec.Code)
	}
	if _, rec := s.serve(t, fuzzRequest{method: "GET", target: g + "/databaseUsers/$external/alice"}); rec.Code != http.StatusOK || s.resets != 1 {
		t.Fatalf("fixture user: %d, %d resets", rec.Code, s.resets)
	}
	db, err := sql.Open("sqlite", "file:"+s.live)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE organizations SET name = 'changed behind'"); err != nil {
		t.Fatal(err)
	}
	if s.dataVersion() == s.version || !strings.Contains(s.diff(), "table organizations: 1 rows before, 1 after") {
		t.Fatalf("a change behind the store is not seen: %q", s.diff())
	}
}
