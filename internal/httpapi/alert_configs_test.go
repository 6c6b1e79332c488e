package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/store"
)

// v2 turns a v1.0 path into its v2 form.
func v2(path string) string { return strings.Replace(path, "/api/atlas/v1.0/", "/api/atlas/v2/", 1) }

// doVersion sends a request asking for a resource version.
func (e *env) doVersion(version, method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// wantError fails unless rec is an Atlas error of that status and code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d; body %s", rec.Code, status, rec.Body)
		return
	}
	if got := apiError(t, rec).ErrorCode; got != code {
		t.Errorf("errorCode %s, want %s; body %s", got, code, rec.Body)
	}
}

// alertConfigBody is an alert configuration as the Atlas CLI and Terraform
// send it: a webhook on a public address, with a secret.
const alertConfigBody = `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK","enabled":true,
"threshold":{"operator":"LESS_THAN","threshold":30.0,"units":"DAYS"},
"notifications":[{"typeName":"WEBHOOK","webhookUrl":"https://203.0.113.10/hooks/t0ken?x=1","webhookSecret":"s3cret","intervalMin":60,"delayMin":0}]}`

// createAlertConfig creates a configuration from alertConfigBody and returns its id.
func (e *env) createAlertConfig() string {
	e.t.Helper()
	var c atlasapi.AlertConfig
	if err := json.Unmarshal(e.mustDo(http.StatusCreated, "POST", e.group()+"/alertConfigs", alertConfigBody), &c); err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

func decodeConfig(t *testing.T, b []byte) atlasapi.AlertConfig {
	t.Helper()
	var c atlasapi.AlertConfig
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return c
}

func TestAlertConfigLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.doVersion("2023-01-01", "POST", v2(e.group()+"/alertConfigs"), alertConfigBody)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	created := decodeConfig(t, rec.Body.Bytes())
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "/api/atlas/v2/groups/"+e.boot.ProjectID+"/alertConfigs/"+created.ID) {
		t.Errorf("Location %q", loc)
	}
	if strings.Contains(rec.Body.String(), "s3cret") || strings.Contains(rec.Body.String(), "t0ken") {
		t.Errorf("the answer shows the secret or the URL's path: %s", rec.Body)
	}
	wantNotif := []atlasapi.AlertNotification{{DelayMin: 0, IntervalMin: 60, NotifierID: created.Notifications[0].NotifierID,
		TypeName: "WEBHOOK", WebhookSecret: "******", WebhookURL: "https://203.0.113.10/****"}}
	if d := cmp.Diff(wantNotif, created.Notifications); d != "" {
		t.Errorf("notifications (-want +got):\n%s", d)
	}
	if d := cmp.Diff(atlasapi.AlertThreshold{Operator: "LESS_THAN", Threshold: 30, Units: "DAYS"}, created.Threshold); d != "" {
		t.Errorf("threshold (-want +got):\n%s", d)
	}
	path := e.group() + "/alertConfigs/" + created.ID
	got := decodeConfig(t, e.doVersion("2023-01-01", "GET", v2(path), "").Body.Bytes())
	if d := cmp.Diff(created, got); d != "" {
		t.Errorf("GET differs from POST (-post +get):\n%s", d)
	}

	// PUT what GET answered, masked values included, with another
	// threshold: the stored URL and secret stay.
	got.Threshold.Threshold = 14
	body, _ := json.Marshal(got)
	put := decodeConfig(t, e.doVersion("2023-01-01", "PUT", v2(path), string(body)).Body.Bytes())
	if put.Threshold.Threshold != 14 || put.Notifications[0].NotifierID != created.Notifications[0].NotifierID {
		t.Errorf("PUT answered %+v", put)
	}
	var stored atlasx509.AlertConfig
	err := e.store.View(t.Context(), func(tx store.Tx) error {
		var err error
		stored, err = tx.GetAlertConfig(t.Context(), e.boot.ProjectID, created.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := stored.Notifications[0].WebhookURL; u != "https://203.0.113.10/hooks/t0ken?x=1" {
		t.Errorf("stored URL after a masked PUT: %q", u)
	}
	if len(stored.Notifications[0].SealedWebhookSecret) == 0 || strings.Contains(string(stored.Notifications[0].SealedWebhookSecret), "s3cret") {
		t.Errorf("stored secret after a masked PUT: %q", stored.Notifications[0].SealedWebhookSecret)
	}

	toggled := decodeConfig(t, e.doVersion("2023-01-01", "PATCH", v2(path), `{"enabled":false}`).Body.Bytes())
	if toggled.Enabled || toggled.Threshold.Threshold != 14 {
		t.Errorf("PATCH answered %+v", toggled)
	}
	var page atlasapi.Paginated[atlasapi.AlertConfig]
	if err := json.Unmarshal(e.doVersion("2023-01-01", "GET", v2(e.group()+"/alertConfigs"), "").Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if page.TotalCount == nil || *page.TotalCount != 2 { // the default and ours
		t.Errorf("list: %+v", page)
	}
	rec = e.doVersion("2023-01-01", "DELETE", v2(path), "")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Errorf("DELETE: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	wantError(t, e.do("GET", path, ""), http.StatusNotFound, "ALERT_CONFIG_NOT_FOUND")
	wantError(t, e.do("GET", e.group()+"/alertConfigs/nothex", ""), http.StatusNotFound, "INVALID_ALERT_CONFIG_ID")
}

// wantDefaultConfig checks that c is a default configuration Atlas
// creates, of eventType in the project groupID: within 30 days, mailed to
// the project owners every 24 h.
func wantDefaultConfig(t *testing.T, c atlasapi.AlertConfig, eventType, groupID string) {
	t.Helper()
	if len(c.Notifications) != 1 {
		t.Fatalf("default config %+v", c)
	}
	yes, no := true, false
	want := atlasapi.AlertConfig{Created: c.Created, Enabled: true, EventTypeName: eventType, GroupID: groupID, ID: c.ID,
		Links: c.Links, Matchers: c.Matchers,
		Notifications: []atlasapi.AlertNotification{{DelayMin: 0, EmailEnabled: &yes, IntervalMin: 1440,
			NotifierID: c.Notifications[0].NotifierID, Roles: []string{"GROUP_OWNER"}, SMSEnabled: &no, TypeName: "GROUP"}},
		Threshold: atlasapi.AlertThreshold{Operator: "LESS_THAN", Threshold: 30, Units: "DAYS"}, Updated: c.Updated}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("default config of %s (-want +got):\n%s", eventType, d)
	}
}

func TestAlertConfigDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var page atlasapi.Paginated[atlasapi.AlertConfig]
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", e.group()+"/alertConfigs", ""), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 {
		t.Fatalf("bootstrap project configs: %+v", page.Results)
	}
	wantDefaultConfig(t, page.Results[0], "NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK", e.boot.ProjectID)
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"name":"with defaults","orgId":"` + e.boot.OrgID + `"}`, 1},
		{`{"name":"without","orgId":"` + e.boot.OrgID + `","withDefaultAlertsSettings":false}`, 0},
	} {
		var p atlasapi.Group
		if err := json.Unmarshal(e.mustDo(http.StatusOK, "POST", "/api/atlas/v1.0/groups", tc.body), &p); err != nil {
			t.Fatal(err)
		}
		var page atlasapi.Paginated[atlasapi.AlertConfig]
		if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", "/api/atlas/v1.0/groups/"+p.ID+"/alertConfigs", ""), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Results) != tc.want {
			t.Errorf("%s: %d configs, want %d", tc.body, len(page.Results), tc.want)
		}
	}
}

func TestAlertConfigRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	webhook := func(url string) string {
		return strings.Replace(alertConfigBody, "https://203.0.113.10/hooks/t0ken?x=1", url, 1)
	}
	tests := []struct {
		name, body, code string
	}{
		{"other event type", strings.Replace(alertConfigBody, "NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK", "OUTSIDE_METRIC_THRESHOLD", 1), "UNSUPPORTED_ALERT_EVENT_TYPE"},
		{"slack", `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK","notifications":[{"typeName":"SLACK"}]}`, "UNSUPPORTED_NOTIFICATION_TYPE"},
		{"no notification", `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK","notifications":[]}`, "MISSING_ATTRIBUTE"},
		{"operator", strings.Replace(alertConfigBody, "LESS_THAN", "GREATER_THAN", 1), "INVALID_ENUM_VALUE"},
		{"units", strings.Replace(alertConfigBody, `"DAYS"`, `"HOURS"`, 1), "INVALID_ENUM_VALUE"},
		{"zero threshold", strings.Replace(alertConfigBody, "30.0", "0", 1), "ATTRIBUTE_NEGATIVE_OR_ZERO"},
		{"fractional threshold", strings.Replace(alertConfigBody, "30.0", "2.5", 1), "INVALID_JSON_ATTRIBUTE"},
		{"interval", strings.Replace(alertConfigBody, `"intervalMin":60`, `"intervalMin":4`, 1), "VALIDATION_ERROR"},
		{"matchers", strings.Replace(alertConfigBody, `"enabled":true`, `"enabled":true,"matchers":[{"fieldName":"HOSTNAME"}]`, 1), "INVALID_ATTRIBUTE"},
		{"group role", `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK","notifications":[{"typeName":"GROUP","roles":["ORG_OWNER"]}]}`, "INVALID_ROLE_FOR_GROUP"},
		{"email", `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK","notifications":[{"typeName":"EMAIL","emailAddress":"not an address"}]}`, "VALIDATION_ERROR"},
		{"ftp URL", webhook("ftp://203.0.113.10/x"), "INVALID_WEBHOOK_URL"},
		{"loopback", webhook("http://127.0.0.1:8080/hook"), "INVALID_WEBHOOK_URL"},
		{"10/8", webhook("http://10.1.2.3/hook"), "INVALID_WEBHOOK_URL"},
		{"link-local", webhook("http://169.254.169.254/latest/meta-data"), "INVALID_WEBHOOK_URL"},
		{"::1", webhook("http://[::1]:9000/hook"), "INVALID_WEBHOOK_URL"},
		{"mapped loopback", webhook("http://[::ffff:127.0.0.1]/hook"), "INVALID_WEBHOOK_URL"},
		{"name resolving to loopback", webhook("http://localhost:9000/hook"), "INVALID_WEBHOOK_URL"},
		{"credentials in URL", webhook("https://user:pw@203.0.113.10/hook"), "INVALID_WEBHOOK_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", e.group()+"/alertConfigs", tc.body), http.StatusBadRequest, tc.code)
		})
	}
	var page atlasapi.Paginated[atlasapi.AlertConfig]
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", e.group()+"/alertConfigs", ""), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 {
		t.Errorf("a refused request stored something: %d configs", len(page.Results))
	}
}

