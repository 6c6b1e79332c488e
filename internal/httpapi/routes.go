package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/authz"
)

// route is one operation of the API: everything about it is in its row.
type route struct {
	method string
	path   string // after the version prefix, with {name} wildcards
	// op is the Atlas operationId. It is also the operation's name in the
	// access log and, for a change (any method but GET), in the audit trail.
	op   string
	perm authz.Permission // checked by the use case; see internal/authz
	// versions are the operation's resource versions on v2, oldest first
	// (see resourceVersion). A new version is one more entry; deprecating
	// one is setting its dates.
	versions []resourceVersion
	// limit is the Atlas rate-limit endpoint set the operation spends
	// from, or noRateLimit. Every row names one: the zero value is refused
	// by a test.
	limit rateSet
	// unconfirmed lets authentication take a cached principal without
	// reading the store, unconfirmed (atlasx509.Principal.UnconfirmedGeneration):
	// only for a use case that confirms it in its write transaction and
	// answers app.ErrCredentialsChanged otherwise, and whose handler then
	// asks again with confirmed(r).
	unconfirmed bool
	handler     handlerFunc
}

// versionPrefixes are the API versions every Atlas route is served under.
var versionPrefixes = []string{"/api/atlas/v1.0", "/api/atlas/v2"}

// v2Prefix is the versioned API, where the Accept header picks the resource version.
const v2Prefix = "/api/atlas/v2"

