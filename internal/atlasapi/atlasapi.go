// Package atlasapi holds the wire shapes of the Atlas Administration API that
// atlasx509 serves: JSON field names, key order (Atlas sends keys in
// alphabetical order, so fields are declared in that order) and the error
// body. Both the server and Go clients of atlasx509 use it.
package atlasapi

import "encoding/json"

// Link is an Atlas hypermedia link.
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// ApiError is the body of every error answer.
type ApiError struct {
	BadRequestDetail *BadRequestDetail `json:"badRequestDetail,omitempty"`
	Detail           string            `json:"detail"`
	Error            int               `json:"error"`
	ErrorCode        string            `json:"errorCode"`
	Parameters       []any             `json:"parameters"`
	Reason           string            `json:"reason"`
}

// BadRequestDetail lists the attributes of a request body that failed validation.
type BadRequestDetail struct {
	Fields []FieldViolation `json:"fields"`
}

// FieldViolation names one attribute and what is wrong with it.
type FieldViolation struct {
	Description string `json:"description"`
	Field       string `json:"field"`
}

// Group is a project as Atlas returns it.
type Group struct {
	ClusterCount              int           `json:"clusterCount"`
	Created                   string        `json:"created"`
	ID                        string        `json:"id"`
	Links                     []Link        `json:"links"`
	Name                      string        `json:"name"`
	OrgID                     string        `json:"orgId"`
	Tags                      []ResourceTag `json:"tags"`
	WithDefaultAlertsSettings bool          `json:"withDefaultAlertsSettings"`
}

// UpdateGroupRequest is the body of PATCH /groups/{groupId} (GroupUpdate).
type UpdateGroupRequest struct {
	Name                      *string        `json:"name"`
	Tags                      *[]ResourceTag `json:"tags"`
	WithDefaultAlertsSettings *bool          `json:"withDefaultAlertsSettings"`
}

// GroupLimit is one project limit (DataFederationLimit in the spec).
type GroupLimit struct {
	CurrentUsage int64  `json:"currentUsage"`
	DefaultLimit int64  `json:"defaultLimit"`
	MaximumLimit int64  `json:"maximumLimit"`
	Name         string `json:"name"`
	Value        int64  `json:"value"`
}

// SetGroupLimitRequest is the body of PATCH /groups/{groupId}/limits/{limitName}.
// The read-only attributes a client echoes back are accepted and ignored.
type SetGroupLimitRequest struct {
	Value        *int64  `json:"value"`
	Name         *string `json:"name"`
	CurrentUsage *int64  `json:"currentUsage"`
	DefaultLimit *int64  `json:"defaultLimit"`
	MaximumLimit *int64  `json:"maximumLimit"`
}

// GroupIPAddresses are the IP addresses of a project's clusters
// (returnAllIpAddresses); atlasx509 runs no clusters.
type GroupIPAddresses struct {
	GroupID  string       `json:"groupId"`
	Services GroupService `json:"services"`
}

// GroupService lists IP addresses by service.
type GroupService struct {
	Clusters []json.RawMessage `json:"clusters"`
}

// Organization is an organization as Atlas returns it (AtlasOrganization).
type Organization struct {
	ID                        string `json:"id"`
	IsDeleted                 bool   `json:"isDeleted"`
	Links                     []Link `json:"links"`
	Name                      string `json:"name"`
	SkipDefaultAlertsSettings bool   `json:"skipDefaultAlertsSettings"`
}

// OrganizationSettings is the settings document of an organization
// (getOrgSettings), field names and order as in Atlas's spec.
type OrganizationSettings struct {
	APIAccessListRequired                  bool `json:"apiAccessListRequired"`
	GenAIFeaturesEnabled                   bool `json:"genAIFeaturesEnabled"`
	MaxServiceAccountSecretValidityInHours int  `json:"maxServiceAccountSecretValidityInHours"`
	MultiFactorAuthRequired                bool `json:"multiFactorAuthRequired"`
	RestrictEmployeeAccess                 bool `json:"restrictEmployeeAccess"`
}

// UpdateOrganizationRequest is the body of PATCH /orgs/{orgId}. Read-only
// attributes that clients echo back are accepted and ignored.
type UpdateOrganizationRequest struct {
	Name                      *string         `json:"name"`
	SkipDefaultAlertsSettings *bool           `json:"skipDefaultAlertsSettings"`
	ID                        *string         `json:"id"`
	IsDeleted                 *bool           `json:"isDeleted"`
	Links                     json.RawMessage `json:"links"`
}

// CreateGroupRequest is the body of POST /groups. Read-only attributes that
// clients echo back (id, created, clusterCount, links) are accepted and ignored.
type CreateGroupRequest struct {
	Name                      *string         `json:"name"`
	OrgID                     *string         `json:"orgId"`
	WithDefaultAlertsSettings *bool           `json:"withDefaultAlertsSettings"`
	RegionUsageRestrictions   *string         `json:"regionUsageRestrictions"`
	Tags                      *[]ResourceTag  `json:"tags"`
	ID                        *string         `json:"id"`
	Created                   *string         `json:"created"`
	ClusterCount              *int            `json:"clusterCount"`
	Links                     json.RawMessage `json:"links"`
}

