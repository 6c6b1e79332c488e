package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func TestOrganizations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createProject("Payments")
	e.createProject("payroll")
	e.createProject("Zebra")
	orgNames := func(body []byte) []string {
		var page atlasapi.Paginated[atlasapi.Organization]
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, o := range page.Results {
			out = append(out, o.Name)
		}
		return out
	}
	projectNames := func(body []byte) []string {
		var page atlasapi.Paginated[atlasapi.Group]
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, g := range page.Results {
			out = append(out, g.Name)
		}
		return out
	}
	const v1 = "/api/atlas/v1.0"
	lists := []struct {
		name, path string
		names      func([]byte) []string
		want       []string
	}{
		{"all orgs", v1 + "/orgs", orgNames, []string{"atlasx509"}},
		{"org name prefix, any case", v1 + "/orgs?name=ATL", orgNames, []string{"atlasx509"}},
		{"no org of that prefix", v1 + "/orgs?name=x509", orgNames, []string{}},
		{"org page 2", v1 + "/orgs?pageNum=2", orgNames, []string{}},
		{"all projects", e.orgs() + "/groups", projectNames, []string{"Project 0", "Payments", "payroll", "Zebra"}},
		{"project name prefix, any case", e.orgs() + "/groups?name=pAy", projectNames, []string{"Payments", "payroll"}},
		{"projects paged", e.orgs() + "/groups?itemsPerPage=2&pageNum=2", projectNames, []string{"payroll", "Zebra"}},
	}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.names(e.mustDo(http.StatusOK, "GET", tc.path, ""))); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}

	errs := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown org", "GET", v1 + "/orgs/0123456789abcdef01234567", "", 404, "ORG_NOT_FOUND"},
		{"malformed org id", "GET", v1 + "/orgs/nope", "", 404, "INVALID_ORG_ID"},
		{"projects of an unknown org", "GET", v1 + "/orgs/0123456789abcdef01234567/groups", "", 404, "ORG_NOT_FOUND"},
		{"rename without a name", "PATCH", e.orgs(), `{}`, 400, "MISSING_ATTRIBUTE"},
		{"rename to blank", "PATCH", e.orgs(), `{"name":"  "}`, 400, "INVALID_ORG_NAME"},
		{"rename outside Atlas's characters", "PATCH", e.orgs(), `{"name":"Acme; DROP"}`, 400, "INVALID_ORG_NAME"},
		{"rename with an unknown attribute", "PATCH", e.orgs(), `{"name":"x","owner":"me"}`, 400, "INVALID_ATTRIBUTE"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(tc.method, tc.path, tc.body)
			if rec.Code != tc.status || apiError(t, rec).ErrorCode != tc.code {
				t.Errorf("%d %s, want %d %s", rec.Code, rec.Body.String(), tc.status, tc.code)
			}
		})
	}

	// A rename is kept, with the alert flag; a refused one changes nothing.
	e.mustDo(http.StatusOK, "PATCH", e.orgs(), `{"name":"Acme Corp","skipDefaultAlertsSettings":true}`)
	var got atlasapi.Organization
	json.Unmarshal(e.mustDo(http.StatusOK, "GET", e.orgs(), ""), &got)
	if got.Name != "Acme Corp" || !got.SkipDefaultAlertsSettings || got.ID != e.boot.OrgID {
		t.Errorf("after rename: %+v", got)
	}

	// An organization member sees the organization but cannot rename it,
	// and sees only the projects it holds a role in.
	member := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, Role: atlasx509.RoleOrgMember},
		atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: e.boot.ProjectID, Role: atlasx509.RoleGroupReadOnly})
	if rec := e.doAs(member, "PATCH", e.orgs(), `{"name":"Mine"}`); rec.Code != 401 || apiError(t, rec).ErrorCode != "USER_UNAUTHORIZED" {
		t.Errorf("member rename: %d %s", rec.Code, rec.Body.String())
	}
	rec := e.doAs(member, "GET", e.orgs()+"/groups", "")
	if diff := cmp.Diff([]string{"Project 0"}, projectNames(rec.Body.Bytes())); rec.Code != 200 || diff != "" {
		t.Errorf("member's projects: %d (-want +got):\n%s", rec.Code, diff)
	}
	json.Unmarshal(e.mustDo(http.StatusOK, "GET", e.orgs(), ""), &got)
	if got.Name != "Acme Corp" {
		t.Errorf("a refused rename changed the name to %q", got.Name)
	}
}
