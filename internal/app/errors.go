package app

import (
	"fmt"
	"slices"

	"github.com/atlasx509/atlasx509"
)

// This file is the catalog of the Atlas errors atlasx509 answers: every
// error code has its entry here, with the kind of its answer and the
// template of its detail, and its one constructor. No other file builds an
// *atlasx509.Error with a code (a test checks it); the README's error table
// is generated from ErrorCatalog. A code whose detail has two shapes (two
// templates) has two entries, each with its constructor.

// ErrorDef is one entry of the catalog: an Atlas error code, the kind of
// its answer (its HTTP status) and its detail, a fmt template whose
// arguments are the error's Atlas "parameters".
type ErrorDef struct {
	Kind   atlasx509.Kind
	Code   string
	Detail string
}

// catalog lists the entries in the order they are defined.
var catalog []ErrorDef

// def adds an entry to the catalog.
func def(kind atlasx509.Kind, code, detail string) ErrorDef {
	d := ErrorDef{Kind: kind, Code: code, Detail: detail}
	catalog = append(catalog, d)
	return d
}

// ErrorCatalog returns every entry of the catalog.
func ErrorCatalog() []ErrorDef { return slices.Clone(catalog) }

// new builds the error of d with these parameters.
func (d ErrorDef) new(params ...any) *atlasx509.Error {
	return atlasx509.Errorf(d.Kind, d.Code, d.Detail, params...)
}

// withCause builds the error of d with these parameters and cause, which is
// logged and never sent.
func (d ErrorDef) withCause(cause error, params ...any) *atlasx509.Error {
	e := d.new(params...)
	e.Err = cause
	return e
}

// Errors of the HTTP layer: routing, versions, request decoding, rate
// limits, access lists and faults.
var (
	defUnexpected       = def(atlasx509.KindInternal, "UNEXPECTED_ERROR", "Unexpected error.")
	defUnauthenticated  = def(atlasx509.KindUnauthenticated, "UNEXPECTED_ERROR", "You are not authorized for this resource.")
	defResourceNotFound = def(atlasx509.KindNotFound, "RESOURCE_NOT_FOUND", "Cannot find resource %s.")
	defMethodNotAllowed = def(atlasx509.KindMethodNotAllowed, "METHOD_NOT_ALLOWED", "The method is not allowed for this resource.")
	defInvalidVersion   = def(atlasx509.KindNotAcceptable, "INVALID_VERSION_DATE", "Invalid accept header or version date.")
	defVersionGone      = def(atlasx509.KindGone, "VERSION_GONE", "Version %s of %s is no longer available.")
	defMalformedJSON    = def(atlasx509.KindInvalid, "MALFORMED_JSON", "Received JSON is malformed.")
	defInvalidJSON      = def(atlasx509.KindInvalid, "INVALID_JSON", "Received JSON does not match expected format.")
	defBodyTooLarge     = def(atlasx509.KindInvalid, "INVALID_JSON", "The request body is larger than %d bytes.")
	// Atlas's code for a body of another media type is not known: this one
	// is atlasx509's.
	defUnsupportedMedia = def(atlasx509.KindUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
		"Content type %s is not supported: send the body as application/json or application/vnd.atlas.YYYY-MM-DD+json.")
	defInvalidJSONAttr   = def(atlasx509.KindInvalid, "INVALID_JSON_ATTRIBUTE", "Received JSON for the %s attribute does not match expected format.")
	defInvalidAttribute  = def(atlasx509.KindInvalid, "INVALID_ATTRIBUTE", "Invalid attribute %s specified.")
	defInvalidQueryParam = def(atlasx509.KindInvalid, "INVALID_QUERY_PARAMETER", "Invalid query parameter %s specified.")
	defRateLimited       = def(atlasx509.KindTooManyRequests, "RATE_LIMITED_TOKEN_BUCKET",
		"Rate limit exceeded for %s. Please retry after %d seconds. Request capacity: %d. Refill rate: %d per %d seconds.")
	defNotOnAccessList = def(atlasx509.KindForbidden, "IP_ADDRESS_NOT_ON_ACCESS_LIST", "IP address %s is not allowed to access this resource.")
	defUnauthorized    = def(atlasx509.KindUnauthorized, "USER_UNAUTHORIZED", "Current user is not authorized to perform this action.")
)

