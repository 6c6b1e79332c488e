package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestAlertDefaultConfigWebhook is issue 12's "done when": in a project
// made through the API, a user creates a MANAGED user and issues a
// certificate that expires within the threshold; the configuration Atlas
// creates with the project, given nothing but a webhook (URL and secret),
// sends a local receiver Atlas's signed alert, once per interval (its
// default 24 h), and the close after a renewal.
func TestAlertDefaultConfigWebhook(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "default-secret")
	clock := testkit.NewClock()
	e := newEnvWith(t, func(c *app.Config) { c.Now, c.AllowPrivateWebhooks = clock.Now, true }) // the receiver is on loopback
	gid := e.createProject("Payments")
	g := "/api/atlas/v1.0/groups/" + gid

	// The default configuration, with a webhook added and nothing else.
	var page atlasapi.Paginated[atlasapi.AlertConfig]
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", g+"/alertConfigs", ""), &page); err != nil || len(page.Results) != 1 {
		t.Fatalf("configurations of a new project: %+v %v", page.Results, err)
	}
	def := page.Results[0]
	notifications := []any{def.Notifications[0], map[string]string{"typeName": "WEBHOOK", "webhookUrl": rc.srv.URL + "/atlas", "webhookSecret": rc.secret}}
	put, _ := json.Marshal(map[string]any{"eventTypeName": def.EventTypeName, "enabled": def.Enabled, "threshold": def.Threshold,
		"notifications": notifications})
	e.mustDo(http.StatusOK, "PUT", g+"/alertConfigs/"+def.ID, string(put))

	e.mustDo(http.StatusCreated, "POST", g+"/databaseUsers", managedUserBody("alice"))
	e.mustDo(http.StatusCreated, "POST", g+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
	e.advance(clock, 10*24*time.Hour)
	tick(t, runner)

	rc.mu.Lock()
	got := append([]hook(nil), rc.got...)
	rc.mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("webhooks after the certificate entered the threshold: %+v", got)
	}
	body := got[0].body
	if got[0].event != "alert.open" || body.Status != atlasx509.AlertOpen || body.AlertConfigID != def.ID || body.GroupID != gid ||
		body.EventTypeName != atlasx509.EventManagedCertsExpiration || !strings.Contains(body.HumanReadable, "alice") ||
		!strings.Contains(body.HumanReadable, "Payments") {
		t.Errorf("webhook %s %+v", got[0].event, body)
	}
	rc.events() // forget it; the receiver checked its signature

	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{time.Minute, nil},
		{23 * time.Hour, nil}, // before the default's 24 h
		{59 * time.Minute, []string{"alert.update OPEN"}},
		{time.Minute, nil},
		{time.Hour, nil},
	}
	for i, st := range steps {
		e.advance(clock, st.advance)
		tick(t, runner)
		if d := cmp.Diff(st.want, rc.events()); d != "" {
			t.Fatalf("step %d (-want +got):\n%s", i, d)
		}
	}

	e.mustDo(http.StatusCreated, "POST", g+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`)
	tick(t, runner)
	if d := cmp.Diff([]string{"alert.close CLOSED"}, rc.events()); d != "" {
		t.Errorf("after the renewal (-want +got):\n%s", d)
	}
	e.advance(clock, 48*time.Hour)
	tick(t, runner)
	if got := rc.events(); len(got) != 0 {
		t.Errorf("a closed alert notified again: %v", got)
	}
}
