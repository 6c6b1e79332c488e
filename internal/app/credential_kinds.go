package app

import (
	"context"
	"errors"
	"slices"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// This file holds the one implementation of what API keys and service
// accounts share: reading one of an organization, listing an
// organization's and a project's, deleting one with everything that is its,
// and managing its roles over a project. A credentialKind parameterises it
// by kind: T is the stored record, D the details an answer shows.

// credentialKind is what the shared use cases need to know of one kind of
// credential.
type credentialKind[T, D any] struct {
	kind atlasx509.PrincipalKind
	// plural names the kind in the operations of internal errors.
	plural string
	// validID, when set, refuses an id that cannot be one of this kind
	// before the store is asked.
	validID  func(id string) bool
	get      func(ctx context.Context, tx store.Tx, id string) (T, error)
	orgOf    func(T) string
	notFound func(id string) error
	list     func(ctx context.Context, tx store.Tx, orgID string, page store.Page) ([]T, error)
	count    func(ctx context.Context, tx store.Tx, orgID string) (int, error)
	// details reads what an answer shows of a credential: at the
	// organization when groupID is "", otherwise over that project.
	details func(ctx context.Context, tx store.Tx, c T, groupID string) (D, error)
	// events are the kind's event type names; target names the credential
	// in an event about it.
	events credentialEvents
	target func(c T, ev *atlasx509.Event)
}

// credentialEvents are the event types of one kind of credential.
type credentialEvents struct {
	created, deleted, details, roles, added, removed, accessAdded, accessDeleted string
}

// event returns the event of type typ about the credential c, of the
// organization orgID or, when groupID is set, of that project.
func (k credentialKind[T, D]) event(p atlasx509.Principal, typ string, c T, orgID, groupID string) atlasx509.Event {
	ev := newEvent(p, typ)
	if groupID != "" {
		ev.GroupID = groupID
	} else {
		ev.OrgID = orgID
	}
	k.target(c, &ev)
	return ev
}

// apiKeys is the kind of programmatic API keys.
var apiKeys = credentialKind[atlasx509.APIKey, APIKeyDetails]{
	kind:    atlasx509.PrincipalAPIKey,
	plural:  "API keys",
	validID: atlasx509.ValidID,
	get: func(ctx context.Context, tx store.Tx, id string) (atlasx509.APIKey, error) {
		return tx.GetAPIKey(ctx, id)
	},
	orgOf:    func(k atlasx509.APIKey) string { return k.OrgID },
	notFound: errAPIKeyNotFound,
	list: func(ctx context.Context, tx store.Tx, o string, p store.Page) ([]atlasx509.APIKey, error) {
		return tx.ListAPIKeys(ctx, o, p)
	},
	count:   func(ctx context.Context, tx store.Tx, orgID string) (int, error) { return tx.CountAPIKeys(ctx, orgID) },
	details: keyDetails,
	events: credentialEvents{EventAPIKeyCreated, EventAPIKeyDeleted, EventAPIKeyDescription, EventAPIKeyRolesChanged,
		EventAPIKeyAddedToGroup, EventAPIKeyRemovedFromGrp, EventAPIKeyAccessAdded, EventAPIKeyAccessDeleted},
	target: func(k atlasx509.APIKey, ev *atlasx509.Event) { ev.TargetPublicKey = k.PublicKey },
}

// serviceAccounts is the kind of service accounts.
var serviceAccounts = credentialKind[atlasx509.ServiceAccount, ServiceAccountDetails]{
	kind:   atlasx509.PrincipalServiceAccount,
	plural: "service accounts",
	get: func(ctx context.Context, tx store.Tx, id string) (atlasx509.ServiceAccount, error) {
		return tx.GetServiceAccount(ctx, id)
	},
	orgOf:    func(sa atlasx509.ServiceAccount) string { return sa.OrgID },
	notFound: errServiceAccountNotFound,
	list: func(ctx context.Context, tx store.Tx, o string, p store.Page) ([]atlasx509.ServiceAccount, error) {
		return tx.ListServiceAccounts(ctx, o, p)
	},
	count: func(ctx context.Context, tx store.Tx, orgID string) (int, error) {
		return tx.CountServiceAccounts(ctx, orgID)
	},
	details: accountDetails,
	events: credentialEvents{EventSACreated, EventSADeleted, EventSADetailsChanged, EventSARolesChanged,
		EventSAAddedToGroup, EventSARemovedFromGroup, EventSAAccessAdded, EventSAAccessDeleted},
	target: func(sa atlasx509.ServiceAccount, ev *atlasx509.Event) { ev.TargetClientID = sa.ClientID },
}

// load reads the credential id of the organization orgID. One of another
// organization is as missing as an unknown one.
func (k credentialKind[T, D]) load(ctx context.Context, tx store.Tx, orgID, id string) (T, error) {
	var zero T
	if k.validID != nil && !k.validID(id) {
		return zero, k.notFound(id)
	}
	c, err := k.get(ctx, tx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.orgOf(c) != orgID {
		return zero, k.notFound(id)
	}
	if err != nil {
		return zero, internal("get "+k.plural, err)
	}
	return c, nil
}

// listOrg lists an organization's credentials of this kind, a page of
// them, with the total.
func (k credentialKind[T, D]) listOrg(ctx context.Context, a *App, p atlasx509.Principal, orgID string, opts ListOptions) ([]D, int, error) {
	var out []D
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		out = nil
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		cs, err := k.list(ctx, tx, orgID, opts.page())
		if err != nil {
			return err
		}
		if out, err = k.detailsOf(ctx, tx, cs, ""); err != nil {
			return err
		}
		total, err = k.count(ctx, tx, orgID)
		return err
	})
	return out, total, userStoreError("list "+k.plural, err)
}

