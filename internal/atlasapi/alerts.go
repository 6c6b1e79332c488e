package atlasapi

import "encoding/json"

// AlertConfig is an X.509 alert configuration as Atlas returns it
// (NDSX509UserAuthenticationAlertConfigViewForNdsGroup).
type AlertConfig struct {
	Created          string              `json:"created"`
	Enabled          bool                `json:"enabled"`
	EventTypeName    string              `json:"eventTypeName"`
	GroupID          string              `json:"groupId"`
	ID               string              `json:"id"`
	Links            []Link              `json:"links"`
	Matchers         []json.RawMessage   `json:"matchers"`
	Notifications    []AlertNotification `json:"notifications"`
	SeverityOverride string              `json:"severityOverride,omitempty"`
	Threshold        AlertThreshold      `json:"threshold"`
	Updated          string              `json:"updated"`
}

// AlertThreshold is LessThanDaysThresholdView. Threshold is an integer in
// Atlas's recorded answers.
type AlertThreshold struct {
	Operator  string `json:"operator"`
	Threshold int    `json:"threshold"`
	Units     string `json:"units"`
}

// AlertNotification is one notification of an alert configuration. A
// webhook's secret is masked and its URL partly masked.
type AlertNotification struct {
	DelayMin      int      `json:"delayMin"`
	EmailAddress  string   `json:"emailAddress,omitempty"`
	EmailEnabled  *bool    `json:"emailEnabled,omitempty"`
	IntervalMin   int      `json:"intervalMin"`
	NotifierID    string   `json:"notifierId"`
	Roles         []string `json:"roles,omitempty"`
	SMSEnabled    *bool    `json:"smsEnabled,omitempty"`
	TypeName      string   `json:"typeName"`
	WebhookSecret string   `json:"webhookSecret,omitempty"`
	WebhookURL    string   `json:"webhookUrl,omitempty"`
}

// AlertConfigRequest is the body of POST and PUT .../alertConfigs. The
// read-only fields a client may send back (id, groupId, created, updated,
// links) are accepted and ignored.
type AlertConfigRequest struct {
	Created          *string                    `json:"created"`
	Enabled          *bool                      `json:"enabled"`
	EventTypeName    *string                    `json:"eventTypeName"`
	GroupID          *string                    `json:"groupId"`
	ID               *string                    `json:"id"`
	Links            []Link                     `json:"links"`
	Matchers         []json.RawMessage          `json:"matchers"`
	MetricThreshold  json.RawMessage            `json:"metricThreshold"`
	Notifications    []AlertNotificationRequest `json:"notifications"`
	SeverityOverride *string                    `json:"severityOverride"`
	Threshold        *AlertThresholdRequest     `json:"threshold"`
	Updated          *string                    `json:"updated"`
}

// AlertThresholdRequest is the threshold a client sends; Terraform sends
// it as a float, whole in practice.
type AlertThresholdRequest struct {
	Operator  *string  `json:"operator"`
	Threshold *float64 `json:"threshold"`
	Units     *string  `json:"units"`
}

// AlertNotificationRequest is one notification a client sends.
type AlertNotificationRequest struct {
	DelayMin      *int     `json:"delayMin"`
	EmailAddress  *string  `json:"emailAddress"`
	EmailEnabled  *bool    `json:"emailEnabled"`
	IntervalMin   *int     `json:"intervalMin"`
	NotifierID    *string  `json:"notifierId"`
	Roles         []string `json:"roles"`
	SMSEnabled    *bool    `json:"smsEnabled"`
	TypeName      *string  `json:"typeName"`
	WebhookSecret *string  `json:"webhookSecret"`
	WebhookURL    *string  `json:"webhookUrl"`
}

// AlertsToggle is the body of PATCH .../alertConfigs/{id}.
type AlertsToggle struct {
	Enabled *bool `json:"enabled"`
}

// Alert is an alert as Atlas returns it (DefaultAlertViewForNdsGroup).
type Alert struct {
	AcknowledgedUntil      string `json:"acknowledgedUntil,omitempty"`
	AcknowledgementComment string `json:"acknowledgementComment,omitempty"`
	AcknowledgingUsername  string `json:"acknowledgingUsername,omitempty"`
	AlertConfigID          string `json:"alertConfigId"`
	Created                string `json:"created"`
	EventTypeName          string `json:"eventTypeName"`
	GroupID                string `json:"groupId"`
	// HumanReadable is sent in webhook bodies only.
	HumanReadable string `json:"humanReadable,omitempty"`
	ID            string `json:"id"`
	LastNotified  string `json:"lastNotified,omitempty"`
	Links         []Link `json:"links,omitempty"`
	Resolved      string `json:"resolved,omitempty"`
	Status        string `json:"status"`
	Updated       string `json:"updated"`
}

// AcknowledgeAlert is the body of PATCH .../alerts/{alertId}.
type AcknowledgeAlert struct {
	AcknowledgedUntil      *string `json:"acknowledgedUntil"`
	AcknowledgementComment *string `json:"acknowledgementComment"`
	UnacknowledgeAlert     *bool   `json:"unacknowledgeAlert"`
}
