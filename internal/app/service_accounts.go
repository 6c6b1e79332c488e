package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// ServiceAccountDetails is a service account with the roles an answer
// shows and its secrets. NewSecret is the clear value of the secret whose
// ID is NewSecretID, set only by the use case that created it: only its
// hash is stored.
type ServiceAccountDetails struct {
	Account     atlasx509.ServiceAccount
	Roles       []atlasx509.Role
	Secrets     []atlasx509.ServiceAccountSecret
	NewSecret   string
	NewSecretID string
}

// NewSecret is a secret just created, with its clear value.
type NewSecret struct {
	Secret atlasx509.ServiceAccountSecret
	Value  string
}

// ListServiceAccounts lists an organization's service accounts with their
// organization roles (Atlas listServiceAccounts).
func (a *App) ListServiceAccounts(ctx context.Context, p atlasx509.Principal, orgID string, opts ListOptions) ([]ServiceAccountDetails, int, error) {
	var out []ServiceAccountDetails
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		sas, err := tx.ListServiceAccounts(ctx, orgID, opts.page())
		if err != nil {
			return err
		}
		for _, sa := range sas {
			d, err := accountDetails(ctx, tx, sa, "")
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		total, err = tx.CountServiceAccounts(ctx, orgID)
		return err
	})
	return out, total, userStoreError("list service accounts", err)
}

// GetServiceAccount returns one service account of an organization (Atlas
// getServiceAccount).
func (a *App) GetServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		sa, err := loadServiceAccount(ctx, tx, orgID, clientID)
		if err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, "")
		return err
	})
	return d, userStoreError("get service account", err)
}

// CreateServiceAccount creates a service account with organization roles
// and its first secret (Atlas createServiceAccount). The answer holds the
// secret; it is never shown again.
func (a *App) CreateServiceAccount(ctx context.Context, p atlasx509.Principal, orgID string, req atlasapi.ServiceAccountRequest) (ServiceAccountDetails, error) {
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite)
		return err
	})
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	if req.Roles == nil || len(*req.Roles) == 0 {
		return ServiceAccountDetails{}, missing("roles")
	}
	roles, err := orgRoleNames(orgID, *req.Roles)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	return a.createServiceAccount(ctx, orgID, "", req, func(tx store.Tx, clientID string) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		return setRoles(ctx, tx, clientID, orgID, "", roles)
	})
}

// createServiceAccount validates the name, description and secret
// lifetime of req, then stores the account with its first secret and the
// roles assign gives it. groupID, when set, is the project whose roles the
// answer shows; otherwise it shows the organization roles.
func (a *App) createServiceAccount(ctx context.Context, orgID, groupID string, req atlasapi.ServiceAccountRequest, assign func(tx store.Tx, clientID string) error) (ServiceAccountDetails, error) {
	name, err := serviceAccountText("name", req.Name, maxServiceAccountName)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	desc, err := serviceAccountText("description", req.Description, maxServiceAccountDesc)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	hours, err := secretHours(req.SecretExpiresAfterHours)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	now := a.now().UTC()
	sa, secret, value, err := a.newServiceAccount(orgID, name, now, time.Duration(hours)*time.Hour)
	if err != nil {
		return ServiceAccountDetails{}, internal("make service account", err)
	}
	sa.Description = desc
	var d ServiceAccountDetails
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertServiceAccount(ctx, sa); err != nil {
			return err
		}
		if err := tx.InsertServiceAccountSecret(ctx, secret); err != nil {
			return err
		}
		if err := assign(tx, sa.ClientID); err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, groupID)
		return err
	})
	if err != nil {
		return ServiceAccountDetails{}, userStoreError("create service account", err)
	}
	d.NewSecret, d.NewSecretID = value, secret.ID
	return d, nil
}

// UpdateServiceAccount changes a service account's name and description
// and replaces its organization roles (Atlas updateServiceAccount).
// Attributes absent from the request keep their values.
func (a *App) UpdateServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string, req atlasapi.ServiceAccountUpdateRequest) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		sa, err := loadServiceAccount(ctx, tx, orgID, clientID)
		if err != nil {
			return err
		}
		if err := updateAccountText(ctx, tx, &sa, req); err != nil {
			return err
		}
		if req.Roles != nil {
			if len(*req.Roles) == 0 {
				return missing("roles")
			}
			roles, err := orgRoleNames(orgID, *req.Roles)
			if err != nil {
				return err
			}
			if !slices.Contains(roles, atlasx509.RoleOrgOwner) {
				if err := guardLastOwner(ctx, tx, orgID, sa.ClientID); err != nil {
					return err
				}
			}
			if err := setRoles(ctx, tx, sa.ClientID, orgID, "", roles); err != nil {
				return err
			}
		}
		d, err = accountDetails(ctx, tx, sa, "")
		return err
	})
	return d, userStoreError("update service account", err)
}