// detailsOf reads the details of each of cs.
func (k credentialKind[T, D]) detailsOf(ctx context.Context, tx store.Tx, cs []T, groupID string) ([]D, error) {
	out := make([]D, 0, len(cs))
	for _, c := range cs {
		d, err := k.details(ctx, tx, c, groupID)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// getOrg returns one credential of an organization.
func (k credentialKind[T, D]) getOrg(ctx context.Context, a *App, p atlasx509.Principal, orgID, id string) (D, error) {
	var d D
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialRead); err != nil {
			return err
		}
		c, err := k.load(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		d, err = k.details(ctx, tx, c, "")
		return err
	})
	return d, userStoreError("get "+k.plural, err)
}

// deleteOrg deletes a credential of an organization with everything that
// is its, unless it is the organization's last owner.
func (k credentialKind[T, D]) deleteOrg(ctx context.Context, a *App, p atlasx509.Principal, orgID, id string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadOrg(ctx, tx, p, orgID, authz.OrgCredentialWrite); err != nil {
			return err
		}
		c, err := k.load(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		if err := guardLastOwner(ctx, tx, orgID, id); err != nil {
			return err
		}
		if err := deleteCredential(ctx, tx, k.kind, id); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, k.event(p, k.events.deleted, c, orgID, ""))
	})
	return userStoreError("delete "+k.plural, err)
}

// deleteCredential deletes the credential id of kind with its role
// assignments, its access list and, for a service account, its secrets and
// token records: the one place of this cascade, which the store leaves to
// its caller.
func deleteCredential(ctx context.Context, tx store.Tx, kind atlasx509.PrincipalKind, id string) error {
	if kind == atlasx509.PrincipalServiceAccount {
		if _, err := tx.DeleteOAuthTokens(ctx, id); err != nil {
			return err
		}
		if _, err := tx.DeleteServiceAccountSecrets(ctx, id); err != nil {
			return err
		}
	}
	if _, err := tx.DeletePrincipalRoleAssignments(ctx, id); err != nil {
		return err
	}
	if _, err := tx.DeleteAccessList(ctx, id); err != nil {
		return err
	}
	if kind == atlasx509.PrincipalServiceAccount {
		return tx.DeleteServiceAccount(ctx, id)
	}
	return tx.DeleteAPIKey(ctx, id)
}

// listProject lists the credentials of this kind that hold a role over a
// project, a page of them in id order, with their details over it and the
// total.
func (k credentialKind[T, D]) listProject(ctx context.Context, a *App, p atlasx509.Principal, groupID string, opts ListOptions) ([]D, int, error) {
	var out []D
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		out = nil
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage); err != nil {
			return err
		}
		ids, err := tx.ListProjectPrincipals(ctx, groupID, k.kind, opts.page())
		if err != nil {
			return err
		}
		cs := make([]T, 0, len(ids))
		for _, id := range ids {
			c, err := k.get(ctx, tx, id)
			if err != nil {
				return err
			}
			cs = append(cs, c)
		}
		if out, err = k.detailsOf(ctx, tx, cs, groupID); err != nil {
			return err
		}
		total, err = tx.CountProjectPrincipals(ctx, groupID, k.kind)
		return err
	})
	return out, total, userStoreError("list project "+k.plural, err)
}

