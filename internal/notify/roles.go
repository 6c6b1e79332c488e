package notify

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/atlasx509/atlasx509"
)

// RoleEmails are the addresses GROUP and ORG notifications go to, by role,
// from the --alert-role-emails setting. atlasx509 has no console users, so
// the "project owners" of an Atlas notification are whoever the operator
// names here. The zero value names nobody.
type RoleEmails struct {
	entries []roleEmail
}

type roleEmail struct {
	scope   string // a project or organization id; "" for every one
	role    atlasx509.Role
	address string
}

// ParseRoleEmails parses comma-separated entries ROLE=address (for every
// project or organization) or ID/ROLE=address (for the project or
// organization ID only), such as
// "GROUP_OWNER=dba@example.com,ORG_OWNER=security@example.com". A role may
// have several entries. ROLE is an Atlas project or organization role.
func ParseRoleEmails(s string) (RoleEmails, error) {
	var out RoleEmails
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, addr, ok := strings.Cut(entry, "=")
		if !ok {
			return RoleEmails{}, fmt.Errorf("%q: want ROLE=address or ID/ROLE=address", entry)
		}
		scope, role, scoped := strings.Cut(key, "/")
		if !scoped {
			scope, role = "", key
		} else if !atlasx509.ValidID(scope) {
			return RoleEmails{}, fmt.Errorf("%q: %q is not a project or organization id", entry, scope)
		}
		r := atlasx509.Role(role)
		if !r.IsProjectRole() && !r.IsOrgRole() {
			return RoleEmails{}, fmt.Errorf("%q: %q is not an Atlas project or organization role", entry, role)
		}
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" || a.Address != addr {
			return RoleEmails{}, fmt.Errorf("%q: %q is not an e-mail address", entry, addr)
		}
		out.entries = append(out.entries, roleEmail{scope: scope, role: r, address: a.Address})
	}
	return out, nil
}

// Addresses returns the addresses of roles in the project or organization
// scopeID, each once, in the order of the setting. For each role, entries
// naming scopeID replace those for every scope. No roles means every role
// of the kind: project roles when project, organization roles otherwise
// (as an Atlas GROUP or ORG notification without roles goes to every
// member).
func (re RoleEmails) Addresses(scopeID string, project bool, roles []string) []string {
	want := func(r atlasx509.Role) bool {
		if len(roles) == 0 {
			return project && r.IsProjectRole() || !project && r.IsOrgRole()
		}
		return slices.Contains(roles, string(r))
	}
	scoped := map[atlasx509.Role]bool{}
	for _, e := range re.entries {
		if e.scope == scopeID {
			scoped[e.role] = true
		}
	}
	var out []string
	for _, e := range re.entries {
		if !want(e.role) || (e.scope != scopeID && (e.scope != "" || scoped[e.role])) {
			continue
		}
		if !slices.Contains(out, e.address) {
			out = append(out, e.address)
		}
	}
	return out
}