// updateAccountText applies the name and description of req to sa.
func updateAccountText(ctx context.Context, tx store.Tx, sa *atlasx509.ServiceAccount, req atlasapi.ServiceAccountUpdateRequest) error {
	if req.Name == nil && req.Description == nil {
		return nil
	}
	var err error
	if req.Name != nil {
		if sa.Name, err = serviceAccountText("name", req.Name, maxServiceAccountName); err != nil {
			return err
		}
	}
	if req.Description != nil {
		if sa.Description, err = serviceAccountText("description", req.Description, maxServiceAccountDesc); err != nil {
			return err
		}
	}
	return tx.UpdateServiceAccount(ctx, *sa)
}

// DeleteServiceAccount deletes a service account with its secrets, roles,
// access list and token records (Atlas deleteServiceAccount). Its tokens
// stop working at once: every request loads the account.
func (a *App) DeleteServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		sa, err := loadServiceAccount(ctx, tx, orgID, clientID)
		if err != nil {
			return err
		}
		if err := guardLastOwner(ctx, tx, orgID, sa.ClientID); err != nil {
			return err
		}
		return tx.DeleteServiceAccount(ctx, sa.ClientID)
	})
	return userStoreError("delete service account", err)
}

// CreateServiceAccountSecret adds a secret valid secretExpiresAfterHours
// (8 to 8760) to a service account (Atlas createServiceAccountSecret).
func (a *App) CreateServiceAccountSecret(ctx context.Context, p atlasx509.Principal, orgID, clientID string, req atlasapi.ServiceAccountSecretRequest) (NewSecret, error) {
	err := a.store.View(ctx, func(tx store.Tx) error {
		return loadCredential(ctx, tx, p, Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}, authz.OrgCredentialWrite)
	})
	if err != nil {
		return NewSecret{}, err
	}
	hours, err := secretHours(req.SecretExpiresAfterHours)
	if err != nil {
		return NewSecret{}, err
	}
	now := a.now().UTC()
	secret, value, err := a.newSecret(clientID, now, time.Duration(hours)*time.Hour)
	if err != nil {
		return NewSecret{}, internal("make secret", err)
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}, authz.OrgCredentialWrite); err != nil {
			return err
		}
		return tx.InsertServiceAccountSecret(ctx, secret)
	})
	if err != nil {
		return NewSecret{}, userStoreError("create secret", err)
	}
	return NewSecret{Secret: secret, Value: value}, nil
}

// DeleteServiceAccountSecret deletes a secret (Atlas
// deleteServiceAccountSecret): it can no longer obtain tokens. Tokens it
// obtained stay valid until they expire, unless revoked.
func (a *App) DeleteServiceAccountSecret(ctx context.Context, p atlasx509.Principal, orgID, clientID, secretID string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}, authz.OrgCredentialWrite); err != nil {
			return err
		}
		err := tx.DeleteServiceAccountSecret(ctx, clientID, secretID)
		if errors.Is(err, store.ErrNotFound) {
			return atlasx509.Errorf(atlasx509.KindNotFound, "SERVICE_ACCOUNT_SECRET_NOT_FOUND", "No secret with ID %s exists for Service Account %s.", secretID, clientID)
		}
		return err
	})
	return userStoreError("delete secret", err)
}

// ListServiceAccountProjects lists the projects a service account holds a
// role over (Atlas listServiceAccountProjects).
func (a *App) ListServiceAccountProjects(ctx context.Context, p atlasx509.Principal, orgID, clientID string) ([]string, error) {
	var groups []string
	err := a.store.View(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}, authz.OrgCredentialRead); err != nil {
			return err
		}
		ras, err := tx.ListRoleAssignments(ctx, clientID)
		for _, ra := range ras {
			if ra.GroupID != "" && ra.OrgID == orgID && !slices.Contains(groups, ra.GroupID) {
				groups = append(groups, ra.GroupID)
			}
		}
		return err
	})
	return groups, userStoreError("list service account projects", err)
}

// ListProjectServiceAccounts lists the service accounts that hold a role
// over a project, with those roles (Atlas listProjectServiceAccounts).
func (a *App) ListProjectServiceAccounts(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]ServiceAccountDetails, int, error) {
	var all []ServiceAccountDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage); err != nil {
			return err
		}
		ids, err := projectPrincipals(ctx, tx, groupID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			sa, err := tx.GetServiceAccount(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // an API key
			}
			if err != nil {
				return err
			}
			d, err := accountDetails(ctx, tx, sa, groupID)
			if err != nil {
				return err
			}
			all = append(all, d)
		}
		return nil
	})
	return PageOf(all, opts), len(all), userStoreError("list project service accounts", err)
}

