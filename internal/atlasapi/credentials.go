package atlasapi

import "encoding/json"

// MaskedPrivateKey is how an API key's private key appears in every answer
// but the one that created it. Atlas shows the last twelve digits of the
// UUID; atlasx509 never keeps any part of the private key, so it masks all
// of it in the same layout.
const MaskedPrivateKey = "********-****-****-************"

// MaskedSecretValue is how a service account secret appears in every
// answer but the one that created it (the example value of Atlas's spec;
// atlasx509 keeps only a hash of the secret).
const MaskedSecretValue = "mdb_sa_sk_..."

// APIKey is a programmatic API key as Atlas returns it (ApiKeyUserDetails).
// PrivateKey is in clear only in the answer that created the key.
type APIKey struct {
	Desc       string                      `json:"desc"`
	ID         string                      `json:"id"`
	Links      []Link                      `json:"links"`
	PrivateKey string                      `json:"privateKey"`
	PublicKey  string                      `json:"publicKey"`
	Roles      []CloudAccessRoleAssignment `json:"roles"`
}

// CloudAccessRoleAssignment is one role of an API key: an organization
// role carries orgId, a project role groupId.
type CloudAccessRoleAssignment struct {
	GroupID  string `json:"groupId,omitempty"`
	OrgID    string `json:"orgId,omitempty"`
	RoleName string `json:"roleName"`
}

// APIKeyRequest is the body that creates or changes an API key
// (CreateAtlasOrganizationApiKey, UpdateAtlasOrganizationApiKey,
// CreateAtlasProjectApiKey, UpdateAtlasProjectApiKey). A nil field was
// absent.
type APIKeyRequest struct {
	Desc  *string   `json:"desc"`
	Roles *[]string `json:"roles"`
}

// UserAccessRoleAssignment is one item of the body that assigns an API key
// to a project; UserID is read-only and ignored.
type UserAccessRoleAssignment struct {
	Roles  *[]string `json:"roles"`
	UserID *string   `json:"userId"`
}

// AccessListRequest is one entry to add to an API key's access list
// (UserAccessListRequest): an address or a network, not both.
type AccessListRequest struct {
	CIDRBlock *string `json:"cidrBlock"`
	IPAddress *string `json:"ipAddress"`
}

// AccessListEntry is one entry of an API key's access list
// (UserAccessListResponse). IPAddress is set when the entry is one address.
type AccessListEntry struct {
	CIDRBlock string `json:"cidrBlock"`
	// Count, LastUsed and LastUsedAddress appear once the entry let a
	// request through.
	Count           int64  `json:"count,omitempty"`
	Created         string `json:"created"`
	IPAddress       string `json:"ipAddress,omitempty"`
	LastUsed        string `json:"lastUsed,omitempty"`
	LastUsedAddress string `json:"lastUsedAddress,omitempty"`
	Links           []Link `json:"links"`
}

// ServiceAccount is a service account as Atlas returns it, at the
// organization (OrgServiceAccount: organization roles) or at a project
// (GroupServiceAccount: the project's roles).
type ServiceAccount struct {
	ClientID    string                 `json:"clientId"`
	CreatedAt   string                 `json:"createdAt"`
	Description string                 `json:"description"`
	Name        string                 `json:"name"`
	Roles       []string               `json:"roles"`
	Secrets     []ServiceAccountSecret `json:"secrets"`
}

// ServiceAccountSecret is one secret of a service account. Secret is set
// only in the answer that created it.
type ServiceAccountSecret struct {
	CreatedAt         string `json:"createdAt"`
	ExpiresAt         string `json:"expiresAt"`
	ID                string `json:"id"`
	MaskedSecretValue string `json:"maskedSecretValue"`
	Secret            string `json:"secret,omitempty"`
}

// ServiceAccountRequest is the body that creates a service account
// (OrgServiceAccountRequest, GroupServiceAccountRequest) or, without
// SecretExpiresAfterHours, changes one (…UpdateRequest). A nil field was
// absent.
type ServiceAccountRequest struct {
	Description             *string   `json:"description"`
	Name                    *string   `json:"name"`
	Roles                   *[]string `json:"roles"`
	SecretExpiresAfterHours *int      `json:"secretExpiresAfterHours"`
}

// ServiceAccountUpdateRequest is the body that changes a service account.
type ServiceAccountUpdateRequest struct {
	Description *string   `json:"description"`
	Name        *string   `json:"name"`
	Roles       *[]string `json:"roles"`
}

// ServiceAccountSecretRequest is the body that creates a secret.
type ServiceAccountSecretRequest struct {
	SecretExpiresAfterHours *int `json:"secretExpiresAfterHours"`
}

// ServiceAccountRoleAssignment is the body that assigns a service account
// to a project (GroupServiceAccountRoleAssignment).
type ServiceAccountRoleAssignment struct {
	Roles *[]string `json:"roles"`
}

// ServiceAccountAccessListRequest is one entry to add to a service
// account's access list (ServiceAccountIPAccessListEntry). The read-only
// attributes that clients echo back are accepted and ignored.
type ServiceAccountAccessListRequest struct {
	CIDRBlock       *string         `json:"cidrBlock"`
	CreatedAt       json.RawMessage `json:"createdAt"`
	IPAddress       *string         `json:"ipAddress"`
	LastUsedAddress json.RawMessage `json:"lastUsedAddress"`
	LastUsedAt      json.RawMessage `json:"lastUsedAt"`
	RequestCount    json.RawMessage `json:"requestCount"`
}

// ServiceAccountAccessListEntry is one entry of a service account's access
// list (ServiceAccountIPAccessListEntry). IPAddress is set when the entry
// is one address.
type ServiceAccountAccessListEntry struct {
	CIDRBlock string `json:"cidrBlock"`
	CreatedAt string `json:"createdAt"`
	IPAddress string `json:"ipAddress,omitempty"`
	// LastUsedAddress, LastUsedAt and RequestCount appear once the entry
	// let a request through.
	LastUsedAddress string `json:"lastUsedAddress,omitempty"`
	LastUsedAt      string `json:"lastUsedAt,omitempty"`
	RequestCount    int64  `json:"requestCount,omitempty"`
}

// ServiceAccountGroup is one project a service account is assigned to.
type ServiceAccountGroup struct {
	GroupID string `json:"groupId"`
}

// SystemStatus is the answer of GET /api/atlas/v2 (getSystemStatus).
type SystemStatus struct {
	APIKey     *SystemStatusAPIKey `json:"apiKey,omitempty"`
	AppName    string              `json:"appName"`
	Build      string              `json:"build"`
	IPAddress  string              `json:"ipAddress"`
	Links      []Link              `json:"links"`
	Throttling bool                `json:"throttling"`
}

// SystemStatusAPIKey is the calling API key in a SystemStatus (ApiKey).
type SystemStatusAPIKey struct {
	AccessList []AccessListItem            `json:"accessList"`
	ID         string                      `json:"id"`
	PublicKey  string                      `json:"publicKey"`
	Roles      []CloudAccessRoleAssignment `json:"roles"`
}

// AccessListItem is one network of a SystemStatusAPIKey's access list.
type AccessListItem struct {
	CIDRBlock string `json:"cidrBlock"`
	IPAddress string `json:"ipAddress,omitempty"`
}
