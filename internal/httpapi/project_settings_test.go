package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func TestProjectChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.createProject("Other")
	g := e.group()
	const users = "/limits/atlas.project.security.databaseAccess.users"
	long := strings.Repeat("k", 256)
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string // errorCode, or a substring of a success body
	}{
		{"create with tags, no default alerts", "POST", "/api/atlas/v1.0/groups",
			`{"name":"Tagged","orgId":"` + e.boot.OrgID + `","withDefaultAlertsSettings":false,"tags":[{"key":"a","value":"1"}]}`,
			200, `"tags":[{"key":"a","value":"1"}],"withDefaultAlertsSettings":false`},
		{"get by name", "GET", "/api/atlas/v1.0/groups/byName/Tagged", "", 200, `"name":"Tagged"`},
		{"get by unknown name", "GET", "/api/atlas/v1.0/groups/byName/Nope", "", 404, "GROUP_NAME_NOT_FOUND"},
		{"a path beside byName", "GET", "/api/atlas/v1.0/groups/byNumber/Tagged", "", 404, "RESOURCE_NOT_FOUND"},
		{"rename to a taken name", "PATCH", g, `{"name":"Other"}`, 409, "GROUP_ALREADY_EXISTS"},
		{"rename to blank", "PATCH", g, `{"name":" "}`, 400, "INVALID_GROUP_NAME"},
		{"rename outside Atlas's characters", "PATCH", g, `{"name":"a/b"}`, 400, "INVALID_GROUP_NAME"},
		{"create outside Atlas's characters", "POST", "/api/atlas/v1.0/groups", `{"name":"<b>","orgId":"` + e.boot.OrgID + `"}`, 400, "INVALID_GROUP_NAME"},
		{"tag key too long", "PATCH", g, `{"tags":[{"key":"` + long + `","value":"v"}]}`, 400, "VALIDATION_ERROR"},
		{"empty tag value", "PATCH", g, `{"tags":[{"key":"k","value":""}]}`, 400, "VALIDATION_ERROR"},
		{"unknown attribute", "PATCH", g, `{"owner":"me"}`, 400, "INVALID_ATTRIBUTE"},
		{"tags and alerts only", "PATCH", g, `{"tags":[],"withDefaultAlertsSettings":false}`, 200, `"name":"Project 0","orgId"`},
		{"unknown setting", "PATCH", g + "/settings", `{"isMagicEnabled":true}`, 400, "INVALID_ATTRIBUTE"},
		{"setting of the wrong type", "PATCH", g + "/settings", `{"isDataExplorerEnabled":"yes"}`, 400, "INVALID_JSON"},
		{"one setting", "PATCH", g + "/settings", `{"isSchemaAdvisorEnabled":false}`, 200, `"isSchemaAdvisorEnabled":false`},
		{"settings kept", "GET", g + "/settings", "", 200, `"isPerformanceAdvisorEnabled":true,"isRealtimePerformancePanelEnabled":true,"isSchemaAdvisorEnabled":false`},
		{"unknown limit", "GET", g + "/limits/atlas.project.deployment.clusters", "", 404, "LIMIT_NOT_FOUND"},
		{"limit above the maximum", "PATCH", g + users, `{"value":101}`, 400, "VALIDATION_ERROR"},
		{"limit of zero", "PATCH", g + users, `{"value":0}`, 400, "VALIDATION_ERROR"},
		{"limit without value", "PATCH", g + users, `{}`, 400, "MISSING_ATTRIBUTE"},
		{"limit of one", "PATCH", g + users, `{"value":1,"name":"atlas.project.security.databaseAccess.users"}`, 200, `"value":1`},
		{"first user", "POST", g + "/databaseUsers", managedUserBody("one"), 201, `"username":"one"`},
		{"second user over the limit", "POST", g + "/databaseUsers", managedUserBody("two"), 403, "GROUP_USERS_LIMIT_EXCEEDED"},
		{"other project unaffected", "POST", "/api/atlas/v1.0/groups/" + other + "/databaseUsers", managedUserBody("two"), 201, `"username":"two"`},
		{"usage counted", "GET", g + users, "", 200, `"currentUsage":1`},
		{"limit reset", "DELETE", g + users, "", 204, ""},
		{"default again", "GET", g + "/limits", "", 200, `"value":100`},
		{"second user after reset", "POST", g + "/databaseUsers", managedUserBody("two"), 201, `"username":"two"`},
		{"teams of an unknown project", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567/teams", "", 404, "GROUP_NOT_FOUND"},
		{"managed slow ms on by default", "GET", g + "/managedSlowMs", "", 200, "true"},
		{"managed slow ms off", "DELETE", g + "/managedSlowMs/disable", "", 204, ""},
		{"managed slow ms kept off", "GET", g + "/managedSlowMs", "", 200, "false"},
		{"managed slow ms on again", "POST", g + "/managedSlowMs/enable", "", 204, ""},
		{"managed slow ms kept on", "GET", g + "/managedSlowMs", "", 200, "true"},
		{"managed slow ms of an unknown project", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567/managedSlowMs", "", 404, "GROUP_NOT_FOUND"},
		{"no console users", "GET", g + "/users", "", 200, `"results":[],"totalCount":0`},
		{"no clusters", "GET", g + "/clusters", "", 200, `"results":[],"totalCount":0`},
		{"clusters of an unknown project", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567/clusters", "", 404, "GROUP_NOT_FOUND"},
		{"no organization users", "GET", "/api/atlas/v1.0/orgs/" + e.boot.OrgID + "/users", "", 200, `"results":[],"totalCount":0`},
		{"organization settings", "GET", "/api/atlas/v1.0/orgs/" + e.boot.OrgID + "/settings", "", 200, `{"apiAccessListRequired":false,"genAIFeaturesEnabled":true,"maxServiceAccountSecretValidityInHours":8760,`},
		{"settings of an unknown organization", "GET", "/api/atlas/v1.0/orgs/0123456789abcdef01234567/settings", "", 404, "ORG_NOT_FOUND"},
		{"pageNum 0 is the first page", "GET", g + "/alertConfigs?pageNum=0&includeCount=false", "", 200, `pageNum=1&itemsPerPage=100","rel":"self"}],"results":[{`},
	}
	for _, st := range steps {
		rec := e.do(st.method, st.path, st.body)
		if rec.Code != st.status {
			t.Fatalf("%s: %d %s, want %d", st.name, rec.Code, rec.Body.String(), st.status)
		}
		switch {
		case st.status >= 400:
			if got := apiError(t, rec).ErrorCode; got != st.code {
				t.Errorf("%s: errorCode %s, want %s", st.name, got, st.code)
			}
		case !strings.Contains(rec.Body.String(), st.code):
			t.Errorf("%s: answer %s lacks %s", st.name, rec.Body.String(), st.code)
		}
	}
	var p atlasapi.Group
	json.Unmarshal(e.mustDo(http.StatusOK, "GET", g, ""), &p)
	if p.WithDefaultAlertsSettings || len(p.Tags) != 0 || p.Name != "Project 0" {
		t.Errorf("refused changes or the last PATCH were not kept as sent: %+v", p)
	}
	if body := string(e.mustDo(http.StatusOK, "GET", g+"/settings", "")); strings.Contains(body, "managedSlowMs") {
		t.Errorf("the managed slow ms flag leaks into the settings document: %s", body)
	}
}
