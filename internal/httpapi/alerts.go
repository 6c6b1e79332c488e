package httpapi

import (
	"net/http"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// Alerts: the X.509 expiration alerts the background evaluator opens.

// v2AcknowledgeAlert is the one version of acknowledgeAlert the spec has
// (2023-01-01 is deprecated in Atlas and not served here).
var v2AcknowledgeAlert = []resourceVersion{{date: "2024-05-30"}}

// alertView is an alert with its links: a list item has only self; a
// single alert also links to its configuration, as real Atlas.
func alertView(r *http.Request, al atlasx509.Alert, single bool) atlasapi.Alert {
	v := app.AlertView(al)
	group := apiPrefix(r) + "/groups/" + al.GroupID
	v.Links = selfLink(r, group+"/alerts/"+al.ID)
	if single {
		v.Links = append(v.Links,
			atlasapi.Link{Href: baseURL(r) + group + "/alertConfigs/" + al.AlertConfigID, Rel: "https://cloud.mongodb.com/alertConfig"},
			atlasapi.Link{Href: baseURL(r) + group + "/alerts/" + al.ID + "/alertConfigs", Rel: "https://cloud.mongodb.com/alertConfigs"})
	}
	return v
}

func alertPage(r *http.Request, lp listParams, alerts []atlasx509.Alert, total int) paginated[atlasapi.Alert] {
	views := make([]atlasapi.Alert, 0, len(alerts))
	for _, al := range alerts {
		views = append(views, alertView(r, al, false))
	}
	return listPage(r, lp, views, total)
}

func (s *server) handleListAlerts(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	alerts, total, err := s.app.ListAlerts(r.Context(), principal(r), r.PathValue("groupId"), r.URL.Query().Get("status"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertPage(r, lp, alerts, total))
}

func (s *server) handleListAlertConfigAlerts(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	alerts, total, err := s.app.ListAlertConfigAlerts(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertConfigId"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertPage(r, lp, alerts, total))
}

func (s *server) handleGetAlert(w http.ResponseWriter, r *http.Request) error {
	al, err := s.app.GetAlert(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertView(r, al, true))
}

func (s *server) handleAcknowledgeAlert(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.AcknowledgeAlert
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := app.AckInput{Comment: req.AcknowledgementComment, Unack: req.UnacknowledgeAlert != nil && *req.UnacknowledgeAlert}
	if req.AcknowledgedUntil != nil && !in.Unack {
		t, err := time.Parse(time.RFC3339, *req.AcknowledgedUntil)
		if err != nil {
			return app.ErrInvalidJSONAttribute("acknowledgedUntil", err)
		}
		in.Until = &t
	}
	al, err := s.app.AcknowledgeAlert(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("alertId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, alertView(r, al, true))
}