// ErrUnexpected is the answer to a fault: its cause is logged, the client
// sees only "Unexpected error.".
func ErrUnexpected(cause error) *atlasx509.Error { return defUnexpected.withCause(cause) }

// ErrUnauthenticated is the body of the 401 that asks for credentials, as
// Atlas words it.
func ErrUnauthenticated() *atlasx509.Error { return defUnauthenticated.new() }

// ErrResourceNotFound answers a path no route serves.
func ErrResourceNotFound(path string) error { return defResourceNotFound.new(path) }

// ErrMethodNotAllowed answers a method the path's routes do not serve.
func ErrMethodNotAllowed() error { return defMethodNotAllowed.new() }

// ErrInvalidVersionDate answers an Accept header that names no version of
// the resource.
func ErrInvalidVersionDate() error { return defInvalidVersion.new() }

// ErrVersionGone answers a version of the resource at path that was
// removed.
func ErrVersionGone(version, path string) error { return defVersionGone.new(version, path) }

// ErrMalformedJSON answers a body that is not JSON; cause may be nil.
func ErrMalformedJSON(cause error) error { return defMalformedJSON.withCause(cause) }

// ErrUnsupportedMediaType answers a body sent as another media type than
// JSON (text/plain or a form, which a browser may send cross-site).
func ErrUnsupportedMediaType(contentType string) error { return defUnsupportedMedia.new(contentType) }

// ErrInvalidJSON answers JSON of the wrong shape.
func ErrInvalidJSON(cause error) error { return defInvalidJSON.withCause(cause) }

// ErrBodyTooLarge answers a body larger than limit bytes.
func ErrBodyTooLarge(limit int64) error { return defBodyTooLarge.new(limit) }

// ErrInvalidJSONAttribute answers an attribute of the wrong JSON type;
// cause may be nil.
func ErrInvalidJSONAttribute(attr string, cause error) error {
	return defInvalidJSONAttr.withCause(cause, attr)
}

// ErrInvalidAttribute answers an attribute that is unknown or whose value
// is not valid; cause may be nil.
func ErrInvalidAttribute(attr string, cause error) error {
	return defInvalidAttribute.withCause(cause, attr)
}

// ErrInvalidQueryParameter answers a query parameter whose value is not
// valid; cause may be nil.
func ErrInvalidQueryParameter(name string, cause error) error {
	return defInvalidQueryParam.withCause(cause, name)
}

// ErrRateLimited answers a request that found its token bucket empty.
func ErrRateLimited(path string, retryAfterSeconds, capacity, refill, periodSeconds int) error {
	return defRateLimited.new(path, retryAfterSeconds, capacity, refill, periodSeconds)
}

// ErrNotOnAccessList answers a credential used from an address outside its
// access list.
func ErrNotOnAccessList(addr string) error { return defNotOnAccessList.new(addr) }

// errUnauthorized is Atlas's answer to a caller without the role: 401.
func errUnauthorized() error { return defUnauthorized.new() }

// internal wraps a fault for the log; the client sees only "Unexpected error.".
func internal(op string, err error) error { return ErrUnexpected(fmt.Errorf("%s: %w", op, err)) }