// atlasRoutes lists the whole Atlas surface that atlasx509 serves, one row
// per operation. Every route needs an authenticated caller. The tests check
// that each row is complete and pin the table (testdata/golden/routes.txt)
// and the role × route matrix (testdata/golden/matrix.txt); regenerate both
// with go test ./internal/httpapi -run 'RouteTable|Matrix' -update.
func (s *server) atlasRoutes() []route {
	return []route{
		{method: "POST", path: "/groups", op: "createProject", perm: authz.ProjectCreate, versions: v2Base, limit: noRateLimit, handler: s.handleCreateProject},
		{method: "GET", path: "/groups", op: "listProjects", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListProjects},
		{method: "GET", path: "/groups/{groupId}", op: "getProject", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetProject},
		{method: "DELETE", path: "/groups/{groupId}", op: "deleteProject", perm: authz.ProjectDelete, versions: v2Base, limit: noRateLimit, handler: s.handleDeleteProject},
		{method: "PATCH", path: "/groups/{groupId}", op: "updateProject", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateProject},
		// Atlas's path is /groups/byName/{groupName}; see handleGetProjectByName.
		{method: "GET", path: "/groups/{byName}/{groupName}", op: "getProjectByName", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetProjectByName},
		{method: "GET", path: "/groups/{groupId}/settings", op: "getProjectSettings", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetProjectSettings},
		{method: "PATCH", path: "/groups/{groupId}/settings", op: "updateProjectSettings", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateProjectSettings},
		{method: "GET", path: "/groups/{groupId}/limits", op: "listProjectLimits", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListProjectLimits},
		{method: "GET", path: "/groups/{groupId}/limits/{limitName}", op: "getProjectLimit", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetProjectLimit},
		{method: "PATCH", path: "/groups/{groupId}/limits/{limitName}", op: "setProjectLimit", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleSetProjectLimit},
		{method: "DELETE", path: "/groups/{groupId}/limits/{limitName}", op: "deleteProjectLimit", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleDeleteProjectLimit},
		{method: "GET", path: "/groups/{groupId}/teams", op: "listProjectTeams", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListProjectTeams},
		{method: "GET", path: "/groups/{groupId}/ipAddresses", op: "returnAllIpAddresses", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleReturnAllIPAddresses},
		{method: "GET", path: "/groups/{groupId}/users", op: "listProjectUsers", perm: authz.ProjectRead, versions: v2CloudUsers, limit: noRateLimit, handler: s.handleListProjectUsers},
		{method: "GET", path: "/groups/{groupId}/clusters", op: "listClusters", perm: authz.ProjectRead, versions: v2Clusters, limit: noRateLimit, handler: s.handleListClusters},
		{method: "GET", path: "/groups/{groupId}/managedSlowMs", op: "getManagedSlowMs", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetManagedSlowMs},
		{method: "POST", path: "/groups/{groupId}/managedSlowMs/enable", op: "enableManagedSlowMs", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleEnableManagedSlowMs},
		{method: "DELETE", path: "/groups/{groupId}/managedSlowMs/disable", op: "disableManagedSlowMs", perm: authz.ProjectWrite, versions: v2Base, limit: noRateLimit, handler: s.handleDisableManagedSlowMs},

		{method: "POST", path: "/groups/{groupId}/databaseUsers", op: "createDatabaseUser", perm: authz.DatabaseUserWrite, versions: v2Base, limit: setDatabaseUsers, handler: s.handleCreateDatabaseUser},
		{method: "GET", path: "/groups/{groupId}/databaseUsers", op: "listDatabaseUsers", perm: authz.ProjectRead, versions: v2Base, limit: setDatabaseUsers, handler: s.handleListDatabaseUsers},
		{method: "GET", path: "/groups/{groupId}/databaseUsers/{databaseName}/{username}", op: "getDatabaseUser", perm: authz.ProjectRead, versions: v2Base, limit: setDatabaseUsers, handler: s.handleGetDatabaseUser},
		{method: "PATCH", path: "/groups/{groupId}/databaseUsers/{databaseName}/{username}", op: "updateDatabaseUser", perm: authz.DatabaseUserWrite, versions: v2Base, limit: setDatabaseUsers, handler: s.handleUpdateDatabaseUser},
		{method: "DELETE", path: "/groups/{groupId}/databaseUsers/{databaseName}/{username}", op: "deleteDatabaseUser", perm: authz.DatabaseUserWrite, versions: v2Base, limit: setDatabaseUsers, handler: s.handleDeleteDatabaseUser},

		{method: "POST", path: "/groups/{groupId}/databaseUsers/{username}/certs", op: "createDatabaseUserCertificate", perm: authz.CertificateCreate, versions: v2Base, limit: setX509, unconfirmed: true, handler: s.handleCreateDatabaseUserCertificate},
		{method: "GET", path: "/groups/{groupId}/databaseUsers/{username}/certs", op: "listDatabaseUserCertificates", perm: authz.ProjectRead, versions: v2Base, limit: setX509, handler: s.handleListDatabaseUserCertificates},
		// Extension: revocation, not in Atlas.
		{method: "DELETE", path: "/groups/{groupId}/databaseUsers/{username}/certs/{serial}", op: "revokeDatabaseUserCertificate", perm: authz.CertificateCreate, versions: v2Base, limit: setX509, handler: s.handleRevokeDatabaseUserCertificate},
		{method: "DELETE", path: "/groups/{groupId}/databaseUsers/{username}/certs", op: "revokeDatabaseUserCertificates", perm: authz.CertificateCreate, versions: v2Base, limit: setX509, handler: s.handleRevokeDatabaseUserCertificates},

		{method: "GET", path: "/groups/{groupId}/userSecurity", op: "getUserSecurity", perm: authz.ProjectSecurityWrite, versions: v2Base, limit: noRateLimit, handler: s.handleGetUserSecurity},
		{method: "PATCH", path: "/groups/{groupId}/userSecurity", op: "updateUserSecurity", perm: authz.ProjectSecurityWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateUserSecurity},
		{method: "DELETE", path: "/groups/{groupId}/userSecurity/customerX509", op: "disableCustomerX509", perm: authz.ProjectSecurityWrite, versions: v2Base, limit: setX509, handler: s.handleDisableCustomerX509},

		// Extension: not in Atlas.
		{method: "GET", path: "/groups/{groupId}/userSecurity/managedX509/ca", op: "getManagedX509CA", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetManagedX509CA},
		{method: "GET", path: "/groups/{groupId}/userSecurity/managedX509/crl", op: "getManagedX509CRL", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetManagedX509CRL},
		{method: "GET", path: "/groups/{groupId}/userSecurity/managedX509", op: "getManagedX509", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetManagedX509},
		{method: "PATCH", path: "/groups/{groupId}/userSecurity/managedX509", op: "updateManagedX509", perm: authz.ProjectSecurityWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateManagedX509},
		{method: "POST", path: "/groups/{groupId}/userSecurity/managedX509/ca:rotate", op: "rotateManagedX509CA", perm: authz.ProjectSecurityWrite, versions: v2Base, limit: noRateLimit, handler: s.handleRotateManagedX509CA},

		// Alert configurations (X.509 expiration alerts only).
		{method: "GET", path: "/groups/{groupId}/alertConfigs", op: "listAlertConfigs", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListAlertConfigs},
		{method: "POST", path: "/groups/{groupId}/alertConfigs", op: "createAlertConfig", perm: authz.AlertWrite, versions: v2Base, limit: noRateLimit, handler: s.handleCreateAlertConfig},
		{method: "GET", path: "/groups/{groupId}/alertConfigs/{alertConfigId}", op: "getAlertConfig", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetAlertConfig},
		{method: "PUT", path: "/groups/{groupId}/alertConfigs/{alertConfigId}", op: "updateAlertConfig", perm: authz.AlertWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateAlertConfig},
		{method: "PATCH", path: "/groups/{groupId}/alertConfigs/{alertConfigId}", op: "toggleAlertConfig", perm: authz.AlertWrite, versions: v2Base, limit: noRateLimit, handler: s.handleToggleAlertConfig},
		{method: "DELETE", path: "/groups/{groupId}/alertConfigs/{alertConfigId}", op: "deleteAlertConfig", perm: authz.AlertWrite, versions: v2Base, limit: noRateLimit, handler: s.handleDeleteAlertConfig},
		{method: "GET", path: "/groups/{groupId}/alertConfigs/{alertConfigId}/alerts", op: "getAlertConfigAlerts", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListAlertConfigAlerts},
		{method: "GET", path: "/groups/{groupId}/alerts", op: "listAlerts", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListAlerts},
		{method: "GET", path: "/groups/{groupId}/alerts/{alertId}", op: "getAlert", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetAlert},
		{method: "PATCH", path: "/groups/{groupId}/alerts/{alertId}", op: "acknowledgeAlert", perm: authz.AlertWrite, versions: v2AcknowledgeAlert, limit: noRateLimit, handler: s.handleAcknowledgeAlert},
		{method: "GET", path: "/groups/{groupId}/alerts/{alertId}/alertConfigs", op: "getAlertConfigs", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetAlertConfigs},

		// Events.
		{method: "GET", path: "/groups/{groupId}/events", op: "listGroupEvents", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleListGroupEvents},
		{method: "GET", path: "/groups/{groupId}/events/{eventId}", op: "getGroupEvent", perm: authz.ProjectRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetGroupEvent},
		{method: "GET", path: "/orgs/{orgId}/events", op: "listOrgEvents", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleListOrgEvents},
		{method: "GET", path: "/orgs/{orgId}/events/{eventId}", op: "getOrgEvent", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetOrgEvent},
		// Any authenticated caller: the list is the same for all.
		{method: "GET", path: "/eventTypes", op: "listEventTypes", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleListEventTypes},

		// The caller itself (Atlas's Root resource), at the version prefix.
		{method: "GET", path: "", op: "getSystemStatus", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetSystemStatus},

		// Organizations.
		{method: "GET", path: "/orgs", op: "listOrganizations", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleListOrganizations},
		{method: "GET", path: "/orgs/{orgId}", op: "getOrganization", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetOrganization},
		{method: "PATCH", path: "/orgs/{orgId}", op: "renameOrganization", perm: authz.OrgWrite, versions: v2Base, limit: noRateLimit, handler: s.handleRenameOrganization},
		{method: "GET", path: "/orgs/{orgId}/groups", op: "listOrganizationProjects", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleListOrganizationProjects},
		{method: "GET", path: "/orgs/{orgId}/users", op: "listOrganizationUsers", perm: authz.OrgRead, versions: v2CloudUsers, limit: noRateLimit, handler: s.handleListOrganizationUsers},
		{method: "GET", path: "/orgs/{orgId}/settings", op: "getOrganizationSettings", perm: authz.OrgRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetOrganizationSettings},

		// Programmatic API keys of an organization and their access lists.
		{method: "GET", path: "/orgs/{orgId}/apiKeys", op: "listApiKeys", perm: authz.OrgCredentialRead, versions: v2Base, limit: noRateLimit, handler: s.handleListAPIKeys},
		{method: "POST", path: "/orgs/{orgId}/apiKeys", op: "createApiKey", perm: authz.OrgCredentialWrite, versions: v2Base, limit: noRateLimit, handler: s.handleCreateAPIKey},
		{method: "GET", path: "/orgs/{orgId}/apiKeys/{apiUserId}", op: "getApiKey", perm: authz.OrgCredentialRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetAPIKey},
		{method: "PATCH", path: "/orgs/{orgId}/apiKeys/{apiUserId}", op: "updateApiKey", perm: authz.OrgCredentialWrite, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateAPIKey},
		{method: "DELETE", path: "/orgs/{orgId}/apiKeys/{apiUserId}", op: "deleteApiKey", perm: authz.OrgCredentialWrite, versions: v2Base, limit: noRateLimit, handler: s.handleDeleteAPIKey},
		{method: "GET", path: "/orgs/{orgId}/apiKeys/{apiUserId}/accessList", op: "listApiKeyAccessListsEntries", perm: authz.OrgCredentialRead, versions: v2Base, limit: noRateLimit, handler: s.handleListAPIKeyAccessList},
		{method: "POST", path: "/orgs/{orgId}/apiKeys/{apiUserId}/accessList", op: "createApiKeyAccessList", perm: authz.OrgCredentialWrite, versions: v2Base, limit: noRateLimit, handler: s.handleCreateAPIKeyAccessList},
		{method: "GET", path: "/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", op: "getApiKeyAccessList", perm: authz.OrgCredentialRead, versions: v2Base, limit: noRateLimit, handler: s.handleGetAPIKeyAccessList},
		{method: "DELETE", path: "/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", op: "deleteApiKeyAccessListEntry", perm: authz.OrgCredentialWrite, versions: v2Base, limit: noRateLimit, handler: s.handleDeleteAPIKeyAccessListEntry},

		// API keys of a project: organization keys with roles over it.
		{method: "GET", path: "/groups/{groupId}/apiKeys", op: "listProjectApiKeys", perm: authz.ProjectAccessManage, versions: v2Base, limit: noRateLimit, handler: s.handleListProjectAPIKeys},
		{method: "POST", path: "/groups/{groupId}/apiKeys", op: "createProjectApiKey", perm: authz.ProjectAccessManage, versions: v2Base, limit: noRateLimit, handler: s.handleCreateProjectAPIKey},
		{method: "POST", path: "/groups/{groupId}/apiKeys/{apiUserId}", op: "addProjectApiKey", perm: authz.ProjectAccessManage, versions: v2Base, limit: noRateLimit, handler: s.handleAddProjectAPIKey},
		{method: "PATCH", path: "/groups/{groupId}/apiKeys/{apiUserId}", op: "updateApiKeyRoles", perm: authz.ProjectAccessManage, versions: v2Base, limit: noRateLimit, handler: s.handleUpdateAPIKeyRoles},
		{method: "DELETE", path: "/groups/{groupId}/apiKeys/{apiUserId}", op: "removeProjectApiKey", perm: authz.ProjectAccessManage, versions: v2Base, limit: noRateLimit, handler: s.handleRemoveProjectAPIKey},

		// Service accounts of an organization, their secrets and access lists
		// (v2 only in Atlas; served under both prefixes here).
		{method: "GET", path: "/orgs/{orgId}/serviceAccounts", op: "listServiceAccounts", perm: authz.OrgCredentialRead, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleListServiceAccounts},
		{method: "POST", path: "/orgs/{orgId}/serviceAccounts", op: "createServiceAccount", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleCreateServiceAccount},
		{method: "GET", path: "/orgs/{orgId}/serviceAccounts/{clientId}", op: "getServiceAccount", perm: authz.OrgCredentialRead, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleGetServiceAccount},
		{method: "PATCH", path: "/orgs/{orgId}/serviceAccounts/{clientId}", op: "updateServiceAccount", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleUpdateServiceAccount},
		{method: "DELETE", path: "/orgs/{orgId}/serviceAccounts/{clientId}", op: "deleteServiceAccount", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleDeleteServiceAccount},
		{method: "GET", path: "/orgs/{orgId}/serviceAccounts/{clientId}/groups", op: "listServiceAccountProjects", perm: authz.OrgCredentialRead, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleListServiceAccountProjects},
		{method: "POST", path: "/orgs/{orgId}/serviceAccounts/{clientId}/secrets", op: "createServiceAccountSecret", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleCreateServiceAccountSecret},
		{method: "DELETE", path: "/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}", op: "deleteServiceAccountSecret", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleDeleteServiceAccountSecret},
		{method: "GET", path: "/orgs/{orgId}/serviceAccounts/{clientId}/accessList", op: "listServiceAccountAccessList", perm: authz.OrgCredentialRead, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleListServiceAccountAccessList},
		{method: "POST", path: "/orgs/{orgId}/serviceAccounts/{clientId}/accessList", op: "createServiceAccountAccessList", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleCreateServiceAccountAccessList},
		{method: "DELETE", path: "/orgs/{orgId}/serviceAccounts/{clientId}/accessList/{ipAddress}", op: "deleteServiceAccountAccessListEntry", perm: authz.OrgCredentialWrite, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleDeleteServiceAccountAccessListEntry},

		// Service accounts of a project.
		{method: "GET", path: "/groups/{groupId}/serviceAccounts", op: "listProjectServiceAccounts", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleListProjectServiceAccounts},
		{method: "POST", path: "/groups/{groupId}/serviceAccounts", op: "createProjectServiceAccount", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleCreateProjectServiceAccount},
		{method: "GET", path: "/groups/{groupId}/serviceAccounts/{clientId}", op: "getProjectServiceAccount", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleGetProjectServiceAccount},
		{method: "PATCH", path: "/groups/{groupId}/serviceAccounts/{clientId}", op: "updateProjectServiceAccount", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleUpdateProjectServiceAccount},
		{method: "DELETE", path: "/groups/{groupId}/serviceAccounts/{clientId}", op: "deleteProjectServiceAccount", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleDeleteProjectServiceAccount},
		// Atlas's path is …/{clientId}:invite; see handleAddProjectServiceAccount.
		{method: "POST", path: "/groups/{groupId}/serviceAccounts/{clientIdAction}", op: "addProjectServiceAccount", perm: authz.ProjectAccessManage, versions: v2ServiceAccounts, limit: noRateLimit, handler: s.handleAddProjectServiceAccount},
	}
}

