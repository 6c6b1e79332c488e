package app

import (
	"context"
	"errors"
	"slices"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
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

// ListAPIKeys lists an organization's API keys with all their roles (Atlas
// listApiKeys).
func (a *App) ListAPIKeys(ctx context.Context, p atlasx509.Principal, orgID string, opts ListOptions) ([]APIKeyDetails, int, error) {
	var out []APIKeyDetails
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		keys, err := tx.ListAPIKeys(ctx, orgID, opts.page())
		if err != nil {
			return err
		}
		for _, k := range keys {
			d, err := keyDetails(ctx, tx, k, "")
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		total, err = tx.CountAPIKeys(ctx, orgID)
		return err
	})
	return out, total, userStoreError("list API keys", err)
}

// GetAPIKey returns one API key of an organization (Atlas getApiKey).
func (a *App) GetAPIKey(ctx context.Context, p atlasx509.Principal, orgID, keyID string) (APIKeyDetails, error) {
	var d APIKeyDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, orgID, keyID)
		if err != nil {
			return err
		}
		d, err = keyDetails(ctx, tx, k, "")
		return err
	})
	return d, userStoreError("get API key", err)
}

// CreateAPIKey creates an API key with organization roles (Atlas
// createApiKey). The answer holds the private key; it is never shown again.
func (a *App) CreateAPIKey(ctx context.Context, p atlasx509.Principal, orgID string, req atlasapi.APIKeyRequest) (APIKeyDetails, error) {
	// The caller's right comes before the body, as for database users.
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite)
		return err
	})
	if err != nil {
		return APIKeyDetails{}, err
	}
	desc, roles, err := newKeyInput(req, func(names []string) ([]atlasx509.Role, error) { return orgRoleNames(orgID, names) })
	if err != nil {
		return APIKeyDetails{}, err
	}
	return a.createAPIKey(ctx, p, orgID, "", desc, func(tx store.Tx, keyID string) error {
		return setRoles(ctx, tx, keyID, orgID, "", roles)
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
			return invalid("MAX_API_KEYS_PER_ORG_EXCEEDED", "Maximum number of API keys per org %d in %s exceeded while trying to add API keys.", maxAPIKeysPerOrg, orgID)
		}
		if err := tx.InsertAPIKey(ctx, key); err != nil {
			return err
		}
		if err := assign(tx, key.ID); err != nil {
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
func (a *App) UpdateAPIKey(ctx context.Context, p atlasx509.Principal, orgID, keyID string, req atlasapi.APIKeyRequest) (APIKeyDetails, error) {
	var d APIKeyDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, orgID, keyID)
		if err != nil {
			return err
		}
		err = updateKey(ctx, tx, &k, req, orgID, "", func(names []string) ([]atlasx509.Role, error) {
			roles, err := orgRoleNames(orgID, names)
			if err == nil && !slices.Contains(roles, atlasx509.RoleOrgOwner) {
				err = guardLastOwner(ctx, tx, orgID, k.ID)
			}
			return roles, err
		})
		if err != nil {
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
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, orgID, keyID)
		if err != nil {
			return err
		}
		if err := guardLastOwner(ctx, tx, orgID, k.ID); err != nil {
			return err
		}
		return tx.DeleteAPIKey(ctx, k.ID)
	})
	return userStoreError("delete API key", err)
}

// ListProjectAPIKeys lists the API keys that hold a role over a project
// (Atlas listProjectApiKeys), each with its organization roles and its
// roles over this project.
func (a *App) ListProjectAPIKeys(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]APIKeyDetails, int, error) {
	var all []APIKeyDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage); err != nil {
			return err
		}
		ids, err := projectPrincipals(ctx, tx, groupID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			k, err := tx.GetAPIKey(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // a service account
			}
			if err != nil {
				return err
			}
			d, err := keyDetails(ctx, tx, k, groupID)
			if err != nil {
				return err
			}
			all = append(all, d)
		}
		return nil
	})
	return PageOf(all, opts), len(all), userStoreError("list project API keys", err)
}

// CreateProjectAPIKey creates an API key of the project's organization and
// gives it project roles (Atlas createProjectApiKey). As in Atlas, the key
// is also a member of the organization (ORG_MEMBER).
func (a *App) CreateProjectAPIKey(ctx context.Context, p atlasx509.Principal, groupID string, req atlasapi.APIKeyRequest) (APIKeyDetails, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		return err
	})
	if err != nil {
		return APIKeyDetails{}, err
	}
	desc, roles, err := newKeyInput(req, func(names []string) ([]atlasx509.Role, error) { return projectRoleNames(groupID, names) })
	if err != nil {
		return APIKeyDetails{}, err
	}
	return a.createAPIKey(ctx, p, project.OrgID, groupID, desc, func(tx store.Tx, keyID string) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage); err != nil {
			return err
		}
		if err := setRoles(ctx, tx, keyID, project.OrgID, "", []atlasx509.Role{atlasx509.RoleOrgMember}); err != nil {
			return err
		}
		return setRoles(ctx, tx, keyID, project.OrgID, groupID, roles)
	})
}

