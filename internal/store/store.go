// Package store defines the persistence interface that every storage driver
// (embedded SQLite, PostgreSQL) implements. It holds no SQL: drivers live in
// sub-packages and must pass the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/atlasx509/atlasx509"
)

// Errors that drivers return; any other error is an internal fault.
var (
	// ErrNotFound means the addressed row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness constraint refused the write.
	ErrConflict = errors.New("store: conflict")
)

// Store opens transactions. A transaction either commits every write done
// through it or none.
//
// The contract of an fn given to Update, which every caller keeps and no
// driver checks in full:
//
//   - fn may run more than once. A driver may roll fn's transaction back
//     after fn returned (nil or an error) and run fn again in a new one
//     (PostgreSQL does on a serialization failure or a deadlock); only the
//     last run's writes and return value count.
//   - fn acts only through its Tx: it has no other side effect that a
//     second run would repeat or that would outlive a rolled back run (no
//     appending to a slice declared outside fn, no adding to a counter, no
//     I/O, no message sent, no cache filled with what fn read). Assigning
//     results to variables declared outside fn is fine: the last run
//     overwrites them. What must happen once is done after Update returns
//     nil.
//   - fn must not call Update or View of any Store, nor wait for another
//     goroutine that does: with the SQLite driver the nested Update would
//     wait for fn's own transaction forever, and with PostgreSQL it would
//     commit outside fn's transaction, whatever fn's outcome.
//   - fn must not keep its Tx, nor use it once it has returned.
//
// View's fn runs once; the last two rules hold for it too. The
// storetest.Retrying wrapper runs every Update fn twice, so that the fast
// tests of the callers catch an fn that is not safe to run again.
type Store interface {
	// Update runs fn in a read-write transaction and commits it when fn
	// returns nil; otherwise it rolls back and returns fn's error unchanged.
	// The commit is durable (synced to stable storage) before Update
	// returns. fn may run more than once (see Store).
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction: fn sees one consistent
	// snapshot, and a write through its Tx fails.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Page selects a slice of a list; Limit 0 means no limit.
type Page struct {
	Limit  int
	Offset int
}

// ProjectFilter selects projects: those of any of OrgIDs, and those whose id
// is in GroupIDs.
type ProjectFilter struct {
	OrgIDs   []string
	GroupIDs []string
}

// CertificateFilter selects certificate records of one database user: those
// of the user of that name that exists now (not of a deleted user of the
// same name), whose NotAfter is after ValidAt, and, unless IncludeRevoked,
// not revoked.
type CertificateFilter struct {
	GroupID        string
	Username       string
	ValidAt        time.Time
	IncludeRevoked bool
}

// Revocation selects certificates of a database user to revoke, and says
// when and why.
type Revocation struct {
	GroupID  string
	Username string
	// Serial selects one certificate; 0 selects all of the user's.
	Serial int64
	// At is the revocation time: only certificates whose NotAfter is after
	// At are revoked.
	At time.Time
	// Reason is an RFC 5280 CRLReason code.
	Reason int
}

// IssuanceState is what an issuance checks, read in one statement by
// Tx.IssuanceState.
type IssuanceState struct {
	// OrgID, CustomerX509CAs and LeafKeyType are the project's.
	OrgID           string
	CustomerX509CAs string
	LeafKeyType     string
	// UserFound says whether the project has a user of that username (in
	// any authentication database); UserX509Type is its X509Type.
	UserFound    bool
	UserX509Type string
	// CA is the project's newest CA generation, as ListProjectCAs returns
	// it; the zero ProjectCA (Generation 0) when the project has none.
	CA atlasx509.ProjectCA
	// AuthGeneration is the credentials generation (Tx.AuthGeneration),
	// read in the same statement.
	AuthGeneration int64
	// CertificateBound is, when UserFound, an upper bound of the user's
	// unexpired certificates (revoked ones included, as
	// CountCertificates with IncludeRevoked counts them): every
	// certificate inserted for the user adds one, and SetCertificateBound
	// sets it to a count.
	CertificateBound int
}

// AlertFilter selects alerts: those of the project GroupID (any when ""),
// of the configuration AlertConfigID (any when ""), with Status (any when
// "") and about Target (any when "").
type AlertFilter struct {
	GroupID       string
	AlertConfigID string
	Status        string
	Target        string
}

// ReasonCessationOfOperation is the RFC 5280 CRLReason code with which
// deleting a database user revokes its certificates.
const ReasonCessationOfOperation = 5

// EventFilter selects events: those of the project GroupID, or, when
// GroupID is empty, those of the organization OrgID; of one of Types when
// Types is not empty, of none of ExcludedTypes; created at or after MinDate
// and before MaxDate when they are not zero.
type EventFilter struct {
	GroupID       string
	OrgID         string
	Types         []string
	ExcludedTypes []string
	MinDate       time.Time
	MaxDate       time.Time
}

// Tx is what a transaction can do. Methods named Get return ErrNotFound for a
// missing row; methods named Insert return ErrConflict for a duplicate key;
// Update and Delete methods return ErrNotFound when nothing matched.
// Times round-trip at least to the microsecond, in UTC.
type Tx interface {
	// GetSetting returns a server-wide value stored under name.
	GetSetting(ctx context.Context, name string) ([]byte, error)
	// InsertSetting stores a server-wide value; ErrConflict if name is taken.
	InsertSetting(ctx context.Context, name string, value []byte) error
	// UpdateSetting replaces the value stored under name (a re-sealed
	// secret); ErrNotFound when there is none.
	UpdateSetting(ctx context.Context, name string, value []byte) error

	InsertOrganization(ctx context.Context, o atlasx509.Organization) error
	GetOrganization(ctx context.Context, id string) (atlasx509.Organization, error)
	// UpdateOrganization replaces the mutable fields of the organization
	// o.ID (Name, SkipDefaultAlertsSettings).
	UpdateOrganization(ctx context.Context, o atlasx509.Organization) error

	// InsertProject returns ErrConflict when the organization already has a
	// project of that name.
	InsertProject(ctx context.Context, p atlasx509.Project) error
	GetProject(ctx context.Context, id string) (atlasx509.Project, error)
	// ListProjects lists the projects the filter selects, oldest first.
	ListProjects(ctx context.Context, f ProjectFilter, page Page) ([]atlasx509.Project, error)
	CountProjects(ctx context.Context, f ProjectFilter) (int, error)
	// UpdateProject replaces the mutable fields of the project p.ID (Name,
	// CustomerX509CAs, LeafKeyType, WithDefaultAlertsSettings, Tags,
	// Settings, Limits); ErrConflict when the name is taken. Empty Tags,
	// Settings and Limits read back as nil.
	UpdateProject(ctx context.Context, p atlasx509.Project) error
	// DeleteProject deletes a project with its database users, CAs,
	// certificate records, CRLs and project role assignments.
	DeleteProject(ctx context.Context, id string) error

	// InsertDatabaseUser returns ErrConflict when the project already has a
	// user of that username (in any authentication database).
	InsertDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error
	GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (atlasx509.DatabaseUser, error)
	// FindDatabaseUser returns the project's user of that username, whatever its database.
	FindDatabaseUser(ctx context.Context, groupID, username string) (atlasx509.DatabaseUser, error)
	// ListDatabaseUsers lists a project's users ordered by username.
	ListDatabaseUsers(ctx context.Context, groupID string, page Page) ([]atlasx509.DatabaseUser, error)
	CountDatabaseUsers(ctx context.Context, groupID string) (int, error)
	// UpdateDatabaseUser replaces the user identified by (GroupID,
	// DatabaseName, Username); ErrNotFound if there is none.
	UpdateDatabaseUser(ctx context.Context, u atlasx509.DatabaseUser) error
	// DeleteDatabaseUser deletes a user. Its certificates unexpired at
	// revokeAt and not yet revoked are revoked at revokeAt with reason
	// ReasonCessationOfOperation (as by RevokeCertificates); its other
	// certificate records may be deleted. The records that remain stay in
	// their CA's revoked list but no longer belong to any user: a new user
	// of the same name neither lists nor counts them.
	DeleteDatabaseUser(ctx context.Context, groupID, databaseName, username string, revokeAt time.Time) error
	// DeleteExpiredDatabaseUsers deletes, in every project, the temporary
	// users whose DeleteAfterDate is not after t, as DeleteDatabaseUser
	// with revokeAt t, and returns how many.
	DeleteExpiredDatabaseUsers(ctx context.Context, t time.Time) (int, error)
	// ListExpiredDatabaseUsers lists, in every project, the temporary users
	// whose DeleteAfterDate is not after t (those DeleteExpiredDatabaseUsers
	// would delete), by project and username.
	ListExpiredDatabaseUsers(ctx context.Context, t time.Time) ([]atlasx509.DatabaseUser, error)

	// InsertProjectCA returns ErrConflict when (GroupID, Generation) exists.
	InsertProjectCA(ctx context.Context, ca atlasx509.ProjectCA) error
	// ListProjectCAs returns a project's CAs, newest generation first.
	ListProjectCAs(ctx context.Context, groupID string) ([]atlasx509.ProjectCA, error)
	// ListAllProjectCAs returns the CAs of every project, by project id,
	// then oldest generation first (for walks over every sealed CA key).
	ListAllProjectCAs(ctx context.Context, page Page) ([]atlasx509.ProjectCA, error)
	// UpdateProjectCASealedKey replaces the SealedKey of the CA (groupID,
	// generation), and nothing else, with sealedKey (the same private key
	// re-sealed); ErrNotFound when there is no such CA.
	UpdateProjectCASealedKey(ctx context.Context, groupID string, generation int, sealedKey []byte) error

	// IssuanceState reads, in one statement, what an issuance of a
	// certificate for the user username of the project groupID checks
	// (but the count of the user's certificates); ErrNotFound when there
	// is no such project (whatever the user).
	IssuanceState(ctx context.Context, groupID, username string) (IssuanceState, error)
	// SetCertificateBound sets the user's IssuanceState.CertificateBound
	// to n, a count of its unexpired certificates read in the same
	// transaction; ErrNotFound when there is no such user.
	SetCertificateBound(ctx context.Context, groupID, username string, n int) error
	// InsertCertificate returns ErrConflict when (GroupID, Serial) exists.
	// RevokedAt and RevocationReason are ignored: a record starts unrevoked.
	InsertCertificate(ctx context.Context, c atlasx509.Certificate) error
	// ListCertificates lists the certificates f selects, oldest first.
	ListCertificates(ctx context.Context, f CertificateFilter, page Page) ([]atlasx509.Certificate, error)
	CountCertificates(ctx context.Context, f CertificateFilter) (int, error)
	// RevokeCertificates revokes the certificates r selects among those of
	// the user of that name that exists now, unexpired at r.At and not yet
	// revoked (a revoked certificate keeps its first time and reason). It
	// increments the RevocationSeq of each CA that signed one of them and
	// returns how many it revoked. With a Serial, ErrNotFound means that
	// the user has no such certificate unexpired at r.At, revoked or not.
	RevokeCertificates(ctx context.Context, r Revocation) (int, error)
	// DeleteDeletedUsersCertificates deletes the records of certificates of
	// deleted users (see DeleteDatabaseUser) whose NotAfter is not after
	// expiredAt, and returns how many: once expired, nothing lists them.
	DeleteDeletedUsersCertificates(ctx context.Context, expiredAt time.Time) (int, error)
	// ListRevokedCertificates lists the revoked certificates that the CA
	// (groupID, generation) signed and whose NotAfter is after validAt,
	// those of deleted users included, by serial.
	ListRevokedCertificates(ctx context.Context, groupID string, generation int, validAt time.Time) ([]atlasx509.Certificate, error)
	// CountUnexpiredCertificatesByGeneration counts, by CA generation, the
	// project's certificates (those of deleted users included) that are not
	// revoked and whose NotAfter is after at. A generation without any is
	// absent from the map.
	CountUnexpiredCertificatesByGeneration(ctx context.Context, groupID string, at time.Time) (map[int]int, error)

	// AllocateCRLNumber increments the CRLNumber of the CA (groupID,
	// generation) and returns it with the CA's RevocationSeq, read in the
	// same statement; ErrNotFound when there is no such CA. Two
	// transactions never get the same number.
	AllocateCRLNumber(ctx context.Context, groupID string, generation int) (number, revocationSeq int64, err error)
	// GetCRL returns the CRL stored for the CA (groupID, generation).
	GetCRL(ctx context.Context, groupID string, generation int) (atlasx509.CRL, error)
	// SaveCRL stores c as its CA's CRL unless the one stored has a Number
	// at least as great, and reports whether it stored c. The CA must exist.
	SaveCRL(ctx context.Context, c atlasx509.CRL) (bool, error)

	InsertAPIKey(ctx context.Context, k atlasx509.APIKey) error
	GetAPIKey(ctx context.Context, id string) (atlasx509.APIKey, error)
	GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (atlasx509.APIKey, error)
	// ListAPIKeys lists an organization's API keys, oldest first.
	ListAPIKeys(ctx context.Context, orgID string, page Page) ([]atlasx509.APIKey, error)
	CountAPIKeys(ctx context.Context, orgID string) (int, error)
	// ListAllAPIKeys lists the API keys of every organization, by id.
	ListAllAPIKeys(ctx context.Context, page Page) ([]atlasx509.APIKey, error)
	// UpdateAPIKey replaces the description of the key k.ID.
	UpdateAPIKey(ctx context.Context, k atlasx509.APIKey) error
	// UpdateAPIKeySealedHA1 replaces the SealedHA1MD5 and SealedHA1SHA256 of
	// the key id, and nothing else (the same digests re-sealed);
	// ErrNotFound when there is no such key.
	UpdateAPIKeySealedHA1(ctx context.Context, id string, sealedMD5, sealedSHA256 []byte) error
	// DeleteAPIKey deletes the key's row only: the caller deletes its role
	// assignments and access list in the same transaction.
	DeleteAPIKey(ctx context.Context, id string) error

	InsertServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error
	GetServiceAccount(ctx context.Context, clientID string) (atlasx509.ServiceAccount, error)
	// ListServiceAccounts lists an organization's service accounts, oldest first.
	ListServiceAccounts(ctx context.Context, orgID string, page Page) ([]atlasx509.ServiceAccount, error)
	CountServiceAccounts(ctx context.Context, orgID string) (int, error)
	// UpdateServiceAccount replaces the name and description of sa.ClientID.
	UpdateServiceAccount(ctx context.Context, sa atlasx509.ServiceAccount) error
	// DeleteServiceAccount deletes the account's row: the caller deletes
	// its role assignments, access list, secrets and token records first,
	// in the same transaction.
	DeleteServiceAccount(ctx context.Context, clientID string) error
	InsertServiceAccountSecret(ctx context.Context, s atlasx509.ServiceAccountSecret) error
	ListServiceAccountSecrets(ctx context.Context, clientID string) ([]atlasx509.ServiceAccountSecret, error)
	DeleteServiceAccountSecret(ctx context.Context, clientID, secretID string) error
	// DeleteServiceAccountSecrets deletes every secret of clientID and
	// returns how many.
	DeleteServiceAccountSecrets(ctx context.Context, clientID string) (int, error)

	// InsertRoleAssignment stores ra with its PrincipalKind, which must be
	// a known kind (an error otherwise).
	InsertRoleAssignment(ctx context.Context, ra atlasx509.RoleAssignment) error
	ListRoleAssignments(ctx context.Context, principalID string) ([]atlasx509.RoleAssignment, error)
	// ListProjectPrincipals lists the ids of the credentials of that kind
	// holding a role over the project groupID, each once, in byte order.
	ListProjectPrincipals(ctx context.Context, groupID string, kind atlasx509.PrincipalKind, page Page) ([]string, error)
	CountProjectPrincipals(ctx context.Context, groupID string, kind atlasx509.PrincipalKind) (int, error)
	// ListPrincipalProjects lists the ids of the projects of orgID over
	// which principalID holds a role, each once, in byte order.
	ListPrincipalProjects(ctx context.Context, principalID, orgID string, page Page) ([]string, error)
	CountPrincipalProjects(ctx context.Context, principalID, orgID string) (int, error)
	// DeleteRoleAssignments removes the roles principalID holds over groupID
	// in orgID ("" groupID: its organization roles) and returns how many.
	DeleteRoleAssignments(ctx context.Context, principalID, orgID, groupID string) (int, error)
	// DeletePrincipalRoleAssignments removes every role principalID holds,
	// in every organization and project, and returns how many.
	DeletePrincipalRoleAssignments(ctx context.Context, principalID string) (int, error)

	// InsertAccessListEntry returns ErrConflict when the credential already
	// has that CIDR.
	InsertAccessListEntry(ctx context.Context, e atlasx509.AccessListEntry) error
	// ListAccessListEntries lists a credential's entries, oldest first.
	ListAccessListEntries(ctx context.Context, principalID string) ([]atlasx509.AccessListEntry, error)
	DeleteAccessListEntry(ctx context.Context, principalID, cidr string) error
	// RecordAccessListUse adds count to the use count of the entry
	// (principalID, cidr) and, when at is after its LastUsed or it has
	// none, sets LastUsed to at and LastUsedAddress to address;
	// ErrNotFound when there is no such entry.
	RecordAccessListUse(ctx context.Context, principalID, cidr string, count int64, at time.Time, address string) error
	// DeleteAccessList deletes every entry of a credential's access list
	// and returns how many.
	DeleteAccessList(ctx context.Context, principalID string) (int, error)

	// AuthGeneration returns the credentials generation: a number that
	// grows, in the same transaction, with every change to what
	// authenticates or authorizes a credential (an OAuth token revoked or
	// deleted; a service account, secret or API key changed or deleted; a
	// role assignment added, changed or removed; an access list entry added,
	// removed or re-addressed, but not its use counts), whichever replica
	// makes it. It is at least 1. A credential read at generation g is
	// still what the store says while AuthGeneration returns g.
	AuthGeneration(ctx context.Context) (int64, error)

	InsertOAuthToken(ctx context.Context, t atlasx509.OAuthToken) error
	GetOAuthToken(ctx context.Context, id string) (atlasx509.OAuthToken, error)
	// RevokeOAuthToken marks a token revoked; ErrNotFound if unknown.
	RevokeOAuthToken(ctx context.Context, id string) error
	// DeleteOAuthTokensExpiredBefore removes records of tokens that expired before t.
	DeleteOAuthTokensExpiredBefore(ctx context.Context, t time.Time) (int, error)
	// DeleteOAuthTokens removes the records of every token of clientID and
	// returns how many.
	DeleteOAuthTokens(ctx context.Context, clientID string) (int, error)
	// CountOAuthTokens counts the records of clientID's tokens, revoked or
	// not, that expire strictly after t.
	CountOAuthTokens(ctx context.Context, clientID string, t time.Time) (int, error)

	// InsertAlertConfig stores an alert configuration of an existing project.
	InsertAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error
	// GetAlertConfig returns the configuration id of the project groupID.
	GetAlertConfig(ctx context.Context, groupID, id string) (atlasx509.AlertConfig, error)
	// ListAlertConfigs lists a project's configurations, oldest first
	// (by Created, then ID); groupID "" lists every project's.
	ListAlertConfigs(ctx context.Context, groupID string, page Page) ([]atlasx509.AlertConfig, error)
	CountAlertConfigs(ctx context.Context, groupID string) (int, error)
	// UpdateAlertConfig replaces every field of c.ID but GroupID and Created.
	UpdateAlertConfig(ctx context.Context, c atlasx509.AlertConfig) error
	// DeleteAlertConfig deletes the configuration id of the project groupID;
	// its alerts stay.
	DeleteAlertConfig(ctx context.Context, groupID, id string) error

	// InsertAlert returns ErrConflict when the configuration already has
	// an alert for a.Target.
	InsertAlert(ctx context.Context, a atlasx509.Alert) error
	// GetAlert returns the alert id of the project groupID.
	GetAlert(ctx context.Context, groupID, id string) (atlasx509.Alert, error)
	// ListAlerts lists the alerts f selects, newest first (by Created,
	// then ID, descending).
	ListAlerts(ctx context.Context, f AlertFilter, page Page) ([]atlasx509.Alert, error)
	CountAlerts(ctx context.Context, f AlertFilter) (int, error)
	// ListExpiringCertificates returns, for each existing MANAGED user of
	// the project groupID whose latest unrevoked certificate unexpired at
	// validAt expires before before, that certificate (of two expiring at
	// the same time, the higher serial), ordered by username: the targets
	// of managed-certificate alerts, in one query for the whole project.
	ListExpiringCertificates(ctx context.Context, groupID string, validAt, before time.Time) ([]atlasx509.Certificate, error)
	// UpdateAlert replaces the mutable fields of a.ID: Status, Updated,
	// LastNotified, Notified, Resolved and the acknowledgement.
	UpdateAlert(ctx context.Context, a atlasx509.Alert) error

	// InsertOutboxMessage queues a message.
	InsertOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error
	// ListDueOutboxMessages lists up to limit PENDING messages whose
	// NextAttempt is not after now, by NextAttempt then ID.
	ListDueOutboxMessages(ctx context.Context, now time.Time, limit int) ([]atlasx509.OutboxMessage, error)
	// ListOutboxMessages lists the messages of an alert, oldest first
	// (by Created, then ID).
	ListOutboxMessages(ctx context.Context, alertID string) ([]atlasx509.OutboxMessage, error)
	// ListAllOutboxMessages lists every message, whatever its alert and
	// status, by ID (for walks over every sealed value).
	ListAllOutboxMessages(ctx context.Context, page Page) ([]atlasx509.OutboxMessage, error)
	// UpdateOutboxMessageSealedSecret replaces the SealedSecret of the
	// message id, and nothing else (the same secret re-sealed); ErrNotFound
	// when there is no such message.
	UpdateOutboxMessageSealedSecret(ctx context.Context, id string, sealed []byte) error
	// UpdateOutboxMessage replaces Status, Attempts, NextAttempt, LastError
	// and Updated of m.ID.
	UpdateOutboxMessage(ctx context.Context, m atlasx509.OutboxMessage) error

	// AcquireLease takes or extends the lease name for holder until until,
	// and reports whether holder has it: it does when the lease is free,
	// expired at now, or already held by holder.
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// InsertEvent records an event; ErrConflict if its ID is taken.
	InsertEvent(ctx context.Context, e atlasx509.Event) error
	// GetEvent returns the event id of the project groupID, or, when
	// groupID is empty, of the organization orgID.
	GetEvent(ctx context.Context, groupID, orgID, id string) (atlasx509.Event, error)
	// ListEvents lists the events f selects, newest first (by Created,
	// then, among events of the same time, the last inserted first).
	ListEvents(ctx context.Context, f EventFilter, page Page) ([]atlasx509.Event, error)
	CountEvents(ctx context.Context, f EventFilter) (int, error)
	// DeleteEventsBefore deletes the events created before t and returns
	// how many.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)

	ConsoleSessions
}

// ConsoleSession is a signed-in session of the web console. Only the
// SHA-256 of its token is kept (TokenHash, lowercase hex), so that a copy of
// the store signs no one in.
type ConsoleSession struct {
	TokenHash     string
	PrincipalID   string
	PrincipalKind atlasx509.PrincipalKind
	// SecretID is the service account secret signed in with ("" for an
	// API key): the session ends with it.
	SecretID string
	Created  time.Time
	// LastSeen is when the session last served a request (the idle timeout
	// counts from it), updated at most once a minute.
	LastSeen time.Time
	// ExpiresAt is the end of the session's absolute lifetime.
	ExpiresAt time.Time
}

// ConsoleSessions are the store methods of the web console's sessions, part
// of Tx.
type ConsoleSessions interface {
	// InsertConsoleSession returns ErrConflict when TokenHash is taken.
	InsertConsoleSession(ctx context.Context, s ConsoleSession) error
	GetConsoleSession(ctx context.Context, tokenHash string) (ConsoleSession, error)
	// TouchConsoleSession sets LastSeen of the session; ErrNotFound when
	// there is none.
	TouchConsoleSession(ctx context.Context, tokenHash string, lastSeen time.Time) error
	// DeleteConsoleSession deletes the session; ErrNotFound when there is none.
	DeleteConsoleSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredConsoleSessions deletes the sessions whose LastSeen is
	// before idleBefore or whose ExpiresAt is not after now, and returns how
	// many.
	DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, now time.Time) (int, error)
}
