package app

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// MaxDatabaseUsers is Atlas's default limit of database users per project,
// and the most the limit may be set to (LimitDatabaseUsers).
const MaxDatabaseUsers = 100

// scramIterations is MongoDB's default iteration count for SCRAM-SHA-256.
const scramIterations = 15000

// DatabaseUserInput creates or changes a database user. A nil field was
// absent. DeleteAfterDate is an RFC 3339 time, or "" to make a temporary
// user permanent.
type DatabaseUserInput struct {
	Username        *string
	DatabaseName    *string
	GroupID         *string
	X509Type        *string
	AWSIAMType      *string
	LDAPAuthType    *string
	OIDCAuthType    *string
	Description     *string
	Password        *string
	DeleteAfterDate *string
	Roles           *[]atlasx509.DatabaseRole
	Scopes          *[]atlasx509.UserScope
	Labels          *[]atlasx509.Label
}

// CreateDatabaseUser creates a database user (Atlas createDatabaseUser).
func (a *App) CreateDatabaseUser(ctx context.Context, p atlasx509.Principal, groupID string, req DatabaseUserInput) (atlasx509.DatabaseUser, error) {
	now := a.now().UTC()
	u := atlasx509.DatabaseUser{
		GroupID: groupID, X509Type: "NONE", AWSIAMType: "NONE", LDAPAuthType: "NONE", OIDCAuthType: "NONE",
		Roles: []atlasx509.DatabaseRole{}, Scopes: []atlasx509.UserScope{}, Labels: []atlasx509.Label{},
		Created: now, Updated: now,
	}
	// The project's existence and the caller's role come before the body, as
	// a caller who may not write users must not learn what is wrong with it.
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := loadProject(ctx, tx, p, groupID, authz.DatabaseUserWrite)
		return err
	})
	if err != nil {
		return atlasx509.DatabaseUser{}, err
	}
	if req.Username == nil {
		return atlasx509.DatabaseUser{}, errMissing("username")
	}
	if req.DatabaseName == nil {
		return atlasx509.DatabaseUser{}, errMissing("databaseName")
	}
	if req.GroupID != nil && *req.GroupID != groupID {
		return atlasx509.DatabaseUser{}, errGroupMismatch(*req.GroupID)
	}
	u.Username, u.DatabaseName = *req.Username, *req.DatabaseName
	if err := applyUserFields(&u, req); err != nil {
		return atlasx509.DatabaseUser{}, err
	}
	if req.Roles == nil {
		return atlasx509.DatabaseUser{}, errMissing("roles")
	}
	if err := validateUser(u, req.Password != nil, now); err != nil {
		return atlasx509.DatabaseUser{}, err
	}
	if usesPassword(u) {
		if req.Password == nil {
			return atlasx509.DatabaseUser{}, errMissing("password")
		}
		if u.SCRAMCredential, err = a.scramCredential(*req.Password); err != nil {
			return atlasx509.DatabaseUser{}, err
		}
	}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.DatabaseUserWrite)
		if err != nil {
			return err
		}
		n, err := tx.CountDatabaseUsers(ctx, groupID)
		if err != nil {
			return err
		}
		if limit := limitValue(project, LimitDatabaseUsers); int64(n) >= limit {
			return errGroupUsersLimitExceeded(int(limit))
		}
		if err := tx.InsertDatabaseUser(ctx, u); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, userEvent(p, EventDatabaseUserAdded, u))
	})
	if errors.Is(err, store.ErrConflict) {
		return atlasx509.DatabaseUser{}, errUserAlreadyExists(u.Username)
	}
	if err != nil {
		return atlasx509.DatabaseUser{}, userStoreError("create database user", err)
	}
	return u, nil
}

// GetDatabaseUser returns one database user (Atlas getDatabaseUser).
func (a *App) GetDatabaseUser(ctx context.Context, p atlasx509.Principal, groupID, databaseName, username string) (atlasx509.DatabaseUser, error) {
	var u atlasx509.DatabaseUser
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		var err error
		u, err = getUser(ctx, tx, groupID, databaseName, username)
		return err
	})
	return u, userStoreError("get database user", err)
}