// Errors of request bodies, shared by the resources.
var (
	defMissingAttribute = def(atlasx509.KindInvalid, "MISSING_ATTRIBUTE", "The required attribute %s was not specified.")
	defMissingOneOf     = def(atlasx509.KindInvalid, "MISSING_ONE_OF_ATTRIBUTES", "Either the %s attribute or the %s attribute must be specified.")
	defInvalidEnum      = def(atlasx509.KindInvalid, "INVALID_ENUM_VALUE", "An invalid enumeration value %s was specified.")
	defValidation       = def(atlasx509.KindInvalid, "VALIDATION_ERROR", "The request content produced the validation error: %s.")
	defUnsupported      = def(atlasx509.KindInvalid, "UNSUPPORTED_FEATURE", "This feature is not yet supported.")
)

func errMissing(attr string) error      { return defMissingAttribute.new(attr) }
func errMissingOneOf(a, b string) error { return defMissingOneOf.new(a, b) }
func errInvalidEnum(value string) error { return defInvalidEnum.new(value) }
func errInvalidAttr(attr string) error  { return ErrInvalidAttribute(attr, nil) }
func errUnsupportedFeature() error      { return defUnsupported.new() }
func errValidation(reason string) error { return defValidation.new(reason) }
func errValidationOf(reason, param string, cause error) error {
	e := defValidation.withCause(cause, reason)
	e.Params = []any{param}
	return e
}

// errValidationField is a VALIDATION_ERROR about one attribute, which the
// answer's badRequestDetail names.
func errValidationField(field, problem string) error {
	e := defValidation.new(field + " " + problem)
	e.Fields = []atlasx509.FieldError{{Field: field, Description: problem}}
	return e
}

// Errors of organizations and projects.
var (
	defInvalidOrgID      = def(atlasx509.KindNotFound, "INVALID_ORG_ID", "An invalid organization ID %s was specified.")
	defOrgNotFound       = def(atlasx509.KindNotFound, "ORG_NOT_FOUND", "No organization with ID %s exists.")
	defInvalidGroupID    = def(atlasx509.KindNotFound, "INVALID_GROUP_ID", "An invalid group ID %s was specified.")
	defGroupNotFound     = def(atlasx509.KindNotFound, "GROUP_NOT_FOUND", "No group with ID %s exists.")
	defGroupName         = def(atlasx509.KindInvalid, "INVALID_GROUP_NAME", "An invalid group name \"%s\" was specified.")
	defGroupExists       = def(atlasx509.KindConflict, "GROUP_ALREADY_EXISTS", "A group with name \"%s\" already exists.")
	defOrgName           = def(atlasx509.KindInvalid, "INVALID_ORG_NAME", "An invalid organization name \"%s\" was specified.")
	defGroupNameNotFound = def(atlasx509.KindNotFound, "GROUP_NAME_NOT_FOUND", "No group with name \"%s\" exists.")
	defLimitNotFound     = def(atlasx509.KindNotFound, "LIMIT_NOT_FOUND", "No limit named %s exists for this project.")
)

func errInvalidOrgID(orgID string) error     { return defInvalidOrgID.new(orgID) }
func errOrgNotFound(orgID string) error      { return defOrgNotFound.new(orgID) }
func errInvalidGroupID(groupID string) error { return defInvalidGroupID.new(groupID) }
func errGroupNotFound(groupID string) error  { return defGroupNotFound.new(groupID) }
func errInvalidGroupName(name string) error  { return defGroupName.new(name) }
func errInvalidOrgName(name string) error    { return defOrgName.new(name) }
func errGroupNameNotFound(name string) error { return defGroupNameNotFound.new(name) }
func errLimitNotFound(name string) error     { return defLimitNotFound.new(name) }
func errGroupAlreadyExists(name string) error {
	return defGroupExists.new(name)
}