// insertAlert stores an open alert of a new configuration about target,
// as the evaluator would, and returns its id.
func (e *env) insertAlert(target string) string {
	e.t.Helper()
	now := time.Now().UTC()
	al := atlasx509.Alert{ID: atlasx509.NewID(now), GroupID: e.boot.ProjectID, AlertConfigID: e.createAlertConfig(),
		EventTypeName: atlasx509.EventManagedCertsExpiration, Target: target, Subject: "someone",
		NotAfter: now.Add(24 * time.Hour), Status: atlasx509.AlertOpen, Created: now, Updated: now}
	if err := e.store.Update(context.Background(), func(tx store.Tx) error { return tx.InsertAlert(context.Background(), al) }); err != nil {
		e.t.Fatal(err)
	}
	return al.ID
}

// TestGetAlertConfigs: an alert lists the configuration that opened it
// (Atlas getAlertConfigs), none once that configuration is deleted; an
// unknown or malformed alert id is a 404.
func TestGetAlertConfigs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alertID := e.insertAlert("cert:1")
	al := decode[atlasapi.Alert](t, e.mustDo(http.StatusOK, "GET", e.group()+"/alerts/"+alertID, ""))
	type page = atlasapi.Paginated[atlasapi.AlertConfig]
	path := e.group() + "/alerts/" + alertID + "/alertConfigs"
	got := decode[page](t, e.mustDo(http.StatusOK, "GET", path, ""))
	if *got.TotalCount != 1 || len(got.Results) != 1 || got.Results[0].ID != al.AlertConfigID {
		t.Fatalf("configs of the alert: %+v, want the one of id %s", got, al.AlertConfigID)
	}
	if got := decode[page](t, e.mustDo(http.StatusOK, "GET", path+"?pageNum=2", "")); *got.TotalCount != 1 || len(got.Results) != 0 {
		t.Errorf("page 2: %+v, want no result of 1", got)
	}
	e.mustDo(http.StatusNoContent, "DELETE", e.group()+"/alertConfigs/"+al.AlertConfigID, "")
	if got := decode[page](t, e.mustDo(http.StatusOK, "GET", path, "")); *got.TotalCount != 0 || len(got.Results) != 0 {
		t.Errorf("after the configuration's deletion: %+v, want none", got)
	}
	wantError(t, e.do("GET", e.group()+"/alerts/0123456789abcdef01234567/alertConfigs", ""), http.StatusNotFound, "ALERT_NOT_FOUND")
	wantError(t, e.do("GET", e.group()+"/alerts/nope/alertConfigs", ""), http.StatusNotFound, "INVALID_ALERT_ID")
}

