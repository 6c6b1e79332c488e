package atlasx509

import "time"

// Event is one change recorded as Atlas records it, served by GET
// /groups/{groupId}/events and /orgs/{orgId}/events. It is written in the
// same transaction as the change it records.
type Event struct {
	// ID is a 24-hex identifier (NewID).
	ID      string
	Created time.Time
	// TypeName is the eventTypeName, such as MONGODB_USER_ADDED.
	TypeName string
	// GroupID is set on an event of a project, OrgID on an event of an
	// organization; an event listed under both (GROUP_CREATED) has both.
	GroupID string
	OrgID   string

	// The caller: an API key (APIKeyID and PublicKey) or a service account
	// (ServiceAccountID, its client id); none for an event of the server
	// itself. RemoteAddress is the caller's address.
	APIKeyID         string
	PublicKey        string
	ServiceAccountID string
	RemoteAddress    string

	// What the change was about, in Atlas's field names.
	DBUserUsername  string // dbUserUsername
	TargetPublicKey string // targetPublicKey
	WhitelistEntry  string // whitelistEntry
	TargetClientID  string // targetClientId (an extension: the service account changed)
	AlertID         string // alertId
	AlertConfigID   string // alertConfigId
	// Details are further facts of the change (serial numbers, CA
	// generations, …), answered inside raw only.
	Details map[string]string
}