// ListDatabaseUsers lists a project's database users (Atlas listDatabaseUsers).
func (a *App) ListDatabaseUsers(ctx context.Context, p atlasx509.Principal, groupID string, opts ListOptions) ([]atlasx509.DatabaseUser, int, error) {
	var users []atlasx509.DatabaseUser
	var total int
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.ProjectRead); err != nil {
			return err
		}
		var err error
		if users, err = tx.ListDatabaseUsers(ctx, groupID, opts.page()); err != nil {
			return err
		}
		total, err = tx.CountDatabaseUsers(ctx, groupID)
		return err
	})
	return users, total, userStoreError("list database users", err)
}

// UpdateDatabaseUser changes a database user (Atlas updateDatabaseUser).
// Attributes absent from the request keep their values; the username, the
// authentication database and the authentication method cannot change.
func (a *App) UpdateDatabaseUser(ctx context.Context, p atlasx509.Principal, groupID, databaseName, username string, req DatabaseUserInput) (atlasx509.DatabaseUser, error) {
	now := a.now().UTC()
	var scram string
	if req.Password != nil {
		// Derived outside the transaction, since it is deliberately slow,
		// and only for a caller that may change users.
		if err := a.authorize(ctx, p, groupID, authz.DatabaseUserWrite); err != nil {
			return atlasx509.DatabaseUser{}, userStoreError("update database user", err)
		}
		var err error
		if scram, err = a.scramCredential(*req.Password); err != nil {
			return atlasx509.DatabaseUser{}, err
		}
	}
	var u atlasx509.DatabaseUser
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if _, err := loadProject(ctx, tx, p, groupID, authz.DatabaseUserWrite); err != nil {
			return err
		}
		old, err := getUser(ctx, tx, groupID, databaseName, username)
		if err != nil {
			return err
		}
		if req.Username != nil && *req.Username != old.Username {
			return errUsernameCannotBeChanged()
		}
		if req.DatabaseName != nil && *req.DatabaseName != old.DatabaseName {
			return errDatabaseNameCannotBeChanged()
		}
		if req.GroupID != nil && *req.GroupID != groupID {
			return errGroupMismatch(*req.GroupID)
		}
		u = old
		if err := applyUserFields(&u, req); err != nil {
			return err
		}
		if u.X509Type != old.X509Type || u.AWSIAMType != old.AWSIAMType || u.LDAPAuthType != old.LDAPAuthType || u.OIDCAuthType != old.OIDCAuthType {
			return errAuthTypeCannotBeChanged()
		}
		if err := validateUser(u, req.Password != nil, now); err != nil {
			return err
		}
		if req.Password != nil {
			u.SCRAMCredential = scram
		}
		u.Updated = now
		if err := tx.UpdateDatabaseUser(ctx, u); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, userEvent(p, EventDatabaseUserUpdated, u))
	})
	if err != nil {
		return atlasx509.DatabaseUser{}, userStoreError("update database user", err)
	}
	return u, nil
}

// DeleteDatabaseUser deletes a database user (Atlas deleteDatabaseUser). In
// the same transaction, its unexpired certificates are revoked
// (cessationOfOperation), so that they stay in their CA's CRL until they
// expire; the CRLs are signed anew right after.
func (a *App) DeleteDatabaseUser(ctx context.Context, p atlasx509.Principal, groupID, databaseName, username string) error {
	now := a.now().UTC()
	var numbered []numberedCA
	err := a.store.Update(ctx, func(tx store.Tx) error {
		numbered = nil // a second run starts over
		if _, err := loadProject(ctx, tx, p, groupID, authz.DatabaseUserWrite); err != nil {
			return err
		}
		u, err := getUser(ctx, tx, groupID, databaseName, username)
		if err != nil {
			return err
		}
		before, err := tx.ListProjectCAs(ctx, groupID)
		if err != nil {
			return err
		}
		if err := tx.DeleteDatabaseUser(ctx, groupID, databaseName, username, now); err != nil {
			return err
		}
		if numbered, err = allocateCRLNumbers(ctx, tx, before); err != nil {
			return err
		}
		return a.recordEvent(ctx, tx, userEvent(p, EventDatabaseUserDeleted, u))
	})
	if err != nil {
		return userStoreError("delete database user", err)
	}
	a.signNumberedCRLs(ctx, numbered)
	return nil
}

