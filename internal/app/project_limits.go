package app

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// LimitDatabaseUsers is the name of Atlas's limit on the database users of
// a project, the one project limit that means something here.
const LimitDatabaseUsers = "atlas.project.security.databaseAccess.users"

// limitBounds are a limit's default and the most its value may be set to
// with the API, as Atlas's spec tables them; the least is 1.
type limitBounds struct {
	Default, Maximum int64
}

// projectLimits are the project limits atlasx509 knows and enforces.
var projectLimits = map[string]limitBounds{
	LimitDatabaseUsers: {Default: MaxDatabaseUsers, Maximum: MaxDatabaseUsers},
}

// ProjectLimit is one limit of a project as Atlas answers it.
type ProjectLimit struct {
	Name                                  string
	Value, CurrentUsage, Default, Maximum int64
}

// limitValue is the value of limit name in project: the one set, or the
// default.
func limitValue(project atlasx509.Project, name string) int64 {
	if v, ok := project.Limits[name]; ok {
		return v
	}
	return projectLimits[name].Default
}

// projectLimit reads the limit name of project with its current usage.
func projectLimit(ctx context.Context, tx store.Tx, project atlasx509.Project, name string) (ProjectLimit, error) {
	b := projectLimits[name]
	l := ProjectLimit{Name: name, Value: limitValue(project, name), Default: b.Default, Maximum: b.Maximum}
	if name == LimitDatabaseUsers {
		n, err := tx.CountDatabaseUsers(ctx, project.ID)
		if err != nil {
			return ProjectLimit{}, err
		}
		l.CurrentUsage = int64(n)
	}
	return l, nil
}

// checkLimitName refuses a limit atlasx509 does not have.
func checkLimitName(name string) error {
	if _, ok := projectLimits[name]; !ok {
		return errLimitNotFound(name)
	}
	return nil
}

// ListProjectLimits returns every limit of a project (Atlas
// listProjectLimits).
func (a *App) ListProjectLimits(ctx context.Context, p atlasx509.Principal, groupID string) ([]ProjectLimit, error) {
	var out []ProjectLimit
	err := a.store.View(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, name := range []string{LimitDatabaseUsers} {
			l, err := projectLimit(ctx, tx, project, name)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, projectStoreError("list project limits", err)
	}
	return out, nil
}

// GetProjectLimit returns one limit of a project (Atlas getProjectLimit).
func (a *App) GetProjectLimit(ctx context.Context, p atlasx509.Principal, groupID, name string) (ProjectLimit, error) {
	var l ProjectLimit
	err := a.store.View(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		if err != nil {
			return err
		}
		if err := checkLimitName(name); err != nil {
			return err
		}
		l, err = projectLimit(ctx, tx, project, name)
		return err
	})
	if err != nil {
		return ProjectLimit{}, projectStoreError("get project limit", err)
	}
	return l, nil
}

// SetProjectLimit sets one limit of a project, from 1 to its maximum
// (Atlas setProjectLimit); it needs Project Owner. A value below the
// current usage is allowed: it refuses new users, it removes none.
func (a *App) SetProjectLimit(ctx context.Context, p atlasx509.Principal, groupID, name string, value *int64) (ProjectLimit, error) {
	return a.changeProjectLimit(ctx, p, groupID, name, func(b limitBounds, limits map[string]int64) error {
		if value == nil {
			return errMissing("value")
		}
		if *value < 1 || *value > b.Maximum {
			return errValidationField("value", fmt.Sprintf("must be between 1 and %d", b.Maximum))
		}
		limits[name] = *value
		return nil
	})
}

// DeleteProjectLimit resets one limit of a project to its default (Atlas
// deleteProjectLimit); it needs Project Owner.
func (a *App) DeleteProjectLimit(ctx context.Context, p atlasx509.Principal, groupID, name string) error {
	_, err := a.changeProjectLimit(ctx, p, groupID, name, func(_ limitBounds, limits map[string]int64) error {
		delete(limits, name)
		return nil
	})
	return err
}

