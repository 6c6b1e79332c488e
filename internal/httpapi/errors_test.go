package httpapi

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// tokenWithRoles creates a service account holding roles (over the
// bootstrap organization or project) and returns a Bearer token for it.
func (e *env) tokenWithRoles(roles ...atlasx509.RoleAssignment) string {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	id := "mdb_sa_id_" + atlasx509.NewID(now)
	secret := "mdb_sa_sk_" + atlasx509.NewID(now)
	sum := sha256.Sum256([]byte(secret))
	err := e.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertServiceAccount(ctx, atlasx509.ServiceAccount{ClientID: id, OrgID: e.boot.OrgID, Name: "t", Created: now}); err != nil {
			return err
		}
		if err := tx.InsertServiceAccountSecret(ctx, atlasx509.ServiceAccountSecret{ID: atlasx509.NewID(now), ClientID: id, Hash: sum[:], ExpiresAt: now.Add(time.Hour), Created: now}); err != nil {
			return err
		}
		for _, ra := range roles {
			ra.PrincipalID, ra.PrincipalKind = id, atlasx509.PrincipalServiceAccount
			if err := tx.InsertRoleAssignment(ctx, ra); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.app.IssueToken(ctx, id, secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// TestErrors drives every client error through the real handler and store,
// and checks the Atlas error body and that the failed request changed nothing.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	e.createUser(scramUserBody("bob"))

	readOnly := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: e.boot.ProjectID, Role: atlasx509.RoleGroupReadOnly})
	outsider := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: "0123456789abcdef01234567", Role: atlasx509.RoleGroupOwner})
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tooFar := time.Now().Add(8 * 24 * time.Hour).UTC().Format(time.RFC3339)
	role := `"roles":[{"roleName":"read","databaseName":"app"}]`

	tests := []struct {
		name       string
		token      string // "" = the ORG_OWNER service account; "-" = none
		method     string
		path       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"no credentials", "-", "GET", g, "", 401, "UNEXPECTED_ERROR"},
		{"bad bearer token", "not-a-token", "GET", g, "", 401, "UNEXPECTED_ERROR"},
		{"malformed group id", "", "GET", "/api/atlas/v1.0/groups/xyz", "", 404, "INVALID_GROUP_ID"},
		{"missing group", "", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567", "", 404, "GROUP_NOT_FOUND"},
		{"missing group on users", "", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567/databaseUsers", "", 404, "GROUP_NOT_FOUND"},
		{"project without access looks missing", outsider, "GET", g, "", 404, "GROUP_NOT_FOUND"},
		{"unknown route", "", "GET", "/api/atlas/v1.0/clusters", "", 404, "RESOURCE_NOT_FOUND"},
		{"wrong method", "", "PUT", g, "{}", 405, "METHOD_NOT_ALLOWED"},

		{"malformed json", "", "POST", g + "/databaseUsers", `{"username":`, 400, "MALFORMED_JSON"},
		{"trailing garbage", "", "POST", g + "/databaseUsers", `{"username":"x"} {}`, 400, "MALFORMED_JSON"},
		{"empty body", "", "POST", g + "/databaseUsers", ``, 400, "MALFORMED_JSON"},
		{"not an object", "", "POST", g + "/databaseUsers", `[1,2]`, 400, "INVALID_JSON"},
		{"wrong attribute type", "", "POST", g + "/databaseUsers", `{"username":5}`, 400, "INVALID_JSON_ATTRIBUTE"},
		{"unknown attribute", "", "POST", g + "/databaseUsers", `{"username":"x","nickname":"y"}`, 400, "INVALID_ATTRIBUTE"},
		{"missing username", "", "POST", g + "/databaseUsers", `{"databaseName":"admin",` + role + `}`, 400, "MISSING_ATTRIBUTE"},
		{"missing databaseName", "", "POST", g + "/databaseUsers", `{"username":"x",` + role + `}`, 400, "MISSING_ATTRIBUTE"},
		{"missing roles", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678"}`, 400, "MISSING_ATTRIBUTE"},
		{"missing password", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin",` + role + `}`, 400, "MISSING_ATTRIBUTE"},
		{"short password", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"short",` + role + `}`, 400, "INVALID_ATTRIBUTE"},
		{"bad enum", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"$external","x509Type":"SOMETIMES",` + role + `}`, 400, "INVALID_ENUM_VALUE"},
		{"bad database enum", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"local","password":"12345678",` + role + `}`, 400, "INVALID_ENUM_VALUE"},
		{"x509 on admin", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","x509Type":"MANAGED",` + role + `}`, 400, "DATABASE_NAME_INVALID_EXTERNAL"},
		{"scram on external", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"$external","password":"12345678",` + role + `}`, 400, "DATABASE_NAME_INVALID_ADMIN"},
		{"x509 with password", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"$external","x509Type":"MANAGED","password":"12345678",` + role + `}`, 400, "ATLAS_X509_USER_CANNOT_USE_SCRAM"},
		{"temporary x509", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"$external","x509Type":"MANAGED","deleteAfterDate":"` + future + `",` + role + `}`, 400, "ATLAS_X509_USER_CANNOT_BE_TEMPORARY"},
		{"x509 and ldap", "", "POST", g + "/databaseUsers", `{"username":"CN=x","databaseName":"$external","x509Type":"CUSTOMER","ldapAuthType":"USER",` + role + `}`, 400, "ATLAS_X509_USER_CANNOT_USE_LDAP"},
		{"managed name with DN", "", "POST", g + "/databaseUsers", `{"username":"CN=bob,OU=x","databaseName":"$external","x509Type":"MANAGED",` + role + `}`, 400, "ATLAS_MANAGED_X509_NAME_INVALID"},
		{"managed name too long", "", "POST", g + "/databaseUsers", `{"username":"` + strings.Repeat("a", 65) + `","databaseName":"$external","x509Type":"MANAGED",` + role + `}`, 400, "ATLAS_MANAGED_X509_NAME_INVALID"},
		{"customer name not a DN", "", "POST", g + "/databaseUsers", `{"username":"just-a-name","databaseName":"$external","x509Type":"CUSTOMER",` + role + `}`, 400, "ATLAS_INVALID_LDAP_NAME"},
		{"customer DN without CN", "", "POST", g + "/databaseUsers", `{"username":"OU=x,O=y","databaseName":"$external","x509Type":"CUSTOMER",` + role + `}`, 400, "ATLAS_INVALID_LDAP_NAME"},
		{"control character in username", "", "POST", g + "/databaseUsers", `{"username":"a\u0007b","databaseName":"admin","password":"12345678",` + role + `}`, 400, "ATLAS_INVALID_USERNAME"},
		{"unknown role", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","roles":[{"roleName":"root","databaseName":"admin"}]}`, 400, "ATLAS_INVALID_ROLE"},
		{"admin-only role elsewhere", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","roles":[{"roleName":"readAnyDatabase","databaseName":"app"}]}`, 400, "ATLAS_INVALID_ROLE_DATABASE"},
		{"duplicate roles", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","roles":[{"roleName":"read","databaseName":"app"},{"roleName":"read","databaseName":"app"}]}`, 400, "DUPLICATE_DATABASE_ROLES"},
		{"temporary user in the past", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","deleteAfterDate":"` + past + `",` + role + `}`, 400, "EXPIRATION_DATE_IN_PAST"},
		{"temporary user too long", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","deleteAfterDate":"` + tooFar + `",` + role + `}`, 400, "EXPIRATION_DATE_EXCEEDS_MAX"},
		{"bad date", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","deleteAfterDate":"tomorrow",` + role + `}`, 400, "INVALID_JSON_ATTRIBUTE"},
		{"bad scope type", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","scopes":[{"name":"c1","type":"SHARD"}],` + role + `}`, 400, "INVALID_ENUM_VALUE"},
		{"groupId mismatch", "", "POST", g + "/databaseUsers", `{"username":"x","groupId":"0123456789abcdef01234567","databaseName":"admin","password":"12345678",` + role + `}`, 400, "GROUP_MISMATCH"},
		{"two auth methods", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"$external","awsIAMType":"USER","oidcAuthType":"USER",` + role + `}`, 400, "ATLAS_INVALID_AUTH_SETTINGS"},
		{"bad role database", "", "POST", g + "/databaseUsers", `{"username":"x","databaseName":"admin","password":"12345678","roles":[{"roleName":"read","databaseName":"a/b"}]}`, 400, "INVALID_DATABASE_NAME"},
		{"bad project name", "", "POST", "/api/atlas/v1.0/groups", `{"name":" ","orgId":"` + e.boot.OrgID + `"}`, 400, "INVALID_GROUP_NAME"},
		{"duplicate user", "", "POST", g + "/databaseUsers", managedUserBody("alice"), 409, "USER_ALREADY_EXISTS"},
		{"duplicate user in other database", "", "POST", g + "/databaseUsers", scramUserBody("alice"), 409, "USER_ALREADY_EXISTS"},
		{"read-only cannot create users", readOnly, "POST", g + "/databaseUsers", managedUserBody("carol"), 401, "USER_UNAUTHORIZED"},

		{"get missing user", "", "GET", g + "/databaseUsers/admin/nobody", "", 404, "USERNAME_NOT_FOUND"},
		{"get user in wrong database", "", "GET", g + "/databaseUsers/admin/alice", "", 404, "USERNAME_NOT_FOUND"},
		{"patch username", "", "PATCH", g + "/databaseUsers/$external/alice", `{"username":"alicia"}`, 409, "DATABASE_USERNAME_CANNOT_BE_CHANGED"},
		{"patch database", "", "PATCH", g + "/databaseUsers/$external/alice", `{"databaseName":"admin"}`, 409, "DATABASE_NAME_CANNOT_BE_CHANGED"},
		{"patch auth type", "", "PATCH", g + "/databaseUsers/$external/alice", `{"x509Type":"CUSTOMER"}`, 409, "AUTH_TYPE_CANNOT_BE_CHANGED"},
		{"patch invalid roles", "", "PATCH", g + "/databaseUsers/$external/alice", `{"roles":[]}`, 400, "MISSING_ATTRIBUTE"},
		{"patch missing user", "", "PATCH", g + "/databaseUsers/admin/nobody", `{"description":"x"}`, 404, "USERNAME_NOT_FOUND"},
		{"read-only cannot delete users", readOnly, "DELETE", g + "/databaseUsers/$external/alice", "", 401, "USER_UNAUTHORIZED"},
		{"delete missing user", "", "DELETE", g + "/databaseUsers/admin/nobody", "", 404, "USERNAME_NOT_FOUND"},

		{"cert for missing user", "", "POST", g + "/databaseUsers/nobody/certs", `{"monthsUntilExpiration":3}`, 404, "USERNAME_NOT_FOUND"},
		{"cert for scram user", "", "POST", g + "/databaseUsers/bob/certs", `{"monthsUntilExpiration":3}`, 400, "USER_NOT_MANAGED_X509"},
		{"cert for 25 months", "", "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":25}`, 400, "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS"},
		{"cert for 0 months", "", "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":0}`, 400, "ATTRIBUTE_NEGATIVE_OR_ZERO"},
		{"cert for -1 months", "", "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":-1}`, 400, "ATTRIBUTE_NEGATIVE_OR_ZERO"},
		{"cert months as string", "", "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":"3"}`, 400, "INVALID_JSON_ATTRIBUTE"},
		{"cert months fractional", "", "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":2.5}`, 400, "INVALID_JSON_ATTRIBUTE"},
		{"cert unknown attribute", "", "POST", g + "/databaseUsers/alice/certs", `{"months":3}`, 400, "INVALID_ATTRIBUTE"},
		{"read-only cannot issue", readOnly, "POST", g + "/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`, 401, "USER_UNAUTHORIZED"},
		{"list certs of missing user", "", "GET", g + "/databaseUsers/nobody/certs", "", 404, "USERNAME_NOT_FOUND"},
		{"cert in missing group", "", "POST", "/api/atlas/v1.0/groups/0123456789abcdef01234567/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`, 404, "GROUP_NOT_FOUND"},

		{"itemsPerPage too big", "", "GET", g + "/databaseUsers?itemsPerPage=501", "", 400, "INVALID_QUERY_PARAMETER"},
		{"pageNum negative", "", "GET", g + "/databaseUsers?pageNum=-1", "", 400, "INVALID_QUERY_PARAMETER"},
		{"pageNum not a number", "", "GET", g + "/databaseUsers?pageNum=two", "", 400, "INVALID_QUERY_PARAMETER"},
		{"envelope not a bool", "", "GET", g + "?envelope=maybe", "", 400, "INVALID_QUERY_PARAMETER"},

		{"project without name", "", "POST", "/api/atlas/v1.0/groups", `{"orgId":"` + e.boot.OrgID + `"}`, 400, "MISSING_ATTRIBUTE"},
		{"project name taken", "", "POST", "/api/atlas/v1.0/groups", `{"name":"Project 0","orgId":"` + e.boot.OrgID + `"}`, 409, "GROUP_ALREADY_EXISTS"},
		{"project in unknown org", "", "POST", "/api/atlas/v1.0/groups", `{"name":"P","orgId":"0123456789abcdef01234567"}`, 404, "ORG_NOT_FOUND"},
		{"read-only cannot delete project", readOnly, "DELETE", g, "", 401, "USER_UNAUTHORIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			token := e.token
			switch tt.token {
			case "":
			case "-":
				token = ""
			default:
				token = tt.token
			}
			rec := e.doAs(token, tt.method, tt.path, tt.body)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body.String())
			}
			got := apiError(t, rec)
			if got.ErrorCode != tt.wantCode {
				t.Errorf("errorCode %q, want %q (detail %q)", got.ErrorCode, tt.wantCode, got.Detail)
			}
			if got.Detail == "" || got.Parameters == nil {
				t.Errorf("detail %q, parameters %v: both must be present", got.Detail, got.Parameters)
			}
			if tt.wantStatus == 401 && tt.wantCode == "UNEXPECTED_ERROR" {
				if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, `Digest realm="MMS Public API", domain="", nonce="`) {
					t.Errorf("WWW-Authenticate %q", h)
				}
			}
			if after := e.snapshot(); after != before {
				t.Errorf("a failed request changed the store: before %+v, after %+v", before, after)
			}
		})
	}
}