func getUser(ctx context.Context, tx store.Tx, groupID, databaseName, username string) (atlasx509.DatabaseUser, error) {
	u, err := tx.GetDatabaseUser(ctx, groupID, databaseName, username)
	if errors.Is(err, store.ErrNotFound) {
		return u, errUsernameNotFound(username)
	}
	return u, err
}

// userStoreError passes errors meant for the client and wraps the rest as faults.
func userStoreError(op string, err error) error {
	var e *atlasx509.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return internal(op, err)
}

// applyUserFields copies the attributes present in req onto u.
func applyUserFields(u *atlasx509.DatabaseUser, req DatabaseUserInput) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.X509Type, req.X509Type)
	set(&u.AWSIAMType, req.AWSIAMType)
	set(&u.LDAPAuthType, req.LDAPAuthType)
	set(&u.OIDCAuthType, req.OIDCAuthType)
	set(&u.Description, req.Description)
	if req.Roles != nil {
		u.Roles = append(make([]atlasx509.DatabaseRole, 0, len(*req.Roles)), *req.Roles...)
	}
	if req.Scopes != nil {
		u.Scopes = append(make([]atlasx509.UserScope, 0, len(*req.Scopes)), *req.Scopes...)
	}
	if req.Labels != nil {
		u.Labels = append(make([]atlasx509.Label, 0, len(*req.Labels)), *req.Labels...)
	}
	if req.DeleteAfterDate != nil {
		if *req.DeleteAfterDate == "" {
			u.DeleteAfterDate = nil
		} else {
			t, err := time.Parse(time.RFC3339, *req.DeleteAfterDate)
			if err != nil {
				return ErrInvalidJSONAttribute("deleteAfterDate", nil)
			}
			t = t.UTC()
			u.DeleteAfterDate = &t
		}
	}
	return nil
}

// scramCredential derives the SCRAM-SHA-256 verifier MongoDB keeps for a
// password user (RFC 7677): the password itself is never stored.
func (a *App) scramCredential(password string) (string, error) {
	if len(password) < minPasswordLen {
		return "", errInvalidAttr("password")
	}
	salt := make([]byte, 28)
	if _, err := io.ReadFull(a.rand, salt); err != nil {
		return "", internal("scram salt", err)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", internal("scram", err)
	}
	clientKey := hmacSum(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSum(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d$%s$%s$%s", scramIterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// DeleteExpiredUsers deletes the temporary database users whose
// deleteAfterDate has passed, in every project, and returns how many. Their
// unexpired certificates are revoked in the same transaction; the CRLs of
// their CAs, now behind the CAs' revocation sequence, are signed anew when
// next read. The records of deleted users' certificates that have expired
// go too: nothing lists them any more.
func (a *App) DeleteExpiredUsers(ctx context.Context) (int, error) {
	var n int
	now := a.now().UTC()
	err := a.store.Update(ctx, func(tx store.Tx) error {
		expired, err := tx.ListExpiredDatabaseUsers(ctx, now)
		if err != nil {
			return err
		}
		if n, err = tx.DeleteExpiredDatabaseUsers(ctx, now); err != nil {
			return err
		}
		if _, err = tx.DeleteDeletedUsersCertificates(ctx, now); err != nil {
			return err
		}
		// The server deleted them: the events have no caller.
		for _, u := range expired {
			if err := a.recordEvent(ctx, tx, userEvent(atlasx509.Principal{}, EventDatabaseUserDeleted, u)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// userEvent returns the event of type typ about the database user u. Its
// dbUserUsername is the name the mongod knows the user by, as Atlas records
// it: the subject "CN=<username>" of an Atlas-managed X.509 user, the
// username of any other.
func userEvent(p atlasx509.Principal, typ string, u atlasx509.DatabaseUser) atlasx509.Event {
	ev := groupEvent(p, typ, u.GroupID)
	ev.DBUserUsername = u.Username
	if u.X509Type == atlasx509.X509Managed {
		ev.DBUserUsername = "CN=" + u.Username
	}
	return ev
}
