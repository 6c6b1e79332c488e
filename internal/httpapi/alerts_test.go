package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/postgres"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// hook is one webhook request the receiver got.
type hook struct {
	event string
	body  atlasapi.Alert
}

// receiver is a real local HTTP webhook receiver: it checks each request's
// signature with secret, answers the statuses of fail first (then 200) and
// records what it accepted.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	fail     []int
	attempts int
	got      []hook
}

func newReceiver(t *testing.T, secret string, fail ...int) *receiver {
	rc := &receiver{t: t, secret: secret, fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if !notify.Verify(body, []byte(rc.secret), r.Header.Get("X-MMS-Signature")) {
		rc.t.Errorf("webhook signature %q does not verify", r.Header.Get("X-MMS-Signature"))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" || r.Method != http.MethodPost {
		rc.t.Errorf("webhook %s with Content-Type %q", r.Method, ct)
	}
	if len(rc.fail) > 0 {
		w.WriteHeader(rc.fail[0])
		rc.fail = rc.fail[1:]
		return
	}
	var v atlasapi.Alert
	if err := json.Unmarshal(body, &v); err != nil {
		rc.t.Errorf("webhook body %s: %v", body, err)
	}
	rc.got = append(rc.got, hook{event: r.Header.Get("X-MMS-Event"), body: v})
	w.WriteHeader(http.StatusAccepted) // any 2xx is success
}

// events returns the events received so far and forgets them.
func (rc *receiver) events() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, h := range rc.got {
		out = append(out, h.event+" "+h.body.Status)
	}
	rc.got = nil
	return out
}

// alertFixture is a server with a fake clock, a webhook configuration
// aimed at the receiver and a managed user.
type alertFixture struct {
	*env
	clock    *testkit.Clock
	keyring  *keyring.Keyring
	configID string
}

func alertEnv(t *testing.T, rc *receiver) alertFixture {
	f := alertFixture{clock: testkit.NewClock()}
	f.env = newEnvWith(t, func(c *app.Config) {
		c.Now, c.AllowPrivateWebhooks = f.clock.Now, true
		f.keyring = c.Keyring
	})
	body := strings.NewReplacer("https://203.0.113.10/hooks/t0ken?x=1", rc.srv.URL+"/hook", "s3cret", rc.secret).Replace(alertConfigBody)
	f.configID = decodeConfig(t, f.mustDo(http.StatusCreated, "POST", f.group()+"/alertConfigs", body)).ID
	f.createUser(managedUserBody("alice"))
	return f
}

// refreshToken issues the bootstrap account a token valid at the fake time.
func (e *env) refreshToken() {
	e.t.Helper()
	tok, err := e.app.IssueToken(context.Background(), e.boot.ServiceAccount.ClientID, e.boot.ServiceAccount.ClientSecret)
	if err != nil {
		e.t.Fatal(err)
	}
	e.token = tok.AccessToken
}

