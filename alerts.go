package atlasx509

import "time"

// The X.509 event types atlasx509 alerts on, as Atlas names them.
const (
	EventManagedCertsExpiration = "NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK"
	EventCustomerCAExpiration   = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK"
	EventCustomerCRLExpiration  = "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK"
)

// Notification types an alert configuration may use.
const (
	NotifyWebhook = "WEBHOOK"
	NotifyEmail   = "EMAIL"
	NotifyGroup   = "GROUP"
	NotifyOrg     = "ORG"
)

// Alert statuses, as Atlas names them.
const (
	AlertOpen      = "OPEN"
	AlertClosed    = "CLOSED"
	AlertCancelled = "CANCELLED"
)

// AlertConfig is an alert configuration of a project: it opens an alert when
// a certificate (or a self-managed CA) expires in fewer than Threshold days.
type AlertConfig struct {
	ID               string
	GroupID          string
	EventTypeName    string
	Enabled          bool
	Threshold        int // days; the operator is always LESS_THAN
	SeverityOverride string
	Notifications    []Notification
	Created          time.Time
	Updated          time.Time
}

// Notification is one recipient of an alert configuration's alerts. It is
// stored as JSON, hence the tags.
type Notification struct {
	TypeName    string `json:"typeName"`
	NotifierID  string `json:"notifierId"`
	IntervalMin int    `json:"intervalMin"`
	DelayMin    int    `json:"delayMin"`
	// WebhookURL and the sealed WebhookSecret of a WEBHOOK notification.
	WebhookURL          string `json:"webhookUrl,omitempty"`
	SealedWebhookSecret []byte `json:"sealedWebhookSecret,omitempty"`
	// EmailAddress of an EMAIL notification.
	EmailAddress string `json:"emailAddress,omitempty"`
	// EmailEnabled, SMSEnabled and Roles of a GROUP or ORG notification.
	EmailEnabled bool     `json:"emailEnabled,omitempty"`
	SMSEnabled   bool     `json:"smsEnabled,omitempty"`
	Roles        []string `json:"roles,omitempty"`
}

// Alert is one occurrence of an alert configuration's condition for one
// target (a certificate or a CA). (AlertConfigID, Target) is unique.
type Alert struct {
	ID            string
	GroupID       string
	AlertConfigID string
	EventTypeName string
	// Target names what the alert is about ("cert:<serial>", "ca:<sha-256>");
	// Subject is its human-readable name (the user, the CA's subject).
	Target   string
	Subject  string
	NotAfter time.Time // when the target expires
	Status   string
	Created  time.Time
	Updated  time.Time
	// LastNotified is when a notification was last queued; Notified holds
	// it per notifier id, for re-notification every IntervalMin.
	LastNotified           *time.Time
	Notified               map[string]time.Time
	Resolved               *time.Time
	AcknowledgedUntil      *time.Time
	AcknowledgementComment string
	AcknowledgingUsername  string
}

// Outbox message statuses.
const (
	OutboxPending     = "PENDING"
	OutboxDelivered   = "DELIVERED"
	OutboxUndelivered = "UNDELIVERED"
)

// OutboxMessage is a notification waiting to be sent (or sent): the
// durable record of a delivery, retried until it succeeds or gives up.
type OutboxMessage struct {
	ID      string
	GroupID string
	AlertID string
	// Kind is the notification type (WEBHOOK, EMAIL, GROUP, ORG).
	Kind string
	// Destination is the webhook URL or the e-mail addresses (comma-separated).
	Destination  string
	SealedSecret []byte
	Event        string // X-MMS-Event: alert.open, alert.update, alert.close
	Body         []byte
	Status       string
	Attempts     int
	NextAttempt  time.Time
	LastError    string
	Created      time.Time
	Updated      time.Time
}