// decode unmarshals an answer body into a T.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestCustomerCAAlertConfigDefault: enabling self-managed X.509 (uploading
// its CAs) creates the configuration Atlas creates then: a CA expiring
// within 30 days, to the project owners, every 24 h. Once: not again when
// the CAs change or come back, nor in a project made without default
// alert settings.
func TestCustomerCAAlertConfigDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := customerCA(t, "Corp Root", true, time.Now().AddDate(2, 0, 0))
	body := func(cas string) string {
		b, _ := json.Marshal(map[string]any{"customerX509": map[string]string{"cas": cas}})
		return string(b)
	}
	configs := func(g string) []atlasapi.AlertConfig {
		var page atlasapi.Paginated[atlasapi.AlertConfig]
		if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", g+"/alertConfigs", ""), &page); err != nil {
			t.Fatal(err)
		}
		return page.Results
	}
	g := e.group()
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", body(ca))
	got := configs(g)
	if len(got) != 2 {
		t.Fatalf("configurations after enabling self-managed X.509: %+v", got)
	}
	wantDefaultConfig(t, got[1], "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK", e.boot.ProjectID)
	// Other CAs, off and on again: still one.
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", body(ca+customerCA(t, "Corp Issuing", true, time.Now().AddDate(2, 0, 0))))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", body(""))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", body(ca))
	if got := configs(g); len(got) != 2 {
		t.Errorf("configurations after changes: %d, want 2", len(got))
	}

	var p atlasapi.Group
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "POST", "/api/atlas/v1.0/groups", `{"name":"bare","orgId":"`+e.boot.OrgID+`","withDefaultAlertsSettings":false}`), &p); err != nil {
		t.Fatal(err)
	}
	e.mustDo(http.StatusAccepted, "PATCH", "/api/atlas/v1.0/groups/"+p.ID+"/userSecurity", body(ca))
	if got := configs("/api/atlas/v1.0/groups/" + p.ID); len(got) != 0 {
		t.Errorf("a project without default alert settings got %+v", got)
	}
}