// storeSnapshot counts what a failed request must not change.
type storeSnapshot struct {
	users, certs, cas, projects int
	alice                       string
}

func (e *env) snapshot() storeSnapshot {
	e.t.Helper()
	ctx := context.Background()
	var s storeSnapshot
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		if s.users, err = tx.CountDatabaseUsers(ctx, e.boot.ProjectID); err != nil {
			return err
		}
		if s.certs, err = tx.CountCertificates(ctx, store.CertificateFilter{GroupID: e.boot.ProjectID, Username: "alice", IncludeRevoked: true}); err != nil {
			return err
		}
		cas, err := tx.ListProjectCAs(ctx, e.boot.ProjectID)
		if err != nil {
			return err
		}
		s.cas = len(cas)
		if s.projects, err = tx.CountProjects(ctx, store.ProjectFilter{OrgIDs: []string{e.boot.OrgID}}); err != nil {
			return err
		}
		u, err := tx.GetDatabaseUser(ctx, e.boot.ProjectID, "$external", "alice")
		if err == nil {
			s.alice = u.Description + "|" + u.X509Type + "|" + u.Updated.String()
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestUserLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 100; i++ {
		e.createUser(managedUserBody("user" + strings.Repeat("x", i%3) + string(rune('a'+i/26)) + string(rune('a'+i%26))))
	}
	rec := e.do("POST", e.group()+"/databaseUsers", managedUserBody("one-too-many"))
	if rec.Code != http.StatusForbidden || apiError(t, rec).ErrorCode != "GROUP_USERS_LIMIT_EXCEEDED" {
		t.Fatalf("101st user: %d %s", rec.Code, rec.Body.String())
	}
	if n := e.userCount(); n != 100 {
		t.Errorf("users = %d, want 100", n)
	}
}

// roleOn assigns a project role over the bootstrap project.
func roleOn(e *env, role string) atlasx509.RoleAssignment {
	return atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: e.boot.ProjectID, Role: atlasx509.Role(role)}
}
