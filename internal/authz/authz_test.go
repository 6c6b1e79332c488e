package authz

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
)

const (
	testOrg     = "0123456789abcdef01234567"
	testProject = "89abcdef0123456701234567"
	otherOrg    = "fedcba9876543210fedcba98"
	otherProj   = "76543210fedcba9876543210"
)

// columns is the order of the permissions in the matrix below.
var columns = []Permission{
	ProjectRead, ProjectCreate, ProjectDelete, ProjectWrite, DatabaseUserWrite, CertificateCreate,
	ProjectSecurityWrite, ProjectAccessManage, OrgCredentialRead, OrgCredentialWrite, OrgRead, OrgWrite, AlertWrite,
}

// orgScoped are the permissions checked against the organization itself;
// the others are checked against a project of it.
var orgScoped = map[Permission]bool{ProjectCreate: true, OrgCredentialRead: true, OrgCredentialWrite: true, OrgRead: true, OrgWrite: true}

// matrix is the role table as a reviewer reads it: one row per Atlas role,
// held over the organization (ORG_*) or over the project (GROUP_*), one
// column per permission in the order of columns: Y allowed, - refused.
var matrix = map[atlasx509.Role]string{
	//                                    read create delete write users cert security access credRead credWrite orgRead orgWrite alerts
	atlasx509.RoleOrgOwner:                   "Y Y Y Y Y Y Y Y Y Y Y Y Y",
	atlasx509.RoleOrgGroupCreator:            "- Y - - - - - - Y - Y - -",
	atlasx509.RoleOrgBillingAdmin:            "- - - - - - - - Y - Y - -",
	atlasx509.RoleOrgBillingReadOnly:         "- - - - - - - - Y - Y - -",
	atlasx509.RoleOrgReadOnly:                "Y - - - - - - - Y - Y - -",
	atlasx509.RoleOrgMember:                  "- - - - - - - - Y - Y - -",
	atlasx509.RoleGroupOwner:                 "Y - Y Y Y Y Y Y - - - - Y",
	atlasx509.RoleGroupClusterManager:        "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupStreamProcessingOwner: "Y - - - Y Y - - - - - - -",
	atlasx509.RoleGroupDataAccessAdmin:       "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupDataAccessReadWrite:   "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupDataAccessReadOnly:    "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupDatabaseAccessAdmin:   "Y - - - Y Y - - - - - - -",
	atlasx509.RoleGroupBackupManager:         "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupObservabilityViewer:   "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupSearchIndexEditor:     "Y - - - - - - - - - - - -",
	atlasx509.RoleGroupReadOnly:              "Y - - - - - - - - - - - -",
}

// allRoles lists every Atlas role, organization roles first.
func allRoles() []atlasx509.Role {
	return append(append([]atlasx509.Role{}, atlasx509.OrgRoles...), atlasx509.ProjectRoles...)
}

// want reads the matrix cell of role × the i-th column.
func want(t *testing.T, role atlasx509.Role, i int) bool {
	t.Helper()
	cells := strings.Fields(matrix[role])
	if len(cells) != len(columns) {
		t.Fatalf("row %s has %d cells for %d columns", role, len(cells), len(columns))
	}
	return cells[i] == "Y"
}

// holder is a principal holding role over the test organization, or over
// the test project for a project role.
func holder(role atlasx509.Role, orgID, groupID string) atlasx509.Principal {
	ra := atlasx509.RoleAssignment{PrincipalID: "p", OrgID: orgID, Role: role}
	if role.IsProjectRole() {
		ra.GroupID = groupID
	}
	return atlasx509.Principal{ID: "p", OrgID: orgID, Roles: []atlasx509.RoleAssignment{ra}}
}

func allowed(p atlasx509.Principal, perm Permission) bool {
	return Allowed(p, perm, testOrg, scope(perm))
}

// scope is the project a permission is checked over: none for an
// organization permission.
func scope(perm Permission) string {
	if orgScoped[perm] {
		return ""
	}
	return testProject
}

func TestRolePermissionMatrix(t *testing.T) {
	sorted := slices.Clone(columns)
	slices.Sort(sorted)
	if diff := cmp.Diff(Permissions(), sorted); diff != "" {
		t.Fatalf("the matrix columns are not the permissions of the table (-table +matrix):\n%s", diff)
	}
	if len(matrix) != len(allRoles()) {
		t.Fatalf("the matrix has %d rows for %d roles", len(matrix), len(allRoles()))
	}
	for _, role := range allRoles() {
		if _, ok := matrix[role]; !ok {
			t.Errorf("role %s has no row in the matrix", role)
			continue
		}
		p := holder(role, testOrg, testProject)
		for i, perm := range columns {
			w := want(t, role, i)
			if got := allowed(p, perm); got != w {
				t.Errorf("%s × %s: allowed %v, want %v", role, perm, got, w)
			}
		}
	}
}

// TestRolesDoNotLeak: a role over another organization or another project
// grants nothing here, whatever the role.
func TestRolesDoNotLeak(t *testing.T) {
	for _, role := range allRoles() {
		for _, p := range []atlasx509.Principal{
			holder(role, otherOrg, otherProj),
			holder(role, otherOrg, testProject), // the project id, claimed under another organization
		} {
			for _, perm := range columns {
				if allowed(p, perm) {
					t.Errorf("%s over %+v grants %s in the test organization", role, p.Roles[0], perm)
				}
			}
			if CanAccessProject(p, testOrg, testProject) {
				t.Errorf("%s over %+v can access the test project", role, p.Roles[0])
			}
		}
		if !role.IsProjectRole() {
			continue
		}
		onOther := holder(role, testOrg, otherProj)
		for _, perm := range columns {
			if allowed(onOther, perm) {
				t.Errorf("%s on another project grants %s here", role, perm)
			}
		}
		if CanAccessProject(onOther, testOrg, testProject) {
			t.Errorf("%s on another project can access the test project", role)
		}
	}
}

// TestCanAccessProject: who learns that a project exists. Every project
// role on it does; of the organization roles, the two that reach every
// project (Owner and Read Only).
func TestCanAccessProject(t *testing.T) {
	want := map[atlasx509.Role]bool{atlasx509.RoleOrgOwner: true, atlasx509.RoleOrgReadOnly: true}
	for _, r := range atlasx509.ProjectRoles {
		want[r] = true
	}
	for _, role := range allRoles() {
		if got := CanAccessProject(holder(role, testOrg, testProject), testOrg, testProject); got != want[role] {
			t.Errorf("%s: CanAccessProject = %v, want %v", role, got, want[role])
		}
	}
}

func TestKnown(t *testing.T) {
	for _, perm := range columns {
		if !Known(perm) {
			t.Errorf("%s is not Known", perm)
		}
	}
	if Known("nothing") {
		t.Error(`Known("nothing")`)
	}
}

// TestUnconfirmedPrincipalMayDoNothing: a principal taken from the
// credentials cache unconfirmed is allowed nothing, whatever its roles,
// until a use case confirms it.
func TestUnconfirmedPrincipalMayDoNothing(t *testing.T) {
	for _, role := range allRoles() {
		p := holder(role, testOrg, testProject)
		p.UnconfirmedGeneration = 7
		if CanAccessProject(p, testOrg, testProject) {
			t.Errorf("unconfirmed %s can access the project", role)
		}
		for _, perm := range columns {
			if Allowed(p, perm, testOrg, testProject) || Allowed(p, perm, testOrg, "") {
				t.Errorf("unconfirmed %s is allowed %s", role, perm)
			}
		}
	}
}