// DatabaseUser is a database user as Atlas returns it (CloudDatabaseUser).
// The password is write-only and never part of an answer.
type DatabaseUser struct {
	AWSIAMType      string         `json:"awsIAMType"`
	DatabaseName    string         `json:"databaseName"`
	DeleteAfterDate string         `json:"deleteAfterDate,omitempty"`
	Description     string         `json:"description,omitempty"`
	GroupID         string         `json:"groupId"`
	Labels          []Label        `json:"labels"`
	LDAPAuthType    string         `json:"ldapAuthType"`
	Links           []Link         `json:"links"`
	OIDCAuthType    string         `json:"oidcAuthType"`
	Roles           []DatabaseRole `json:"roles"`
	Scopes          []UserScope    `json:"scopes"`
	Username        string         `json:"username"`
	X509Type        string         `json:"x509Type"`
}

// DatabaseUserRequest is the body of POST and PATCH on database users. A nil
// field was absent (or null) in the request.
type DatabaseUserRequest struct {
	AWSIAMType      *string         `json:"awsIAMType"`
	DatabaseName    *string         `json:"databaseName"`
	DeleteAfterDate *string         `json:"deleteAfterDate"`
	Description     *string         `json:"description"`
	GroupID         *string         `json:"groupId"`
	Labels          *[]Label        `json:"labels"`
	LDAPAuthType    *string         `json:"ldapAuthType"`
	Links           json.RawMessage `json:"links"`
	OIDCAuthType    *string         `json:"oidcAuthType"`
	Password        *string         `json:"password"`
	Roles           *[]DatabaseRole `json:"roles"`
	Scopes          *[]UserScope    `json:"scopes"`
	Username        *string         `json:"username"`
	X509Type        *string         `json:"x509Type"`
}

// DatabaseRole is a MongoDB role granted to a database user.
type DatabaseRole struct {
	CollectionName string `json:"collectionName,omitempty"`
	DatabaseName   string `json:"databaseName"`
	RoleName       string `json:"roleName"`
}

// UserScope limits a database user to one deployment.
type UserScope struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Label is a key/value pair on a database user.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// UserCertRequest is the body of POST …/databaseUsers/{username}/certs.
type UserCertRequest struct {
	MonthsUntilExpiration *int `json:"monthsUntilExpiration"`
}

// UserCert is one item of the list of a user's certificates.
type UserCert struct {
	ID        int64  `json:"_id"`
	CreatedAt string `json:"createdAt"`
	GroupID   string `json:"groupId"`
	NotAfter  string `json:"notAfter"`
	// Revoked, RevokedAt and RevocationReason (an extension) are present
	// only for a revoked certificate, listed with includeRevoked=true.
	RevocationReason string `json:"revocationReason,omitempty"`
	Revoked          bool   `json:"revoked,omitempty"`
	RevokedAt        string `json:"revokedAt,omitempty"`
	Subject          string `json:"subject"`
}

// Paginated is the shape of every list answer. TotalCount is omitted when
// the client asked includeCount=false.
type Paginated[T any] struct {
	Links   []Link `json:"links"`
	Results []T    `json:"results"`
	// Status is set only when the client asked envelope=true.
	Status     *int `json:"status,omitempty"`
	TotalCount *int `json:"totalCount,omitempty"`
}

// Envelope wraps a single-entity answer when the client asks envelope=true.
type Envelope struct {
	Content any `json:"content"`
	Status  int `json:"status"`
}

// TokenResponse is the answer of the OAuth 2.0 token endpoint.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// OAuthError is an OAuth 2.0 error answer (RFC 6749 §5.2).
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// Bootstrap is the one JSON line that init and a first serve print: the
// first organization, project and credentials.
type Bootstrap struct {
	OrgID          string                  `json:"orgId"`
	ProjectID      string                  `json:"projectId"`
	APIKey         BootstrapAPIKey         `json:"apiKey"`
	ServiceAccount BootstrapServiceAccount `json:"serviceAccount"`
}

// BootstrapAPIKey is the bootstrap programmatic API key.
type BootstrapAPIKey struct {
	ID         string `json:"id"`
	PublicKey  string `json:"publicKey"`
	PrivateKey string `json:"privateKey"`
}

// BootstrapServiceAccount is the bootstrap service account.
type BootstrapServiceAccount struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// UserSecurity is a project's database user security settings: self-managed
// X.509 and LDAP.
type UserSecurity struct {
	CustomerX509 CustomerX509 `json:"customerX509"`
	LDAP         LDAPSecurity `json:"ldap"`
}

// CustomerX509 holds the CA certificates of self-managed X.509; Cas is
// absent when the project does not use it.
type CustomerX509 struct {
	Cas string `json:"cas,omitempty"`
	// Crls is an atlasx509 extension: the CRLs of those CAs (PEM).
	Crls  string `json:"crls,omitempty"`
	Links []Link `json:"links,omitempty"`
}

