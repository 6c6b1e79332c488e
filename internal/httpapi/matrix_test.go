package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/authz"
)

// scopeKind tells what a route's permission is checked against.
type scopeKind int

const (
	scopeProject       scopeKind = iota // the project of the path: GROUP_NOT_FOUND without access
	scopeOrg                            // the organization: ORG_NOT_FOUND for a non-member
	scopeList                           // never refused: the answer is filtered (listProjects)
	scopeProjectByName                  // as scopeProject, but GROUP_NAME_NOT_FOUND without access
)

// matrixCase is one request of the role × route matrix, made on targets
// the fixture created for it (as the bootstrap owner).
type matrixCase struct {
	method, path, body string // path after /api/atlas/v1.0
	scope              scopeKind
	groupID            string // for scopeProject
}

// fixture builds the request of one route; n makes names unique.
type fixture func(e *env, n int) matrixCase

// matrixFixtures has one entry per operationId of the route table; the
// matrix test fails for a route that has none.
func matrixFixtures() map[string]fixture {
	proj := func(method, path, body string) fixture {
		return func(e *env, n int) matrixCase {
			return matrixCase{method, "/groups/" + e.boot.ProjectID + path, body, scopeProject, e.boot.ProjectID}
		}
	}
	org := func(method, path, body string) fixture {
		return func(e *env, n int) matrixCase {
			return matrixCase{method, "/orgs/" + e.boot.OrgID + path, body, scopeOrg, ""}
		}
	}
	withUser := func(method, format, body string) fixture {
		return func(e *env, n int) matrixCase {
			name := fmt.Sprintf("u%d", n)
			e.createUser(managedUserBody(name))
			return matrixCase{method, "/groups/" + e.boot.ProjectID + fmt.Sprintf(format, name), body, scopeProject, e.boot.ProjectID}
		}
	}
	// at makes a case of an organization path, or of a project path when
	// it starts with /groups/ (the bootstrap project is inserted).
	at := func(e *env, method, path, body string) matrixCase {
		if rest, ok := strings.CutPrefix(path, "/groups/"); ok {
			return matrixCase{method, "/groups/" + e.boot.ProjectID + "/" + rest, body, scopeProject, e.boot.ProjectID}
		}
		return matrixCase{method, "/orgs/" + e.boot.OrgID + path, body, scopeOrg, ""}
	}
	withKey := func(method, suffix, body string, setup func(e *env, keyID string)) fixture {
		return func(e *env, n int) matrixCase {
			k := e.createKey("ORG_MEMBER")
			if setup != nil {
				setup(e, k.ID)
			}
			return at(e, method, strings.ReplaceAll(suffix, "{k}", k.ID), body)
		}
	}
	withEntry := func(e *env, keyID string) {
		e.mustDo(http.StatusOK, "POST", e.orgs()+"/apiKeys/"+keyID+"/accessList", `[{"ipAddress":"192.0.2.60"}]`)
	}
	assigned := func(e *env, keyID string) {
		e.mustDo(http.StatusNoContent, "POST", e.group()+"/apiKeys/"+keyID, `[{"roles":["GROUP_READ_ONLY"]}]`)
	}
	withAccount := func(method, suffix, body string, invite bool) fixture {
		return func(e *env, n int) matrixCase {
			sa := e.createAccount("ORG_MEMBER")
			if invite {
				e.mustDo(http.StatusOK, "POST", e.group()+"/serviceAccounts/"+sa.ClientID+":invite", `{"roles":["GROUP_READ_ONLY"]}`)
			}
			return at(e, method, strings.NewReplacer("{c}", sa.ClientID, "{s}", sa.Secrets[0].ID).Replace(suffix), body)
		}
	}
	withAlertConfig := func(method, body string) fixture {
		return func(e *env, n int) matrixCase {
			id := e.createAlertConfig()
			return matrixCase{method, "/groups/" + e.boot.ProjectID + "/alertConfigs/" + id, body, scopeProject, e.boot.ProjectID}
		}
	}
	withAlert := func(method, body string) fixture {
		return func(e *env, n int) matrixCase {
			id := e.insertAlert(fmt.Sprintf("matrix:%d", n))
			return matrixCase{method, "/groups/" + e.boot.ProjectID + "/alerts/" + id, body, scopeProject, e.boot.ProjectID}
		}
	}
	const saBody = `{"name":"m","description":"matrix","roles":["ORG_MEMBER"],"secretExpiresAfterHours":8}`
	return map[string]fixture{
		"createProject": func(e *env, n int) matrixCase {
			return matrixCase{"POST", "/groups", fmt.Sprintf(`{"name":"m%d","orgId":"%s"}`, n, e.boot.OrgID), scopeOrg, ""}
		},
		"listProjects": func(e *env, n int) matrixCase { return matrixCase{"GET", "/groups", "", scopeList, ""} },
		"getProject":   proj("GET", "", ""),
		"deleteProject": func(e *env, n int) matrixCase {
			id := e.createProject(fmt.Sprintf("doomed%d", n))
			return matrixCase{"DELETE", "/groups/" + id, "", scopeProject, id}
		},
		"updateProject": proj("PATCH", "", `{"tags":[{"key":"k","value":"v"}]}`),
		"getProjectByName": func(e *env, n int) matrixCase {
			return matrixCase{"GET", "/groups/byName/Project%200", "", scopeProjectByName, e.boot.ProjectID}
		},
		"getProjectSettings":    proj("GET", "/settings", ""),
		"updateProjectSettings": proj("PATCH", "/settings", `{"isSchemaAdvisorEnabled":false}`),
		"listProjectLimits":     proj("GET", "/limits", ""),
		"getProjectLimit":       proj("GET", "/limits/atlas.project.security.databaseAccess.users", ""),
		"setProjectLimit":       proj("PATCH", "/limits/atlas.project.security.databaseAccess.users", `{"value":100}`),
		"deleteProjectLimit":    proj("DELETE", "/limits/atlas.project.security.databaseAccess.users", ""),
		"listProjectTeams":      proj("GET", "/teams", ""),
		"returnAllIpAddresses":  proj("GET", "/ipAddresses", ""),
		"listProjectUsers":      proj("GET", "/users", ""),
		"listClusters":          proj("GET", "/clusters", ""),
		"getManagedSlowMs":      proj("GET", "/managedSlowMs", ""),
		"enableManagedSlowMs":   proj("POST", "/managedSlowMs/enable", ""),
		"disableManagedSlowMs":  proj("DELETE", "/managedSlowMs/disable", ""),
		"createDatabaseUser": func(e *env, n int) matrixCase {
			return matrixCase{"POST", "/groups/" + e.boot.ProjectID + "/databaseUsers", managedUserBody(fmt.Sprintf("new%d", n)), scopeProject, e.boot.ProjectID}
		},
		"listDatabaseUsers":             proj("GET", "/databaseUsers", ""),
		"getDatabaseUser":               withUser("GET", "/databaseUsers/$external/%s", ""),
		"updateDatabaseUser":            withUser("PATCH", "/databaseUsers/$external/%s", `{"description":"x"}`),
		"deleteDatabaseUser":            withUser("DELETE", "/databaseUsers/$external/%s", ""),
		"createDatabaseUserCertificate": withUser("POST", "/databaseUsers/%s/certs", `{"monthsUntilExpiration":1}`),
		"listDatabaseUserCertificates":  withUser("GET", "/databaseUsers/%s/certs", ""),
		"revokeDatabaseUserCertificate": func(e *env, n int) matrixCase {
			name := fmt.Sprintf("u%d", n)
			e.createUser(managedUserBody(name))
			serial := e.issueSerial(name)
			return matrixCase{"DELETE", "/groups/" + e.boot.ProjectID + "/databaseUsers/" + name + "/certs/" + serial, "", scopeProject, e.boot.ProjectID}
		},
		"revokeDatabaseUserCertificates": withUser("DELETE", "/databaseUsers/%s/certs", ""),
		"getUserSecurity":                proj("GET", "/userSecurity", ""),
		"updateUserSecurity":             proj("PATCH", "/userSecurity", `{"customerX509":{"cas":""}}`),
		"disableCustomerX509":            proj("DELETE", "/userSecurity/customerX509", ""),
		"getManagedX509CA":               proj("GET", "/userSecurity/managedX509/ca", ""),
		"getManagedX509CRL":              proj("GET", "/userSecurity/managedX509/crl", ""),
		"getManagedX509":                 proj("GET", "/userSecurity/managedX509", ""),
		"updateManagedX509":              proj("PATCH", "/userSecurity/managedX509", `{"leafKeyType":"ECDSA_P256"}`),
		"rotateManagedX509CA":            proj("POST", "/userSecurity/managedX509/ca:rotate", ""),

		"listAlertConfigs":  proj("GET", "/alertConfigs", ""),
		"createAlertConfig": proj("POST", "/alertConfigs", alertConfigBody),
		"getAlertConfig":    withAlertConfig("GET", ""),
		"updateAlertConfig": withAlertConfig("PUT", alertConfigBody),
		"toggleAlertConfig": withAlertConfig("PATCH", `{"enabled":false}`),
		"deleteAlertConfig": withAlertConfig("DELETE", ""),
		"getAlertConfigAlerts": func(e *env, n int) matrixCase {
			return matrixCase{"GET", "/groups/" + e.boot.ProjectID + "/alertConfigs/" + e.createAlertConfig() + "/alerts", "", scopeProject, e.boot.ProjectID}
		},
		"listAlerts":       proj("GET", "/alerts", ""),
		"getAlert":         withAlert("GET", ""),
		"acknowledgeAlert": withAlert("PATCH", `{"acknowledgedUntil":"2126-06-20T12:28:21Z"}`),
		"getAlertConfigs": func(e *env, n int) matrixCase {
			id := e.insertAlert(fmt.Sprintf("matrix:%d", n))
			return matrixCase{"GET", "/groups/" + e.boot.ProjectID + "/alerts/" + id + "/alertConfigs", "", scopeProject, e.boot.ProjectID}
		},

		"listGroupEvents": proj("GET", "/events?eventType=MONGODB_USER_ADDED&includeRaw=true", ""),
		"getGroupEvent": func(e *env, n int) matrixCase {
			e.createUser(managedUserBody(fmt.Sprintf("u%d", n)))
			id := e.lastEvent(e.group()).ID
			return matrixCase{"GET", "/groups/" + e.boot.ProjectID + "/events/" + id, "", scopeProject, e.boot.ProjectID}
		},
		"listOrgEvents": org("GET", "/events", ""),
		"getOrgEvent": func(e *env, n int) matrixCase {
			e.mustDo(http.StatusOK, "PATCH", e.orgs(), `{"name":"atlasx509"}`)
			return matrixCase{"GET", "/orgs/" + e.boot.OrgID + "/events/" + e.lastEvent(e.orgs()).ID, "", scopeOrg, ""}
		},
		"listEventTypes": func(e *env, n int) matrixCase { return matrixCase{"GET", "/eventTypes", "", scopeList, ""} },

		"getSystemStatus":          func(e *env, n int) matrixCase { return matrixCase{"GET", "", "", scopeList, ""} },
		"listOrganizations":        func(e *env, n int) matrixCase { return matrixCase{"GET", "/orgs", "", scopeList, ""} },
		"getOrganization":          org("GET", "", ""),
		"renameOrganization":       org("PATCH", "", `{"name":"atlasx509"}`),
		"listOrganizationProjects": org("GET", "/groups", ""),
		"listOrganizationUsers":    org("GET", "/users", ""),
		"getOrganizationSettings":  org("GET", "/settings", ""),

		"listApiKeys":                  org("GET", "/apiKeys", ""),
		"createApiKey":                 org("POST", "/apiKeys", `{"desc":"m","roles":["ORG_MEMBER"]}`),
		"getApiKey":                    withKey("GET", "/apiKeys/{k}", "", nil),
		"updateApiKey":                 withKey("PATCH", "/apiKeys/{k}", `{"desc":"changed"}`, nil),
		"deleteApiKey":                 withKey("DELETE", "/apiKeys/{k}", "", nil),
		"listApiKeyAccessListsEntries": withKey("GET", "/apiKeys/{k}/accessList", "", nil),
		"createApiKeyAccessList":       withKey("POST", "/apiKeys/{k}/accessList", `[{"ipAddress":"192.0.2.50"}]`, nil),
		"getApiKeyAccessList":          withKey("GET", "/apiKeys/{k}/accessList/192.0.2.60", "", withEntry),
		"deleteApiKeyAccessListEntry":  withKey("DELETE", "/apiKeys/{k}/accessList/192.0.2.60", "", withEntry),
		"listProjectApiKeys":           proj("GET", "/apiKeys", ""),
		"createProjectApiKey":          proj("POST", "/apiKeys", `{"desc":"m","roles":["GROUP_READ_ONLY"]}`),
		"addProjectApiKey":             withKey("POST", "/groups/apiKeys/{k}", `[{"roles":["GROUP_READ_ONLY"]}]`, nil),
		"updateApiKeyRoles":            withKey("PATCH", "/groups/apiKeys/{k}", `{"roles":["GROUP_OWNER"]}`, assigned),
		"removeProjectApiKey":          withKey("DELETE", "/groups/apiKeys/{k}", "", assigned),

		"listServiceAccounts":                 org("GET", "/serviceAccounts", ""),
		"createServiceAccount":                org("POST", "/serviceAccounts", saBody),
		"getServiceAccount":                   withAccount("GET", "/serviceAccounts/{c}", "", false),
		"updateServiceAccount":                withAccount("PATCH", "/serviceAccounts/{c}", `{"name":"renamed"}`, false),
		"deleteServiceAccount":                withAccount("DELETE", "/serviceAccounts/{c}", "", false),
		"listServiceAccountProjects":          withAccount("GET", "/serviceAccounts/{c}/groups", "", true),
		"createServiceAccountSecret":          withAccount("POST", "/serviceAccounts/{c}/secrets", `{"secretExpiresAfterHours":8}`, false),
		"deleteServiceAccountSecret":          withAccount("DELETE", "/serviceAccounts/{c}/secrets/{s}", "", false),
		"listServiceAccountAccessList":        withAccount("GET", "/serviceAccounts/{c}/accessList", "", false),
		"createServiceAccountAccessList":      withAccount("POST", "/serviceAccounts/{c}/accessList", `[{"ipAddress":"192.0.2.70"}]`, false),
		"deleteServiceAccountAccessListEntry": matrixAccountEntry,
		"listProjectServiceAccounts":          proj("GET", "/serviceAccounts", ""),
		"createProjectServiceAccount":         proj("POST", "/serviceAccounts", strings.Replace(saBody, "ORG_MEMBER", "GROUP_READ_ONLY", 1)),
		"getProjectServiceAccount":            withAccount("GET", "/groups/serviceAccounts/{c}", "", true),
		"updateProjectServiceAccount":         withAccount("PATCH", "/groups/serviceAccounts/{c}", `{"roles":["GROUP_OWNER"]}`, true),
		"deleteProjectServiceAccount":         withAccount("DELETE", "/groups/serviceAccounts/{c}", "", true),
		"addProjectServiceAccount":            withAccount("POST", "/groups/serviceAccounts/{c}:invite", `{"roles":["GROUP_READ_ONLY"]}`, false),
	}
}

