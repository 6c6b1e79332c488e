package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// ListOptions are Atlas's list query parameters, already validated.
type ListOptions struct {
	PageNum      int // from 1
	ItemsPerPage int // 1..500
}

func (o ListOptions) page() store.Page {
	return store.Page{Limit: o.ItemsPerPage, Offset: (o.PageNum - 1) * o.ItemsPerPage}
}

// ProjectInput creates a project: its name and organization (the
// caller's own when nil). A nil field was absent.
type ProjectInput struct {
	Name  *string
	OrgID *string
	// WithDefaultAlertsSettings is true when nil, as in Atlas.
	WithDefaultAlertsSettings *bool
	Tags                      []atlasx509.Tag
}

// CreateProject creates a project (Atlas createProject).
func (a *App) CreateProject(ctx context.Context, p atlasx509.Principal, req ProjectInput) (atlasx509.Project, error) {
	orgID := p.OrgID
	if req.OrgID != nil {
		orgID = *req.OrgID
	}
	if !atlasx509.ValidID(orgID) {
		return atlasx509.Project{}, errInvalidOrgID(orgID)
	}
	if !authz.Allowed(p, authz.ProjectCreate, orgID, "") {
		if !memberOf(p, orgID) {
			return atlasx509.Project{}, errOrgNotFound(orgID)
		}
		return atlasx509.Project{}, errUnauthorized()
	}
	if req.Name == nil {
		return atlasx509.Project{}, errMissing("name")
	}
	name := *req.Name
	if !validName(name) {
		return atlasx509.Project{}, errInvalidGroupName(name)
	}
	now := a.now().UTC()
	if err := validateTags(req.Tags); err != nil {
		return atlasx509.Project{}, err
	}
	project := atlasx509.Project{ID: atlasx509.NewID(now), OrgID: orgID, Name: name, Created: now,
		WithDefaultAlertsSettings: req.WithDefaultAlertsSettings == nil || *req.WithDefaultAlertsSettings,
		Tags:                      slices.Clone(req.Tags)}
	defaults := defaultAlertConfig(project.ID, now)
	ca, err := a.newCA(project.ID, 1, now.Truncate(time.Second))
	if err != nil {
		return atlasx509.Project{}, internal("create project CA", err)
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetOrganization(ctx, orgID); err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, project); err != nil {
			return err
		}
		if err := a.recordEvent(ctx, tx, projectEvent(p, EventGroupCreated, project)); err != nil {
			return err
		}
		// Its managed CA comes with it, so that reading it never writes.
		if err := tx.InsertProjectCA(ctx, ca); err != nil {
			return err
		}
		if !project.WithDefaultAlertsSettings {
			return nil
		}
		if err := tx.InsertAlertConfig(ctx, defaults); err != nil {
			return fmt.Errorf("default alert config: %w", err)
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return atlasx509.Project{}, errOrgNotFound(orgID)
	case errors.Is(err, store.ErrConflict):
		return atlasx509.Project{}, errGroupAlreadyExists(name)
	case err != nil:
		return atlasx509.Project{}, internal("create project", err)
	}
	return project, nil
}

// ListProjects lists the projects the caller can see (Atlas listProjects).
func (a *App) ListProjects(ctx context.Context, p atlasx509.Principal, opts ListOptions) ([]atlasx509.Project, int, error) {
	var f store.ProjectFilter
	for _, ra := range p.Roles {
		switch {
		case ra.GroupID != "":
			f.GroupIDs = append(f.GroupIDs, ra.GroupID)
		case ra.Role == atlasx509.RoleOrgOwner || ra.Role == atlasx509.RoleOrgReadOnly:
			f.OrgIDs = append(f.OrgIDs, ra.OrgID)
		}
	}
	var projects []atlasx509.Project
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		if projects, err = tx.ListProjects(ctx, f, opts.page()); err != nil {
			return err
		}
		total, err = tx.CountProjects(ctx, f)
		return err
	})
	if err != nil {
		return nil, 0, internal("list projects", err)
	}
	return projects, total, nil
}

// GetProject returns one project (Atlas getProject).
func (a *App) GetProject(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		return err
	})
	return project, err
}

