package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/authz"
)

// route is one operation of the API.
type route struct {
	method  string
	path    string // after the version prefix, with {name} wildcards
	op      string // the Atlas operationId
	perm    authz.Permission
	handler handlerFunc
}

// versionPrefixes are the API versions every Atlas route is served under.
var versionPrefixes = []string{"/api/atlas/v1.0", "/api/atlas/v2"}

// v2Prefix is the versioned API, where the Accept header picks the resource version.
const v2Prefix = "/api/atlas/v2"

// atlasRoutes lists the whole Atlas surface that atlasx509 serves. Every
// route needs an authenticated caller; perm names the permission the use case
// checks (a test makes sure each one is in the authz table).
func (s *server) atlasRoutes() []route {
	return []route{
		{"POST", "/groups", "createProject", authz.ProjectCreate, s.handleCreateProject},
		{"GET", "/groups", "listProjects", authz.ProjectRead, s.handleListProjects},
		{"GET", "/groups/{groupId}", "getProject", authz.ProjectRead, s.handleGetProject},
		{"DELETE", "/groups/{groupId}", "deleteProject", authz.ProjectDelete, s.handleDeleteProject},

		{"POST", "/groups/{groupId}/databaseUsers", "createDatabaseUser", authz.DatabaseUserWrite, s.handleCreateDatabaseUser},
		{"GET", "/groups/{groupId}/databaseUsers", "listDatabaseUsers", authz.ProjectRead, s.handleListDatabaseUsers},
		{"GET", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", "getDatabaseUser", authz.ProjectRead, s.handleGetDatabaseUser},
		{"PATCH", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", "updateDatabaseUser", authz.DatabaseUserWrite, s.handleUpdateDatabaseUser},
		{"DELETE", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", "deleteDatabaseUser", authz.DatabaseUserWrite, s.handleDeleteDatabaseUser},

		{"POST", "/groups/{groupId}/databaseUsers/{username}/certs", "createDatabaseUserCertificate", authz.CertificateCreate, s.handleCreateDatabaseUserCertificate},
		{"GET", "/groups/{groupId}/databaseUsers/{username}/certs", "listDatabaseUserCertificates", authz.ProjectRead, s.handleListDatabaseUserCertificates},

		{"GET", "/groups/{groupId}/userSecurity", "getUserSecurity", authz.ProjectSecurityWrite, s.handleGetUserSecurity},
		{"PATCH", "/groups/{groupId}/userSecurity", "updateUserSecurity", authz.ProjectSecurityWrite, s.handleUpdateUserSecurity},
		{"DELETE", "/groups/{groupId}/userSecurity/customerX509", "disableCustomerX509", authz.ProjectSecurityWrite, s.handleDisableCustomerX509},

		// Extension: not in Atlas.
		{"GET", "/groups/{groupId}/userSecurity/managedX509/ca", "getManagedX509CA", authz.ProjectRead, s.handleGetManagedX509CA},
		{"GET", "/groups/{groupId}/userSecurity/managedX509", "getManagedX509", authz.ProjectRead, s.handleGetManagedX509},
		{"PATCH", "/groups/{groupId}/userSecurity/managedX509", "updateManagedX509", authz.ProjectSecurityWrite, s.handleUpdateManagedX509},

		// Programmatic API keys of an organization and their access lists.
		{"GET", "/orgs/{orgId}/apiKeys", "listApiKeys", authz.OrgCredentialRead, s.handleListAPIKeys},
		{"POST", "/orgs/{orgId}/apiKeys", "createApiKey", authz.OrgCredentialWrite, s.handleCreateAPIKey},
		{"GET", "/orgs/{orgId}/apiKeys/{apiUserId}", "getApiKey", authz.OrgCredentialRead, s.handleGetAPIKey},
		{"PATCH", "/orgs/{orgId}/apiKeys/{apiUserId}", "updateApiKey", authz.OrgCredentialWrite, s.handleUpdateAPIKey},
		{"DELETE", "/orgs/{orgId}/apiKeys/{apiUserId}", "deleteApiKey", authz.OrgCredentialWrite, s.handleDeleteAPIKey},
		{"GET", "/orgs/{orgId}/apiKeys/{apiUserId}/accessList", "listApiKeyAccessListsEntries", authz.OrgCredentialRead, s.handleListAPIKeyAccessList},
		{"POST", "/orgs/{orgId}/apiKeys/{apiUserId}/accessList", "createApiKeyAccessList", authz.OrgCredentialWrite, s.handleCreateAPIKeyAccessList},
		{"GET", "/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", "getApiKeyAccessList", authz.OrgCredentialRead, s.handleGetAPIKeyAccessList},
		{"DELETE", "/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", "deleteApiKeyAccessListEntry", authz.OrgCredentialWrite, s.handleDeleteAPIKeyAccessListEntry},

		// API keys of a project: organization keys with roles over it.
		{"GET", "/groups/{groupId}/apiKeys", "listProjectApiKeys", authz.ProjectAccessManage, s.handleListProjectAPIKeys},
		{"POST", "/groups/{groupId}/apiKeys", "createProjectApiKey", authz.ProjectAccessManage, s.handleCreateProjectAPIKey},
		{"POST", "/groups/{groupId}/apiKeys/{apiUserId}", "addProjectApiKey", authz.ProjectAccessManage, s.handleAddProjectAPIKey},
		{"PATCH", "/groups/{groupId}/apiKeys/{apiUserId}", "updateApiKeyRoles", authz.ProjectAccessManage, s.handleUpdateAPIKeyRoles},
		{"DELETE", "/groups/{groupId}/apiKeys/{apiUserId}", "removeProjectApiKey", authz.ProjectAccessManage, s.handleRemoveProjectAPIKey},

		// Service accounts of an organization, their secrets and access lists
		// (v2 only in Atlas; served under both prefixes here).
		{"GET", "/orgs/{orgId}/serviceAccounts", "listServiceAccounts", authz.OrgCredentialRead, s.handleListServiceAccounts},
		{"POST", "/orgs/{orgId}/serviceAccounts", "createServiceAccount", authz.OrgCredentialWrite, s.handleCreateServiceAccount},
		{"GET", "/orgs/{orgId}/serviceAccounts/{clientId}", "getServiceAccount", authz.OrgCredentialRead, s.handleGetServiceAccount},
		{"PATCH", "/orgs/{orgId}/serviceAccounts/{clientId}", "updateServiceAccount", authz.OrgCredentialWrite, s.handleUpdateServiceAccount},
		{"DELETE", "/orgs/{orgId}/serviceAccounts/{clientId}", "deleteServiceAccount", authz.OrgCredentialWrite, s.handleDeleteServiceAccount},
		{"GET", "/orgs/{orgId}/serviceAccounts/{clientId}/groups", "listServiceAccountProjects", authz.OrgCredentialRead, s.handleListServiceAccountProjects},
		{"POST", "/orgs/{orgId}/serviceAccounts/{clientId}/secrets", "createServiceAccountSecret", authz.OrgCredentialWrite, s.handleCreateServiceAccountSecret},
		{"DELETE", "/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}", "deleteServiceAccountSecret", authz.OrgCredentialWrite, s.handleDeleteServiceAccountSecret},
		{"GET", "/orgs/{orgId}/serviceAccounts/{clientId}/accessList", "listServiceAccountAccessList", authz.OrgCredentialRead, s.handleListServiceAccountAccessList},
		{"POST", "/orgs/{orgId}/serviceAccounts/{clientId}/accessList", "createServiceAccountAccessList", authz.OrgCredentialWrite, s.handleCreateServiceAccountAccessList},
		{"DELETE", "/orgs/{orgId}/serviceAccounts/{clientId}/accessList/{ipAddress}", "deleteServiceAccountAccessListEntry", authz.OrgCredentialWrite, s.handleDeleteServiceAccountAccessListEntry},

		// Service accounts of a project.
		{"GET", "/groups/{groupId}/serviceAccounts", "listProjectServiceAccounts", authz.ProjectAccessManage, s.handleListProjectServiceAccounts},
		{"POST", "/groups/{groupId}/serviceAccounts", "createProjectServiceAccount", authz.ProjectAccessManage, s.handleCreateProjectServiceAccount},
		{"GET", "/groups/{groupId}/serviceAccounts/{clientId}", "getProjectServiceAccount", authz.ProjectAccessManage, s.handleGetProjectServiceAccount},
		{"PATCH", "/groups/{groupId}/serviceAccounts/{clientId}", "updateProjectServiceAccount", authz.ProjectAccessManage, s.handleUpdateProjectServiceAccount},
		{"DELETE", "/groups/{groupId}/serviceAccounts/{clientId}", "deleteProjectServiceAccount", authz.ProjectAccessManage, s.handleDeleteProjectServiceAccount},
		// Atlas's path is …/{clientId}:invite; see handleAddProjectServiceAccount.
		{"POST", "/groups/{groupId}/serviceAccounts/{clientIdAction}", "addProjectServiceAccount", authz.ProjectAccessManage, s.handleAddProjectServiceAccount},
	}
}

// register puts every route on the mux.
func (s *server) register() {
	s.routes = s.atlasRoutes()
	for _, prefix := range versionPrefixes {
		for _, rt := range s.routes {
			h := rt.handler
			if prefix == v2Prefix {
				h = versioned(rt.op, h)
			}
			s.mux.Handle(rt.method+" "+prefix+rt.path, s.authenticated(rt.op, rateLimitSet(rt.path), h))
		}
	}
	// Anything else under the Atlas prefix: authenticate first, then 404 or 405.
	s.mux.Handle("/api/atlas/", s.authenticated("noRoute", "", s.handleNoRoute))

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

// rateLimitSet is the Atlas endpoint set a route's path belongs to: the
// certificate routes and the customer X.509 route form "X509
// Authentication", the other database user routes "Database Users".
func rateLimitSet(path string) string {
	switch {
	case strings.HasSuffix(path, "/certs"), strings.HasSuffix(path, "/customerX509"):
		return setX509
	case strings.Contains(path, "/databaseUsers"):
		return setDatabaseUsers
	default:
		return ""
	}
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