// matrixAccountEntry makes an account with an access list entry and deletes it.
func matrixAccountEntry(e *env, n int) matrixCase {
	sa := e.createAccount("ORG_MEMBER")
	e.mustDo(http.StatusOK, "POST", e.orgs()+"/serviceAccounts/"+sa.ClientID+"/accessList", `[{"ipAddress":"192.0.2.80"}]`)
	return matrixCase{"DELETE", "/orgs/" + e.boot.OrgID + "/serviceAccounts/" + sa.ClientID + "/accessList/192.0.2.80", "", scopeOrg, ""}
}

// matrixRoles are the representative callers: each holds one role, over
// the organization, over the bootstrap project, or over another project.
var matrixRoles = []struct {
	name    string
	role    atlasx509.Role
	project string // "" for an organization role; "P" the bootstrap project; "Q" another
}{
	{"ORG_OWNER", atlasx509.RoleOrgOwner, ""},
	{"ORG_MEMBER", atlasx509.RoleOrgMember, ""},
	{"ORG_READ_ONLY", atlasx509.RoleOrgReadOnly, ""},
	{"ORG_GROUP_CREATOR", atlasx509.RoleOrgGroupCreator, ""},
	{"GROUP_OWNER", atlasx509.RoleGroupOwner, "P"},
	{"GROUP_DATABASE_ACCESS_ADMIN", atlasx509.RoleGroupDatabaseAccessAdmin, "P"},
	{"GROUP_STREAM_PROCESSING_OWNER", atlasx509.RoleGroupStreamProcessingOwner, "P"},
	{"GROUP_READ_ONLY", atlasx509.RoleGroupReadOnly, "P"},
	{"GROUP_CLUSTER_MANAGER", atlasx509.RoleGroupClusterManager, "P"},
	{"GROUP_OWNER of another project", atlasx509.RoleGroupOwner, "Q"},
}

