package atlasx509

import "time"

// Organization is an Atlas organization: the owner of projects and credentials.
type Organization struct {
	ID      string
	Name    string
	Created time.Time
	// SkipDefaultAlertsSettings is Atlas's flag of the same name: stored
	// and answered; it configures nothing here (each project's own
	// WithDefaultAlertsSettings decides its default alert configurations).
	SkipDefaultAlertsSettings bool
}

// Project is an Atlas project (a "group" on the wire).
type Project struct {
	ID      string
	OrgID   string
	Name    string
	Created time.Time
	// CustomerX509CAs holds the PEM CA certificates of self-managed X.509
	// ("advanced mode"); empty when the project does not use it.
	CustomerX509CAs string
	// CustomerX509CRLs holds the PEM CRLs of those CAs that the operator
	// gave (the customerX509.crls extension); empty when none.
	CustomerX509CRLs string
	// LeafKeyType is the key type of the project's managed certificates
	// (an extension); empty means the default, RSA 4096 as Atlas.
	LeafKeyType string
	// WithDefaultAlertsSettings is Atlas's flag of the same name: when
	// true, the project is created with Atlas's default alert
	// configuration for expiring managed certificates, and enabling
	// self-managed X.509 adds the one for expiring CAs.
	WithDefaultAlertsSettings bool
	// Tags are the project's resource tags, in the order given.
	Tags []Tag
	// Settings holds the project settings (GET /groups/{groupId}/settings)
	// that were set, by Atlas field name; the others have Atlas's defaults.
	// It also holds managedSlowMs, Atlas's managed slow operation threshold
	// flag (GET /groups/{groupId}/managedSlowMs), not a field of that document.
	Settings map[string]bool
	// Limits holds the project limits that were set, by Atlas limit name
	// (atlas.project.security.databaseAccess.users); the others have their
	// defaults.
	Limits map[string]int64
}

// Tag is a resource tag of a project.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// AccessListEntry allows a credential to be used from one address or network.
type AccessListEntry struct {
	PrincipalID string
	// CIDR is the network in canonical form ("192.0.2.7/32", "2001:db8::/48").
	CIDR    string
	Comment string
	Created time.Time
	// UseCount, LastUsed and LastUsedAddress record the requests the entry
	// let through: how many, when the last one came (nil before any) and
	// from which address. They are written in batches, not per request.
	UseCount        int64
	LastUsed        *time.Time
	LastUsedAddress string
}

// Authentication types of a database user, as Atlas names them.
const (
	X509None     = "NONE"
	X509Customer = "CUSTOMER"
	X509Managed  = "MANAGED"

	AWSIAMNone = "NONE"
	AWSIAMUser = "USER"
	AWSIAMRole = "ROLE"

	LDAPNone  = "NONE"
	LDAPUser  = "USER"
	LDAPGroup = "GROUP"

	OIDCNone     = "NONE"
	OIDCUser     = "USER"
	OIDCIdPGroup = "IDP_GROUP"
)

// Authentication databases a database user may live in.
const (
	DatabaseAdmin    = "admin"
	DatabaseExternal = "$external"
)

// DatabaseUser is an Atlas database user of one project.
type DatabaseUser struct {
	GroupID      string
	Username     string
	DatabaseName string
	Roles        []DatabaseRole
	Scopes       []UserScope
	Labels       []Label
	X509Type     string
	AWSIAMType   string
	LDAPAuthType string
	OIDCAuthType string
	Description  string
	// DeleteAfterDate makes the user temporary; nil for a permanent user.
	DeleteAfterDate *time.Time
	// SCRAMCredential is the SCRAM-SHA-256 verifier derived from the password
	// (empty when the user has no password). The password itself is never kept.
	SCRAMCredential string
	Created         time.Time
	Updated         time.Time
}

// DatabaseRole is a MongoDB role granted to a database user.
type DatabaseRole struct {
	RoleName       string `json:"roleName"`
	DatabaseName   string `json:"databaseName"`
	CollectionName string `json:"collectionName,omitempty"`
}

// UserScope restricts a database user to one cluster, data lake or stream instance.
type UserScope struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Label is a key/value pair attached to a database user.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ProjectCA is one certificate authority of a project's managed X.509. A
// project gets its first CA on first need; a new generation is created when
// the newest one would expire before a certificate it must sign.
type ProjectCA struct {
	GroupID    string
	Generation int
	// CertDER is the CA certificate.
	CertDER []byte
	// SealedKey is the CA private key (PKCS#8) sealed by the keyring with
	// additional data binding it to this project and generation.
	SealedKey []byte
	NotBefore time.Time
	NotAfter  time.Time
	Created   time.Time
	// RevocationSeq grows with every change of the set of certificates this
	// CA signed that are revoked; a stored CRL covering a smaller value is
	// stale. CRLNumber is the last CRL number allocated for this CA. Both
	// are maintained by the store; InsertProjectCA ignores them.
	RevocationSeq int64
	CRLNumber     int64
}

// CRL is the latest certificate revocation list signed by one project CA
// generation, kept so that reading it costs no signature.
type CRL struct {
	GroupID    string
	Generation int
	// Number is the CRL number, allocated by the store and never reused
	// for the same CA.
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	// RevocationSeq is the ProjectCA.RevocationSeq the CRL's entries
	// include at least.
	RevocationSeq int64
	DER           []byte
}

// Certificate is the record of one issued managed certificate. The private
// key is never part of it.
type Certificate struct {
	GroupID  string
	Username string
	// Serial is the certificate serial number, a positive int64 unique within
	// the project; it is the list item's _id on the wire.
	Serial       int64
	Subject      string // RFC 2253, e.g. CN=alice
	CAGeneration int
	NotBefore    time.Time
	NotAfter     time.Time
	// FingerprintSHA256 is the lower-case hex SHA-256 of the certificate DER.
	FingerprintSHA256 string
	Created           time.Time
	// RevokedAt is when the certificate was revoked; nil while it is not.
	RevokedAt *time.Time
	// RevocationReason is the RFC 5280 CRLReason code of a revoked
	// certificate (0, unspecified, otherwise).
	RevocationReason int
}

// APIKey is a programmatic API key. Its private key is never stored: only
// the Digest HA1 values derived from it, sealed.
type APIKey struct {
	ID          string
	OrgID       string
	PublicKey   string
	Description string
	// SealedHA1MD5 and SealedHA1SHA256 are the Digest HA1 values
	// (H(publicKey:realm:privateKey)) sealed by the keyring.
	SealedHA1MD5    []byte
	SealedHA1SHA256 []byte
	Created         time.Time
}

// ServiceAccount is an OAuth 2.0 client of the organization.
type ServiceAccount struct {
	ClientID    string
	OrgID       string
	Name        string
	Description string
	Created     time.Time
}

// ServiceAccountSecret is one secret of a service account, stored as a hash.
type ServiceAccountSecret struct {
	ID        string
	ClientID  string
	Hash      []byte // SHA-256 of the secret
	ExpiresAt time.Time
	Created   time.Time
}

// OAuthToken records an issued access token so that it can be revoked. The
// token itself is never stored: ID is its "jti" claim.
type OAuthToken struct {
	ID        string
	ClientID  string
	ExpiresAt time.Time
	Created   time.Time
	Revoked   bool
}
