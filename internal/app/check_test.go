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

// TestCheckSealed opens every sealed value of a store that served: the
// server secrets, the project's CA key, the bootstrap API key's HA1s and a
// webhook secret; then finds each value that a wrong key, a value moved to
// another row or a key that is not its certificate's makes fail, naming it.
func TestCheckSealed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, testkit.FastKeys{})
	f.managedUser(t, "alice")
	f.issue(t, "alice", 3)
	var first atlasx509.ProjectCA
	err := f.store.View(ctx, func(tx store.Tx) error {
		cas, err := tx.ListProjectCAs(ctx, f.boot.ProjectID)
		if err == nil {
			first = cas[0]
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// An alert configuration with a webhook secret, as CreateAlertConfig seals it.
	webhook := func(id, sealedFor string) atlasx509.AlertConfig {
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
	hooked := webhook("0000000000000000000000a1", f.boot.ProjectID)
	if err := f.store.Update(ctx, func(tx store.Tx) error { return tx.InsertAlertConfig(ctx, hooked) }); err != nil {
		t.Fatal(err)
	}
	allOpened := map[string]int{SealedSetting: 2, SealedCAKey: 1, SealedAPIKey: 2, SealedWebhookSecret: 1}
	type failure struct{ Kind, ID, Err string }
	failures := func(r SealedReport) []failure {
		var out []failure
		for _, f := range r.Failures {
			out = append(out, failure{f.Kind, f.ID, f.Err.Error()})
		}
		return out
	}

	// A good store.
	r, err := CheckSealed(ctx, f.store, f.app.keyring)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(allOpened, r.Opened); d != "" || len(r.Failures) != 0 {
		t.Errorf("good store: opened (-want +got):\n%s\nfailures: %v", d, r.Failures)
	}

	// A wrong master key: every value fails, each named.
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
		{SealedWebhookSecret, hooked.ID + "/1", wrong},
	}
	if d := cmp.Diff(want, failures(r)); d != "" || len(r.Opened) != 0 {
		t.Errorf("wrong key: failures (-want +got):\n%s\nopened: %v", d, r.Opened)
	}

	// Generation 2 holds generation 1's sealed key (bound to generation 1);
	// generation 3 a key sealed for it that is not its certificate's.
	moved := first
	moved.Generation = 2
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	mismatched := first
	mismatched.Generation = 3
	if mismatched.SealedKey, err = f.app.keyring.Seal(der, caAAD(first.GroupID, 3)); err != nil {
		t.Fatal(err)
	}
	err = f.store.Update(ctx, func(tx store.Tx) error {
		return errors.Join(tx.InsertProjectCA(ctx, moved), tx.InsertProjectCA(ctx, mismatched),
			tx.InsertAlertConfig(ctx, webhook("0000000000000000000000a2", "another project")))
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err = CheckSealed(ctx, f.store, f.app.keyring)
	if err != nil {
		t.Fatal(err)
	}
	got := failures(r)
	if len(got) != 3 || got[0] != (failure{SealedCAKey, first.GroupID + "/2", keyring.ErrCorrupt.Error()}) ||
		got[1].Kind != SealedCAKey || got[1].ID != first.GroupID+"/3" || !strings.Contains(got[1].Err, "key") ||
		got[2] != (failure{SealedWebhookSecret, "0000000000000000000000a2/1", keyring.ErrCorrupt.Error()}) {
		t.Errorf("corrupt CA rows: failures = %+v", got)
	}
	if d := cmp.Diff(allOpened, r.Opened); d != "" {
		t.Errorf("corrupt CA rows: opened (-want +got):\n%s", d)
	}
}