// DeleteProject deletes a project with everything it holds (Atlas deleteProject).
func (a *App) DeleteProject(ctx context.Context, p atlasx509.Principal, groupID string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectDelete)
		if err != nil {
			return err
		}
		if err := tx.DeleteProject(ctx, groupID); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, projectEvent(p, EventGroupDeleted, project))
	})
	if err == nil {
		a.forgetCAs(groupID)
	}
	return err
}

// projectEvent is an event of the project itself: listed under the project
// and under its organization, as Atlas lists GROUP_CREATED and GROUP_DELETED.
func projectEvent(p atlasx509.Principal, typ string, project atlasx509.Project) atlasx509.Event {
	ev := groupEvent(p, typ, project.ID)
	ev.OrgID = project.OrgID
	return ev
}

// loadProject reads the project groupID and checks that p may perform perm
// on it. A malformed id, a missing project and a project the caller cannot
// access at all get the same answers Atlas gives for a missing one, so ids
// cannot be probed.
func loadProject(ctx context.Context, tx store.Tx, p atlasx509.Principal, groupID string, perm authz.Permission) (atlasx509.Project, error) {
	if !atlasx509.ValidID(groupID) {
		return atlasx509.Project{}, errInvalidGroupID(groupID)
	}
	project, err := tx.GetProject(ctx, groupID)
	if err := projectAccess(p, perm, groupID, project.OrgID, err); err != nil {
		return atlasx509.Project{}, err
	}
	return project, nil
}

// projectAccess turns the outcome err of reading the project groupID of
// the organization orgID into loadProject's answer to p asking for perm.
func projectAccess(p atlasx509.Principal, perm authz.Permission, groupID, orgID string, err error) error {
	if errors.Is(err, store.ErrNotFound) || err == nil && !authz.CanAccessProject(p, orgID, groupID) {
		return errGroupNotFound(groupID)
	}
	if err != nil {
		return internal("get project", err)
	}
	if !authz.Allowed(p, perm, orgID, groupID) {
		return errUnauthorized()
	}
	return nil
}

// authorize checks, in a read transaction, that the project exists for p
// and that p may perform perm on it: what a use case does before any work
// on its body (a slow derivation, a parse), so that a caller without the
// role costs nothing and learns nothing about its body.
func (a *App) authorize(ctx context.Context, p atlasx509.Principal, groupID string, perm authz.Permission) error {
	return a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadProject(ctx, tx, p, groupID, perm)
		return err
	})
}

// nameRE is Atlas's pattern of project and organization names (the spec's,
// with the space Atlas's own default names hold): letters, digits, spaces
// and - _ . ( ) , : & @ + ', at most 64.
var nameRE = regexp.MustCompile(`^[\p{L}\p{N}\-_.(),:&@+' ]{1,64}$`)

// validName reports whether name can name a project or an organization:
// Atlas's pattern, and not blank.
func validName(name string) bool {
	return strings.TrimSpace(name) != "" && utf8.ValidString(name) && nameRE.MatchString(name)
}

func memberOf(p atlasx509.Principal, orgID string) bool {
	for _, ra := range p.Roles {
		if ra.OrgID == orgID {
			return true
		}
	}
	return false
}

// ReachesProject reports whether p holds any role over the project groupID,
// so that the project's rate-limit bucket is charged only by its own callers:
// a credential that cannot see a project must not drain its bucket. It reads
// the store only for a caller with an organization-wide role. It decides
// no access, so an unconfirmed principal is taken as it was read.
func (a *App) ReachesProject(ctx context.Context, p atlasx509.Principal, groupID string) bool {
	p.UnconfirmedGeneration = 0
	orgWide := false
	for _, ra := range p.Roles {
		if ra.GroupID == groupID && groupID != "" {
			return true
		}
		orgWide = orgWide || ra.GroupID == "" && (ra.Role == atlasx509.RoleOrgOwner || ra.Role == atlasx509.RoleOrgReadOnly)
	}
	if !orgWide || !atlasx509.ValidID(groupID) {
		return false
	}
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = tx.GetProject(ctx, groupID)
		return err
	})
	return err == nil && authz.CanAccessProject(p, project.OrgID, project.ID)
}
