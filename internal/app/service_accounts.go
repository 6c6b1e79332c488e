package app

import (
	"context"
	"errors"
	"time"

	"github.com/atlasx509/atlasx509"
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

// ServiceAccountInput creates or changes a service account. A nil field
// was absent; SecretExpiresAfterHours, the lifetime of the first secret,
// counts only on creation.
type ServiceAccountInput struct {
	Name                    *string
	Description             *string
	Roles                   *[]string
	SecretExpiresAfterHours *int
}

// ListServiceAccounts lists an organization's service accounts with their
// organization roles (Atlas listServiceAccounts).
func (a *App) ListServiceAccounts(ctx context.Context, p atlasx509.Principal, orgID string, opts ListOptions) ([]ServiceAccountDetails, int, error) {
	return serviceAccounts.listOrg(ctx, a, p, orgID, opts)
}

// GetServiceAccount returns one service account of an organization (Atlas
// getServiceAccount).
func (a *App) GetServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string) (ServiceAccountDetails, error) {
	return serviceAccounts.getOrg(ctx, a, p, orgID, clientID)
}

// CreateServiceAccount creates a service account with organization roles
// and its first secret (Atlas createServiceAccount). The answer holds the
// secret; it is never shown again.
func (a *App) CreateServiceAccount(ctx context.Context, p atlasx509.Principal, orgID string, in ServiceAccountInput) (ServiceAccountDetails, error) {
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite)
		return err
	})
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	if in.Roles == nil || len(*in.Roles) == 0 {
		return ServiceAccountDetails{}, errMissing("roles")
	}
	roles, err := orgRoleNames(orgID, *in.Roles)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	return a.createServiceAccount(ctx, p, orgID, "", in, func(tx store.Tx, clientID string) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		return setRoles(ctx, tx, atlasx509.PrincipalServiceAccount, clientID, orgID, "", roles)
	})
}

// createServiceAccount validates the name, description and secret
// lifetime of in, then stores the account with its first secret and the
// roles assign gives it. groupID, when set, is the project whose roles the
// answer shows; otherwise it shows the organization roles.
func (a *App) createServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, groupID string, in ServiceAccountInput, assign func(tx store.Tx, clientID string) error) (ServiceAccountDetails, error) {
	name, err := serviceAccountText("name", in.Name, maxServiceAccountName)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	desc, err := serviceAccountText("description", in.Description, maxServiceAccountDesc)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	hours, err := secretHours(in.SecretExpiresAfterHours)
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
		if err := recordCreated(ctx, a, tx, p, serviceAccounts, sa, orgID, groupID); err != nil {
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
func (a *App) UpdateServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string, in ServiceAccountInput) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		sa, err := serviceAccounts.load(ctx, tx, orgID, clientID)
		if err != nil {
			return err
		}
		if err := updateAccountText(ctx, tx, &sa, in); err != nil {
			return err
		}
		if in.Roles != nil {
			if len(*in.Roles) == 0 {
				return errMissing("roles")
			}
			roles, err := orgRoleNames(orgID, *in.Roles)
			if err != nil {
				return err
			}
			if err := serviceAccounts.setOrgRoles(ctx, tx, orgID, sa.ClientID, roles); err != nil {
				return err
			}
		}
		if err := a.recordAccountUpdate(ctx, tx, p, sa, in, orgID, ""); err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, "")
		return err
	})
	return d, userStoreError("update service account", err)
}

// updateAccountText applies the name and description of in to sa.
func updateAccountText(ctx context.Context, tx store.Tx, sa *atlasx509.ServiceAccount, in ServiceAccountInput) error {
	if in.Name == nil && in.Description == nil {
		return nil
	}
	var err error
	if in.Name != nil {
		if sa.Name, err = serviceAccountText("name", in.Name, maxServiceAccountName); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if sa.Description, err = serviceAccountText("description", in.Description, maxServiceAccountDesc); err != nil {
			return err
		}
	}
	return tx.UpdateServiceAccount(ctx, *sa)
}

// DeleteServiceAccount deletes a service account with its secrets, roles,
// access list and token records (Atlas deleteServiceAccount). Its tokens
// stop working at once: every request loads the account.
func (a *App) DeleteServiceAccount(ctx context.Context, p atlasx509.Principal, orgID, clientID string) error {
	return serviceAccounts.deleteOrg(ctx, a, p, orgID, clientID)
}

// CreateServiceAccountSecret adds a secret valid secretExpiresAfterHours
// (8 to 8760) to a service account (Atlas createServiceAccountSecret).
func (a *App) CreateServiceAccountSecret(ctx context.Context, p atlasx509.Principal, orgID, clientID string, expiresAfterHours *int) (NewSecret, error) {
	err := a.store.View(ctx, func(tx store.Tx) error {
		return loadCredential(ctx, tx, p, Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}, authz.OrgCredentialWrite)
	})
	if err != nil {
		return NewSecret{}, err
	}
	hours, err := secretHours(expiresAfterHours)
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
		if err := tx.InsertServiceAccountSecret(ctx, secret); err != nil {
			return err
		}
		return a.recordSecretEvent(ctx, tx, p, EventSASecretAdded, orgID, clientID, secret.ID)
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
			return errServiceAccountSecretNotFound(secretID, clientID)
		}
		if err != nil {
			return err
		}
		return a.recordSecretEvent(ctx, tx, p, EventSASecretDeleted, orgID, clientID, secretID)
	})
	return userStoreError("delete secret", err)
}