// CreateProjectServiceAccount creates a service account of the project's
// organization with roles over the project and its first secret (Atlas
// createProjectServiceAccount). As Atlas does, it makes the account a
// member of the organization (ORG_MEMBER).
func (a *App) CreateProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID string, req atlasapi.ServiceAccountRequest) (ServiceAccountDetails, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		return err
	})
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	roles, err := projectRolesOf(groupID, req.Roles)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	return a.createServiceAccount(ctx, project.OrgID, groupID, req, func(tx store.Tx, clientID string) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage); err != nil {
			return err
		}
		if err := setRoles(ctx, tx, clientID, project.OrgID, "", []atlasx509.Role{atlasx509.RoleOrgMember}); err != nil {
			return err
		}
		return setRoles(ctx, tx, clientID, project.OrgID, groupID, roles)
	})
}

// GetProjectServiceAccount returns a service account assigned to a
// project, with its roles there (Atlas getProjectServiceAccount).
func (a *App) GetProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.View(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		d, err = projectAccount(ctx, tx, project, clientID)
		return err
	})
	return d, userStoreError("get project service account", err)
}

// UpdateProjectServiceAccount changes the name and description of a
// service account assigned to a project and replaces its roles there
// (Atlas updateProjectServiceAccount).
func (a *App) UpdateProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string, req atlasapi.ServiceAccountUpdateRequest) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		if d, err = projectAccount(ctx, tx, project, clientID); err != nil {
			return err
		}
		if err := updateAccountText(ctx, tx, &d.Account, req); err != nil {
			return err
		}
		if req.Roles != nil {
			roles, err := projectRolesOf(groupID, req.Roles)
			if err != nil {
				return err
			}
			if err := setRoles(ctx, tx, clientID, project.OrgID, groupID, roles); err != nil {
				return err
			}
		}
		d, err = accountDetails(ctx, tx, d.Account, groupID)
		return err
	})
	return d, userStoreError("update project service account", err)
}

// RemoveProjectServiceAccount removes every role a service account holds
// over a project (Atlas deleteProjectServiceAccount). The account stays in
// the organization and its secrets stay valid.
func (a *App) RemoveProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		if _, err := projectAccount(ctx, tx, project, clientID); err != nil {
			return err
		}
		_, err = tx.DeleteRoleAssignments(ctx, clientID, project.OrgID, groupID)
		return err
	})
	return userStoreError("remove project service account", err)
}

// AddProjectServiceAccount assigns a service account of the project's
// organization to the project with roles, replacing those it had there
// (Atlas addProjectServiceAccount).
func (a *App) AddProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string, req atlasapi.ServiceAccountRoleAssignment) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		sa, err := loadServiceAccount(ctx, tx, project.OrgID, clientID)
		if err != nil {
			return err
		}
		roles, err := projectRolesOf(groupID, req.Roles)
		if err != nil {
			return err
		}
		if err := setRoles(ctx, tx, sa.ClientID, project.OrgID, groupID, roles); err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, groupID)
		return err
	})
	return d, userStoreError("assign service account", err)
}

// projectAccount reads a service account of the project's organization
// that holds a role over the project.
func projectAccount(ctx context.Context, tx store.Tx, project atlasx509.Project, clientID string) (ServiceAccountDetails, error) {
	sa, err := loadServiceAccount(ctx, tx, project.OrgID, clientID)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	d, err := accountDetails(ctx, tx, sa, project.ID)
	if err == nil && len(d.Roles) == 0 {
		return ServiceAccountDetails{}, serviceAccountNotFound(clientID)
	}
	return d, err
}

// projectRolesOf checks a required, non-empty list of project roles.
func projectRolesOf(groupID string, names *[]string) ([]atlasx509.Role, error) {
	if names == nil || len(*names) == 0 {
		return nil, missing("roles")
	}
	return projectRoleNames(groupID, *names)
}

// accountDetails reads the secrets of sa and the roles an answer shows: its
// organization roles when groupID is "", otherwise its roles over groupID.
func accountDetails(ctx context.Context, tx store.Tx, sa atlasx509.ServiceAccount, groupID string) (ServiceAccountDetails, error) {
	ras, err := tx.ListRoleAssignments(ctx, sa.ClientID)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	secrets, err := tx.ListServiceAccountSecrets(ctx, sa.ClientID)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	d := ServiceAccountDetails{Account: sa, Secrets: secrets, Roles: []atlasx509.Role{}}
	for _, ra := range rolesOver(ras, sa.OrgID, groupID, groupID == "") {
		d.Roles = append(d.Roles, ra.Role)
	}
	return d, nil
}
