package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// OrganizationInput changes an organization (Atlas renameOrganization). A nil field
// was absent.
type OrganizationInput struct {
	Name                      *string
	SkipDefaultAlertsSettings *bool
}

// ListOrganizations lists the organizations in which the caller holds an
// organization role, oldest first, those whose name starts with name (case
// insensitive) when name is not "" (Atlas listOrganizations).
func (a *App) ListOrganizations(ctx context.Context, p atlasx509.Principal, name string, opts ListOptions) ([]atlasx509.Organization, int, error) {
	var ids []string
	for _, ra := range p.Roles {
		if !slices.Contains(ids, ra.OrgID) && authz.Allowed(p, authz.OrgRead, ra.OrgID, "") {
			ids = append(ids, ra.OrgID)
		}
	}
	var orgs []atlasx509.Organization
	err := a.store.View(ctx, func(tx store.Tx) error {
		orgs = orgs[:0]
		for _, id := range ids {
			o, err := tx.GetOrganization(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if hasPrefixFold(o.Name, name) {
				orgs = append(orgs, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, internal("list organizations", err)
	}
	slices.SortFunc(orgs, func(x, y atlasx509.Organization) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return pageOf(orgs, opts), len(orgs), nil
}

// GetOrganization returns one organization of the caller (Atlas getOrganization).
func (a *App) GetOrganization(ctx context.Context, p atlasx509.Principal, orgID string) (atlasx509.Organization, error) {
	var org atlasx509.Organization
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		org, err = loadOrg(ctx, tx, p, orgID, authz.OrgRead)
		return err
	})
	return org, err
}

// OrganizationSettings are the organization settings atlasx509 answers
// (Atlas getOrgSettings). They are fixed and say what holds here: an API
// key needs no access list, no console sign-in asks for a second factor,
// no MongoDB employee has access to restrict, a service account secret
// lives at most a year (secretHours); the generative AI flag has Atlas's
// default and configures nothing.
type OrganizationSettings struct {
	APIAccessListRequired                  bool
	GenAIFeaturesEnabled                   bool
	MaxServiceAccountSecretValidityInHours int
	MultiFactorAuthRequired                bool
	RestrictEmployeeAccess                 bool
}

// GetOrganizationSettings returns an organization's settings document
// (Atlas getOrgSettings), which Terraform's organization data sources read.
func (a *App) GetOrganizationSettings(ctx context.Context, p atlasx509.Principal, orgID string) (OrganizationSettings, error) {
	if _, err := a.GetOrganization(ctx, p, orgID); err != nil {
		return OrganizationSettings{}, err
	}
	return OrganizationSettings{GenAIFeaturesEnabled: true, MaxServiceAccountSecretValidityInHours: maxSecretExpiresAfterHrs}, nil
}

// ListOrganizationUsers lists the MongoDB Cloud users of an organization
// (Atlas listOrgUsers), which Terraform's organization data sources read:
// atlasx509 has no console users, so the list is empty once the caller may
// read the organization.
func (a *App) ListOrganizationUsers(ctx context.Context, p atlasx509.Principal, orgID string) error {
	_, err := a.GetOrganization(ctx, p, orgID)
	return err
}

// RenameOrganization renames an organization and may change its alert flag
// (Atlas renameOrganization, updateOrg in the newest spec); it needs
// Organization Owner.
func (a *App) RenameOrganization(ctx context.Context, p atlasx509.Principal, orgID string, in OrganizationInput) (atlasx509.Organization, error) {
	var org atlasx509.Organization
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if org, err = loadOrg(ctx, tx, p, orgID, authz.OrgWrite); err != nil {
			return err
		}
		if in.Name == nil {
			return errMissing("name")
		}
		if !validName(*in.Name) {
			return errInvalidOrgName(*in.Name)
		}
		org.Name = *in.Name
		if in.SkipDefaultAlertsSettings != nil {
			org.SkipDefaultAlertsSettings = *in.SkipDefaultAlertsSettings
		}
		if err := tx.UpdateOrganization(ctx, org); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, orgEvent(p, EventOrgRenamed, orgID))
	})
	var e *atlasx509.Error
	if err != nil && !errors.As(err, &e) {
		return atlasx509.Organization{}, internal("update organization", err)
	}
	return org, err
}

// ListOrganizationProjects lists the projects of an organization that the
// caller can see: all of them for Organization Owner and Read Only, the
// ones it holds a project role in otherwise; those whose name starts with
// name (case insensitive) when name is not "" (Atlas listOrganizationProjects).
func (a *App) ListOrganizationProjects(ctx context.Context, p atlasx509.Principal, orgID, name string, opts ListOptions) ([]atlasx509.Project, int, error) {
	f := store.ProjectFilter{}
	if authz.Allowed(p, authz.ProjectRead, orgID, "") {
		f.OrgIDs = []string{orgID}
	} else {
		for _, ra := range p.Roles {
			if ra.OrgID == orgID && ra.GroupID != "" {
				f.GroupIDs = append(f.GroupIDs, ra.GroupID)
			}
		}
	}
	var projects []atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgRead); err != nil {
			return err
		}
		var err error
		projects, err = matchingProjects(ctx, tx, f, name)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return pageOf(projects, opts), len(projects), nil
}

// matchingProjects lists the projects f selects whose name starts with
// prefix, case insensitive. The filter runs here rather than in SQL: the
// projects one caller sees are few, and Unicode case folding is then the
// same on every driver.
func matchingProjects(ctx context.Context, tx store.Tx, f store.ProjectFilter, prefix string) ([]atlasx509.Project, error) {
	all, err := tx.ListProjects(ctx, f, store.Page{})
	if err != nil {
		return nil, internal("list projects", err)
	}
	out := all[:0]
	for _, pr := range all {
		if hasPrefixFold(pr.Name, prefix) {
			out = append(out, pr)
		}
	}
	return out, nil
}

// hasPrefixFold reports whether s starts with prefix under Unicode case
// folding.
func hasPrefixFold(s, prefix string) bool {
	n := utf8.RuneCountInString(prefix)
	for i := range s {
		if n == 0 {
			return strings.EqualFold(s[:i], prefix)
		}
		n--
	}
	return n == 0 && strings.EqualFold(s, prefix)
}

// pageOf returns the page opts selects of all.
func pageOf[T any](all []T, opts ListOptions) []T {
	start := (opts.PageNum - 1) * opts.ItemsPerPage
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+opts.ItemsPerPage, len(all))]
}
