package httpapi

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var (
	timeRE   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`)
	serialRE = regexp.MustCompile(`"_id":\s*\d+`)
	idRE     = regexp.MustCompile(`[0-9a-f]{24}`)
)

// normalize replaces what changes from run to run (ids, times, serials) so
// that a golden file pins only the wire shape: keys, their order, arrays
// that are always present, links.
func normalize(e *env, body []byte) []byte {
	s := string(body)
	s = strings.ReplaceAll(s, e.boot.ProjectID, "<groupId>")
	s = strings.ReplaceAll(s, e.boot.OrgID, "<orgId>")
	s = idRE.ReplaceAllString(s, "<id>")
	s = timeRE.ReplaceAllString(s, "<time>")
	s = serialRE.ReplaceAllString(s, `"_id":<serial>`)
	return []byte(s)
}

// TestGolden pins every success answer's body, on v1.0 and v2, to a file
// under testdata/golden. Run with -update after a deliberate change.
func TestGolden(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		name, method, path, body string
		status                   int
	}{
		{"get_project", "GET", "{v}/groups/{g}", "", 200},
		{"create_project", "POST", "{v}/groups", `{"name":"Payments {v}","orgId":"{o}"}`, 201},
		{"list_projects", "GET", "{v}/groups?itemsPerPage=1", "", 200},
		{"create_managed_user", "POST", "{v}/groups/{g}/databaseUsers", `{"username":"alice{n}","databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"readWrite","databaseName":"app"}]}`, 201},
		{"create_scram_user", "POST", "{v}/groups/{g}/databaseUsers", `{"username":"app/svc{n}","databaseName":"admin","password":"correct horse","description":"service","roles":[{"roleName":"read","databaseName":"app","collectionName":"orders"},{"roleName":"readAnyDatabase","databaseName":"admin"}],"scopes":[{"name":"Cluster0","type":"CLUSTER"}],"labels":[{"key":"team","value":"payments"}]}`, 201},
		{"get_user", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}", "", 200},
		{"update_user", "PATCH", "{v}/groups/{g}/databaseUsers/admin/app%2Fsvc{n}", `{"description":"renamed"}`, 200},
		{"list_users", "GET", "{v}/groups/{g}/databaseUsers?itemsPerPage=1&pageNum=2", "", 200},
		{"list_users_enveloped", "GET", "{v}/groups/{g}/databaseUsers?envelope=true&includeCount=false", "", 200},
		{"get_user_enveloped", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}?envelope=true", "", 200},
		{"get_user_pretty", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}?pretty=true", "", 200},
		{"list_certs_empty", "GET", "{v}/groups/{g}/databaseUsers/alice{n}/certs", "", 200},
		{"create_cert", "POST", "{v}/groups/{g}/databaseUsers/alice{n}/certs", `{"monthsUntilExpiration":3}`, 201},
		{"list_certs", "GET", "{v}/groups/{g}/databaseUsers/alice{n}/certs", "", 200},
		{"get_user_security", "GET", "{v}/groups/{g}/userSecurity", "", 200},
		{"delete_user", "DELETE", "{v}/groups/{g}/databaseUsers/admin/app%2Fsvc{n}", "", 204},
		{"error_not_found", "GET", "{v}/groups/{g}/databaseUsers/admin/nobody", "", 404},
	}
	for _, version := range []struct{ name, prefix, accept string }{
		{"v1", "/api/atlas/v1.0", "application/json"},
		{"v2", "/api/atlas/v2", "application/vnd.atlas.2023-01-01+json"},
	} {
		for _, st := range steps {
			t.Run(version.name+"/"+st.name, func(t *testing.T) {
				expand := func(s string) string {
					s = strings.ReplaceAll(s, "{v}", version.prefix)
					s = strings.ReplaceAll(s, "{g}", e.boot.ProjectID)
					s = strings.ReplaceAll(s, "{o}", e.boot.OrgID)
					return strings.ReplaceAll(s, "{n}", version.name)
				}
				var body *strings.Reader
				req := httptest.NewRequest(st.method, expand(st.path), nil)
				if st.body != "" {
					body = strings.NewReader(strings.ReplaceAll(expand(st.body), "Payments "+version.prefix, "Payments "+version.name))
					req = httptest.NewRequest(st.method, expand(st.path), body)
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+e.token)
				req.Header.Set("Accept", version.accept)
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				if rec.Code != st.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, st.status, rec.Body.String())
				}
				got := rec.Body.Bytes()
				if st.name == "create_cert" {
					// The PEM itself is random; pin its layout.
					got = []byte(pemLayout(got))
				}
				got = normalize(e, got)
				file := filepath.Join("testdata", "golden", version.name+"_"+st.name+".txt")
				if *update {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", file, diff)
				}
			})
		}
	}
}

// pemLayout describes a PEM answer by its blocks: each block's type and its
// base64 body as one "<base64>" line (their count varies with the
// signature). It reports a body whose lines are not 64 characters but for
// the last as "<bad line length>".
func pemLayout(b []byte) string {
	var out strings.Builder
	var body []int
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("-----")) && len(line) > 0 {
			body = append(body, len(line))
			continue
		}
		if len(body) > 0 {
			out.WriteString("<base64>\n")
			for i, n := range body {
				if n > 64 || n < 64 && i != len(body)-1 {
					out.WriteString("<bad line length>\n")
				}
			}
			body = nil
		}
		fmt.Fprintf(&out, "%s\n", line)
	}
	return out.String()
}

var _ = http.StatusOK
