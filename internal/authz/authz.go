// Package authz decides what an authenticated caller may do. It holds the one
// table that maps every permission to the Atlas roles that grant it; the HTTP
// layer names a permission for every route and a test checks that none is
// missing. It does no I/O.
package authz

import (
	"slices"

	"github.com/atlasx509/atlasx509"
)

// Permission is an action the API guards.
type Permission string

// Permissions, one per kind of operation.
const (
	// ProjectRead reads a project and what it holds (users, certificates, CA).
	ProjectRead Permission = "project.read"
	// ProjectCreate creates a project in an organization.
	ProjectCreate Permission = "project.create"
	// ProjectDelete deletes a project.
	ProjectDelete Permission = "project.delete"
	// ProjectWrite changes a project: its name, tags, settings and limits.
	// Atlas requires Project Owner.
	ProjectWrite Permission = "project.write"
	// DatabaseUserWrite creates, updates and deletes database users.
	DatabaseUserWrite Permission = "databaseUser.write"
	// CertificateCreate issues a managed X.509 certificate.
	CertificateCreate Permission = "certificate.create"
	// ProjectSecurityWrite reads and changes a project's user security
	// settings (self-managed X.509): Atlas requires Project Owner for both.
	ProjectSecurityWrite Permission = "project.security.write"
	// ProjectAccessManage lists the API keys and service accounts of a
	// project, creates them there and assigns, changes or removes their
	// project roles: Atlas requires Project Owner.
	ProjectAccessManage Permission = "project.access.manage"
	// AlertWrite creates, changes and deletes a project's alert
	// configurations and acknowledges its alerts: Atlas requires Project
	// Owner (or Project Alerts Manager, a role atlasx509 does not have).
	AlertWrite Permission = "alert.write"
	// OrgCredentialRead reads an organization's API keys, service accounts
	// and their access lists: Atlas requires Organization Member, which every
	// organization role includes.
	OrgCredentialRead Permission = "org.credentials.read"
	// OrgCredentialWrite creates, changes and deletes an organization's API
	// keys and service accounts, their secrets and access lists: Atlas
	// requires Organization Owner.
	OrgCredentialWrite Permission = "org.credentials.write"
	// OrgRead reads an organization and lists its projects: Atlas requires
	// Organization Member, which every organization role includes.
	OrgRead Permission = "org.read"
	// OrgWrite changes an organization (its name): Atlas requires
	// Organization Owner.
	OrgWrite Permission = "org.write"
)

// projectRoles lists, for each permission checked against a project, the
// project roles that grant it. ORG_OWNER grants every permission on every
// project of its organization, as in Atlas; every project role includes
// GROUP_READ_ONLY.
var projectRoles = map[Permission][]atlasx509.Role{
	ProjectRead: {
		atlasx509.RoleGroupOwner, atlasx509.RoleGroupClusterManager, atlasx509.RoleGroupStreamProcessingOwner,
		atlasx509.RoleGroupDataAccessAdmin, atlasx509.RoleGroupDataAccessReadWrite, atlasx509.RoleGroupDataAccessReadOnly,
		atlasx509.RoleGroupDatabaseAccessAdmin, atlasx509.RoleGroupBackupManager, atlasx509.RoleGroupObservabilityViewer,
		atlasx509.RoleGroupSearchIndexEditor, atlasx509.RoleGroupReadOnly,
	},
	ProjectDelete:        {atlasx509.RoleGroupOwner},
	ProjectWrite:         {atlasx509.RoleGroupOwner},
	DatabaseUserWrite:    {atlasx509.RoleGroupOwner, atlasx509.RoleGroupDatabaseAccessAdmin, atlasx509.RoleGroupStreamProcessingOwner},
	CertificateCreate:    {atlasx509.RoleGroupOwner, atlasx509.RoleGroupDatabaseAccessAdmin, atlasx509.RoleGroupStreamProcessingOwner},
	ProjectSecurityWrite: {atlasx509.RoleGroupOwner},
	ProjectAccessManage:  {atlasx509.RoleGroupOwner},
	AlertWrite:           {atlasx509.RoleGroupOwner},
}

// orgRoles lists, for each permission checked against an organization, the
// organization roles that grant it.
var orgRoles = map[Permission][]atlasx509.Role{
	ProjectCreate: {atlasx509.RoleOrgOwner, atlasx509.RoleOrgGroupCreator},
	ProjectRead:   {atlasx509.RoleOrgOwner, atlasx509.RoleOrgReadOnly},
	OrgCredentialRead: {
		atlasx509.RoleOrgOwner, atlasx509.RoleOrgGroupCreator, atlasx509.RoleOrgBillingAdmin,
		atlasx509.RoleOrgBillingReadOnly, atlasx509.RoleOrgReadOnly, atlasx509.RoleOrgMember,
	},
	OrgCredentialWrite: {atlasx509.RoleOrgOwner},
	OrgRead: {
		atlasx509.RoleOrgOwner, atlasx509.RoleOrgGroupCreator, atlasx509.RoleOrgBillingAdmin,
		atlasx509.RoleOrgBillingReadOnly, atlasx509.RoleOrgReadOnly, atlasx509.RoleOrgMember,
	},
	OrgWrite: {atlasx509.RoleOrgOwner},
}

// Known reports whether perm has an entry in the role table.
func Known(perm Permission) bool {
	_, p := projectRoles[perm]
	_, o := orgRoles[perm]
	return p || o
}

// Permissions returns every permission that has a row in the role table,
// sorted.
func Permissions() []Permission {
	var out []Permission
	for perm := range projectRoles {
		out = append(out, perm)
	}
	for perm := range orgRoles {
		if _, dup := projectRoles[perm]; !dup {
			out = append(out, perm)
		}
	}
	slices.Sort(out)
	return out
}

// CanAccessProject reports whether p holds any role over the project: a
// project role on it, or an organization role in its organization that
// reaches projects. A caller that cannot access a project is told it does not
// exist, so that project ids cannot be probed. An unconfirmed principal
// (Principal.UnconfirmedGeneration) can access nothing.
func CanAccessProject(p atlasx509.Principal, orgID, groupID string) bool {
	if p.UnconfirmedGeneration != 0 {
		return false
	}
	for _, ra := range p.Roles {
		if ra.OrgID != orgID {
			continue
		}
		if ra.GroupID == groupID && groupID != "" {
			return true
		}
		if ra.GroupID == "" && (ra.Role == atlasx509.RoleOrgOwner || ra.Role == atlasx509.RoleOrgReadOnly) {
			return true
		}
	}
	return false
}

// Allowed reports whether p may perform perm on the project groupID of
// organization orgID, or on the organization itself when groupID is "".
// An unconfirmed principal (Principal.UnconfirmedGeneration) may do nothing.
func Allowed(p atlasx509.Principal, perm Permission, orgID, groupID string) bool {
	if p.UnconfirmedGeneration != 0 {
		return false
	}
	for _, ra := range p.Roles {
		if ra.OrgID != orgID {
			continue
		}
		switch {
		case ra.GroupID == "" && ra.Role == atlasx509.RoleOrgOwner:
			return true // Org Owner is owner of the organization and of all its projects
		case ra.GroupID == "" && slices.Contains(orgRoles[perm], ra.Role):
			return true
		case groupID != "" && ra.GroupID == groupID && slices.Contains(projectRoles[perm], ra.Role):
			return true
		}
	}
	return false
}
