package httpapi

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// digestClient calls srv with an API key over HTTP Digest, as Atlas clients
// do (mongodb-forks/digest: an unauthenticated request first, then the
// answer to the challenge), from the loopback address source.
type digestClient struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
}

func newDigestClient(t *testing.T, srv *httptest.Server, key atlasapi.APIKey, source string) *digestClient {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	tr := digest.NewTransportWithHTTPTransport(key.PublicKey, key.PrivateKey, &http.Transport{DialContext: dialer.DialContext})
	return &digestClient{t: t, srv: srv, client: &http.Client{Transport: tr}}
}

// do sends one request and returns the status and the errorCode (or "").
func (c *digestClient) do(method, path, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var e atlasapi.ApiError
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		json.Unmarshal(b, &e)
	}
	return resp.StatusCode, e.ErrorCode
}

// TestProjectKeyEndToEnd follows the story over real HTTP with
// Digest: an organization owner hands a CI job a project key with
// GROUP_DATABASE_ACCESS_ADMIN; it can manage users and certificates in its
// project and nothing else; role changes, unassignment, deletion and an
// access list take effect on the key's next request.
func TestProjectKeyEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	g, o := e.group(), e.orgs()
	q := "/api/atlas/v1.0/groups/" + e.createProject("Q")

	var ci atlasapi.APIKey
	json.Unmarshal(e.mustDo(http.StatusOK, "POST", g+"/apiKeys", `{"desc":"ci job","roles":["GROUP_DATABASE_ACCESS_ADMIN"]}`), &ci)
	c := newDigestClient(t, srv, ci, "127.0.0.1")
	type step struct {
		method, path, body string
		status             int
		code               string
	}
	run := func(c *digestClient, steps []step) {
		t.Helper()
		for _, s := range steps {
			if status, code := c.do(s.method, s.path, s.body); status != s.status || code != s.code {
				t.Errorf("%s %s: %d %s, want %d %s", s.method, s.path, status, code, s.status, s.code)
			}
		}
	}
	run(c, []step{
		{"POST", g + "/databaseUsers", managedUserBody("alice"), 201, ""},
		{"POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`, 201, ""},
		{"GET", g + "/databaseUsers/alice/certs", "", 200, ""},
		{"PATCH", g + "/databaseUsers/$external/alice", `{"description":"ci"}`, 200, ""},
		// Nothing in another project, which it cannot even see.
		{"GET", q, "", 404, "GROUP_NOT_FOUND"},
		{"POST", q + "/databaseUsers", managedUserBody("bob"), 404, "GROUP_NOT_FOUND"},
		// No project settings, no credential management.
		{"PATCH", g + "/userSecurity", `{"customerX509":{"cas":""}}`, 401, "USER_UNAUTHORIZED"},
		{"DELETE", g, "", 401, "USER_UNAUTHORIZED"},
		{"POST", g + "/apiKeys", `{"desc":"escalate","roles":["GROUP_OWNER"]}`, 401, "USER_UNAUTHORIZED"},
		{"POST", o + "/apiKeys", `{"desc":"escalate","roles":["ORG_OWNER"]}`, 401, "USER_UNAUTHORIZED"},
		{"PATCH", o + "/apiKeys/" + ci.ID, `{"roles":["ORG_OWNER"]}`, 401, "USER_UNAUTHORIZED"},
		{"DELETE", o + "/serviceAccounts/" + e.boot.ServiceAccount.ClientID, "", 401, "USER_UNAUTHORIZED"},
		{"POST", o + "/apiKeys/" + ci.ID + "/accessList", `[{"cidrBlock":"0.0.0.0/0"}]`, 401, "USER_UNAUTHORIZED"},
		// As in Atlas, a project key is an organization member: it reads the keys.
		{"GET", o + "/apiKeys/" + ci.ID, "", 200, ""},
	})

	// A read-only key lists but does not create.
	var ro atlasapi.APIKey
	json.Unmarshal(e.mustDo(http.StatusOK, "POST", g+"/apiKeys", `{"desc":"dashboard","roles":["GROUP_READ_ONLY"]}`), &ro)
	run(newDigestClient(t, srv, ro, "127.0.0.1"), []step{
		{"GET", g + "/databaseUsers", "", 200, ""},
		{"GET", g + "/databaseUsers/alice/certs", "", 200, ""},
		{"POST", g + "/databaseUsers", managedUserBody("carol"), 401, "USER_UNAUTHORIZED"},
		{"POST", g + "/databaseUsers/alice/certs", `{}`, 401, "USER_UNAUTHORIZED"},
	})

	// An access list added through the API restricts the key at once.
	e.mustDo(http.StatusOK, "POST", o+"/apiKeys/"+ci.ID+"/accessList", `[{"ipAddress":"127.0.0.1"}]`)
	run(c, []step{{"GET", g + "/databaseUsers", "", 200, ""}})
	run(newDigestClient(t, srv, ci, "127.0.0.2"), []step{{"GET", g + "/databaseUsers", "", 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST"}})
	e.mustDo(http.StatusNoContent, "DELETE", o+"/apiKeys/"+ci.ID+"/accessList/127.0.0.1", "")
	run(newDigestClient(t, srv, ci, "127.0.0.2"), []step{{"GET", g + "/databaseUsers", "", 200, ""}})

	// Revoking a role takes effect on the next request.
	e.mustDo(http.StatusOK, "PATCH", g+"/apiKeys/"+ci.ID, `{"roles":["GROUP_READ_ONLY"]}`)
	run(c, []step{
		{"GET", g + "/databaseUsers", "", 200, ""},
		{"DELETE", g + "/databaseUsers/$external/alice", "", 401, "USER_UNAUTHORIZED"},
	})
	e.mustDo(http.StatusNoContent, "DELETE", g+"/apiKeys/"+ci.ID, "")
	run(c, []step{{"GET", g + "/databaseUsers", "", 404, "GROUP_NOT_FOUND"}})
	// A deleted key no longer authenticates.
	e.mustDo(http.StatusNoContent, "DELETE", o+"/apiKeys/"+ci.ID, "")
	run(c, []step{{"GET", g + "/databaseUsers", "", 401, "UNEXPECTED_ERROR"}})
}

// TestCrossOrganization: the owner of one organization sees and changes
// nothing of another, and cannot learn that its credentials exist.
func TestCrossOrganization(t *testing.T) {
	t.Parallel()
	a := newEnv(t)
	// A second organization in the same store, with its own owner.
	b := a.secondOrg()
	keyA := a.createKey("ORG_MEMBER")
	saA := a.createAccount("ORG_MEMBER")
	aOrg, bOrg := "/api/atlas/v1.0/orgs/"+a.boot.OrgID, "/api/atlas/v1.0/orgs/"+b.orgID
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"list keys of A", "GET", aOrg + "/apiKeys", "", 404, "ORG_NOT_FOUND"},
		{"create a key in A", "POST", aOrg + "/apiKeys", `{"desc":"x","roles":["ORG_OWNER"]}`, 404, "ORG_NOT_FOUND"},
		{"get A's key under A", "GET", aOrg + "/apiKeys/" + keyA.ID, "", 404, "ORG_NOT_FOUND"},
		{"get A's key under B", "GET", bOrg + "/apiKeys/" + keyA.ID, "", 400, "API_KEY_NOT_FOUND"},
		{"change A's key under B", "PATCH", bOrg + "/apiKeys/" + keyA.ID, `{"roles":["ORG_OWNER"]}`, 400, "API_KEY_NOT_FOUND"},
		{"delete A's key under B", "DELETE", bOrg + "/apiKeys/" + keyA.ID, "", 400, "API_KEY_NOT_FOUND"},
		{"open A's key's access list under B", "POST", bOrg + "/apiKeys/" + keyA.ID + "/accessList", `[{"cidrBlock":"0.0.0.0/0"}]`, 400, "API_KEY_NOT_FOUND"},
		{"get A's account under B", "GET", bOrg + "/serviceAccounts/" + saA.ClientID, "", 404, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"make a secret for A's account under B", "POST", bOrg + "/serviceAccounts/" + saA.ClientID + "/secrets", `{"secretExpiresAfterHours":8}`, 404, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"delete A's account under B", "DELETE", bOrg + "/serviceAccounts/" + saA.ClientID, "", 404, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"assign A's key to B's project", "POST", "/api/atlas/v1.0/groups/" + b.projectID + "/apiKeys/" + keyA.ID, `[{"roles":["GROUP_OWNER"]}]`, 400, "API_KEY_NOT_FOUND"},
		{"invite A's account to B's project", "POST", "/api/atlas/v1.0/groups/" + b.projectID + "/serviceAccounts/" + saA.ClientID + ":invite", `{"roles":["GROUP_OWNER"]}`, 404, "SERVICE_ACCOUNT_NOT_FOUND"},
		{"list A's project keys", "GET", a.group() + "/apiKeys", "", 404, "GROUP_NOT_FOUND"},
		{"create a key in A's project", "POST", a.group() + "/apiKeys", `{"desc":"x","roles":["GROUP_OWNER"]}`, 404, "GROUP_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.credSnapshot()
			rec := a.doAs(b.token, tt.method, tt.path, tt.body)
			if rec.Code != tt.status || apiError(t, rec).ErrorCode != tt.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body.String(), tt.status, tt.code)
			}
			if after := a.credSnapshot(); after != before {
				t.Errorf("organization A changed: %+v → %+v", before, after)
			}
		})
	}
	// B's own credentials work.
	if rec := a.doAs(b.token, "GET", bOrg+"/apiKeys", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"totalCount":0`) {
		t.Errorf("B lists its keys: %d %s", rec.Code, rec.Body.String())
	}
}
