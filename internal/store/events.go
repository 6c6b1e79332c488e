package store

import (
	"encoding/json"
	"fmt"

	"github.com/atlasx509/atlasx509"
)

// eventDoc is the part of an event that drivers keep as one JSON document:
// everything but the columns they index (id, created, type, group, org).
type eventDoc struct {
	APIKeyID         string            `json:"apiKeyId,omitempty"`
	PublicKey        string            `json:"publicKey,omitempty"`
	ServiceAccountID string            `json:"serviceAccountId,omitempty"`
	RemoteAddress    string            `json:"remoteAddress,omitempty"`
	DBUserUsername   string            `json:"dbUserUsername,omitempty"`
	TargetPublicKey  string            `json:"targetPublicKey,omitempty"`
	WhitelistEntry   string            `json:"whitelistEntry,omitempty"`
	TargetClientID   string            `json:"targetClientId,omitempty"`
	AlertID          string            `json:"alertId,omitempty"`
	AlertConfigID    string            `json:"alertConfigId,omitempty"`
	Details          map[string]string `json:"details,omitempty"`
}

// EncodeEventDoc returns the JSON document a driver stores for e's fields
// other than ID, Created, TypeName, GroupID and OrgID.
func EncodeEventDoc(e atlasx509.Event) ([]byte, error) {
	return json.Marshal(eventDoc{
		APIKeyID: e.APIKeyID, PublicKey: e.PublicKey, ServiceAccountID: e.ServiceAccountID,
		RemoteAddress: e.RemoteAddress, DBUserUsername: e.DBUserUsername, TargetPublicKey: e.TargetPublicKey,
		WhitelistEntry: e.WhitelistEntry, TargetClientID: e.TargetClientID, AlertID: e.AlertID,
		AlertConfigID: e.AlertConfigID, Details: e.Details,
	})
}

// DecodeEventDoc sets e's fields from a document EncodeEventDoc made.
func DecodeEventDoc(b []byte, e *atlasx509.Event) error {
	var d eventDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("stored event document: %w", err)
	}
	e.APIKeyID, e.PublicKey, e.ServiceAccountID = d.APIKeyID, d.PublicKey, d.ServiceAccountID
	e.RemoteAddress, e.DBUserUsername, e.TargetPublicKey = d.RemoteAddress, d.DBUserUsername, d.TargetPublicKey
	e.WhitelistEntry, e.TargetClientID, e.AlertID = d.WhitelistEntry, d.TargetClientID, d.AlertID
	e.AlertConfigID, e.Details = d.AlertConfigID, d.Details
	return nil
}
