package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// eventParams are the validated query parameters of an event list.
type eventParams struct {
	listParams
	query      app.EventQuery
	includeRaw bool
}

// parseEventQuery reads Atlas's event list parameters: repeatable
// eventType (and excludedEventType on a project), minDate and maxDate as
// ISO 8601 times, includeRaw and the paging parameters.
func parseEventQuery(r *http.Request) (eventParams, error) {
	var ep eventParams
	lp, err := parseList(r)
	if err != nil {
		return ep, err
	}
	ep.listParams = lp
	ep.query.ListOptions = lp.ListOptions
	q := r.URL.Query()
	ep.query.Types = q["eventType"]
	ep.query.ExcludedTypes = q["excludedEventType"]
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"minDate", &ep.query.MinDate}, {"maxDate", &ep.query.MaxDate}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return ep, invalidQuery(d.name, v)
			}
			*d.dst = t.UTC()
		}
	}
	if ep.includeRaw, err = parseBoolParam(r, "includeRaw"); err != nil {
		return ep, err
	}
	return ep, nil
}

// parseBoolParam reads an optional boolean query parameter.
func parseBoolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidQuery(name, v)
	}
	return b, nil
}

// eventLinks are the links of an event list as Atlas answers them: the
// self link carries includeCount, includeRaw and the page, then minDate
// and maxDate when given; a next link only when the count is known.
func eventLinks(r *http.Request, ep eventParams, total int) []atlasapi.Link {
	base := baseURL(r) + r.URL.EscapedPath()
	query := func(page int) string {
		s := "?includeCount=" + strconv.FormatBool(ep.IncludeCount) + "&includeRaw=" + strconv.FormatBool(ep.includeRaw) +
			"&pageNum=" + strconv.Itoa(page) + "&itemsPerPage=" + strconv.Itoa(ep.ItemsPerPage)
		if v := r.URL.Query().Get("minDate"); v != "" {
			s += "&minDate=" + url.QueryEscape(v)
		}
		if v := r.URL.Query().Get("maxDate"); v != "" {
			s += "&maxDate=" + url.QueryEscape(v)
		}
		return s
	}
	links := []atlasapi.Link{{Href: base + query(ep.PageNum), Rel: "self"}}
	if ep.PageNum > 1 {
		links = append(links, atlasapi.Link{Href: base + query(ep.PageNum-1), Rel: "previous"})
	}
	if ep.IncludeCount && ep.PageNum*ep.ItemsPerPage < total {
		links = append(links, atlasapi.Link{Href: base + query(ep.PageNum+1), Rel: "next"})
	}
	return links
}

// eventPage is an event list answer. As recorded from Atlas, totalCount is
// 0, not absent, under includeCount=false.
func eventPage(r *http.Request, ep eventParams, evs []atlasx509.Event, total int, org bool) paginated[atlasapi.Event] {
	views := make([]atlasapi.Event, 0, len(evs))
	for _, ev := range evs {
		views = append(views, eventView(r, ev, ep.includeRaw, org))
	}
	if !ep.IncludeCount {
		total = 0
	}
	return paginated[atlasapi.Event]{Links: eventLinks(r, ep, total), Results: views, TotalCount: &total}
}

// eventView renders an event. Its one link points to the project route,
// even when listed under the organization, and to /groups/null/events/{id}
// for an event of no project, as recorded from Atlas; orgId appears only
// on organization answers.
func eventView(r *http.Request, ev atlasx509.Event, includeRaw, org bool) atlasapi.Event {
	group := ev.GroupID
	if group == "" {
		group = "null"
	}
	v := atlasapi.Event{
		AlertConfigID: ev.AlertConfigID, AlertID: ev.AlertID, APIKeyID: ev.APIKeyID,
		Created: ev.Created.UTC().Truncate(time.Second).Format(time.RFC3339), DBUserUsername: ev.DBUserUsername,
		EventTypeName: ev.TypeName, GroupID: ev.GroupID, ID: ev.ID,
		Links:     selfLink(r, apiPrefix(r)+"/groups/"+group+"/events/"+ev.ID),
		PublicKey: ev.PublicKey, RemoteAddress: ev.RemoteAddress, TargetClientID: ev.TargetClientID,
		TargetPublicKey: ev.TargetPublicKey, Username: ev.ServiceAccountID, WhitelistEntry: ev.WhitelistEntry,
	}
	if org {
		v.OrgID = ev.OrgID
	}
	if includeRaw {
		v.Raw = eventRaw(ev)
	}
	return v
}

