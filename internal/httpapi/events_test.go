package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/store"
)

// v2 serves a GET on the v2 API (path after /api/atlas/v2) as the
// bootstrap service account, as the SDK and the CLI send it.
func (e *env) v2(path string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest("GET", "/api/atlas/v2"+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	return e.serve(req)
}

// eventsAt lists events on v2 at path (such as /groups/{id}/events?…).
func (e *env) eventsAt(path string) atlasapi.Paginated[atlasapi.Event] {
	e.t.Helper()
	rec := e.v2(path)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	var page atlasapi.Paginated[atlasapi.Event]
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		e.t.Fatal(err)
	}
	return page
}

// events lists the events under base (e.group() or e.orgs(), v1.0 paths)
// with the query q, on v2.
func (e *env) events(base, q string) atlasapi.Paginated[atlasapi.Event] {
	e.t.Helper()
	return e.eventsAt(strings.TrimPrefix(base, "/api/atlas/v1.0") + "/events" + q)
}

// lastEvent is the newest event under base.
func (e *env) lastEvent(base string) atlasapi.Event {
	e.t.Helper()
	page := e.events(base, "?itemsPerPage=1")
	if len(page.Results) == 0 {
		e.t.Fatalf("no event under %s", base)
	}
	return page.Results[0]
}

func eventTypes(evs []atlasapi.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.EventTypeName)
	}
	return out
}

func TestEventsOfDatabaseUsersAndCertificates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(scramUserBody("scram"))
	e.createUser(managedUserBody("alice"))
	e.mustDo(http.StatusOK, "PATCH", g+"/databaseUsers/admin/scram", `{"description":"changed"}`)
	serial := e.issueSerial("alice")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+serial+"?reason=keyCompromise", "")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/$external/alice", "")
	// A failed change leaves no event.
	if rec := e.do("POST", g+"/databaseUsers", scramUserBody("scram")); rec.Code != http.StatusConflict {
		t.Fatalf("duplicate user: %d %s", rec.Code, rec.Body.String())
	}

	page := e.events(g, "")
	// The last is the bootstrap's creation of the project.
	want := []string{"MONGODB_USER_DELETED", "MONGODB_USER_X509_CERT_REVOKED", "MONGODB_USER_X509_CERT_CREATED",
		"MONGODB_USER_UPDATED", "MONGODB_USER_ADDED", "MONGODB_USER_ADDED", "GROUP_CREATED"}
	if d := cmp.Diff(want, eventTypes(page.Results)); d != "" {
		t.Fatalf("event types, newest first (-want +got):\n%s", d)
	}
	if page.TotalCount == nil || *page.TotalCount != len(want) {
		t.Errorf("totalCount = %v, want %d", page.TotalCount, len(want))
	}
	users := []string{}
	for _, ev := range page.Results {
		users = append(users, ev.DBUserUsername)
	}
	// As recorded from Atlas: the managed user by its subject, no user on
	// the certificate's creation.
	if d := cmp.Diff([]string{"CN=alice", "CN=alice", "", "scram", "CN=alice", "scram", ""}, users); d != "" {
		t.Errorf("dbUserUsername (-want +got):\n%s", d)
	}
	ev := page.Results[0]
	created, err := time.Parse(time.RFC3339, ev.Created)
	if err != nil || created.Nanosecond() != 0 || !strings.HasSuffix(ev.Created, "Z") {
		t.Errorf("created %q: want an RFC 3339 UTC time to the second", ev.Created)
	}
	wantEv := atlasapi.Event{
		Created: ev.Created, DBUserUsername: "CN=alice", EventTypeName: "MONGODB_USER_DELETED", GroupID: e.boot.ProjectID,
		ID: ev.ID, Links: []atlasapi.Link{{Href: "http://example.com/api/atlas/v2/groups/" + e.boot.ProjectID + "/events/" + ev.ID, Rel: "self"}},
		RemoteAddress: "192.0.2.1", Username: e.boot.ServiceAccount.ClientID,
	}
	if d := cmp.Diff(wantEv, ev); d != "" {
		t.Errorf("event (-want +got):\n%s", d)
	}
}

func TestGetEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(managedUserBody("alice"))
	ev := e.lastEvent(e.group())
	g := "/groups/" + e.boot.ProjectID
	rec := e.v2(g + "/events/" + ev.ID)
	var got atlasapi.Event
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
		t.Fatalf("get event: %d %s", rec.Code, rec.Body.String())
	}
	if d := cmp.Diff(ev, got); d != "" {
		t.Errorf("get event differs from the listed one (-list +get):\n%s", d)
	}
	rec = e.v2(g + "/events/" + ev.ID + "?includeRaw=true")
	var raw struct {
		Raw map[string]string `json:"raw"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &raw) != nil {
		t.Fatalf("get event includeRaw: %d %s", rec.Code, rec.Body.String())
	}
	if raw.Raw["_t"] != "NDS_AUDIT" || raw.Raw["cid"] != e.boot.ProjectID || raw.Raw["dbUserUsername"] != "CN=alice" || raw.Raw["id"] != ev.ID {
		t.Errorf("raw = %v", raw.Raw)
	}
	other := e.createProject("other")
	for _, path := range []string{
		g + "/events/" + strings.Repeat("0", 24),
		g + "/events/not-an-id",
		"/groups/" + other + "/events/" + ev.ID,
		"/orgs/" + e.boot.OrgID + "/events/" + ev.ID, // a project's event, not the organization's
	} {
		if rec := e.v2(path); rec.Code != http.StatusNotFound || apiError(t, rec).ErrorCode != "RESOURCE_NOT_FOUND" {
			t.Errorf("GET %s: %d %s, want 404 RESOURCE_NOT_FOUND", path, rec.Code, rec.Body.String())
		}
	}
}

func TestListEventsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	for _, name := range []string{"a", "b", "c"} {
		e.createUser(scramUserBody(name))
	}
	e.mustDo(http.StatusOK, "PATCH", g+"/databaseUsers/admin/b", `{"description":"changed"}`)
	all := e.events(g, "").Results
	names := func(evs []atlasapi.Event) []string {
		out := []string{}
		for _, ev := range evs {
			out = append(out, ev.EventTypeName+" "+ev.DBUserUsername)
		}
		return out
	}
	first, _ := time.Parse(time.RFC3339, all[len(all)-1].Created)
	tests := []struct {
		name, q string
		want    []string
		total   int
	}{
		{"all", "", []string{"MONGODB_USER_UPDATED b", "MONGODB_USER_ADDED c", "MONGODB_USER_ADDED b", "MONGODB_USER_ADDED a", "GROUP_CREATED "}, 5},
		{"eventType", "?eventType=MONGODB_USER_UPDATED", []string{"MONGODB_USER_UPDATED b"}, 1},
		{"repeated eventType", "?eventType=MONGODB_USER_UPDATED&eventType=MONGODB_USER_ADDED&itemsPerPage=2",
			[]string{"MONGODB_USER_UPDATED b", "MONGODB_USER_ADDED c"}, 4},
		{"excludedEventType", "?excludedEventType=MONGODB_USER_ADDED&excludedEventType=GROUP_CREATED", []string{"MONGODB_USER_UPDATED b"}, 1},
		{"page 2", "?itemsPerPage=3&pageNum=2", []string{"MONGODB_USER_ADDED a", "GROUP_CREATED "}, 5},
		{"minDate", "?minDate=" + first.Format(time.RFC3339), names(all), 5},
		{"maxDate", "?maxDate=" + first.Format(time.RFC3339), []string{}, 0},
		{"includeCount=false", "?includeCount=false&eventType=MONGODB_USER_UPDATED", []string{"MONGODB_USER_UPDATED b"}, 0},
	}
	for _, tt := range tests {
		page := e.events(g, tt.q)
		if d := cmp.Diff(tt.want, names(page.Results)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
		if page.TotalCount == nil || *page.TotalCount != tt.total {
			t.Errorf("%s: totalCount %v, want %d", tt.name, page.TotalCount, tt.total)
		}
	}
	page := e.events(g, "?itemsPerPage=1&minDate=2026-01-02T03:04:05Z")
	wantSelf := "http://example.com/api/atlas/v2/groups/" + e.boot.ProjectID +
		"/events?includeCount=true&includeRaw=false&pageNum=1&itemsPerPage=1&minDate=2026-01-02T03%3A04%3A05Z"
	if len(page.Links) < 1 || page.Links[0] != (atlasapi.Link{Href: wantSelf, Rel: "self"}) {
		t.Errorf("links = %+v, want self %s", page.Links, wantSelf)
	}
	if len(page.Links) != 2 || page.Links[1].Rel != "next" {
		t.Errorf("links = %+v, want self and next", page.Links)
	}
	for _, r := range e.events(g, "?includeRaw=true").Results {
		if len(r.Raw) == 0 {
			t.Errorf("includeRaw=true: %s has no raw", r.ID)
		}
	}
	for _, r := range all {
		if len(r.Raw) != 0 {
			t.Errorf("default: %s has raw", r.ID)
		}
	}
}

func TestListEventsInvalidParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := "/groups/" + e.boot.ProjectID + "/events"
	for _, q := range []string{"?minDate=yesterday", "?maxDate=2026-13-01T00:00:00Z", "?eventType=NOT_AN_EVENT",
		"?excludedEventType=nope", "?includeRaw=maybe", "?itemsPerPage=501", "?pageNum=-1"} {
		rec := e.v2(g + q)
		if rec.Code != http.StatusBadRequest || apiError(t, rec).ErrorCode != "INVALID_QUERY_PARAMETER" {
			t.Errorf("GET %s: %d %s, want 400 INVALID_QUERY_PARAMETER", q, rec.Code, rec.Body.String())
		}
	}
}

func TestOrgEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createProject("p2")
	e.mustDo(http.StatusOK, "PATCH", e.orgs(), `{"name":"renamed"}`)
	e.mustDo(http.StatusNoContent, "DELETE", "/api/atlas/v1.0/groups/"+id, "")
	page := e.events(e.orgs(), "")
	// Then the bootstrap's: the project, API key, service account and
	// organization it created, in one transaction (the last written first).
	want := []string{"GROUP_DELETED", "ORG_RENAMED", "GROUP_CREATED",
		"SERVICE_ACCOUNT_CREATED", "API_KEY_CREATED", "GROUP_CREATED", "ORG_CREATED"}
	if d := cmp.Diff(want, eventTypes(page.Results)); d != "" {
		t.Fatalf("org events (-want +got):\n%s", d)
	}
	for _, ev := range page.Results {
		if ev.OrgID != e.boot.OrgID {
			t.Errorf("%s: orgId %q, want %s", ev.EventTypeName, ev.OrgID, e.boot.OrgID)
		}
	}
	// An event of no project links to /groups/null/events/{id}, as recorded.
	renamed := page.Results[1]
	if want := "http://example.com/api/atlas/v2/groups/null/events/" + renamed.ID; renamed.Links[0].Href != want {
		t.Errorf("ORG_RENAMED link %s, want %s", renamed.Links[0].Href, want)
	}
	if renamed.GroupID != "" || page.Results[0].GroupID != id {
		t.Errorf("groupId: ORG_RENAMED %q, GROUP_DELETED %q", renamed.GroupID, page.Results[0].GroupID)
	}
	rec := e.v2("/orgs/" + e.boot.OrgID + "/events/" + renamed.ID)
	if rec.Code != http.StatusOK {
		t.Errorf("get org event: %d %s", rec.Code, rec.Body.String())
	}
	// Project events carry no orgId on the project list.
	for _, ev := range e.events(e.group(), "").Results {
		if ev.OrgID != "" {
			t.Errorf("project list: %s has orgId", ev.EventTypeName)
		}
	}
}

func TestListEventTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.v2("/eventTypes?itemsPerPage=500")
	var page atlasapi.Paginated[atlasapi.EventType]
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		t.Fatalf("eventTypes: %d %s", rec.Code, rec.Body.String())
	}
	found := map[string]bool{}
	for _, et := range page.Results {
		found[et.EventType] = et.Alertable
	}
	for name, alertable := range map[string]bool{
		"MONGODB_USER_ADDED": false, "MONGODB_USER_X509_CERT_CREATED": false, "MANAGED_X509_CA_ROTATED": false,
		"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK": true,
	} {
		if a, ok := found[name]; !ok || a != alertable {
			t.Errorf("eventTypes: %s listed %v alertable %v, want listed alertable %v", name, ok, a, alertable)
		}
	}
}

// eventsNotRecorded are the audited operations (every method but GET) whose
// success records no event, with why. Every other one must record at least
// one: the audit trail and the events agree.
var eventsNotRecorded = map[string]string{
	"revokeDatabaseUserCertificates": "its fixture's user has no certificate: nothing is revoked, nothing changes " +
		"(a revocation records MONGODB_USER_X509_CERT_REVOKED, see TestEventsOfDatabaseUsersAndCertificates)",
}

// countEvents counts the events of the bootstrap project and organization.
func (e *env) countEvents() int {
	e.t.Helper()
	var n int
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		g, err := tx.CountEvents(context.Background(), store.EventFilter{GroupID: e.boot.ProjectID})
		if err != nil {
			return err
		}
		o, err := tx.CountEvents(context.Background(), store.EventFilter{OrgID: e.boot.OrgID})
		n = g + o
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestEveryAuditedChangeHasAnEvent walks the route table: every operation
// the audit trail records as a change, run through its matrix fixture as
// the bootstrap owner, records at least one event when it succeeds.
func TestEveryAuditedChangeHasAnEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fixtures := matrixFixtures()
	for n, rt := range (&server{}).atlasRoutes() {
		if !privileged(rt.method) {
			continue
		}
		if why, ok := eventsNotRecorded[rt.op]; ok {
			t.Logf("%s records no event: %s", rt.op, why)
			continue
		}
		c := fixtures[rt.op](e, 1000+n)
		before := e.countEvents()
		rec := e.do(c.method, "/api/atlas/v1.0"+c.path, c.body)
		if rec.Code < 200 || rec.Code > 299 {
			t.Errorf("%s (%s %s): %d %s, want a success", rt.op, c.method, c.path, rec.Code, rec.Body.String())
			continue
		}
		if after := e.countEvents(); after <= before {
			t.Errorf("%s (%s %s) succeeded and recorded no event", rt.op, c.method, c.path)
		}
	}
}

// TestPurgeEvents: events older than the retention go, newer ones stay.
func TestPurgeEvents(t *testing.T) {
	t.Parallel()
	e, clock := newClockEnv(t, 0)
	e.createUser(scramUserBody("old"))
	e.advance(clock, 60*24*time.Hour)
	e.createUser(scramUserBody("recent"))
	e.advance(clock, 31*24*time.Hour)
	n, err := e.app.PurgeEvents(context.Background(), 90*24*time.Hour)
	if err != nil || n != 5 { // "old" and the four of the bootstrap
		t.Fatalf("PurgeEvents = %d, %v; want 5", n, err)
	}
	var users []string
	for _, ev := range e.events(e.group(), "").Results {
		users = append(users, ev.DBUserUsername)
	}
	if d := cmp.Diff([]string{"recent"}, users); d != "" {
		t.Errorf("events after the purge (-want +got):\n%s", d)
	}
}

// TestCredentialEvents: changes made with an API key carry its apiKeyId and
// publicKey; API key events carry targetPublicKey, access list events
// whitelistEntry, as recorded from Atlas.
func TestCredentialEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	owner := e.createKey("ORG_OWNER")
	c := newDigestClient(t, srv, owner, "127.0.0.1")
	o := e.orgs()
	if status, code := c.do("POST", o+"/apiKeys", `{"desc":"ci","roles":["ORG_MEMBER"]}`); status != http.StatusOK {
		t.Fatalf("create key: %d %s", status, code)
	}
	k := e.createKey("ORG_MEMBER") // by the bootstrap account
	for _, step := range []struct{ method, path, body string }{
		{"PATCH", o + "/apiKeys/" + k.ID, `{"desc":"renamed"}`},
		{"POST", o + "/apiKeys/" + k.ID + "/accessList", `[{"ipAddress":"192.168.0.7"},{"cidrBlock":"10.0.0.0/8"}]`},
		{"DELETE", o + "/apiKeys/" + k.ID + "/accessList/192.168.0.7", ""},
		{"DELETE", o + "/apiKeys/" + k.ID, ""},
	} {
		if status, code := c.do(step.method, step.path, step.body); status >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, status, code)
		}
	}
	page := e.events(o, "?eventType=API_KEY_CREATED&eventType=API_KEY_DESCRIPTION_CHANGED&eventType=API_KEY_ACCESS_LIST_ENTRY_ADDED&eventType=API_KEY_ACCESS_LIST_ENTRY_DELETED&eventType=API_KEY_DELETED")
	type row struct{ Type, APIKeyID, PublicKey, Remote, Target, Entry string }
	var got []row
	for _, ev := range page.Results {
		got = append(got, row{ev.EventTypeName, ev.APIKeyID, ev.PublicKey, ev.RemoteAddress, ev.TargetPublicKey, ev.WhitelistEntry})
	}
	by := func(typ, entry string) row {
		return row{typ, owner.ID, owner.PublicKey, "127.0.0.1", k.PublicKey, entry}
	}
	want := []row{
		by("API_KEY_DELETED", ""),
		by("API_KEY_ACCESS_LIST_ENTRY_DELETED", "192.168.0.7"),
		by("API_KEY_ACCESS_LIST_ENTRY_ADDED", "10.0.0.0/8"),
		by("API_KEY_ACCESS_LIST_ENTRY_ADDED", "192.168.0.7"),
		by("API_KEY_DESCRIPTION_CHANGED", ""),
		{"API_KEY_CREATED", "", "", "192.0.2.1", k.PublicKey, ""},
	}
	if d := cmp.Diff(want, got[:len(want)]); d != "" {
		t.Errorf("API key events, newest first (-want +got):\n%s", d)
	}
}

// TestBootstrapEvents: what the bootstrap created is recorded as events of
// the server itself (no caller, no address), with their targets; a second
// bootstrap, refused, records none.
func TestBootstrapEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.app.Bootstrap(context.Background()); err == nil {
		t.Fatal("second bootstrap succeeded")
	}
	type target struct{ Type, GroupID, OrgID, PublicKey, ClientID, Caller string }
	var got []target
	for _, ev := range e.events(e.orgs(), "").Results {
		got = append(got, target{ev.EventTypeName, ev.GroupID, ev.OrgID, ev.TargetPublicKey, ev.TargetClientID,
			ev.APIKeyID + ev.PublicKey + ev.Username + ev.RemoteAddress})
	}
	b := e.boot
	want := []target{
		{Type: "SERVICE_ACCOUNT_CREATED", OrgID: b.OrgID, ClientID: b.ServiceAccount.ClientID},
		{Type: "API_KEY_CREATED", OrgID: b.OrgID, PublicKey: b.APIKey.PublicKey},
		{Type: "GROUP_CREATED", GroupID: b.ProjectID, OrgID: b.OrgID},
		{Type: "ORG_CREATED", OrgID: b.OrgID},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("bootstrap events (-want +got):\n%s", d)
	}
}
