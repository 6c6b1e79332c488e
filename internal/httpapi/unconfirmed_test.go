package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// TestCertificateRouteConfirmsCachedCredentials: the certificate route
// takes a credential verified before from the cache without reading the
// store, and its write transaction confirms it. A change to any credential
// (here one that does not concern the caller) costs a confirmation and
// changes no answer; a change that concerns the caller (role lowered, access
// list, deletion) takes effect on its next request, which records nothing —
// over real HTTP, with both Digest and Bearer.
func TestCertificateRouteConfirmsCachedCredentials(t *testing.T) {
	t.Parallel()
	type change struct {
		name string
		// apply changes the caller's credential (its path under the
		// organization: apiKeys/ID or serviceAccounts/ID); post issues a
		// certificate as the caller.
		apply        func(e *env, cred string, post func() (int, string))
		status       int
		code         string
		issuesBefore int // certificates issued before the change, to fill the caches
	}
	changes := []change{
		{"another credential created", func(e *env, _ string, _ func() (int, string)) { e.createKey("ORG_READ_ONLY") }, 201, "", 2},
		{"role lowered", func(e *env, cred string, _ func() (int, string)) {
			e.mustDo(http.StatusOK, "PATCH", e.orgs()+"/"+cred, `{"roles":["ORG_READ_ONLY"]}`)
		}, 401, "USER_UNAUTHORIZED", 2},
		{"access list leaves the caller out", func(e *env, cred string, _ func() (int, string)) {
			e.mustDo(http.StatusOK, "POST", e.orgs()+"/"+cred+"/accessList", `[{"ipAddress":"192.0.2.77"}]`)
		}, 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST", 2},
		{"credential deleted", func(e *env, cred string, _ func() (int, string)) {
			e.mustDo(http.StatusNoContent, "DELETE", e.orgs()+"/"+cred, "")
		}, 401, "", 2},
		// The cache holds a list that leaves the caller out when it is
		// widened: the store, not the cache, decides.
		{"access list widened to the caller", func(e *env, cred string, post func() (int, string)) {
			e.mustDo(http.StatusOK, "POST", e.orgs()+"/"+cred+"/accessList", `[{"ipAddress":"192.0.2.77"}]`)
			if status, code := post(); status != http.StatusForbidden {
				t.Fatalf("from outside the access list: %d %s", status, code)
			}
			e.mustDo(http.StatusOK, "POST", e.orgs()+"/"+cred+"/accessList", `[{"ipAddress":"127.0.0.1"}]`)
		}, 201, "", 2},
		{"first request", func(*env, string, func() (int, string)) {}, 201, "", 0},
	}
	for _, scheme := range []string{"Digest", "Bearer"} {
		for _, ch := range changes {
			t.Run(scheme+"/"+ch.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				srv := httptest.NewServer(e.handler)
				defer srv.Close()
				e.createUser(managedUserBody("alice"))
				var post func() (int, string)
				var cred string
				if scheme == "Digest" {
					key := e.createKey("ORG_OWNER")
					cred = "apiKeys/" + key.ID
					c := newDigestClient(t, srv, key, "127.0.0.1")
					post = func() (int, string) { return c.do("POST", e.group()+"/databaseUsers/alice/certs", `{}`) }
				} else {
					sa := e.createAccount("ORG_OWNER")
					cred = "serviceAccounts/" + sa.ClientID
					tok, code := e.tokenFor(sa.ClientID, sa.Secrets[0].Secret)
					if code != http.StatusOK {
						t.Fatalf("token: %d", code)
					}
					post = func() (int, string) { return bearerPost(t, srv, tok, e.group()+"/databaseUsers/alice/certs", `{}`) }
				}
				for i := range ch.issuesBefore {
					if status, code := post(); status != http.StatusCreated {
						t.Fatalf("issuance %d before the change: %d %s", i+1, status, code)
					}
				}
				ch.apply(e, cred, post)
				before := certCount(e, "alice")
				status, code := post()
				if status != ch.status || ch.code != "" && code != ch.code {
					t.Errorf("after the change: %d %s, want %d %s", status, code, ch.status, ch.code)
				}
				want := before
				if ch.status == http.StatusCreated {
					want++
				}
				if got := certCount(e, "alice"); got != want {
					t.Errorf("records: %d, want %d", got, want)
				}
			})
		}
	}
}

// certCount counts the user's certificates, revoked ones included.
func certCount(e *env, username string) int {
	e.t.Helper()
	page, _ := e.certList(username, "?includeRevoked=true&itemsPerPage=500")
	return len(page.Results)
}

// bearerPost sends a JSON POST with a Bearer token over srv and returns the
// status and the errorCode (or "").
func bearerPost(t *testing.T, srv *httptest.Server, token, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e atlasapi.ApiError
	if resp.StatusCode >= 400 {
		json.Unmarshal(b, &e)
	}
	return resp.StatusCode, e.ErrorCode
}

// TestOnlyIssuanceTakesUnconfirmedPrincipals pins the routes whose
// authentication may skip the store: each must confirm its principal in its
// write transaction (see route.unconfirmed); adding one needs that review.
func TestOnlyIssuanceTakesUnconfirmedPrincipals(t *testing.T) {
	var got []string
	for _, rt := range (&server{}).atlasRoutes() {
		if rt.unconfirmed {
			got = append(got, rt.op)
		}
	}
	if want := []string{"createDatabaseUserCertificate"}; !slices.Equal(got, want) {
		t.Errorf("routes taking unconfirmed principals: %v, want %v", got, want)
	}
}