// AssignProjectAPIKey gives an API key of the project's organization roles
// over the project, replacing those it had there (Atlas addProjectApiKey).
// The roles of every item of the body are assigned.
func (a *App) AssignProjectAPIKey(ctx context.Context, p atlasx509.Principal, groupID, keyID string, items []atlasapi.UserAccessRoleAssignment) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, project.OrgID, keyID)
		if err != nil {
			return err
		}
		var names []string
		for _, it := range items {
			if it.Roles != nil {
				names = append(names, *it.Roles...)
			}
		}
		if len(names) == 0 {
			return missingAPIKeyRoles()
		}
		roles, err := projectRoleNames(groupID, names)
		if err != nil {
			return err
		}
		return setRoles(ctx, tx, k.ID, project.OrgID, groupID, roles)
	})
	return userStoreError("assign API key", err)
}

// UpdateProjectAPIKeyRoles replaces the roles an API key holds over a
// project and may change its description (Atlas updateApiKeyRoles). The
// key must already be assigned to the project.
func (a *App) UpdateProjectAPIKeyRoles(ctx context.Context, p atlasx509.Principal, groupID, keyID string, req atlasapi.APIKeyRequest) (APIKeyDetails, error) {
	var d APIKeyDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, project.OrgID, keyID)
		if err != nil {
			return err
		}
		ras, err := tx.ListRoleAssignments(ctx, k.ID)
		if err != nil {
			return err
		}
		if len(rolesOver(ras, project.OrgID, groupID, false)) == 0 {
			return apiKeyNotFound(keyID)
		}
		err = updateKey(ctx, tx, &k, req, project.OrgID, groupID, func(names []string) ([]atlasx509.Role, error) {
			return projectRoleNames(groupID, names)
		})
		if err != nil {
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
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		k, err := loadAPIKey(ctx, tx, project.OrgID, keyID)
		if err != nil {
			return err
		}
		n, err := tx.DeleteRoleAssignments(ctx, k.ID, project.OrgID, groupID)
		if err == nil && n == 0 {
			return apiKeyNotFound(keyID)
		}
		return err
	})
	return userStoreError("remove API key from project", err)
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

func missingAPIKeyRoles() error {
	return invalid("MISSING_API_KEY_ROLES", "API keys must have at least one role.")
}

func missingOneOf(a, b string) error {
	return invalid("MISSING_ONE_OF_ATTRIBUTES", "Either the %s attribute or the %s attribute must be specified.", a, b)
}

// updateKey applies an API key change: a new description and/or the roles
// the key holds over groupID in orgID ("" groupID: its organization roles),
// parsed and checked by parseRoles.
func updateKey(ctx context.Context, tx store.Tx, k *atlasx509.APIKey, req atlasapi.APIKeyRequest, orgID, groupID string,
	parseRoles func(names []string) ([]atlasx509.Role, error)) error {
	if req.Desc == nil && req.Roles == nil {
		return missingOneOf("desc", "roles")
	}
	if req.Desc != nil {
		desc, err := apiKeyDesc(req.Desc)
		if err != nil {
			return err
		}
		k.Description = desc
		if err := tx.UpdateAPIKey(ctx, *k); err != nil {
			return err
		}
	}
	if req.Roles == nil {
		return nil
	}
	if len(*req.Roles) == 0 {
		return missingAPIKeyRoles()
	}
	roles, err := parseRoles(*req.Roles)
	if err != nil {
		return err
	}
	return setRoles(ctx, tx, k.ID, orgID, groupID, roles)
}

// newKeyInput checks the description and the (required) roles of a new API
// key, parsing the roles with parseRoles.
func newKeyInput(req atlasapi.APIKeyRequest, parseRoles func(names []string) ([]atlasx509.Role, error)) (string, []atlasx509.Role, error) {
	desc, err := apiKeyDesc(req.Desc)
	if err != nil {
		return "", nil, err
	}
	if req.Roles == nil || len(*req.Roles) == 0 {
		return "", nil, missingAPIKeyRoles()
	}
	roles, err := parseRoles(*req.Roles)
	return desc, roles, err
}
