package atlasx509

import (
	"net/netip"
	"slices"
)

// Role is an Atlas organization or project role name, such as ORG_OWNER or
// GROUP_READ_ONLY.
type Role string

// Organization roles.
const (
	RoleOrgOwner           Role = "ORG_OWNER"
	RoleOrgGroupCreator    Role = "ORG_GROUP_CREATOR"
	RoleOrgBillingAdmin    Role = "ORG_BILLING_ADMIN"
	RoleOrgBillingReadOnly Role = "ORG_BILLING_READ_ONLY"
	RoleOrgReadOnly        Role = "ORG_READ_ONLY"
	RoleOrgMember          Role = "ORG_MEMBER"
)

// Project (group) roles.
const (
	RoleGroupOwner                 Role = "GROUP_OWNER"
	RoleGroupClusterManager        Role = "GROUP_CLUSTER_MANAGER"
	RoleGroupStreamProcessingOwner Role = "GROUP_STREAM_PROCESSING_OWNER"
	RoleGroupDataAccessAdmin       Role = "GROUP_DATA_ACCESS_ADMIN"
	RoleGroupDataAccessReadWrite   Role = "GROUP_DATA_ACCESS_READ_WRITE"
	RoleGroupDataAccessReadOnly    Role = "GROUP_DATA_ACCESS_READ_ONLY"
	RoleGroupDatabaseAccessAdmin   Role = "GROUP_DATABASE_ACCESS_ADMIN"
	RoleGroupBackupManager         Role = "GROUP_BACKUP_MANAGER"
	RoleGroupObservabilityViewer   Role = "GROUP_OBSERVABILITY_VIEWER"
	RoleGroupSearchIndexEditor     Role = "GROUP_SEARCH_INDEX_EDITOR"
	RoleGroupReadOnly              Role = "GROUP_READ_ONLY"
)

// OrgRoles lists every organization role, ProjectRoles every project role,
// as Atlas names them.
var (
	OrgRoles = []Role{
		RoleOrgOwner, RoleOrgGroupCreator, RoleOrgBillingAdmin, RoleOrgBillingReadOnly, RoleOrgReadOnly, RoleOrgMember,
	}
	ProjectRoles = []Role{
		RoleGroupOwner, RoleGroupClusterManager, RoleGroupStreamProcessingOwner, RoleGroupDataAccessAdmin,
		RoleGroupDataAccessReadWrite, RoleGroupDataAccessReadOnly, RoleGroupDatabaseAccessAdmin,
		RoleGroupBackupManager, RoleGroupObservabilityViewer, RoleGroupSearchIndexEditor, RoleGroupReadOnly,
	}
)

// IsOrgRole reports whether r is an organization role.
func (r Role) IsOrgRole() bool { return slices.Contains(OrgRoles, r) }

// IsProjectRole reports whether r is a project role.
func (r Role) IsProjectRole() bool { return slices.Contains(ProjectRoles, r) }

// RoleAssignment grants Role to a credential (API key or service account)
// over an organization or, when GroupID is set, over one project.
type RoleAssignment struct {
	PrincipalID string
	// PrincipalKind is the kind of credential PrincipalID names; it is
	// stored with the assignment, so a project's credentials of one kind
	// are listed without looking each one up.
	PrincipalKind PrincipalKind
	OrgID         string
	GroupID       string // empty for an organization role
	Role          Role
}

// PrincipalKind tells which kind of credential authenticated a request.
type PrincipalKind uint8

// Principal kinds.
const (
	PrincipalAPIKey PrincipalKind = iota + 1
	PrincipalServiceAccount
)

// Principal is an authenticated caller: an API key or a service account, with
// every role it holds.
type Principal struct {
	ID    string // API key id (24 hex) or service account client id
	Kind  PrincipalKind
	OrgID string
	Roles []RoleAssignment
	// AccessList lists the networks the credential may be used from; empty
	// means from anywhere.
	AccessList []netip.Prefix
	// PublicKey is the public part of an API key ("" for a service
	// account), and RemoteAddress the address the request came from
	// (invalid when unknown): what events record of their caller.
	PublicKey     string
	RemoteAddress netip.Addr
	// UnconfirmedGeneration, when not 0, says that the principal was taken
	// from the server's cache of verified credentials without reading the
	// store: it was current at this credentials generation, and may no
	// longer be. Such a principal is allowed nothing (authz refuses it)
	// until a use case confirms it, in its write transaction, by finding
	// the generation unchanged; only certificate issuance does (see
	// app.ErrCredentialsChanged).
	UnconfirmedGeneration int64
}

// String names the kind of credential.
func (k PrincipalKind) String() string {
	switch k {
	case PrincipalAPIKey:
		return "apiKey"
	case PrincipalServiceAccount:
		return "serviceAccount"
	default:
		return ""
	}
}

// ParsePrincipalKind is the inverse of String: ok is false for a name that
// is not a kind's.
func ParsePrincipalKind(s string) (k PrincipalKind, ok bool) {
	switch s {
	case "apiKey":
		return PrincipalAPIKey, true
	case "serviceAccount":
		return PrincipalServiceAccount, true
	default:
		return 0, false
	}
}

// AllowedFrom reports whether the credential may be used from addr.
func (p Principal) AllowedFrom(addr netip.Addr) bool {
	if len(p.AccessList) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, n := range p.AccessList {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}
