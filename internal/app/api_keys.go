package app

import (
	"context"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// APIKeyDetails is an API key with the roles an answer shows. PrivateKey is
// set only by the use cases that create the key: it is never stored.
type APIKeyDetails struct {
	Key        atlasx509.APIKey
	Roles      []atlasx509.RoleAssignment
	PrivateKey string
}

// APIKeyInput creates or changes an API key: its description and role
// names. A nil field was absent.
type APIKeyInput struct {
	Desc  *string
	Roles *[]string
}

// ListAPIKeys lists an organization's API keys with all their roles (Atlas
// listApiKeys).
func (a *App) ListAPIKeys(ctx context.Context, p atlasx509.Principal, orgID string, opts ListOptions) ([]APIKeyDetails, int, error) {
	return apiKeys.listOrg(ctx, a, p, orgID, opts)
}

// GetAPIKey returns one API key of an organization (Atlas getApiKey).
func (a *App) GetAPIKey(ctx context.Context, p atlasx509.Principal, orgID, keyID string) (APIKeyDetails, error) {
	return apiKeys.getOrg(ctx, a, p, orgID, keyID)
}

// CreateAPIKey creates an API key with organization roles (Atlas
// createApiKey). The answer holds the private key; it is never shown again.
func (a *App) CreateAPIKey(ctx context.Context, p atlasx509.Principal, orgID string, in APIKeyInput) (APIKeyDetails, error) {
	// The caller's right comes before the body, as for database users.
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite)
		return err
	})
	if err != nil {
		return APIKeyDetails{}, err
	}
	desc, roles, err := newKeyInput(in, func(names []string) ([]atlasx509.Role, error) { return orgRoleNames(orgID, names) })
	if err != nil {
		return APIKeyDetails{}, err
	}
	return a.createAPIKey(ctx, p, orgID, "", desc, func(tx store.Tx, keyID string) error {
		return setRoles(ctx, tx, atlasx509.PrincipalAPIKey, keyID, orgID, "", roles)
	})
}

// createAPIKey makes a key of orgID, stores it with the roles assign gives
// it and returns it with its private key. groupID, when set, is the project
// whose roles the answer shows (with the organization's).
func (a *App) createAPIKey(ctx context.Context, p atlasx509.Principal, orgID, groupID, desc string, assign func(tx store.Tx, keyID string) error) (APIKeyDetails, error) {
	now := a.now().UTC()
	key, private, err := a.newAPIKey(orgID, desc, now)
	if err != nil {
		return APIKeyDetails{}, internal("make API key", err)
	}
	var d APIKeyDetails
	err = a.store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.CountAPIKeys(ctx, orgID)
		if err != nil {
			return err
		}
		if n >= maxAPIKeysPerOrg {
			return errMaxAPIKeysPerOrgExceeded(orgID)
		}
		if err := tx.InsertAPIKey(ctx, key); err != nil {
			return err
		}
		if err := assign(tx, key.ID); err != nil {
			return err
		}
		if err := recordCreated(ctx, a, tx, p, apiKeys, key, orgID, groupID); err != nil {
			return err
		}
		d, err = keyDetails(ctx, tx, key, groupID)
		return err
	})
	if err != nil {
		return APIKeyDetails{}, userStoreError("create API key", err)
	}
	d.PrivateKey = private
	return d, nil
}

// UpdateAPIKey changes an API key's description and replaces its
// organization roles (Atlas updateApiKey). Its project roles stay.
func (a *App) UpdateAPIKey(ctx context.Context, p atlasx509.Principal, orgID, keyID string, in APIKeyInput) (APIKeyDetails, error) {
	var d APIKeyDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		k, err := apiKeys.load(ctx, tx, orgID, keyID)
		if err != nil {
			return err
		}
		err = updateKey(ctx, tx, &k, in, func(names []string) error {
			roles, err := orgRoleNames(orgID, names)
			if err != nil {
				return err
			}
			return apiKeys.setOrgRoles(ctx, tx, orgID, k.ID, roles)
		})
		if err != nil {
			return err
		}
		if err := a.recordKeyUpdate(ctx, tx, p, k, in, orgID, ""); err != nil {
			return err
		}
		d, err = keyDetails(ctx, tx, k, "")
		return err
	})
	return d, userStoreError("update API key", err)
}

// DeleteAPIKey deletes an API key with its roles in every project and its
// access list (Atlas deleteApiKey). The key stops authenticating at once.
func (a *App) DeleteAPIKey(ctx context.Context, p atlasx509.Principal, orgID, keyID string) error {
	return apiKeys.deleteOrg(ctx, a, p, orgID, keyID)
}

// ListProjectAPIKeys lists the API keys that hold a role over a project
// (Atlas listProjectApiKeys), each with its organization roles and its
// roles over this project.
func (a *App) ListProjectAPIKeys(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]APIKeyDetails, int, error) {
	return apiKeys.listProject(ctx, a, p, groupID, opts)
}

// CreateProjectAPIKey creates an API key of the project's organization and
// gives it project roles (Atlas createProjectApiKey). As in Atlas, the key
// is also a member of the organization (ORG_MEMBER).
func (a *App) CreateProjectAPIKey(ctx context.Context, p atlasx509.Principal, groupID string, in APIKeyInput) (APIKeyDetails, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		return err
	})
	if err != nil {
		return APIKeyDetails{}, err
	}
	desc, roles, err := newKeyInput(in, func(names []string) ([]atlasx509.Role, error) { return projectRoleNames(groupID, names) })
	if err != nil {
		return APIKeyDetails{}, err
	}
	return a.createAPIKey(ctx, p, project.OrgID, groupID, desc, func(tx store.Tx, keyID string) error {
		return apiKeys.joinProject(ctx, tx, p, project, keyID, roles)
	})
}

