package httpapi

import (
	"encoding/json"
	"math"
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// Alert configurations: the X.509 expiration alerts of a project.

// alertConfigRel is the rel of a single configuration's link to its alerts,
// as real Atlas names it.
const alertConfigRel = "https://cloud.mongodb.com/alerts"

func alertConfigView(r *http.Request, c atlasx509.AlertConfig, single bool) atlasapi.AlertConfig {
	path := apiPrefix(r) + "/groups/" + c.GroupID + "/alertConfigs/" + c.ID
	links := selfLink(r, path)
	if single {
		links = append(links, atlasapi.Link{Href: baseURL(r) + path + "/alerts", Rel: alertConfigRel})
	}
	v := atlasapi.AlertConfig{
		Created: formatTime(c.Created), Enabled: c.Enabled, EventTypeName: c.EventTypeName, GroupID: c.GroupID,
		ID: c.ID, Links: links, Matchers: []json.RawMessage{}, SeverityOverride: c.SeverityOverride,
		Threshold:     atlasapi.AlertThreshold{Operator: "LESS_THAN", Threshold: c.Threshold, Units: "DAYS"},
		Notifications: make([]atlasapi.AlertNotification, 0, len(c.Notifications)),
		Updated:       formatTime(c.Updated),
	}
	for _, n := range c.Notifications {
		nv := atlasapi.AlertNotification{DelayMin: n.DelayMin, IntervalMin: n.IntervalMin, NotifierID: n.NotifierID,
			TypeName: n.TypeName, EmailAddress: n.EmailAddress}
		switch n.TypeName {
		case atlasx509.NotifyWebhook:
			nv.WebhookURL = app.MaskURL(n.WebhookURL)
			if len(n.SealedWebhookSecret) > 0 {
				nv.WebhookSecret = app.SecretMask
			}
		case atlasx509.NotifyGroup, atlasx509.NotifyOrg:
			email, sms := n.EmailEnabled, n.SMSEnabled
			nv.EmailEnabled, nv.SMSEnabled, nv.Roles = &email, &sms, n.Roles
		}
		v.Notifications = append(v.Notifications, nv)
	}
	return v
}

// alertConfigInput converts a request body.
func alertConfigInput(req atlasapi.AlertConfigRequest) (app.AlertConfigInput, error) {
	in := app.AlertConfigInput{
		EventTypeName: req.EventTypeName, Enabled: req.Enabled, SeverityOverride: req.SeverityOverride,
		HasMatchers:        len(req.Matchers) > 0,
		HasMetricThreshold: len(req.MetricThreshold) > 0 && string(req.MetricThreshold) != "null",
	}
	if th := req.Threshold; th != nil {
		in.Threshold = &app.ThresholdInput{Operator: th.Operator, Units: th.Units}
		if th.Threshold != nil {
			f := *th.Threshold
			if f != math.Trunc(f) || math.Abs(f) > 1e6 {
				return in, app.ErrInvalidJSONAttribute("threshold", nil)
			}
			n := int(f)
			in.Threshold.Threshold = &n
		}
	}
	for _, n := range req.Notifications {
		in.Notifications = append(in.Notifications, app.NotificationInput{
			TypeName: n.TypeName, NotifierID: n.NotifierID, IntervalMin: n.IntervalMin, DelayMin: n.DelayMin,
			WebhookURL: n.WebhookURL, WebhookSecret: n.WebhookSecret, EmailAddress: n.EmailAddress,
			EmailEnabled: n.EmailEnabled, SMSEnabled: n.SMSEnabled, Roles: n.Roles,
		})
	}
	return in, nil
}

func (s *server) handleListAlertConfigs(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	configs, total, err := s.app.ListAlertConfigs(r.Context(), principal(r), r.PathValue("groupId"), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.AlertConfig, 0, len(configs))
	for _, c := range configs {
		views = append(views, alertConfigView(r, c, false))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

func (s *server) handleGetAlertConfigs(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	configs, total, err := s.app.GetAlertConfigs(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertId"), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.AlertConfig, 0, len(configs))
	for _, c := range configs {
		views = append(views, alertConfigView(r, c, false))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

func (s *server) handleGetAlertConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := s.app.GetAlertConfig(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertConfigId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertConfigView(r, c, true))
}

// handleCreateAlertConfig answers 201 with a Location, as real Atlas does
// (the spec says 200).
func (s *server) handleCreateAlertConfig(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.AlertConfigRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in, err := alertConfigInput(req)
	if err != nil {
		return err
	}
	c, err := s.app.CreateAlertConfig(r.Context(), principal(r), r.PathValue("groupId"), in)
	if err != nil {
		return err
	}
	v := alertConfigView(r, c, true)
	w.Header().Set("Location", v.Links[0].Href)
	return s.writeJSON(w, r, http.StatusCreated, v)
}

func (s *server) handleUpdateAlertConfig(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.AlertConfigRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in, err := alertConfigInput(req)
	if err != nil {
		return err
	}
	c, err := s.app.UpdateAlertConfig(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertConfigId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertConfigView(r, c, true))
}

func (s *server) handleToggleAlertConfig(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.AlertsToggle
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	c, err := s.app.ToggleAlertConfig(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertConfigId"), req.Enabled)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertConfigView(r, c, true))
}

func (s *server) handleDeleteAlertConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteAlertConfig(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertConfigId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