// loadMember reads a credential of the project's organization that holds a
// role over the project; one that holds none there is not found.
func (k credentialKind[T, D]) loadMember(ctx context.Context, tx store.Tx, project atlasx509.Project, id string) (T, error) {
	c, err := k.load(ctx, tx, project.OrgID, id)
	if err != nil {
		return c, err
	}
	ras, err := tx.ListRoleAssignments(ctx, id)
	if err != nil {
		return c, err
	}
	if len(rolesOver(ras, project.OrgID, project.ID, false)) == 0 {
		var zero T
		return zero, k.notFound(id)
	}
	return c, nil
}

// assign gives a credential of the project's organization the project
// roles names, replacing those it had over the project; an empty list is
// refused with noRoles.
func (k credentialKind[T, D]) assign(ctx context.Context, tx store.Tx, p atlasx509.Principal, groupID, id string, names []string, noRoles error) (T, error) {
	var zero T
	project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
	if err != nil {
		return zero, err
	}
	c, err := k.load(ctx, tx, project.OrgID, id)
	if err != nil {
		return zero, err
	}
	if len(names) == 0 {
		return zero, noRoles
	}
	roles, err := projectRoleNames(groupID, names)
	if err != nil {
		return zero, err
	}
	return c, setRoles(ctx, tx, k.kind, id, project.OrgID, groupID, roles)
}

// remove takes every role a credential holds over a project away; it stays
// in the organization. One that holds none there is not found.
func (k credentialKind[T, D]) remove(ctx context.Context, a *App, p atlasx509.Principal, groupID, id string) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectAccessManage)
		if err != nil {
			return err
		}
		c, err := k.load(ctx, tx, project.OrgID, id)
		if err != nil {
			return err
		}
		n, err := tx.DeleteRoleAssignments(ctx, id, project.OrgID, groupID)
		if err == nil && n == 0 {
			return k.notFound(id)
		}
		if err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, k.event(p, k.events.removed, c, project.OrgID, groupID))
	})
	return userStoreError("remove project "+k.plural, err)
}

// setOrgRoles replaces a credential's organization roles, unless that
// would leave the organization without an owner.
func (k credentialKind[T, D]) setOrgRoles(ctx context.Context, tx store.Tx, orgID, id string, roles []atlasx509.Role) error {
	if !slices.Contains(roles, atlasx509.RoleOrgOwner) {
		if err := guardLastOwner(ctx, tx, orgID, id); err != nil {
			return err
		}
	}
	return setRoles(ctx, tx, k.kind, id, orgID, "", roles)
}

// joinProject is how a credential created at a project gets its roles:
// the caller's right is checked again in the creating transaction, the
// credential becomes a member of the organization (ORG_MEMBER, as in
// Atlas) and gets roles over the project.
func (k credentialKind[T, D]) joinProject(ctx context.Context, tx store.Tx, p atlasx509.Principal, project atlasx509.Project, id string, roles []atlasx509.Role) error {
	if _, err := loadProject(ctx, tx, p, project.ID, authz.ProjectAccessManage); err != nil {
		return err
	}
	if err := setRoles(ctx, tx, k.kind, id, project.OrgID, "", []atlasx509.Role{atlasx509.RoleOrgMember}); err != nil {
		return err
	}
	return setRoles(ctx, tx, k.kind, id, project.OrgID, project.ID, roles)
}

// loadCredential checks that p may perform perm on the organization and
// that the credential c belongs to it.
func loadCredential(ctx context.Context, tx store.Tx, p atlasx509.Principal, c Credential, perm authz.Permission) error {
	if _, err := loadOrg(ctx, tx, p, c.OrgID, perm); err != nil {
		return err
	}
	var err error
	if c.Kind == atlasx509.PrincipalServiceAccount {
		_, err = serviceAccounts.load(ctx, tx, c.OrgID, c.ID)
	} else {
		_, err = apiKeys.load(ctx, tx, c.OrgID, c.ID)
	}
	return err
}

// recordCreated records the creation of the credential c in orgID and,
// when it was created at the project groupID, its joining the project.
func recordCreated[T, D any](ctx context.Context, a *App, tx store.Tx, p atlasx509.Principal, k credentialKind[T, D], c T, orgID, groupID string) error {
	if err := a.recordEvent(ctx, tx, k.event(p, k.events.created, c, orgID, "")); err != nil {
		return err
	}
	if groupID == "" {
		return nil
	}
	return a.recordEvent(ctx, tx, k.event(p, k.events.added, c, orgID, groupID))
}