// AssignProjectAPIKey gives an API key of the project's organization the
// project roles names, replacing those it had there (Atlas
// addProjectApiKey).
func (a *App) AssignProjectAPIKey(ctx context.Context, p atlasx509.Principal, groupID, keyID string, names []string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		k, err := apiKeys.assign(ctx, tx, p, groupID, keyID, names, errMissingAPIKeyRoles())
		if err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, apiKeys.event(p, EventAPIKeyAddedToGroup, k, k.OrgID, groupID))
	})
	return userStoreError("assign API key", err)
}

// UpdateProjectAPIKeyRoles replaces the roles an API key holds over a
// project and may change its description (Atlas updateApiKeyRoles). As in
// Atlas, a key of the organization that is not yet assigned to the project
// is assigned with the roles given (the Atlas CLI's projects apiKeys assign
// and Terraform rely on it); without roles it is not found there.
func (a *App) UpdateProjectAPIKeyRoles(ctx context.Context, p atlasx509.Principal, groupID, keyID string, in APIKeyInput) (APIKeyDetails, error) {
	var d APIKeyDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		load := apiKeys.loadMember
		if in.Roles != nil {
			load = func(ctx context.Context, tx store.Tx, project atlasx509.Project, id string) (atlasx509.APIKey, error) {
				return apiKeys.load(ctx, tx, project.OrgID, id) // any key of the organization
			}
		}
		k, err := load(ctx, tx, project, keyID)
		if err != nil {
			return err
		}
		err = updateKey(ctx, tx, &k, in, func(names []string) error {
			roles, err := projectRoleNames(groupID, names)
			if err != nil {
				return err
			}
			return setRoles(ctx, tx, atlasx509.PrincipalAPIKey, k.ID, project.OrgID, groupID, roles)
		})
		if err != nil {
			return err
		}
		if err := a.recordKeyUpdate(ctx, tx, p, k, in, project.OrgID, groupID); err != nil {
			return err
		}
		d, err = keyDetails(ctx, tx, k, groupID)
		return err
	})
	return d, userStoreError("update API key roles", err)
}

// RemoveProjectAPIKey removes every role an API key holds over a project
// (Atlas removeProjectApiKey). The key stays in the organization.
func (a *App) RemoveProjectAPIKey(ctx context.Context, p atlasx509.Principal, groupID, keyID string) error {
	return apiKeys.remove(ctx, a, p, groupID, keyID)
}

// keyDetails reads the roles of k an answer shows: every role when
// groupID is "", otherwise its organization roles and those over groupID.
func keyDetails(ctx context.Context, tx store.Tx, k atlasx509.APIKey, groupID string) (APIKeyDetails, error) {
	ras, err := tx.ListRoleAssignments(ctx, k.ID)
	if err != nil {
		return APIKeyDetails{}, err
	}
	if groupID != "" {
		ras = rolesOver(ras, k.OrgID, groupID, true)
	}
	return APIKeyDetails{Key: k, Roles: ras}, nil
}

// updateKey applies an API key change: a new description and/or new role
// names, which setRoles checks and assigns.
func updateKey(ctx context.Context, tx store.Tx, k *atlasx509.APIKey, in APIKeyInput, setRoles func(names []string) error) error {
	if in.Desc == nil && in.Roles == nil {
		return errMissingOneOf("desc", "roles")
	}
	if in.Desc != nil {
		desc, err := apiKeyDesc(in.Desc)
		if err != nil {
			return err
		}
		k.Description = desc
		if err := tx.UpdateAPIKey(ctx, *k); err != nil {
			return err
		}
	}
	if in.Roles == nil {
		return nil
	}
	if len(*in.Roles) == 0 {
		return errMissingAPIKeyRoles()
	}
	return setRoles(*in.Roles)
}

// newKeyInput checks the description and the (required) roles of a new API
// key, parsing the roles with parseRoles.
func newKeyInput(in APIKeyInput, parseRoles func(names []string) ([]atlasx509.Role, error)) (string, []atlasx509.Role, error) {
	desc, err := apiKeyDesc(in.Desc)
	if err != nil {
		return "", nil, err
	}
	if in.Roles == nil || len(*in.Roles) == 0 {
		return "", nil, errMissingAPIKeyRoles()
	}
	roles, err := parseRoles(*in.Roles)
	return desc, roles, err
}

// recordKeyUpdate records the events of a change of an API key: its
// description, its roles (over the project groupID when set), or both.
func (a *App) recordKeyUpdate(ctx context.Context, tx store.Tx, p atlasx509.Principal, k atlasx509.APIKey, in APIKeyInput, orgID, groupID string) error {
	if in.Desc != nil {
		if err := a.recordEvent(ctx, tx, apiKeys.event(p, EventAPIKeyDescription, k, orgID, "")); err != nil {
			return err
		}
	}
	if in.Roles != nil {
		return a.recordEvent(ctx, tx, apiKeys.event(p, EventAPIKeyRolesChanged, k, orgID, groupID))
	}
	return nil
}