func tick(t *testing.T, r *app.AlertRunner) {
	t.Helper()
	if _, err := r.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

// TestAlertWebhookLifecycle drives a certificate into its threshold with a
// fake clock: the receiver gets one signed webhook per interval, none
// while acknowledged, and the close after a renewal.
func TestAlertWebhookLifecycle(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "hook-secret")
	f := alertEnv(t, rc)
	e, clock := f.env, f.clock
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":2}`)
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}

	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, nil}, // 2 months left: outside the 30 days
		{35 * 24 * time.Hour, []string{"alert.open OPEN"}}, // inside
		{30 * time.Minute, nil},                            // before intervalMin (60)
		{29 * time.Minute, nil},
		{time.Minute, []string{"alert.update OPEN"}}, // one interval after the first
		{time.Minute, nil},
	}
	for i, st := range steps {
		clock.Add(st.advance)
		tick(t, runner)
		if d := cmp.Diff(st.want, rc.events()); d != "" {
			t.Fatalf("step %d (-want +got):\n%s", i, d)
		}
	}

	e.refreshToken()
	open := openAlert(t, e, f.configID)
	alertPath := v2(e.group() + "/alerts/" + open.ID)
	if rec := e.doVersion("2023-01-01", "GET", alertPath, ""); rec.Code != http.StatusOK {
		t.Fatalf("GET alert: %d %s", rec.Code, rec.Body)
	}
	byConfig := e.doVersion("2023-01-01", "GET", v2(e.group()+"/alertConfigs/"+open.AlertConfigID+"/alerts"), "")
	if byConfig.Code != http.StatusOK || !strings.Contains(byConfig.Body.String(), open.ID) {
		t.Fatalf("alerts of the configuration: %d %s", byConfig.Code, byConfig.Body)
	}

	// Acknowledged for 2 hours: no re-notification meanwhile.
	until := clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
	rec := e.doVersion("2024-05-30", "PATCH", alertPath, `{"acknowledgedUntil":"`+until+`","acknowledgementComment":"renewing"}`)
	var acked atlasapi.Alert
	if err := json.Unmarshal(rec.Body.Bytes(), &acked); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", rec.Code, rec.Body)
	}
	if acked.AcknowledgingUsername != e.boot.ServiceAccount.ClientID || acked.AcknowledgementComment != "renewing" {
		t.Errorf("acknowledged alert: %+v", acked)
	}
	clock.Add(90 * time.Minute)
	tick(t, runner)
	if got := rc.events(); len(got) != 0 {
		t.Fatalf("notified while acknowledged: %v", got)
	}

	// A renewal past the threshold closes the alert.
	e.refreshToken()
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`)
	tick(t, runner)
	if d := cmp.Diff([]string{"alert.close CLOSED"}, rc.events()); d != "" {
		t.Fatalf("after renewal (-want +got):\n%s", d)
	}
	clock.Add(2 * time.Hour)
	tick(t, runner)
	if got := rc.events(); len(got) != 0 {
		t.Fatalf("a closed alert notified again: %v", got)
	}
	e.refreshToken()
	var closed atlasapi.Alert
	if err := json.Unmarshal(e.doVersion("2023-01-01", "GET", alertPath, "").Body.Bytes(), &closed); err != nil {
		t.Fatal(err)
	}
	if closed.Status != atlasx509.AlertClosed || closed.Resolved == "" {
		t.Errorf("after renewal: %+v", closed)
	}

	wantAlertEvents(t, e, closed.ID)
}

// openAlert lists the project's open alerts through the route (ours and
// the default configuration's) and returns the one of configID.
func openAlert(t *testing.T, e *env, configID string) atlasapi.Alert {
	t.Helper()
	var page atlasapi.Paginated[atlasapi.Alert]
	if err := json.Unmarshal(e.doVersion("2023-01-01", "GET", v2(e.group()+"/alerts?status=OPEN"), "").Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 2 || page.Results[0].EventTypeName != atlasx509.EventManagedCertsExpiration {
		t.Fatalf("open alerts: %+v", page)
	}
	for _, al := range page.Results {
		if al.AlertConfigID == configID {
			return al
		}
	}
	t.Fatalf("no open alert of %s: %+v", configID, page)
	return atlasapi.Alert{}
}

// wantAlertEvents checks that the opening, acknowledgement and closing of
// the alert are events of the project, newest first.
func wantAlertEvents(t *testing.T, e *env, alertID string) {
	t.Helper()
	var events struct {
		Results []struct {
			EventTypeName string `json:"eventTypeName"`
			AlertID       string `json:"alertId"`
		} `json:"results"`
	}
	q := "?eventType=NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK&eventType=NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_RESOLVED&eventType=ALERT_ACKNOWLEDGED_AUDIT"
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", e.group()+"/events"+q, ""), &events); err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, ev := range events.Results {
		if ev.AlertID == alertID {
			ours = append(ours, ev.EventTypeName)
		}
	}
	want := []string{"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_RESOLVED", "ALERT_ACKNOWLEDGED_AUDIT",
		"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK"}
	if d := cmp.Diff(want, ours); d != "" {
		t.Errorf("events of the alert, newest first (-want +got):\n%s", d)
	}
}

// TestAlertWebhookRetries: a receiver that fails twice gets the third try,
// after the backoff.
func TestAlertWebhookRetries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "retry-secret", http.StatusInternalServerError, http.StatusServiceUnavailable)
	f := alertEnv(t, rc)
	e, clock := f.env, f.clock
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	clock.Add(10 * 24 * time.Hour)
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
	steps := []struct {
		advance  time.Duration
		attempts int
	}{
		{0, 1},
		{30 * time.Second, 1}, // not yet due again
		{30 * time.Second, 2}, // 1 min after the first failure
		{time.Minute, 2},
		{time.Minute, 3}, // 2 min after the second
		{time.Hour, 3},
	}
	for i, st := range steps {
		clock.Add(st.advance)
		tick(t, runner)
		rc.mu.Lock()
		attempts := rc.attempts
		rc.mu.Unlock()
		// The hourly re-notification of the last step is a second message.
		if i == len(steps)-1 {
			attempts--
		}
		if attempts != st.attempts {
			t.Fatalf("step %d: %d attempts, want %d", i, attempts, st.attempts)
		}
	}
	if d := cmp.Diff([]string{"alert.open OPEN", "alert.update OPEN"}, rc.events()); d != "" {
		t.Errorf("delivered (-want +got):\n%s", d)
	}
}

// TestAlertDeliveryRefusesPrivate: without --webhook-allow-private the
// delivery itself refuses a loopback address (a URL stored before, or a
// name that resolved elsewhere at configuration time).
func TestAlertDeliveryRefusesPrivate(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "x")
	f := alertEnv(t, rc)
	e, clock := f.env, f.clock
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	clock.Add(10 * 24 * time.Hour)
	strict, err := app.New(context.Background(), app.Config{Store: e.store, Keyring: f.keyring, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tick(t, &app.AlertRunner{App: strict, Holder: "r1", Interval: time.Minute})
	rc.mu.Lock()
	attempts := rc.attempts
	rc.mu.Unlock()
	if attempts != 0 {
		t.Fatalf("the receiver on loopback was called %d times", attempts)
	}
	var msgs []atlasx509.OutboxMessage
	err = e.store.View(context.Background(), func(tx store.Tx) error {
		alerts, err := tx.ListAlerts(context.Background(), store.AlertFilter{AlertConfigID: f.configID}, store.Page{})
		if err != nil || len(alerts) == 0 {
			t.Fatalf("alerts: %v %v", alerts, err)
		}
		msgs, err = tx.ListOutboxMessages(context.Background(), alerts[0].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var webhook *atlasx509.OutboxMessage
	for i := range msgs {
		if msgs[i].Kind == atlasx509.NotifyWebhook {
			webhook = &msgs[i]
		}
	}
	if webhook == nil || webhook.Status != atlasx509.OutboxPending || !strings.Contains(webhook.LastError, "not a public address") {
		t.Errorf("webhook message after a refused dial: %+v", webhook)
	}
}

// TestAlertReplicasDeliverOnce: two replicas on one PostgreSQL database,
// evaluating and delivering at the same time, send one webhook.
func TestAlertReplicasDeliverOnce(t *testing.T) {
	t.Parallel()
	dbURL := testkit.PostgresDatabase(t, "atlasx509_alerts_")
	ctx := context.Background()
	clock := testkit.NewClock()
	kr := testkit.Keyring(t)
	var runners []*app.AlertRunner
	var apps []*app.App
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		a, err := app.New(ctx, app.Config{Store: st, Keyring: kr, Keys: testkit.FastKeys{}, Now: clock.Now, AllowPrivateWebhooks: true})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
		runners = append(runners, &app.AlertRunner{App: a, Holder: []string{"r1", "r2"}[i], Interval: time.Minute})
	}
	boot, err := apps[0].Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := apps[1].IssueToken(ctx, boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, handler: NewHandler(Options{App: apps[1]}), app: apps[1], boot: boot, token: tok.AccessToken}
	rc := newReceiver(t, "pg-secret")
	body := strings.NewReplacer("https://203.0.113.10/hooks/t0ken?x=1", rc.srv.URL+"/hook", "s3cret", rc.secret).Replace(alertConfigBody)
	e.mustDo(http.StatusCreated, "POST", e.group()+"/alertConfigs", body)
	e.createUser(managedUserBody("alice"))
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	clock.Add(10 * 24 * time.Hour)
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Tick(ctx); err != nil {
					t.Errorf("Tick: %v", err)
				}
			}()
		}
		wg.Wait()
		clock.Add(time.Minute)
	}
	if d := cmp.Diff([]string{"alert.open OPEN"}, rc.events()); d != "" {
		t.Errorf("two replicas delivered (-want +got):\n%s", d)
	}
}

// TestAlertEmail: an EMAIL notification is mailed through --smtp-url (a
// real local SMTP server), and recorded as undelivered without it.
func TestAlertEmail(t *testing.T) {
	t.Parallel()
	for _, withSMTP := range []bool{true, false} {
		clock := testkit.NewClock()
		e := newEnvWith(t, func(c *app.Config) { c.Now = clock.Now })
		body := `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK","enabled":true,
			"notifications":[{"typeName":"EMAIL","emailAddress":"owner@example.com","intervalMin":60}]}`
		configID := decodeConfig(t, e.mustDo(http.StatusCreated, "POST", e.group()+"/alertConfigs", body)).ID
		e.createUser(managedUserBody("alice"))
		e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
		clock.Add(10 * 24 * time.Hour)
		runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
		box, addr := testkit.StartMailbox(t)
		if withSMTP {
			var err error
			if runner.SMTP, err = notify.ParseSMTP("smtp://" + addr + "?from=alerts@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		tick(t, runner)
		from, to, data := box.Last()
		var msgs []atlasx509.OutboxMessage
		err := e.store.View(context.Background(), func(tx store.Tx) error {
			alerts, err := tx.ListAlerts(context.Background(), store.AlertFilter{AlertConfigID: configID}, store.Page{})
			if err != nil || len(alerts) != 1 {
				t.Fatalf("alerts: %v %v", alerts, err)
			}
			msgs, err = tx.ListOutboxMessages(context.Background(), alerts[0].ID)
			return err
		})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox: %v %v", msgs, err)
		}
		if withSMTP {
			if from != "alerts@example.com" || len(to) != 1 || to[0] != "owner@example.com" ||
				!strings.Contains(data, "database user alice") || msgs[0].Status != atlasx509.OutboxDelivered {
				t.Errorf("mail from %q to %v, status %s:\n%s", from, to, msgs[0].Status, data)
			}
			continue
		}
		if data != "" || msgs[0].Status != atlasx509.OutboxUndelivered || !strings.Contains(msgs[0].LastError, "--smtp-url") {
			t.Errorf("without SMTP: mail %q, message %+v", data, msgs[0])
		}
	}
}

// TestAlertMailPerRecipient: a mail notification to several addresses is
// delivered to each on its own (a real local SMTP server): an address
// refused for now is retried alone, so the others get the mail once, at
// once; one refused for good (5xx) is recorded as undelivered at once and
// holds back nobody.
func TestAlertMailPerRecipient(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	roles, err := notify.ParseRoleEmails("GROUP_OWNER=ok@example.com,GROUP_OWNER=busy@example.com,GROUP_OWNER=gone@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(c *app.Config) { c.Now, c.RoleEmails = clock.Now, roles })
	e.createUser(managedUserBody("alice"))
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	e.advance(clock, 10*24*time.Hour)
	box, addr := testkit.StartMailbox(t)
	box.Refuse("busy@example.com", 451)
	box.Refuse("gone@example.com", 550, 550, 550)
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
	if runner.SMTP, err = notify.ParseSMTP("smtp://" + addr + "?from=alerts@example.com"); err != nil {
		t.Fatal(err)
	}
	received := func() map[string]int {
		got := map[string]int{}
		for _, m := range box.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		return got
	}
	tick(t, runner)
	if d := cmp.Diff(map[string]int{"ok@example.com": 1}, received()); d != "" {
		t.Errorf("after the first round (-want +got):\n%s", d)
	}
	e.advance(clock, 2*time.Minute) // past the first retry's delay
	tick(t, runner)
	e.advance(clock, 5*time.Minute)
	tick(t, runner)
	if d := cmp.Diff(map[string]int{"ok@example.com": 1, "busy@example.com": 1}, received()); d != "" {
		t.Errorf("after the retries (-want +got):\n%s", d)
	}
	page := e.events(e.group(), "?eventType=ALERT_NOTIFICATION_UNDELIVERED&includeRaw=true")
	if len(page.Results) != 1 {
		t.Fatalf("undelivered events: %+v", page.Results)
	}
	var raw map[string]string
	if err := json.Unmarshal(page.Results[0].Raw, &raw); err != nil || !strings.Contains(raw["reason"], "gone@example.com") ||
		!strings.Contains(raw["reason"], "550") || raw["attempts"] != "1" {
		t.Errorf("undelivered event raw %v %v", raw, err)
	}
}

// TestAlertRoleEmails: GROUP and ORG notifications go by mail (a real
// local SMTP server) to the addresses --alert-role-emails gives their
// roles; the project's default configuration, to the GROUP_OWNERs, needs
// nothing else. A notification whose roles have no address, or without
// e-mail, is recorded as undelivered at once, with its reason, and as an
// ALERT_NOTIFICATION_UNDELIVERED event of the project.
func TestAlertRoleEmails(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	roles, err := notify.ParseRoleEmails("GROUP_OWNER=owners@example.com,GROUP_OWNER=dba@example.com,GROUP_READ_ONLY=ro@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(c *app.Config) { c.Now, c.RoleEmails = clock.Now, roles })
	body := `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_MANAGED_USER_CERTS_EXPIRATION_CHECK","enabled":true,
		"notifications":[{"typeName":"ORG","roles":["ORG_OWNER"],"intervalMin":60},
			{"typeName":"GROUP","roles":["GROUP_OWNER"],"emailEnabled":false,"intervalMin":60}]}`
	configID := decodeConfig(t, e.mustDo(http.StatusCreated, "POST", e.group()+"/alertConfigs", body)).ID
	e.createUser(managedUserBody("alice"))
	e.mustDo(http.StatusCreated, "POST", e.group()+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":1}`)
	e.advance(clock, 10*24*time.Hour)
	box, addr := testkit.StartMailbox(t)
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
	if runner.SMTP, err = notify.ParseSMTP("smtp://" + addr + "?from=alerts@example.com"); err != nil {
		t.Fatal(err)
	}
	tick(t, runner)

	// The default configuration's notification was mailed to the owners,
	// to each alone.
	mails := box.Messages()
	var to [][]string
	for _, m := range mails {
		to = append(to, m.To)
		if m.From != "alerts@example.com" || !strings.Contains(m.Data, "database user alice") || !strings.Contains(m.Data, "Subject: Alert OPEN") {
			t.Errorf("mail from %q to %v:\n%s", m.From, m.To, m.Data)
		}
	}
	slices.SortFunc(to, slices.Compare)
	if d := cmp.Diff([][]string{{"dba@example.com"}, {"owners@example.com"}}, to); d != "" {
		t.Errorf("recipients (-want +got):\n%s", d)
	}
	type outcome struct{ Kind, Status, Destination, Reason string }
	var got []outcome
	err = e.store.View(context.Background(), func(tx store.Tx) error {
		alerts, err := tx.ListAlerts(context.Background(), store.AlertFilter{GroupID: e.boot.ProjectID}, store.Page{})
		if err != nil || len(alerts) != 2 {
			t.Fatalf("alerts: %v %v", alerts, err)
		}
		for _, al := range alerts {
			msgs, err := tx.ListOutboxMessages(context.Background(), al.ID)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				got = append(got, outcome{m.Kind, m.Status, m.Destination, m.LastError})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b outcome) int {
		return strings.Compare(a.Kind+a.Status+a.Destination, b.Kind+b.Status+b.Destination)
	})
	want := []outcome{
		{"GROUP", "DELIVERED", "dba@example.com", ""},
		{"GROUP", "DELIVERED", "owners@example.com", ""},
		{"GROUP", "UNDELIVERED", "", "emailEnabled is false, and atlasx509 sends no SMS: nothing to send"},
		{"ORG", "UNDELIVERED", "", "no address for ORG_OWNER in --alert-role-emails (atlasx509 has no console users whose addresses it could use)"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("outbox (-want +got):\n%s", d)
	}
	page := e.events(e.group(), "?eventType=ALERT_NOTIFICATION_UNDELIVERED&includeRaw=true")
	if len(page.Results) != 2 {
		t.Fatalf("undelivered events: %+v", page.Results)
	}
	for _, ev := range page.Results {
		var raw map[string]string
		if err := json.Unmarshal(ev.Raw, &raw); err != nil || ev.AlertConfigID != configID || ev.AlertID == "" ||
			raw["reason"] == "" || (raw["notificationTypeName"] != "ORG" && raw["notificationTypeName"] != "GROUP") {
			t.Errorf("event %+v raw %v", ev, raw)
		}
	}
}
