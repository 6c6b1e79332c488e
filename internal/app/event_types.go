package app

// EventType describes one event type (Atlas listEventTypes): its name,
// Atlas's label, whether an alert can be configured on it, and whether it
// is an extension of atlasx509 (a change Atlas has no event type for).
type EventType struct {
	Name        string
	Description string
	Alertable   bool
	Extension   bool
	// Raw is the "_t" tag of the event's raw document.
	Raw string
}

// Event type names recorded by atlasx509. The Atlas names are Atlas's; the
// extensions are marked in EventTypes.
const (
	EventDatabaseUserAdded      = "MONGODB_USER_ADDED"
	EventDatabaseUserUpdated    = "MONGODB_USER_UPDATED"
	EventDatabaseUserDeleted    = "MONGODB_USER_DELETED"
	EventX509CertCreated        = "MONGODB_USER_X509_CERT_CREATED"
	EventX509CertRevoked        = "MONGODB_USER_X509_CERT_REVOKED"
	EventUserSecurityUpdated    = "USER_SECURITY_SETTINGS_UPDATED"
	EventCustomerX509CRLUpdated = "CUSTOMER_X509_CRL_UPDATED"
	EventManagedX509CARotated   = "MANAGED_X509_CA_ROTATED"
	EventManagedX509Updated     = "MANAGED_X509_SETTINGS_UPDATED"
	EventGroupCreated           = "GROUP_CREATED"
	EventGroupDeleted           = "GROUP_DELETED"
	EventGroupNameChanged       = "GROUP_NAME_CHANGED"
	EventGroupTagsModified      = "GROUP_TAGS_MODIFIED"
	EventGroupSettingsUpdated   = "GROUP_SETTINGS_UPDATED"
	EventGroupLimitUpdated      = "GROUP_LIMIT_UPDATED"
	EventOrgCreated             = "ORG_CREATED"
	EventOrgRenamed             = "ORG_RENAMED"
	EventAPIKeyCreated          = "API_KEY_CREATED"
	EventAPIKeyDeleted          = "API_KEY_DELETED"
	EventAPIKeyDescription      = "API_KEY_DESCRIPTION_CHANGED"
	EventAPIKeyRolesChanged     = "API_KEY_ROLES_CHANGED"
	EventAPIKeyAddedToGroup     = "API_KEY_ADDED_TO_GROUP"
	EventAPIKeyRemovedFromGrp   = "API_KEY_REMOVED_FROM_GROUP"
	EventAPIKeyAccessAdded      = "API_KEY_ACCESS_LIST_ENTRY_ADDED"
	EventAPIKeyAccessDeleted    = "API_KEY_ACCESS_LIST_ENTRY_DELETED"
	EventSACreated              = "SERVICE_ACCOUNT_CREATED"
	EventSADeleted              = "SERVICE_ACCOUNT_DELETED"
	EventSADetailsChanged       = "SERVICE_ACCOUNT_DETAILS_CHANGED"
	EventSARolesChanged         = "SERVICE_ACCOUNT_ROLES_CHANGED"
	EventSAAddedToGroup         = "SERVICE_ACCOUNT_ADDED_TO_GROUP"
	EventSARemovedFromGroup     = "SERVICE_ACCOUNT_REMOVED_FROM_GROUP"
	EventSAAccessAdded          = "SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_ADDED"
	EventSAAccessDeleted        = "SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_DELETED"
	EventSASecretAdded          = "SERVICE_ACCOUNT_SECRET_ADDED"
	EventSASecretDeleted        = "SERVICE_ACCOUNT_SECRET_DELETED"
	EventManagedCertsExpiring   = "NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK"
	EventManagedCertsResolved   = "NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_RESOLVED"
	EventCustomerCAExpiring     = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK"
	EventCustomerCAResolved     = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_RESOLVED"
	EventCustomerCRLExpiring    = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK"
	EventCustomerCRLResolved    = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_RESOLVED"
	EventAlertAcknowledged      = "ALERT_ACKNOWLEDGED_AUDIT"
	EventAlertUnacknowledged    = "ALERT_UNACKNOWLEDGED_AUDIT"
	EventAlertConfigAdded       = "ALERT_CONFIG_ADDED_AUDIT"
	EventAlertConfigChanged     = "ALERT_CONFIG_CHANGED_AUDIT"
	EventAlertConfigDeleted     = "ALERT_CONFIG_DELETED_AUDIT"
	EventAlertConfigEnabled     = "ALERT_CONFIG_ENABLED_AUDIT"
	EventAlertConfigDisabled    = "ALERT_CONFIG_DISABLED_AUDIT"

	EventAlertNotificationUndelivered = "ALERT_NOTIFICATION_UNDELIVERED"
)

