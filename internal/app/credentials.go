package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// This file holds what the use cases on API keys, service accounts and
// access lists share: loading an organization and a credential of it,
// checking role names, replacing roles, and keeping an owner in every
// organization.

// loadOrg reads the organization orgID and checks that p may perform perm
// on it. As for projects, a malformed id, a missing organization and one
// the caller holds no role in all get Atlas's answers for a missing one.
func loadOrg(ctx context.Context, tx store.Tx, p atlasx509.Principal, orgID string, perm authz.Permission) (atlasx509.Organization, error) {
	if !atlasx509.ValidID(orgID) {
		return atlasx509.Organization{}, errInvalidOrgID(orgID)
	}
	if !memberOf(p, orgID) {
		return atlasx509.Organization{}, errOrgNotFound(orgID)
	}
	org, err := tx.GetOrganization(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return atlasx509.Organization{}, errOrgNotFound(orgID)
	}
	if err != nil {
		return atlasx509.Organization{}, internal("get organization", err)
	}
	if !authz.Allowed(p, perm, orgID, "") {
		return atlasx509.Organization{}, errUnauthorized()
	}
	return org, nil
}

// orgRoleNames checks that every name is an organization role and returns
// the roles without duplicates, in the order given.
func orgRoleNames(orgID string, names []string) ([]atlasx509.Role, error) {
	return roleNames(names, atlasx509.Role.IsOrgRole, func(n string) error { return errInvalidRoleForOrg(n, orgID) })
}

// projectRoleNames checks that every name is a project role and returns
// the roles without duplicates, in the order given.
func projectRoleNames(groupID string, names []string) ([]atlasx509.Role, error) {
	return roleNames(names, atlasx509.Role.IsProjectRole, func(n string) error { return errInvalidRoleForGroup(n, groupID) })
}

// roleNames checks that every name is a role that valid accepts, with the
// error refused gives otherwise, and returns the roles without duplicates,
// in the order given.
func roleNames(names []string, valid func(atlasx509.Role) bool, refused func(name string) error) ([]atlasx509.Role, error) {
	var out []atlasx509.Role
	for _, n := range names {
		r := atlasx509.Role(n)
		if !valid(r) {
			return nil, refused(n)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// setRoles replaces the roles principalID, a credential of kind, holds over
// groupID of orgID (its organization roles when groupID is "") by roles.
func setRoles(ctx context.Context, tx store.Tx, kind atlasx509.PrincipalKind, principalID, orgID, groupID string, roles []atlasx509.Role) error {
	if _, err := tx.DeleteRoleAssignments(ctx, principalID, orgID, groupID); err != nil {
		return err
	}
	for _, r := range roles {
		ra := atlasx509.RoleAssignment{PrincipalID: principalID, PrincipalKind: kind, OrgID: orgID, GroupID: groupID, Role: r}
		if err := tx.InsertRoleAssignment(ctx, ra); err != nil {
			return err
		}
	}
	return nil
}

// rolesOver keeps the roles of ras that are organization roles of orgID or,
// when groupID is set, project roles over groupID.
func rolesOver(ras []atlasx509.RoleAssignment, orgID, groupID string, withOrg bool) []atlasx509.RoleAssignment {
	var out []atlasx509.RoleAssignment
	for _, ra := range ras {
		if ra.OrgID != orgID {
			continue
		}
		if ra.GroupID == "" && withOrg || ra.GroupID != "" && ra.GroupID == groupID {
			out = append(out, ra)
		}
	}
	return out
}

func isOrgOwner(ras []atlasx509.RoleAssignment, orgID string) bool {
	for _, ra := range ras {
		if ra.OrgID == orgID && ra.GroupID == "" && ra.Role == atlasx509.RoleOrgOwner {
			return true
		}
	}
	return false
}

// guardLastOwner refuses a change after which principalID no longer holds
// ORG_OWNER over orgID when it is the organization's last owner. It runs in
// the transaction that makes the change. Owners are counted over every API
// key and service account of the organization, the only holders of roles.
func guardLastOwner(ctx context.Context, tx store.Tx, orgID, principalID string) error {
	ras, err := tx.ListRoleAssignments(ctx, principalID)
	if err != nil {
		return err
	}
	if !isOrgOwner(ras, orgID) {
		return nil
	}
	var ids []string
	keys, err := tx.ListAPIKeys(ctx, orgID, store.Page{})
	if err != nil {
		return err
	}
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	sas, err := tx.ListServiceAccounts(ctx, orgID, store.Page{})
	if err != nil {
		return err
	}
	for _, sa := range sas {
		ids = append(ids, sa.ClientID)
	}
	for _, id := range ids {
		if id == principalID {
			continue
		}
		other, err := tx.ListRoleAssignments(ctx, id)
		if err != nil {
			return err
		}
		if isOrgOwner(other, orgID) {
			return nil // another owner remains
		}
	}
	return errCannotDemoteLastOrgOwner()
}

// PageOf returns the part of all that opts selects, for lists that are
// read whole.
func PageOf[T any](all []T, opts ListOptions) []T {
	from := (opts.PageNum - 1) * opts.ItemsPerPage
	if from >= len(all) || from < 0 {
		return nil
	}
	return all[from:min(len(all), from+opts.ItemsPerPage)]
}

// Atlas's bounds on credential attributes.
const (
	maxAPIKeyDesc            = 250
	maxAPIKeysPerOrg         = 500
	maxServiceAccountName    = 64
	maxServiceAccountDesc    = 250
	minSecretExpiresAfterHrs = 8
	maxSecretExpiresAfterHrs = 8760
)

// apiKeyDesc checks an API key description: required, at most 250
// characters.
func apiKeyDesc(desc *string) (string, error) {
	if desc == nil || strings.TrimSpace(*desc) == "" || !utf8.ValidString(*desc) || utf8.RuneCountInString(*desc) > maxAPIKeyDesc || hasInvisible(*desc) {
		return "", errInvalidAPIKeyDesc()
	}
	return *desc, nil
}

// serviceAccountText checks a service account's name or description as
// Atlas's spec bounds them: 1 to max characters, letters, digits, spaces
// and - _ . , '.
func serviceAccountText(attr string, v *string, max int) (string, error) {
	if v == nil {
		return "", errMissing(attr)
	}
	s := *v
	ok := s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.IsNumber(c) && !strings.ContainsRune("-_.,' ", c) {
			ok = false
		}
	}
	if !ok {
		return "", errInvalidAttr(attr)
	}
	return s, nil
}

// secretHours checks secretExpiresAfterHours: required, 8 to 8760 (a year),
// the bounds of Atlas's organization setting.
func secretHours(h *int) (int, error) {
	if h == nil {
		return 0, errMissing("secretExpiresAfterHours")
	}
	if *h < minSecretExpiresAfterHrs || *h > maxSecretExpiresAfterHrs {
		return 0, errValidationField("secretExpiresAfterHours", "must be between 8 and 8760")
	}
	return *h, nil
}