// eventRaw is the raw document of an event, in the layout of Atlas's (its
// "_t" tag, "cid" the project, "cre" the time, "description", "id",
// "orgId") with the event's fields and details. Atlas warns that raw
// contents may change; these are atlasx509's.
func eventRaw(ev atlasx509.Event) json.RawMessage {
	doc := map[string]any{"id": ev.ID, "cre": ev.Created.UTC().Format(time.RFC3339Nano), "eventTypeName": ev.TypeName}
	if t, ok := app.LookupEventType(ev.TypeName); ok {
		doc["_t"], doc["description"] = t.Raw, t.Description
	}
	set := func(k, v string) {
		if v != "" {
			doc[k] = v
		}
	}
	set("cid", ev.GroupID)
	set("orgId", ev.OrgID)
	set("apiKeyId", ev.APIKeyID)
	set("publicKey", ev.PublicKey)
	set("serviceAccountClientId", ev.ServiceAccountID)
	set("remoteAddr", ev.RemoteAddress)
	set("dbUserUsername", ev.DBUserUsername)
	set("targetPublicKey", ev.TargetPublicKey)
	set("whitelistEntry", ev.WhitelistEntry)
	set("targetClientId", ev.TargetClientID)
	set("alertId", ev.AlertID)
	set("alertConfigId", ev.AlertConfigID)
	for k, v := range ev.Details {
		if _, taken := doc[k]; !taken {
			doc[k] = v
		}
	}
	b, _ := json.Marshal(doc) // strings only: cannot fail
	return b
}

func (s *server) handleListGroupEvents(w http.ResponseWriter, r *http.Request) error {
	ep, err := parseEventQuery(r)
	if err != nil {
		return err
	}
	evs, total, err := s.app.ListGroupEvents(r.Context(), principal(r), r.PathValue("groupId"), ep.query)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, eventPage(r, ep, evs, total, false))
}

func (s *server) handleGetGroupEvent(w http.ResponseWriter, r *http.Request) error {
	includeRaw, err := parseBoolParam(r, "includeRaw")
	if err != nil {
		return err
	}
	ev, err := s.app.GetGroupEvent(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("eventId"), r.URL.Path)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, eventView(r, ev, includeRaw, false))
}

func (s *server) handleListOrgEvents(w http.ResponseWriter, r *http.Request) error {
	ep, err := parseEventQuery(r)
	if err != nil {
		return err
	}
	evs, total, err := s.app.ListOrgEvents(r.Context(), principal(r), r.PathValue("orgId"), ep.query)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, eventPage(r, ep, evs, total, true))
}

func (s *server) handleGetOrgEvent(w http.ResponseWriter, r *http.Request) error {
	includeRaw, err := parseBoolParam(r, "includeRaw")
	if err != nil {
		return err
	}
	ev, err := s.app.GetOrgEvent(r.Context(), principal(r), r.PathValue("orgId"), r.PathValue("eventId"), r.URL.Path)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, eventView(r, ev, includeRaw, true))
}

// handleListEventTypes answers GET /eventTypes: every type atlasx509
// records, the extensions last.
func (s *server) handleListEventTypes(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	all := app.EventTypes
	views := []atlasapi.EventType{}
	start := (lp.PageNum - 1) * lp.ItemsPerPage
	for i := start; i < len(all) && i < start+lp.ItemsPerPage; i++ {
		views = append(views, atlasapi.EventType{Alertable: all[i].Alertable, Description: all[i].Description, EventType: all[i].Name})
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, len(all)))
}