// Errors of database users.
var (
	defX509NoLDAP        = def(atlasx509.KindInvalid, "ATLAS_X509_USER_CANNOT_USE_LDAP", "Users cannot be configured for X.509 and LDAP authentication.")
	defAuthSettings      = def(atlasx509.KindInvalid, "ATLAS_INVALID_AUTH_SETTINGS", "Invalid authentication settings. %s.")
	defDBNameExternal    = def(atlasx509.KindInvalid, "DATABASE_NAME_INVALID_EXTERNAL", "Database name invalid. Externally authenticated users can only be created on the $external database.")
	defDBNameAdmin       = def(atlasx509.KindInvalid, "DATABASE_NAME_INVALID_ADMIN", "Database name invalid. %s can only be created on the admin database.")
	defX509NoSCRAM       = def(atlasx509.KindInvalid, "ATLAS_X509_USER_CANNOT_USE_SCRAM", "Users cannot be configured for SCRAM and X.509 authentication.")
	defX509NotTemporary  = def(atlasx509.KindInvalid, "ATLAS_X509_USER_CANNOT_BE_TEMPORARY", "X.509 users cannot be temporary.")
	defExpiryInPast      = def(atlasx509.KindInvalid, "EXPIRATION_DATE_IN_PAST", "The specified expiration date must be in the future.")
	defExpiryExceedsMax  = def(atlasx509.KindInvalid, "EXPIRATION_DATE_EXCEEDS_MAX", "The specified expiration date can be at most %d days in the future.")
	defInvalidUsername   = def(atlasx509.KindInvalid, "ATLAS_INVALID_USERNAME", "The specified username %s is not valid for an Atlas database user.")
	defManagedX509Name   = def(atlasx509.KindInvalid, "ATLAS_MANAGED_X509_NAME_INVALID", "The username %s is invalid for Atlas-managed X.509 user auth. These usernames must take the form CN=<username> with no additional OIDs: give the plain username (at most 64 characters, none of , = + \" \\ < > ; # and no leading or trailing space).")
	defInvalidLDAPName   = def(atlasx509.KindInvalid, "ATLAS_INVALID_LDAP_NAME", "The distinguished name specified in the username field, %s, is not valid according to RFC 2253.")
	defX509NameWithoutCN = def(atlasx509.KindInvalid, "ATLAS_INVALID_LDAP_NAME", "The distinguished name specified in the username field, %s, is not valid according to RFC 2253: an X.509 user needs a common name (CN).")
	defInvalidRole       = def(atlasx509.KindInvalid, "ATLAS_INVALID_ROLE", "The specified role %s@%s does not exist.")
	defInvalidDBName     = def(atlasx509.KindInvalid, "INVALID_DATABASE_NAME", "Invalid database name specified: %s.")
	defRoleDatabase      = def(atlasx509.KindInvalid, "ATLAS_INVALID_ROLE_DATABASE", "The specified role %s only exists for database %s.")
	defDuplicateRoles    = def(atlasx509.KindInvalid, "DUPLICATE_DATABASE_ROLES", "Duplicate database roles specified for user %s: %s.")
	defUsersLimit        = def(atlasx509.KindForbidden, "GROUP_USERS_LIMIT_EXCEEDED", "Groups can contain at most %d database users.")
	defUserExists        = def(atlasx509.KindConflict, "USER_ALREADY_EXISTS", "A user with username %s already exists.")
	defUsernameFixed     = def(atlasx509.KindConflict, "DATABASE_USERNAME_CANNOT_BE_CHANGED", "Cannot modify the username of an existing database user.")
	defDBNameFixed       = def(atlasx509.KindConflict, "DATABASE_NAME_CANNOT_BE_CHANGED", "Cannot modify the authentication database of an existing database user.")
	defAuthTypeFixed     = def(atlasx509.KindConflict, "AUTH_TYPE_CANNOT_BE_CHANGED", "Cannot modify the authentication type of an existing database user.")
	defGroupMismatch     = def(atlasx509.KindInvalid, "GROUP_MISMATCH", "The specified group ID %s does not match the URL.")
	defUsernameNotFound  = def(atlasx509.KindNotFound, "USERNAME_NOT_FOUND", "No user with username %s exists.")
)

