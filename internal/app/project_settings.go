package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// This file holds the use cases on what a project carries besides its
// users and certificates: its name and tags, its settings document and its
// limits. The settings configure nothing here; they are stored and answered
// so that clients that manage them (Terraform's mongodbatlas_project) work.

// ProjectUpdateInput changes a project (Atlas updateProject). A nil field
// was absent; a non-nil Tags replaces every tag.
type ProjectUpdateInput struct {
	Name                      *string
	Tags                      *[]atlasx509.Tag
	WithDefaultAlertsSettings *bool
}

// maxProjectTags and maxTagLength are Atlas's bounds on project tags.
const (
	maxProjectTags = 50
	maxTagLength   = 255
)

// validateTags checks tags as Atlas does: at most 50, keys and values of 1
// to 255 characters.
func validateTags(tags []atlasx509.Tag) error {
	if len(tags) > maxProjectTags {
		return errValidationField("tags", fmt.Sprintf("must have at most %d elements", maxProjectTags))
	}
	for i, t := range tags {
		for field, v := range map[string]string{"key": t.Key, "value": t.Value} {
			if n := utf8.RuneCountInString(v); n < 1 || n > maxTagLength || !utf8.ValidString(v) || hasInvisible(v) {
				return errValidationField(fmt.Sprintf("tags[%d].%s", i, field), fmt.Sprintf("must have 1 to %d characters", maxTagLength))
			}
		}
	}
	return nil
}

// UpdateProject renames a project, replaces its tags or changes its alerts
// flag (Atlas updateProject); it needs Project Owner.
func (a *App) UpdateProject(ctx context.Context, p atlasx509.Principal, groupID string, in ProjectUpdateInput) (atlasx509.Project, error) {
	var project atlasx509.Project
	err := a.store.Update(ctx, func(tx store.Tx) error {
		old, err := loadProject(ctx, tx, p, groupID, authz.ProjectWrite)
		if err != nil {
			return err
		}
		if in.Name != nil && !validName(*in.Name) {
			return errInvalidGroupName(*in.Name)
		}
		if in.Tags != nil {
			if err := validateTags(*in.Tags); err != nil {
				return err
			}
		}
		project = old
		if in.Name != nil {
			project.Name = *in.Name
		}
		if in.Tags != nil {
			project.Tags = slices.Clone(*in.Tags)
		}
		if in.WithDefaultAlertsSettings != nil {
			project.WithDefaultAlertsSettings = *in.WithDefaultAlertsSettings
		}
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		return a.recordProjectUpdate(ctx, tx, p, old, project)
	})
	var e *atlasx509.Error
	switch {
	case errors.As(err, &e):
		return atlasx509.Project{}, err
	case errors.Is(err, store.ErrConflict):
		return atlasx509.Project{}, errGroupAlreadyExists(*in.Name)
	case err != nil:
		return atlasx509.Project{}, internal("update project", err)
	}
	return project, nil
}

// GetProjectByName returns the project of that name among those the caller
// can see (Atlas getProjectByName).
func (a *App) GetProjectByName(ctx context.Context, p atlasx509.Principal, name string) (atlasx509.Project, error) {
	projects, _, err := a.ListProjects(ctx, p, ListOptions{PageNum: 1})
	if err != nil {
		return atlasx509.Project{}, err
	}
	for _, pr := range projects {
		if pr.Name == name {
			return pr, nil
		}
	}
	return atlasx509.Project{}, errGroupNameNotFound(name)
}

// ProjectSettingNames are the fields of Atlas's project settings document,
// in the order Atlas lists them.
var ProjectSettingNames = []string{
	"isClusterAiAssistantEnabled",
	"isCollectDatabaseSpecificsStatisticsEnabled",
	"isDataExplorerEnabled",
	"isDataExplorerGenAIFeaturesEnabled",
	"isDataExplorerGenAISampleDocumentPassingEnabled",
	"isDataValidationEnabled",
	"isExtendedStorageSizesEnabled",
	"isNativeRerankingEnabled",
	"isPerformanceAdvisorEnabled",
	"isRealtimePerformancePanelEnabled",
	"isSchemaAdvisorEnabled",
}

// projectSettingDefaults are the values of a new Atlas project's settings:
// the monitoring and Data Explorer features on, sample document passing
// off (the spec's default) and the features a project opts into off.
var projectSettingDefaults = map[string]bool{
	"isCollectDatabaseSpecificsStatisticsEnabled": true,
	"isDataExplorerEnabled":                       true,
	"isDataExplorerGenAIFeaturesEnabled":          true,
	"isPerformanceAdvisorEnabled":                 true,
	"isRealtimePerformancePanelEnabled":           true,
	"isSchemaAdvisorEnabled":                      true,
}

// projectSettings is the whole settings document of a project: the values
// that were set over the defaults.
func projectSettings(project atlasx509.Project) map[string]bool {
	out := make(map[string]bool, len(ProjectSettingNames))
	for _, name := range ProjectSettingNames {
		v, set := project.Settings[name]
		out[name] = v || !set && projectSettingDefaults[name]
	}
	return out
}

// GetProjectSettings returns a project's settings document, every field
// named in ProjectSettingNames (Atlas getProjectSettings).
func (a *App) GetProjectSettings(ctx context.Context, p atlasx509.Principal, groupID string) (map[string]bool, error) {
	project, err := a.GetProject(ctx, p, groupID)
	if err != nil {
		return nil, err
	}
	return projectSettings(project), nil
}

// UpdateProjectSettings sets the settings given, by name, and returns the
// whole document (Atlas updateProjectSettings); it needs Project Owner.
func (a *App) UpdateProjectSettings(ctx context.Context, p atlasx509.Principal, groupID string, set map[string]bool) (map[string]bool, error) {
	var project atlasx509.Project
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if project, err = loadProject(ctx, tx, p, groupID, authz.ProjectWrite); err != nil {
			return err
		}
		for name := range set {
			if !slices.Contains(ProjectSettingNames, name) {
				return errInvalidAttr(name)
			}
		}
		project.Settings = maps.Clone(project.Settings)
		if project.Settings == nil {
			project.Settings = map[string]bool{}
		}
		maps.Copy(project.Settings, set)
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, groupEvent(p, EventGroupSettingsUpdated, groupID))
	})
	if err != nil {
		return nil, projectStoreError("update project settings", err)
	}
	return projectSettings(project), nil
}

// projectStoreError passes Atlas errors through and hides the others.
func projectStoreError(op string, err error) error {
	var e *atlasx509.Error
	if errors.As(err, &e) {
		return err
	}
	return internal(op, err)
}

// recordProjectUpdate records the events of an updateProject: a name
// change, a change of tags, or else (the alert flag alone) a
// GROUP_SETTINGS_UPDATED, so that every update has its event.
func (a *App) recordProjectUpdate(ctx context.Context, tx store.Tx, p atlasx509.Principal, old, project atlasx509.Project) error {
	var types []string
	if old.Name != project.Name {
		types = append(types, EventGroupNameChanged)
	}
	if !slices.Equal(old.Tags, project.Tags) {
		types = append(types, EventGroupTagsModified)
	}
	if len(types) == 0 {
		types = append(types, EventGroupSettingsUpdated)
	}
	for _, typ := range types {
		if err := a.recordEvent(ctx, tx, groupEvent(p, typ, project.ID)); err != nil {
			return err
		}
	}
	return nil
}