// register puts routes, and the routes outside the Atlas prefix, on the mux.
func (s *server) register(routes []route) {
	s.routes = routes
	for _, prefix := range versionPrefixes {
		for _, rt := range s.routes {
			h := rt.handler
			if prefix == v2Prefix {
				h = versioned(rt.versions, h)
			}
			s.mux.Handle(rt.method+" "+prefix+rt.path, s.authenticated(rt.op, rt.limit, rt.unconfirmed, h))
		}
	}
	// Anything else under the Atlas prefix: authenticate first, then 404 or 405.
	s.mux.Handle("/api/atlas/", s.authenticated("noRoute", noRateLimit, false, s.handleNoRoute))

	s.mux.Handle("POST /api/oauth/token", s.serve(s.handleToken))
	s.mux.Handle("POST /api/oauth/revoke", s.serve(s.handleRevoke))
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux.Handle("/", s.serve(s.handleNoRoute))
}

// handleNoRoute answers a path no route serves: 405 when the path exists
// with other methods, 404 otherwise.
func (s *server) handleNoRoute(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/atlas/" && pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return errorf(http.StatusMethodNotAllowed)
	}
	return notFound(r)
}

// handleReady answers 200 when the store answers within two seconds and 503
// otherwise (readiness for load balancers; /healthz is liveness).
func (s *server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.app.Ready(ctx); err != nil {
		s.log.Warn("not ready: the store does not answer", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