func errX509UserCannotUseLDAP() error         { return defX509NoLDAP.new() }
func errInvalidAuthSettings(why string) error { return defAuthSettings.new(why) }
func errDatabaseNameInvalidExternal() error   { return defDBNameExternal.new() }
func errDatabaseNameInvalidAdmin(kind string) error {
	return defDBNameAdmin.new(kind)
}
func errX509UserCannotUseSCRAM() error    { return defX509NoSCRAM.new() }
func errX509UserCannotBeTemporary() error { return defX509NotTemporary.new() }
func errExpirationDateInPast() error      { return defExpiryInPast.new() }
func errExpirationDateExceedsMax(days int) error {
	return defExpiryExceedsMax.new(days)
}
func errInvalidUsername(name string) error { return defInvalidUsername.new(name) }
func errManagedX509NameInvalid(name string) error {
	return defManagedX509Name.new(name)
}
func errInvalidLDAPName(name string) error   { return defInvalidLDAPName.new(name) }
func errX509NameWithoutCN(name string) error { return defX509NameWithoutCN.new(name) }
func errInvalidRole(role, db string) error   { return defInvalidRole.new(role, db) }
func errInvalidDatabaseName(db string) error { return defInvalidDBName.new(db) }
func errInvalidRoleDatabase(role, db string) error {
	return defRoleDatabase.new(role, db)
}
func errDuplicateDatabaseRoles(username, role string) error {
	return defDuplicateRoles.new(username, role)
}
func errGroupUsersLimitExceeded(limit int) error { return defUsersLimit.new(limit) }
func errUserAlreadyExists(username string) error { return defUserExists.new(username) }
func errUsernameCannotBeChanged() error          { return defUsernameFixed.new() }
func errDatabaseNameCannotBeChanged() error      { return defDBNameFixed.new() }
func errAuthTypeCannotBeChanged() error          { return defAuthTypeFixed.new() }
func errGroupMismatch(groupID string) error      { return defGroupMismatch.new(groupID) }
func errUsernameNotFound(username string) error  { return defUsernameNotFound.new(username) }

// Errors of certificates and user security.
var (
	defNegativeOrZero   = def(atlasx509.KindInvalid, "ATTRIBUTE_NEGATIVE_OR_ZERO", "The attribute %s cannot be negative or zero.")
	defCertExpiry       = def(atlasx509.KindInvalid, "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS", "Atlas-generated X.509 certificates have a maximum expiration of 24 months.")
	defCertsLimit       = def(atlasx509.KindInvalid, "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED", "The limit on generated certificates per user has been reached.")
	defNotManagedX509   = def(atlasx509.KindInvalid, "USER_NOT_MANAGED_X509", "The user does not have managed mode X509 enabled.")
	defAdvancedX509     = def(atlasx509.KindInvalid, "CANNOT_GENERATE_CERT_IF_ADVANCED_X509", "The user cannot create managed X.509 certs if advanced mode is on.")
	defExpiredCustomeCA = def(atlasx509.KindInvalid, "EXPIRED_X509_CA_CERTIFICATE", "The X.509 CA certificate has expired.")
	defCertNotFound     = def(atlasx509.KindNotFound, "CERTIFICATE_DOES_NOT_EXIST", "The certificate with serial number %s does not exist; it may have expired.")
)

func errAttributeNegativeOrZero(attr string) error { return defNegativeOrZero.new(attr) }
func errCertExpiryExceedsTwoYears() error          { return defCertExpiry.new() }
func errGeneratedCertsLimitExceeded() error        { return defCertsLimit.new() }
func errUserNotManagedX509() error                 { return defNotManagedX509.new() }
func errExpiredX509CACertificate() error           { return defExpiredCustomeCA.new() }
func errCertificateNotFound(serial string) error   { return defCertNotFound.new(serial) }

// advancedX509 is Atlas's answer to a managed issuance while self-managed
// X.509 is on; its cause is errAdvancedX509.
func advancedX509() error { return defAdvancedX509.withCause(errAdvancedX509) }