// TestRoleRouteMatrix calls every registered route as each representative
// role, through the real handler and store, and checks that the answer is
// what the role table says: allowed (a success), 401 USER_UNAUTHORIZED, or
// the not-found answer of a caller who cannot learn that the target exists.
// The whole matrix is pinned to testdata/golden/matrix.txt, one line per
// route and role, so that an authorization change shows in review as a diff;
// regenerate it with go test ./internal/httpapi -run Matrix -update.
func TestRoleRouteMatrix(t *testing.T) {
	fixtures := matrixFixtures()
	routes := (&server{}).atlasRoutes()
	for _, rt := range routes {
		if fixtures[rt.op] == nil {
			t.Errorf("route %s %s (%s) is not covered by the role × route matrix: add a fixture", rt.method, rt.path, rt.op)
		}
	}
	if t.Failed() {
		return
	}
	var mu sync.Mutex
	outcomes := map[string][]string{} // role → the outcome of each route
	// The group returns once every role has run, parallel or not.
	t.Run("role", func(t *testing.T) {
		for _, mr := range matrixRoles {
			t.Run(mr.name, func(t *testing.T) {
				got := matrixRole(t, mr.name, mr.role, mr.project, routes, fixtures)
				mu.Lock()
				outcomes[mr.name] = got
				mu.Unlock()
			})
		}
	})
	if len(outcomes) != len(matrixRoles) {
		t.Logf("%d of %d roles ran: the matrix golden is neither compared nor written", len(outcomes), len(matrixRoles))
		return
	}
	widths := []int{36, 30}
	var out strings.Builder
	out.WriteString(columns(widths, "operationId", "role", "answer"))
	for i, rt := range routes {
		for _, mr := range matrixRoles {
			out.WriteString(columns(widths, rt.op, mr.name, outcomes[mr.name][i]))
		}
	}
	checkGolden(t, "matrix.txt", []byte(out.String()))
}

