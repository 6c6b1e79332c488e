package httpapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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
	timeRE       = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`)
	serialRE     = regexp.MustCompile(`"_id":\s*\d+`)
	idRE         = regexp.MustCompile(`[0-9a-f]{24}`)
	publicKeyRE  = regexp.MustCompile(`"publicKey":"[a-z]{8}"`)
	privateKeyRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	secretRE     = regexp.MustCompile(`mdb_sa_sk_[A-Za-z0-9]{48}`)
	sha256RE     = regexp.MustCompile(`"sha256Fingerprint":"[0-9a-f]{64}"`)
)

// normalize replaces what changes from run to run (ids, times, serials) so
// that a golden file pins only the wire shape: keys, their order, arrays
// that are always present, links.
func normalize(e *env, body []byte) []byte {
	s := string(body)
	s = strings.ReplaceAll(s, e.boot.ProjectID, "<groupId>")
	s = strings.ReplaceAll(s, e.boot.OrgID, "<orgId>")
	s = sha256RE.ReplaceAllString(s, `"sha256Fingerprint":"<sha256>"`)
	s = idRE.ReplaceAllString(s, "<id>")
	s = timeRE.ReplaceAllString(s, "<time>")
	s = serialRE.ReplaceAllString(s, `"_id":<serial>`)
	s = publicKeyRE.ReplaceAllString(s, `"publicKey":"<publicKey>"`)
	s = privateKeyRE.ReplaceAllString(s, "<privateKey>")
	s = secretRE.ReplaceAllString(s, "mdb_sa_sk_<secret>")
	return []byte(s)
}

// TestGolden pins every success answer's body, on v1.0 and v2, to a file
// under testdata/golden. Run with -update after a deliberate change.
func TestGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const sa = "2024-08-05" // the version of Atlas's service account operations
	// date is the v2 resource version a step asks for (2023-01-01 when
	// empty); capture names a variable ({k}, {c}, …) that takes the "id" or
	// "clientId" of the step's answer for the steps after it.
	steps := []struct {
		name, method, path, body string
		status                   int
		date, capture            string
	}{
		{"get_project", "GET", "{v}/groups/{g}", "", 200, "", ""},
		{"create_project", "POST", "{v}/groups", `{"name":"Payments {v}","orgId":"{o}","withDefaultAlertsSettings":false,"tags":[{"key":"team","value":"payments"}]}`, 200, "", "j"},
		{"update_project", "PATCH", "{v}/groups/{j}", `{"name":"Payments {n} renamed","tags":[{"key":"env","value":"prod"},{"key":"team","value":"payments"}]}`, 200, "", ""},
		{"get_project_by_name", "GET", "{v}/groups/byName/Payments%20{n}%20renamed", "", 200, "", ""},
		{"get_project_settings", "GET", "{v}/groups/{j}/settings", "", 200, "", ""},
		{"update_project_settings", "PATCH", "{v}/groups/{j}/settings", `{"isDataExplorerEnabled":false,"isExtendedStorageSizesEnabled":true}`, 200, "", ""},
		{"list_project_limits", "GET", "{v}/groups/{g}/limits", "", 200, "", ""},
		{"set_project_limit", "PATCH", "{v}/groups/{j}/limits/atlas.project.security.databaseAccess.users", `{"value":50}`, 200, "", ""},
		{"get_project_limit", "GET", "{v}/groups/{j}/limits/atlas.project.security.databaseAccess.users", "", 200, "", ""},
		{"delete_project_limit", "DELETE", "{v}/groups/{j}/limits/atlas.project.security.databaseAccess.users", "", 204, "", ""},
		{"list_project_teams", "GET", "{v}/groups/{g}/teams", "", 200, "", ""},
		{"get_project_ip_addresses", "GET", "{v}/groups/{g}/ipAddresses", "", 200, "", ""},
		{"list_project_users", "GET", "{v}/groups/{g}/users", "", 200, "2025-02-19", ""},
		{"list_clusters", "GET", "{v}/groups/{g}/clusters", "", 200, sa, ""},
		{"disable_managed_slow_ms", "DELETE", "{v}/groups/{j}/managedSlowMs/disable", "", 204, "", ""},
		{"get_managed_slow_ms", "GET", "{v}/groups/{j}/managedSlowMs", "", 200, "", ""},
		{"enable_managed_slow_ms", "POST", "{v}/groups/{j}/managedSlowMs/enable", "", 204, "", ""},
		{"list_projects", "GET", "{v}/groups?itemsPerPage=1", "", 200, "", ""},
		{"get_system_status", "GET", "{v}", "", 200, "", ""},
		{"list_orgs", "GET", "{v}/orgs?name=ATLAS", "", 200, "", ""},
		{"get_org", "GET", "{v}/orgs/{o}", "", 200, "", ""},
		{"rename_org", "PATCH", "{v}/orgs/{o}", `{"name":"atlasx509 {n}"}`, 200, "", ""},
		{"list_org_projects", "GET", "{v}/orgs/{o}/groups?name=project", "", 200, "", ""},
		{"list_org_users", "GET", "{v}/orgs/{o}/users", "", 200, "2025-02-19", ""},
		{"get_org_settings", "GET", "{v}/orgs/{o}/settings", "", 200, "", ""},
		{"create_managed_user", "POST", "{v}/groups/{g}/databaseUsers", `{"username":"alice{n}","databaseName":"$external","x509Type":"MANAGED","roles":[{"roleName":"readWrite","databaseName":"app"}]}`, 201, "", ""},
		{"create_scram_user", "POST", "{v}/groups/{g}/databaseUsers", `{"username":"app/svc{n}","databaseName":"admin","password":"correct horse","description":"service","roles":[{"roleName":"read","databaseName":"app","collectionName":"orders"},{"roleName":"readAnyDatabase","databaseName":"admin"}],"scopes":[{"name":"Cluster0","type":"CLUSTER"}],"labels":[{"key":"team","value":"payments"}]}`, 201, "", ""},
		{"get_user", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}", "", 200, "", ""},
		{"update_user", "PATCH", "{v}/groups/{g}/databaseUsers/admin/app%2Fsvc{n}", `{"description":"renamed"}`, 200, "", ""},
		{"list_users", "GET", "{v}/groups/{g}/databaseUsers?itemsPerPage=1&pageNum=2", "", 200, "", ""},
		{"list_users_enveloped", "GET", "{v}/groups/{g}/databaseUsers?envelope=true&includeCount=false", "", 200, "", ""},
		{"get_user_enveloped", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}?envelope=true", "", 200, "", ""},
		{"get_user_pretty", "GET", "{v}/groups/{g}/databaseUsers/$external/alice{n}?pretty=true", "", 200, "", ""},
		{"list_certs_empty", "GET", "{v}/groups/{g}/databaseUsers/alice{n}/certs", "", 200, "", ""},
		{"create_cert", "POST", "{v}/groups/{g}/databaseUsers/alice{n}/certs", `{"monthsUntilExpiration":3}`, 201, "", ""},
		{"list_certs", "GET", "{v}/groups/{g}/databaseUsers/alice{n}/certs", "", 200, "", ""},
		{"rotate_ca", "POST", "{v}/groups/{g}/userSecurity/managedX509/ca:rotate", "", 200, "", ""},
		{"revoke_certs", "DELETE", "{v}/groups/{g}/databaseUsers/alice{n}/certs?reason=superseded", "", 204, "", ""},
		{"list_certs_revoked", "GET", "{v}/groups/{g}/databaseUsers/alice{n}/certs?includeRevoked=true", "", 200, "", ""},
		{"get_crl", "GET", "{v}/groups/{g}/userSecurity/managedX509/crl", "", 200, "", ""},
		{"get_managed_x509", "GET", "{v}/groups/{g}/userSecurity/managedX509", "", 200, "", ""},
		{"get_user_security", "GET", "{v}/groups/{g}/userSecurity", "", 200, "", ""},
		{"update_user_security", "PATCH", "{v}/groups/{g}/userSecurity", `{"ldap":{"authenticationEnabled":false}}`, 202, "", ""},
		{"disable_customer_x509", "DELETE", "{v}/groups/{g}/userSecurity/customerX509", "", 202, "", ""},
		{"delete_user", "DELETE", "{v}/groups/{g}/databaseUsers/admin/app%2Fsvc{n}", "", 204, "", ""},
		{"error_not_found", "GET", "{v}/groups/{g}/databaseUsers/admin/nobody", "", 404, "", ""},

		{"create_api_key", "POST", "{v}/orgs/{o}/apiKeys", `{"desc":"ci {n}","roles":["ORG_MEMBER"]}`, 200, "", "k"},
		{"list_api_keys", "GET", "{v}/orgs/{o}/apiKeys?itemsPerPage=1&pageNum=2", "", 200, "", ""},
		{"get_api_key", "GET", "{v}/orgs/{o}/apiKeys/{k}", "", 200, "", ""},
		{"update_api_key", "PATCH", "{v}/orgs/{o}/apiKeys/{k}", `{"desc":"ci renamed","roles":["ORG_READ_ONLY","ORG_MEMBER"]}`, 200, "", ""},
		{"create_api_key_access_list", "POST", "{v}/orgs/{o}/apiKeys/{k}/accessList", `[{"ipAddress":"192.0.2.7"},{"cidrBlock":"198.51.100.9/24"}]`, 200, "", ""},
		{"list_api_key_access_list", "GET", "{v}/orgs/{o}/apiKeys/{k}/accessList", "", 200, "", ""},
		{"get_api_key_access_list", "GET", "{v}/orgs/{o}/apiKeys/{k}/accessList/198.51.100.0%2F24", "", 200, "", ""},
		{"delete_api_key_access_list_entry", "DELETE", "{v}/orgs/{o}/apiKeys/{k}/accessList/192.0.2.7", "", 204, "", ""},
		{"add_project_api_key", "POST", "{v}/groups/{g}/apiKeys/{k}", `[{"roles":["GROUP_READ_ONLY"]}]`, 204, "", ""},
		{"update_api_key_roles", "PATCH", "{v}/groups/{g}/apiKeys/{k}", `{"roles":["GROUP_DATABASE_ACCESS_ADMIN"]}`, 200, "", ""},
		{"list_project_api_keys", "GET", "{v}/groups/{g}/apiKeys", "", 200, "", ""},
		{"remove_project_api_key", "DELETE", "{v}/groups/{g}/apiKeys/{k}", "", 204, "", ""},
		{"create_project_api_key", "POST", "{v}/groups/{g}/apiKeys", `{"desc":"project {n}","roles":["GROUP_READ_ONLY"]}`, 200, "", "p"},
		{"delete_project_created_key", "DELETE", "{v}/orgs/{o}/apiKeys/{p}", "", 204, "", ""},
		{"delete_api_key", "DELETE", "{v}/orgs/{o}/apiKeys/{k}", "", 204, "", ""},

		{"create_service_account", "POST", "{v}/orgs/{o}/serviceAccounts", `{"name":"ci {n}","description":"pipeline","roles":["ORG_MEMBER"],"secretExpiresAfterHours":24}`, 201, sa, "c"},
		{"list_service_accounts", "GET", "{v}/orgs/{o}/serviceAccounts?itemsPerPage=1&pageNum=2", "", 200, sa, ""},
		{"get_service_account", "GET", "{v}/orgs/{o}/serviceAccounts/{c}", "", 200, sa, ""},
		{"update_service_account", "PATCH", "{v}/orgs/{o}/serviceAccounts/{c}", `{"description":"renamed"}`, 200, sa, ""},
		{"create_service_account_secret", "POST", "{v}/orgs/{o}/serviceAccounts/{c}/secrets", `{"secretExpiresAfterHours":48}`, 201, sa, "s"},
		{"delete_service_account_secret", "DELETE", "{v}/orgs/{o}/serviceAccounts/{c}/secrets/{s}", "", 204, sa, ""},
		{"create_service_account_access_list", "POST", "{v}/orgs/{o}/serviceAccounts/{c}/accessList", `[{"cidrBlock":"203.0.113.0/24"},{"ipAddress":"2001:db8::1"}]`, 200, sa, ""},
		{"list_service_account_access_list", "GET", "{v}/orgs/{o}/serviceAccounts/{c}/accessList", "", 200, sa, ""},
		{"delete_service_account_access_list_entry", "DELETE", "{v}/orgs/{o}/serviceAccounts/{c}/accessList/203.0.113.0%2F24", "", 204, sa, ""},
		{"add_project_service_account", "POST", "{v}/groups/{g}/serviceAccounts/{c}:invite", `{"roles":["GROUP_READ_ONLY"]}`, 200, sa, ""},
		{"list_service_account_projects", "GET", "{v}/orgs/{o}/serviceAccounts/{c}/groups", "", 200, sa, ""},
		{"get_project_service_account", "GET", "{v}/groups/{g}/serviceAccounts/{c}", "", 200, sa, ""},
		{"update_project_service_account", "PATCH", "{v}/groups/{g}/serviceAccounts/{c}", `{"roles":["GROUP_OWNER"]}`, 200, sa, ""},
		{"list_project_service_accounts", "GET", "{v}/groups/{g}/serviceAccounts", "", 200, sa, ""},
		{"delete_project_service_account", "DELETE", "{v}/groups/{g}/serviceAccounts/{c}", "", 204, sa, ""},
		{"create_project_service_account", "POST", "{v}/groups/{g}/serviceAccounts", `{"name":"project {n}","description":"x","roles":["GROUP_READ_ONLY"],"secretExpiresAfterHours":8}`, 201, sa, "q"},
		{"delete_project_created_account", "DELETE", "{v}/orgs/{o}/serviceAccounts/{q}", "", 204, sa, ""},
		{"delete_service_account", "DELETE", "{v}/orgs/{o}/serviceAccounts/{c}", "", 204, sa, ""},
		{"delete_project", "DELETE", "{v}/groups/{j}", "", 204, "", ""},

		{"get_alert", "GET", "{v}/groups/{g}/alerts/{alert}", "", 200, "", ""},
		{"get_alert_alert_configs", "GET", "{v}/groups/{g}/alerts/{alert}/alertConfigs", "", 200, "", ""},
	}
	// An alert as the evaluator opens it, with its configuration.
	alertID := e.insertAlert("golden")
	for _, version := range []struct{ name, prefix string }{
		{"v1", "/api/atlas/v1.0"},
		{"v2", "/api/atlas/v2"},
	} {
		vars := map[string]string{}
		for _, st := range steps {
			t.Run(version.name+"/"+st.name, func(t *testing.T) {
				expand := func(s string) string {
					s = strings.ReplaceAll(s, "{v}", version.prefix)
					s = strings.ReplaceAll(s, "{g}", e.boot.ProjectID)
					s = strings.ReplaceAll(s, "{o}", e.boot.OrgID)
					s = strings.ReplaceAll(s, "{alert}", alertID)
					for k, v := range vars {
						s = strings.ReplaceAll(s, "{"+k+"}", v)
					}
					return strings.ReplaceAll(s, "{n}", version.name)
				}
				accept := "application/json"
				if version.name == "v2" {
					date := st.date
					if date == "" {
						date = "2023-01-01"
					}
					accept = "application/vnd.atlas." + date + "+json"
				}
				var body *strings.Reader
				req := httptest.NewRequest(st.method, expand(st.path), nil)
				if st.body != "" {
					body = strings.NewReader(strings.ReplaceAll(expand(st.body), "Payments "+version.prefix, "Payments "+version.name))
					req = httptest.NewRequest(st.method, expand(st.path), body)
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+e.token)
				req.Header.Set("Accept", accept)
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				if rec.Code != st.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, st.status, rec.Body.String())
				}
				got := rec.Body.Bytes()
				if st.capture != "" {
					var ids struct {
						ID       string `json:"id"`
						ClientID string `json:"clientId"`
					}
					json.Unmarshal(got, &ids)
					vars[st.capture] = ids.ID + ids.ClientID
				}
				if st.name == "create_cert" || st.name == "get_crl" {
					// The PEM itself is random; pin its layout.
					got = []byte(pemLayout(got))
				}
				checkGolden(t, version.name+"_"+st.name+".txt", normalize(e, got))
			})
		}
	}
}

// checkGolden compares got with the file name under testdata/golden, or
// writes it there when the test runs with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
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
		if bytes.Count(want, []byte("\n")) > 1 { // a table: show whole lines
			diff = cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
		}
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

// columns lays cells out as one line of a golden table: each cell but the
// last padded to its width, two spaces at least between cells. Fixed
// widths keep a change to one row from re-padding the others in a diff.
func columns(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		b.WriteString(c)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", max(widths[i]-len(c), 0)+2))
		}
	}
	b.WriteString("\n")
	return b.String()
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