// Errors of API keys, service accounts and their roles.
var (
	defRoleForOrg      = def(atlasx509.KindInvalid, "INVALID_ROLE_FOR_ORG", "Role %s invalid for organization %s.")
	defRoleForGroup    = def(atlasx509.KindInvalid, "INVALID_ROLE_FOR_GROUP", "Role %s is invalid for group %s.")
	defLastOwner       = def(atlasx509.KindForbidden, "CANNOT_DEMOTE_LAST_ORG_OWNER", "Cannot demote the last owner of the organization.")
	defAPIKeyDesc      = def(atlasx509.KindInvalid, "INVALID_API_KEY_DESC", "API key descriptions are required and must be less than %d characters.")
	defMaxAPIKeys      = def(atlasx509.KindInvalid, "MAX_API_KEYS_PER_ORG_EXCEEDED", "Maximum number of API keys per org %d in %s exceeded while trying to add API keys.")
	defAPIKeyRoles     = def(atlasx509.KindInvalid, "MISSING_API_KEY_ROLES", "API keys must have at least one role.")
	defAPIKeyNotFound  = def(atlasx509.KindInvalid, "API_KEY_NOT_FOUND", "No API key with ID %s exists.")
	defAccountNotFound = def(atlasx509.KindNotFound, "SERVICE_ACCOUNT_NOT_FOUND", "No Service Account with client ID %s exists.")
	defSecretNotFound  = def(atlasx509.KindNotFound, "SERVICE_ACCOUNT_SECRET_NOT_FOUND", "No secret with ID %s exists for Service Account %s.")
)

func errInvalidRoleForOrg(role, orgID string) error     { return defRoleForOrg.new(role, orgID) }
func errInvalidRoleForGroup(role, groupID string) error { return defRoleForGroup.new(role, groupID) }
func errCannotDemoteLastOrgOwner() error                { return defLastOwner.new() }
func errInvalidAPIKeyDesc() error                       { return defAPIKeyDesc.new(maxAPIKeyDesc) }
func errMaxAPIKeysPerOrgExceeded(orgID string) error {
	return defMaxAPIKeys.new(maxAPIKeysPerOrg, orgID)
}
func errMissingAPIKeyRoles() error { return defAPIKeyRoles.new() }

// errAPIKeyNotFound is Atlas's answer for a missing API key: 400, as its
// error table says.
func errAPIKeyNotFound(id string) error { return defAPIKeyNotFound.new(id) }

// errServiceAccountNotFound answers for a missing service account. Atlas's
// error table predates service accounts; the code is atlasx509's.
func errServiceAccountNotFound(clientID string) error { return defAccountNotFound.new(clientID) }

func errServiceAccountSecretNotFound(secretID, clientID string) error {
	return defSecretNotFound.new(secretID, clientID)
}