// matrixRole calls every route as a caller holding role (over the
// organization, or over project "P" or "Q", see matrixRoles), checks each
// answer against the role table and returns the outcome of each route:
// "allowed", or the status and errorCode of the refusal.
func matrixRole(t *testing.T, name string, role atlasx509.Role, project string, routes []route, fixtures map[string]fixture) []string {
	e := newEnv(t)
	ra := atlasx509.RoleAssignment{OrgID: e.boot.OrgID, Role: role}
	switch project {
	case "P":
		ra.GroupID = e.boot.ProjectID
	case "Q":
		ra.GroupID = e.createProject("Q")
	}
	token := e.tokenWithRoles(ra)
	caller := atlasx509.Principal{OrgID: e.boot.OrgID, Roles: []atlasx509.RoleAssignment{ra}}
	outcomes := make([]string, len(routes))
	for n, rt := range routes {
		c := fixtures[rt.op](e, n)
		rec := e.doAs(token, c.method, "/api/atlas/v1.0"+c.path, c.body)
		var body atlasapi.ApiError
		json.Unmarshal(rec.Body.Bytes(), &body)
		outcomes[n] = fmt.Sprintf("%d %s", rec.Code, body.ErrorCode)
		if rec.Code >= 200 && rec.Code <= 299 {
			outcomes[n] = "allowed"
		}
		want, code := expectation(caller, rt.perm, c, e.boot.OrgID)
		switch {
		case want == 0 && outcomes[n] != "allowed":
			t.Errorf("%s (%s %s): %d %s, want a success", rt.op, c.method, c.path, rec.Code, rec.Body.String())
		case want != 0 && (rec.Code != want || body.ErrorCode != code):
			t.Errorf("%s (%s %s): %d %s, want %d %s", rt.op, c.method, c.path, rec.Code, rec.Body.String(), want, code)
		}
	}
	return outcomes
}

// expectation is what the role table says about caller on one request:
// 0 for allowed, or the status and errorCode of the refusal.
func expectation(caller atlasx509.Principal, perm authz.Permission, c matrixCase, orgID string) (int, string) {
	switch c.scope {
	case scopeList:
		return 0, ""
	case scopeOrg:
		if !authz.Allowed(caller, perm, orgID, "") {
			return http.StatusUnauthorized, "USER_UNAUTHORIZED"
		}
	case scopeProject, scopeProjectByName:
		if !authz.CanAccessProject(caller, orgID, c.groupID) {
			if c.scope == scopeProjectByName {
				return http.StatusNotFound, "GROUP_NAME_NOT_FOUND"
			}
			return http.StatusNotFound, "GROUP_NOT_FOUND"
		}
		if !authz.Allowed(caller, perm, orgID, c.groupID) {
			return http.StatusUnauthorized, "USER_UNAUTHORIZED"
		}
	}
	return 0, ""
}