// EventTypes lists every event type atlasx509 records, Atlas's first, in
// the order GET /eventTypes answers them.
var EventTypes = []EventType{
	{Name: EventDatabaseUserAdded, Description: "MongoDB user added", Raw: "NDS_AUDIT"},
	{Name: EventDatabaseUserDeleted, Description: "MongoDB user deleted", Raw: "NDS_AUDIT"},
	{Name: EventDatabaseUserUpdated, Description: "MongoDB user updated", Raw: "NDS_AUDIT"},
	{Name: EventX509CertCreated, Description: "MongoDB user X509 certificate created", Raw: "NDS_AUDIT"},
	{Name: EventX509CertRevoked, Description: "MongoDB user X509 certificate revoked", Raw: "NDS_AUDIT"},
	{Name: EventUserSecurityUpdated, Description: "User security settings updated", Raw: "NDS_AUDIT"},
	{Name: EventCustomerX509CRLUpdated, Description: "Self-managed X509 CRL updated", Raw: "NDS_AUDIT"},
	{Name: EventManagedCertsExpiring, Description: "X.509 User Authentication, Client Certificates Expiration Alert", Alertable: true, Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventManagedCertsResolved, Description: "X.509 User Authentication, Client Certificates Expiration Alert Resolved", Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventCustomerCAExpiring, Description: "X.509 User Authentication, Self-Managed CA Expiration Alert", Alertable: true, Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventCustomerCAResolved, Description: "X.509 User Authentication, Self-Managed CA Expiration Alert Resolved", Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventCustomerCRLExpiring, Description: "X.509 User Authentication, Self-Managed CRL Expiration Alert", Alertable: true, Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventCustomerCRLResolved, Description: "X.509 User Authentication, Self-Managed CRL Expiration Alert Resolved", Raw: "NDS_X509_USER_AUTHENTICATION"},
	{Name: EventGroupCreated, Description: "Project was created", Raw: "GROUP_AUDIT"},
	{Name: EventGroupDeleted, Description: "Project was deleted", Raw: "GROUP_AUDIT"},
	{Name: EventGroupNameChanged, Description: "Project name changed", Raw: "GROUP_AUDIT"},
	{Name: EventGroupTagsModified, Description: "Tags added or modified on project", Alertable: true, Raw: "GROUP_AUDIT"},
	{Name: EventOrgCreated, Description: "Organization has been created", Raw: "ORG_AUDIT"},
	{Name: EventOrgRenamed, Description: "Organization has been renamed", Raw: "ORG_AUDIT"},
	{Name: EventAPIKeyCreated, Description: "A new API key has been created", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyDeleted, Description: "An API Key has been deleted", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyDescription, Description: "API Key Description Changed", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyRolesChanged, Description: "API Key Roles Changed", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyAddedToGroup, Description: "API Key added to Group", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyRemovedFromGrp, Description: "API Key removed from Group", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyAccessAdded, Description: "API Key Access List Entry Added", Raw: "API_USER_AUDIT"},
	{Name: EventAPIKeyAccessDeleted, Description: "API Key Access List Entry Deleted", Raw: "API_USER_AUDIT"},
	{Name: EventSACreated, Description: "Service Account has been created", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSADeleted, Description: "Service Account has been deleted", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSADetailsChanged, Description: "Service Account details changed", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSARolesChanged, Description: "Service Account had its roles changed", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSAAddedToGroup, Description: "Service Account added to Project", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSARemovedFromGroup, Description: "Service Account removed from Project", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSAAccessAdded, Description: "Service Account Access List Entry Added", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSAAccessDeleted, Description: "Service Account Access List Entry Deleted", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSASecretAdded, Description: "Service Account Secret Added", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventSASecretDeleted, Description: "Service Account Secret Deleted", Raw: "SERVICE_ACCOUNT_AUDIT"},
	{Name: EventAlertAcknowledged, Description: "Alert acknowledged", Raw: "ALERT_AUDIT"},
	{Name: EventAlertUnacknowledged, Description: "Alert unacknowledged", Raw: "ALERT_AUDIT"},
	{Name: EventAlertConfigAdded, Description: "Alert configuration added", Raw: "ALERT_CONFIG_AUDIT"},
	{Name: EventAlertConfigChanged, Description: "Alert configuration changed", Raw: "ALERT_CONFIG_AUDIT"},
	{Name: EventAlertConfigDeleted, Description: "Alert configuration deleted", Raw: "ALERT_CONFIG_AUDIT"},
	{Name: EventAlertConfigEnabled, Description: "Alert configuration enabled", Raw: "ALERT_CONFIG_AUDIT"},
	{Name: EventAlertConfigDisabled, Description: "Alert configuration disabled", Raw: "ALERT_CONFIG_AUDIT"},

	{Name: EventManagedX509CARotated, Description: "Managed X.509 CA rotated (atlasx509 extension)", Extension: true, Raw: "NDS_AUDIT"},
	{Name: EventManagedX509Updated, Description: "Managed X.509 settings updated (atlasx509 extension)", Extension: true, Raw: "NDS_AUDIT"},
	{Name: EventGroupSettingsUpdated, Description: "Project settings updated (atlasx509 extension)", Extension: true, Raw: "GROUP_AUDIT"},
	{Name: EventAlertNotificationUndelivered, Description: "Alert notification given up undelivered (atlasx509 extension)", Extension: true, Raw: "ALERT_AUDIT"},
	{Name: EventGroupLimitUpdated, Description: "Project limit set or reset (atlasx509 extension)", Extension: true, Raw: "GROUP_AUDIT"},
}

// eventTypeByName indexes EventTypes.
var eventTypeByName = func() map[string]EventType {
	m := make(map[string]EventType, len(EventTypes))
	for _, t := range EventTypes {
		m[t.Name] = t
	}
	return m
}()

// LookupEventType returns the event type called name.
func LookupEventType(name string) (EventType, bool) {
	t, ok := eventTypeByName[name]
	return t, ok
}