// ListServiceAccountProjects lists the projects a service account holds a
// role over (Atlas listServiceAccountProjects), a page of them in id order,
// with their total.
func (a *App) ListServiceAccountProjects(ctx context.Context, p atlasx509.Principal, orgID, clientID string, opts ListOptions) ([]string, int, error) {
	var groups []string
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		c := Credential{OrgID: orgID, Kind: atlasx509.PrincipalServiceAccount, ID: clientID}
		if err := loadCredential(ctx, tx, p, c, authz.OrgCredentialRead); err != nil {
			return err
		}
		var err error
		if groups, err = tx.ListPrincipalProjects(ctx, clientID, orgID, opts.page()); err != nil {
			return err
		}
		total, err = tx.CountPrincipalProjects(ctx, clientID, orgID)
		return err
	})
	return groups, total, userStoreError("list service account projects", err)
}

// ListProjectServiceAccounts lists the service accounts that hold a role
// over a project, with those roles (Atlas listProjectServiceAccounts).
func (a *App) ListProjectServiceAccounts(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]ServiceAccountDetails, int, error) {
	return serviceAccounts.listProject(ctx, a, p, groupID, opts)
}

// CreateProjectServiceAccount creates a service account of the project's
// organization with roles over the project and its first secret (Atlas
// createProjectServiceAccount). As Atlas does, it makes the account a
// member of the organization (ORG_MEMBER).
func (a *App) CreateProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID string, in ServiceAccountInput) (ServiceAccountDetails, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		return err
	})
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	roles, err := projectRolesOf(groupID, in.Roles)
	if err != nil {
		return ServiceAccountDetails{}, err
	}
	return a.createServiceAccount(ctx, p, project.OrgID, groupID, in, func(tx store.Tx, clientID string) error {
		return serviceAccounts.joinProject(ctx, tx, p, project, clientID, roles)
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
		sa, err := serviceAccounts.loadMember(ctx, tx, project, clientID)
		if err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, groupID)
		return err
	})
	return d, userStoreError("get project service account", err)
}

// UpdateProjectServiceAccount changes the name and description of a
// service account assigned to a project and replaces its roles there
// (Atlas updateProjectServiceAccount).
func (a *App) UpdateProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string, in ServiceAccountInput) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		sa, err := serviceAccounts.loadMember(ctx, tx, project, clientID)
		if err != nil {
			return err
		}
		if err := updateAccountText(ctx, tx, &sa, in); err != nil {
			return err
		}
		if in.Roles != nil {
			roles, err := projectRolesOf(groupID, in.Roles)
			if err != nil {
				return err
			}
			if err := setRoles(ctx, tx, atlasx509.PrincipalServiceAccount, clientID, project.OrgID, groupID, roles); err != nil {
				return err
			}
		}
		if err := a.recordAccountUpdate(ctx, tx, p, sa, in, project.OrgID, groupID); err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, groupID)
		return err
	})
	return d, userStoreError("update project service account", err)
}

// RemoveProjectServiceAccount removes every role a service account holds
// over a project (Atlas deleteProjectServiceAccount). The account stays in
// the organization and its secrets stay valid.
func (a *App) RemoveProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string) error {
	return serviceAccounts.remove(ctx, a, p, groupID, clientID)
}

// AddProjectServiceAccount assigns a service account of the project's
// organization to the project with the roles names, replacing those it had
// there (Atlas addProjectServiceAccount).
func (a *App) AddProjectServiceAccount(ctx context.Context, p atlasx509.Principal, groupID, clientID string, names []string) (ServiceAccountDetails, error) {
	var d ServiceAccountDetails
	err := a.store.Update(ctx, func(tx store.Tx) error {
		sa, err := serviceAccounts.assign(ctx, tx, p, groupID, clientID, names, errMissing("roles"))
		if err != nil {
			return err
		}
		if err := a.recordEvent(ctx, tx, serviceAccounts.event(p, EventSAAddedToGroup, sa, sa.OrgID, groupID)); err != nil {
			return err
		}
		d, err = accountDetails(ctx, tx, sa, groupID)
		return err
	})
	return d, userStoreError("assign service account", err)
}

// projectRolesOf checks a required, non-empty list of project roles.
func projectRolesOf(groupID string, names *[]string) ([]atlasx509.Role, error) {
	if names == nil || len(*names) == 0 {
		return nil, errMissing("roles")
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

// recordAccountUpdate records the events of a change of a service account:
// its name or description, its roles (over the project groupID when set).
func (a *App) recordAccountUpdate(ctx context.Context, tx store.Tx, p atlasx509.Principal, sa atlasx509.ServiceAccount, in ServiceAccountInput, orgID, groupID string) error {
	if in.Name != nil || in.Description != nil {
		if err := a.recordEvent(ctx, tx, serviceAccounts.event(p, EventSADetailsChanged, sa, orgID, "")); err != nil {
			return err
		}
	}
	if in.Roles != nil {
		return a.recordEvent(ctx, tx, serviceAccounts.event(p, EventSARolesChanged, sa, orgID, groupID))
	}
	return nil
}

// recordSecretEvent records the addition or deletion of a secret of a
// service account.
func (a *App) recordSecretEvent(ctx context.Context, tx store.Tx, p atlasx509.Principal, typ, orgID, clientID, secretID string) error {
	ev := orgEvent(p, typ, orgID)
	ev.TargetClientID = clientID
	ev.Details = map[string]string{"secretId": secretID}
	return a.recordEvent(ctx, tx, ev)
}
