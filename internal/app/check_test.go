package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// sealedFixture is a store that served: the server secrets, the bootstrap
// API key, a project CA that signed a certificate, and an alert
// configuration with a webhook secret whose copy waits in the outbox.
type sealedFixture struct {
	*fixture
	ca     atlasx509.ProjectCA // generation 1
	hooked atlasx509.AlertConfig
}

// allOpened is what CheckSealed opens in a sealedFixture.
var allOpened = map[string]int{SealedSetting: 2, SealedCAKey: 1, SealedAPIKey: 2, SealedWebhookSecret: 1, SealedOutboxSecret: 1}

func newSealedFixture(t *testing.T) *sealedFixture {
	t.Helper()
	ctx := t.Context()
	f := &sealedFixture{fixture: newFixture(t, testkit.FastKeys{})}
	f.managedUser(t, "alice")
	f.issue(t, "alice", 3)
	f.hooked = f.webhookConfig(t, "0000000000000000000000a1", f.boot.ProjectID)
	err := f.store.Update(ctx, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(ctx, f.boot.ProjectID)
		if err != nil {
			return err
		}
		f.ca = cas[len(cas)-1]
		return errors.Join(tx.InsertAlertConfig(ctx, f.hooked), tx.InsertOutboxMessage(ctx, queued("0000000000000000000000b1", f.hooked)))
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// webhookConfig is an alert configuration of the bootstrap project whose
// webhook secret is sealed as CreateAlertConfig seals it, for the project
// sealedFor.
func (f *sealedFixture) webhookConfig(t *testing.T, id, sealedFor string) atlasx509.AlertConfig {
	t.Helper()
	sealed, err := f.app.keyring.Seal([]byte("webhook secret"), webhookSecretAAD(sealedFor))
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	return atlasx509.AlertConfig{ID: id, GroupID: f.boot.ProjectID, EventTypeName: atlasx509.EventManagedCertsExpiration,
		Enabled: true, Threshold: 30, Created: now, Updated: now, Notifications: []atlasx509.Notification{
			{TypeName: "EMAIL", EmailAddress: "ops@example.com", IntervalMin: 60},
			{TypeName: "WEBHOOK", WebhookURL: "https://hooks.example.com/x", SealedWebhookSecret: sealed, IntervalMin: 60},
		}}
}

// queued is a notification of c's webhook waiting in the outbox, with its
// copy of the sealed secret.
func queued(id string, c atlasx509.AlertConfig) atlasx509.OutboxMessage {
	return atlasx509.OutboxMessage{ID: id, GroupID: c.GroupID, AlertID: "0000000000000000000000c1", Kind: "WEBHOOK",
		Destination: c.Notifications[1].WebhookURL, SealedSecret: c.Notifications[1].SealedWebhookSecret,
		Event: "alert.open", Body: []byte("{}"), Status: "PENDING", NextAttempt: c.Created, Created: c.Created, Updated: c.Created}
}

// failure is a SealedFailure with its error as text, for comparisons.
type failure struct{ Kind, ID, Err string }

func failures(r SealedReport) []failure {
	var out []failure
	for _, f := range r.Failures {
		err := f.Err
		if errors.Is(err, keyring.ErrWrongKey) {
			err = keyring.ErrWrongKey // its text names key ids
		}
		out = append(out, failure{f.Kind, f.ID, err.Error()})
	}
	return out
}

// TestCheckSealed opens every sealed value of a store that served (the
// server secrets, the CA key, the API key's HA1s, a webhook secret and its
// copy in the outbox), and names each one when the master key is another.
func TestCheckSealed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newSealedFixture(t)
	r, err := CheckSealed(ctx, f.store, f.app.keyring)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(allOpened, r.Opened); d != "" || len(r.Failures) != 0 {
		t.Errorf("good store: opened (-want +got):\n%s\nfailures: %v", d, r.Failures)
	}

	r, err = CheckSealed(ctx, f.store, testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	wrong := keyring.ErrWrongKey.Error()
	k := f.boot.APIKey.ID
	want := []failure{
		{SealedSetting, settingNonceKey, wrong}, {SealedSetting, settingTokenKey, wrong},
		{SealedCAKey, f.boot.ProjectID + "/1", wrong},
		{SealedAPIKey, k + "/MD5", wrong}, {SealedAPIKey, k + "/SHA-256", wrong},
		{SealedWebhookSecret, f.hooked.ID + "/1", wrong},
		{SealedOutboxSecret, "0000000000000000000000b1", wrong},
	}
	if d := cmp.Diff(want, failures(r)); d != "" || len(r.Opened) != 0 {
		t.Errorf("wrong key: failures (-want +got):\n%s\nopened: %v", d, r.Opened)
	}
}

// TestCheckSealedCorruptRows: a sealed value moved to another row (bound to
// the other row) and a CA key that is not its certificate's are named, the
// rest still open.
func TestCheckSealedCorruptRows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newSealedFixture(t)
	// Generation 2 holds generation 1's sealed key; generation 3 a key
	// sealed for it that is not its certificate's.
	moved := f.ca
	moved.Generation = 2
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	mismatched := f.ca
	mismatched.Generation = 3
	if mismatched.SealedKey, err = f.app.keyring.Seal(der, caAAD(f.ca.GroupID, 3)); err != nil {
		t.Fatal(err)
	}
	// A webhook secret sealed for another project, and its outbox copy.
	hook := f.webhookConfig(t, "0000000000000000000000a2", "another project")
	err = f.store.Update(ctx, func(tx store.Tx) error {
		return errors.Join(tx.InsertProjectCA(ctx, moved), tx.InsertProjectCA(ctx, mismatched),
			tx.InsertAlertConfig(ctx, hook), tx.InsertOutboxMessage(ctx, queued("0000000000000000000000b2", hook)))
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckSealed(ctx, f.store, f.app.keyring)
	if err != nil {
		t.Fatal(err)
	}
	got := failures(r)
	corrupt := keyring.ErrCorrupt.Error()
	if len(got) != 4 || got[0] != (failure{SealedCAKey, f.ca.GroupID + "/2", corrupt}) ||
		got[1].Kind != SealedCAKey || got[1].ID != f.ca.GroupID+"/3" || !strings.Contains(got[1].Err, "key") ||
		got[2] != (failure{SealedWebhookSecret, hook.ID + "/1", corrupt}) ||
		got[3] != (failure{SealedOutboxSecret, "0000000000000000000000b2", corrupt}) {
		t.Errorf("corrupt rows: failures = %+v", got)
	}
	if d := cmp.Diff(allOpened, r.Opened); d != "" {
		t.Errorf("corrupt rows: opened (-want +got):\n%s", d)
	}
}