// LDAPSecurity is the LDAP part of UserSecurity. atlasx509 does not offer
// LDAP, so both switches are always off.
type LDAPSecurity struct {
	AuthenticationEnabled bool `json:"authenticationEnabled"`
	AuthorizationEnabled  bool `json:"authorizationEnabled"`
}

// UserSecurityRequest is the body of PATCH /groups/{groupId}/userSecurity.
type UserSecurityRequest struct {
	CustomerX509 *CustomerX509Request `json:"customerX509"`
	LDAP         *LDAPRequest         `json:"ldap"`
	Links        json.RawMessage      `json:"links"`
}

// CustomerX509Request sets or clears the CA certificates of self-managed X.509.
type CustomerX509Request struct {
	Cas *string `json:"cas"`
	// Crls is an atlasx509 extension: the CRLs of the CAs (PEM); "" removes them.
	Crls  *string         `json:"crls"`
	Links json.RawMessage `json:"links"`
}

// LDAPRequest is the LDAP part of a UserSecurity change. Only turning LDAP
// off is supported.
type LDAPRequest struct {
	AuthenticationEnabled *bool           `json:"authenticationEnabled"`
	AuthorizationEnabled  *bool           `json:"authorizationEnabled"`
	AuthzQueryTemplate    *string         `json:"authzQueryTemplate"`
	BindPassword          *string         `json:"bindPassword"`
	BindUsername          *string         `json:"bindUsername"`
	CaCertificate         *string         `json:"caCertificate"`
	Hostname              *string         `json:"hostname"`
	Port                  *int            `json:"port"`
	UserToDNMapping       json.RawMessage `json:"userToDNMapping"`
	Links                 json.RawMessage `json:"links"`
}

// ManagedX509 is an extension of atlasx509: the settings of a project's
// Atlas-managed X.509.
type ManagedX509 struct {
	// LeafKeyType is the key type of issued certificates: RSA4096 (the
	// default, as Atlas), RSA3072, RSA2048, ECDSA_P256 or ECDSA_P384.
	LeafKeyType string `json:"leafKeyType"`
	// Cas are the CA generations that the CA route and the CRL route list,
	// newest (the active one) first.
	Cas   []ManagedX509CA `json:"cas"`
	Links []Link          `json:"links"`
}

// ManagedX509CA is one CA generation of a project's managed X.509.
type ManagedX509CA struct {
	Generation int    `json:"generation"`
	NotBefore  string `json:"notBefore"`
	NotAfter   string `json:"notAfter"`
	// Sha256Fingerprint is the SHA-256 of the CA certificate's DER in
	// lowercase hex, as sha256sum prints it.
	Sha256Fingerprint string `json:"sha256Fingerprint"`
	// Active is true for the generation that signs new certificates.
	Active bool `json:"active"`
	// UnexpiredCertificates counts the certificates it signed that are
	// neither expired nor revoked; an older generation leaves the list
	// when it reaches 0.
	UnexpiredCertificates int `json:"unexpiredCertificates"`
}

// ManagedX509Request is the body of PATCH …/userSecurity/managedX509.
type ManagedX509Request struct {
	LeafKeyType *string         `json:"leafKeyType"`
	Links       json.RawMessage `json:"links"`
}

// ResourceTag is a key and value that tag a project.
type ResourceTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Event is one event of a project or an organization
// (EventViewForNdsGroup, EventViewForOrg). Fields in alphabetical order, as
// Atlas answers them; absent values are omitted.
type Event struct {
	AlertConfigID  string          `json:"alertConfigId,omitempty"`
	AlertID        string          `json:"alertId,omitempty"`
	APIKeyID       string          `json:"apiKeyId,omitempty"`
	Created        string          `json:"created"`
	DBUserUsername string          `json:"dbUserUsername,omitempty"`
	EventTypeName  string          `json:"eventTypeName"`
	GroupID        string          `json:"groupId,omitempty"`
	ID             string          `json:"id"`
	IsGlobalAdmin  bool            `json:"isGlobalAdmin"`
	Links          []Link          `json:"links"`
	OrgID          string          `json:"orgId,omitempty"`
	PublicKey      string          `json:"publicKey,omitempty"`
	Raw            json.RawMessage `json:"raw,omitempty"`
	RemoteAddress  string          `json:"remoteAddress,omitempty"`
	// TargetClientID is an atlasx509 extension: the service account a
	// SERVICE_ACCOUNT_* event is about.
	TargetClientID  string `json:"targetClientId,omitempty"`
	TargetPublicKey string `json:"targetPublicKey,omitempty"`
	// Username is the client id of the service account that caused the
	// event (Atlas: the console user's email).
	Username       string `json:"username,omitempty"`
	WhitelistEntry string `json:"whitelistEntry,omitempty"`
}

// EventType is one entry of GET /eventTypes (EventTypeDetails).
type EventType struct {
	Alertable   bool   `json:"alertable"`
	Description string `json:"description"`
	EventType   string `json:"eventType"`
}
