package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// testReseal checks the updates that re-seal a value under a new master
// key: each replaces its sealed column and nothing else, of its row only,
// and answers ErrNotFound for a row that does not exist.
func testReseal(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa := project(1, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{pa})
	a1, a2 := projectCA(pa, 1), projectCA(pa, 2)
	k1, k2 := apiKey(1, 1), apiKey(2, 1)
	update(t, s, func(tx store.Tx) error {
		for _, ca := range []atlasx509.ProjectCA{a1, a2} {
			if err := tx.InsertProjectCA(ctx, ca); err != nil {
				return err
			}
		}
		for _, name := range []string{"one", "two"} {
			if err := tx.InsertSetting(ctx, name, []byte("old "+name)); err != nil {
				return err
			}
		}
		return nil
	})
	insertAll(t, s, []atlasx509.APIKey{k1, k2}, nil, nil, nil)
	msg := func(n int) atlasx509.OutboxMessage {
		return atlasx509.OutboxMessage{ID: id(9000 + n), GroupID: pa.ID, AlertID: id(8001), Kind: atlasx509.NotifyWebhook,
			Destination: "https://example.com/hook", SealedSecret: []byte{byte(n)}, Event: "alert.open", Body: []byte(`{}`),
			Status: atlasx509.OutboxPending, NextAttempt: at(0), Created: at(time.Duration(n) * time.Second), Updated: at(0)}
	}
	m1, m2 := msg(1), msg(2)
	update(t, s, func(tx store.Tx) error {
		for _, m := range []atlasx509.OutboxMessage{m1, m2} {
			if err := tx.InsertOutboxMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateSetting(ctx, "one", []byte{0, 0xff, 'n'}); err != nil {
			return err
		}
		if err := tx.UpdateProjectCASealedKey(ctx, pa.ID, 2, []byte("resealed\x00")); err != nil {
			return err
		}
		if err := tx.UpdateOutboxMessageSealedSecret(ctx, m2.ID, []byte("secret new")); err != nil {
			return err
		}
		return tx.UpdateAPIKeySealedHA1(ctx, k2.ID, []byte("md5 new"), []byte("sha new\xff"))
	})
	m2.SealedSecret = []byte("secret new")
	a2.SealedKey = []byte("resealed\x00")
	k2.SealedHA1MD5, k2.SealedHA1SHA256 = []byte("md5 new"), []byte("sha new\xff")

	missing := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"UpdateSetting of a missing name", func(tx store.Tx) error { return tx.UpdateSetting(ctx, "three", []byte("x")) }},
		{"UpdateProjectCASealedKey of a missing generation", func(tx store.Tx) error {
			return tx.UpdateProjectCASealedKey(ctx, pa.ID, 3, []byte("x"))
		}},
		{"UpdateProjectCASealedKey of a missing project", func(tx store.Tx) error {
			return tx.UpdateProjectCASealedKey(ctx, id(999), 1, []byte("x"))
		}},
		{"UpdateOutboxMessageSealedSecret of a missing message", func(tx store.Tx) error {
			return tx.UpdateOutboxMessageSealedSecret(ctx, id(999), []byte("x"))
		}},
		{"UpdateAPIKeySealedHA1 of a missing key", func(tx store.Tx) error {
			return tx.UpdateAPIKeySealedHA1(ctx, id(999), []byte("x"), []byte("y"))
		}},
	}
	for _, tc := range missing {
		wantIs(t, tc.name, s.Update(ctx, tc.fn), store.ErrNotFound)
	}

	view(t, s, func(tx store.Tx) error {
		settings := map[string][]byte{}
		for _, name := range []string{"one", "two"} {
			v, err := tx.GetSetting(ctx, name)
			if err != nil {
				return err
			}
			settings[name] = v
		}
		if d := diff(map[string][]byte{"one": {0, 0xff, 'n'}, "two": []byte("old two")}, settings); d != "" {
			t.Errorf("settings (-want +got):\n%s", d)
		}
		if _, err := tx.GetSetting(ctx, "three"); err == nil {
			t.Errorf("UpdateSetting of a missing name created it")
		}
		cas, err := tx.ListProjectCAs(ctx, pa.ID)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.ProjectCA{a2, a1}, cas); d != "" {
			t.Errorf("project CAs (-want +got):\n%s", d)
		}
		keys, err := tx.ListAllAPIKeys(ctx, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.APIKey{k1, k2}, keys); d != "" {
			t.Errorf("API keys (-want +got):\n%s", d)
		}
		msgs, err := tx.ListOutboxMessages(ctx, id(8001))
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.OutboxMessage{m1, m2}, msgs); d != "" {
			t.Errorf("outbox messages (-want +got):\n%s", d)
		}
		return nil
	})
}