// Errors of access lists. Atlas still calls them whitelists in its codes.
var (
	defDuplicateAddresses = def(atlasx509.KindInvalid, "DUPLICATE_ADDRESSES_IN_INPUT", "Two or more of the IP addresses being added to the whitelist are the same.")
	defAddressListed      = def(atlasx509.KindConflict, "ADDRESS_ALREADY_IN_WHITELIST", "The address %s is already on the whitelist.")
	defRemoveCaller       = def(atlasx509.KindInvalid, "CANNOT_REMOVE_CALLER_FROM_WHITELIST", "Cannot remove caller's IP address %s from whitelist.")
	defAccountEntryAbsent = def(atlasx509.KindNotFound, "SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_NOT_FOUND", "IP address %s not on the access list of Service Account %s.")
	defKeyEntryAbsent     = def(atlasx509.KindNotFound, "API_KEY_WHITELIST_NOT_FOUND", "IP address %s not on whitelist for API key %s.")
	defBothAddresses      = def(atlasx509.KindInvalid, "BAD_WHITELIST_ADD_REQUEST", "Should not specify both the IP address and the CIDR block.")
	defInvalidCIDR        = def(atlasx509.KindInvalid, "INVALID_CIDR_BLOCK", "The CIDR block %s must be in valid CIDR notation.")
	defInvalidAddress     = def(atlasx509.KindInvalid, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION", "The address %s must be in valid IP address or CIDR notation.")
)

func errDuplicateAddressesInInput() error { return defDuplicateAddresses.new() }
func errAddressAlreadyInWhitelist(cidr string) error {
	return defAddressListed.new(cidr)
}
func errCannotRemoveCaller(addr string) error { return defRemoveCaller.new(addr) }
func errServiceAccountEntryNotFound(address, clientID string) error {
	// Atlas's error table predates service accounts; the code is atlasx509's.
	return defAccountEntryAbsent.new(address, clientID)
}
func errAPIKeyEntryNotFound(address, keyID string) error {
	return defKeyEntryAbsent.new(address, keyID)
}
func errBadWhitelistAddRequest() error       { return defBothAddresses.new() }
func errInvalidCIDRBlock(cidr string) error  { return defInvalidCIDR.new(cidr) }
func errInvalidAddress(address string) error { return defInvalidAddress.new(address) }

// Errors of alert configurations and alerts. ALERT_CONFIG_NOT_FOUND,
// INVALID_ALERT_CONFIG_ID, ALERT_NOT_FOUND, INVALID_ALERT_ID and
// ACKNOWLEDGEMENT_COMMENT_TOO_LONG are Atlas's; the other codes are
// atlasx509's (extensions).
var (
	defAlertConfigNotFound = def(atlasx509.KindNotFound, "ALERT_CONFIG_NOT_FOUND", "No alert configuration with ID %s exists.")
	defInvalidAlertConfig  = def(atlasx509.KindNotFound, "INVALID_ALERT_CONFIG_ID", "An invalid alert configuration ID %s was specified.")
	defAlertNotFound       = def(atlasx509.KindNotFound, "ALERT_NOT_FOUND", "No alert with ID %s exists.")
	defInvalidAlertID      = def(atlasx509.KindNotFound, "INVALID_ALERT_ID", "An invalid alert ID %s was specified.")
	defAckCommentTooLong   = def(atlasx509.KindInvalid, "ACKNOWLEDGEMENT_COMMENT_TOO_LONG", "The acknowledgement comment can be at most %d characters long.")
	defAlertEventType      = def(atlasx509.KindInvalid, "UNSUPPORTED_ALERT_EVENT_TYPE", "This server does not alert on event type %s: it alerts only on "+
		"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK, NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK "+
		"and NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK.")
	defNotificationType = def(atlasx509.KindInvalid, "UNSUPPORTED_NOTIFICATION_TYPE", "This server does not send %s notifications: it sends WEBHOOK, EMAIL, GROUP and ORG notifications.")
	defWebhookURL       = def(atlasx509.KindInvalid, "INVALID_WEBHOOK_URL", "The webhook URL %s is refused: it must be an absolute http or https URL whose host is a public address (not loopback, private or link-local).")
)

func errAlertConfigNotFound(id string) error      { return defAlertConfigNotFound.new(id) }
func errInvalidAlertConfigID(id string) error     { return defInvalidAlertConfig.new(id) }
func errAlertNotFound(id string) error            { return defAlertNotFound.new(id) }
func errInvalidAlertID(id string) error           { return defInvalidAlertID.new(id) }
func errAckCommentTooLong() error                 { return defAckCommentTooLong.new(maxAckComment) }
func errUnsupportedAlertEventType(t string) error { return defAlertEventType.new(t) }
func errUnsupportedNotificationType(t string) error {
	return defNotificationType.new(t)
}

// errInvalidWebhookURL refuses a webhook URL; cause (logged, never sent)
// says why, so that the answer tells nothing of internal names.
func errInvalidWebhookURL(url string, cause error) error { return defWebhookURL.withCause(cause, url) }