// changeProjectLimit loads the project, checks the limit's name, lets change
// edit a copy of the project's limits and stores them.
func (a *App) changeProjectLimit(ctx context.Context, p atlasx509.Principal, groupID, name string, change func(limitBounds, map[string]int64) error) (ProjectLimit, error) {
	var l ProjectLimit
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectWrite)
		if err != nil {
			return err
		}
		if err := checkLimitName(name); err != nil {
			return err
		}
		limits := maps.Clone(project.Limits)
		if limits == nil {
			limits = map[string]int64{}
		}
		if err := change(projectLimits[name], limits); err != nil {
			return err
		}
		project.Limits = limits
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		ev := groupEvent(p, EventGroupLimitUpdated, groupID)
		ev.Details = map[string]string{"limitName": name}
		if v, ok := limits[name]; ok {
			ev.Details["value"] = strconv.FormatInt(v, 10)
		}
		if err := a.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		l, err = projectLimit(ctx, tx, project, name)
		return err
	})
	if err != nil {
		return ProjectLimit{}, projectStoreError("change project limit", err)
	}
	return l, nil
}

// ListProjectTeams lists the teams of a project (Atlas listProjectTeams):
// atlasx509 has no teams, so the list is empty once the caller may read
// the project.
func (a *App) ListProjectTeams(ctx context.Context, p atlasx509.Principal, groupID string) error {
	_, err := a.GetProject(ctx, p, groupID)
	return err
}

// ReturnAllIPAddresses returns the project whose IP addresses are asked for
// (Atlas returnAllIpAddresses): atlasx509 runs no clusters, so there are
// none.
func (a *App) ReturnAllIPAddresses(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, error) {
	return a.GetProject(ctx, p, groupID)
}

// ListProjectUsers lists the MongoDB Cloud users of a project (Atlas
// listGroupUsers): atlasx509 has no console users, so the list is empty
// once the caller may read the project.
func (a *App) ListProjectUsers(ctx context.Context, p atlasx509.Principal, groupID string) error {
	_, err := a.GetProject(ctx, p, groupID)
	return err
}

// ListClusters lists the clusters of a project (Atlas listClusters), which
// Terraform reads before it deletes a project: atlasx509 runs no clusters,
// so the list is empty once the caller may read the project.
func (a *App) ListClusters(ctx context.Context, p atlasx509.Principal, groupID string) error {
	_, err := a.GetProject(ctx, p, groupID)
	return err
}

// managedSlowMsSetting is the key of a project's Settings that holds
// Atlas's managed slow operation threshold flag (getManagedSlowMs). It is
// not a field of the settings document, so projectSettings leaves it out.
const managedSlowMsSetting = "managedSlowMs"

// GetManagedSlowMs returns whether the managed slow operation threshold is
// on for a project (Atlas getManagedSlowMs): on unless it was disabled, as
// in Atlas. It is stored and answered; it configures nothing here.
func (a *App) GetManagedSlowMs(ctx context.Context, p atlasx509.Principal, groupID string) (bool, error) {
	project, err := a.GetProject(ctx, p, groupID)
	if err != nil {
		return false, err
	}
	on, set := project.Settings[managedSlowMsSetting]
	return on || !set, nil
}

// SetManagedSlowMs turns the managed slow operation threshold on or off
// (Atlas enableManagedSlowMs and disableManagedSlowMs); it needs Project
// Owner and is recorded as a GROUP_SETTINGS_UPDATED event.
func (a *App) SetManagedSlowMs(ctx context.Context, p atlasx509.Principal, groupID string, on bool) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectWrite)
		if err != nil {
			return err
		}
		project.Settings = maps.Clone(project.Settings)
		if project.Settings == nil {
			project.Settings = map[string]bool{}
		}
		project.Settings[managedSlowMsSetting] = on
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		ev := groupEvent(p, EventGroupSettingsUpdated, groupID)
		ev.Details = map[string]string{managedSlowMsSetting: strconv.FormatBool(on)}
		return a.recordEvent(ctx, tx, ev)
	})
	if err != nil {
		return projectStoreError("change managed slow operation threshold", err)
	}
	return nil
}
