package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// testListAll checks the walks over every project's CAs and every
// organization's API keys: their order and their pages.
func testListAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	pa, pb := project(2, 1), project(1, 2)
	seed(t, s, []atlasx509.Organization{org(1), org(2)}, []atlasx509.Project{pa, pb})
	a1, a2, b1 := projectCA(pa, 1), projectCA(pa, 2), projectCA(pb, 1)
	k1, k2, k3 := apiKey(3, 1), apiKey(1, 2), apiKey(2, 1)
	update(t, s, func(tx store.Tx) error {
		for _, ca := range []atlasx509.ProjectCA{a2, b1, a1} {
			if err := tx.InsertProjectCA(ctx, ca); err != nil {
				return err
			}
		}
		return nil
	})
	insertAll(t, s, []atlasx509.APIKey{k1, k2, k3}, nil, nil, nil)

	// pb's id sorts first; generations oldest first.
	cas := []struct {
		name string
		page store.Page
		want []atlasx509.ProjectCA
	}{
		{"all", store.Page{}, []atlasx509.ProjectCA{b1, a1, a2}},
		{"limit", store.Page{Limit: 2}, []atlasx509.ProjectCA{b1, a1}},
		{"offset", store.Page{Limit: 2, Offset: 2}, []atlasx509.ProjectCA{a2}},
		{"past the end", store.Page{Offset: 3}, []atlasx509.ProjectCA{}},
	}
	keys := []struct {
		name string
		page store.Page
		want []atlasx509.APIKey
	}{
		{"all", store.Page{}, []atlasx509.APIKey{k2, k3, k1}},
		{"limit", store.Page{Limit: 1}, []atlasx509.APIKey{k2}},
		{"offset", store.Page{Limit: 5, Offset: 1}, []atlasx509.APIKey{k3, k1}},
		{"past the end", store.Page{Offset: 3}, []atlasx509.APIKey{}},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range cas {
			got, err := tx.ListAllProjectCAs(ctx, tc.page)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListAllProjectCAs %s (-want +got):\n%s", tc.name, d)
			}
		}
		for _, tc := range keys {
			got, err := tx.ListAllAPIKeys(ctx, tc.page)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListAllAPIKeys %s (-want +got):\n%s", tc.name, d)
			}
		}
		return nil
	})
}

// testListAllOutboxMessages checks the walk over every outbox message,
// whatever its alert and status: by id, in pages.
func testListAllOutboxMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := project(1, 1), project(2, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p1, p2})
	msg := func(n int, p atlasx509.Project, alert int, status string) atlasx509.OutboxMessage {
		return atlasx509.OutboxMessage{ID: id(9000 + n), GroupID: p.ID, AlertID: id(alert), Kind: atlasx509.NotifyWebhook,
			Destination: "https://example.com/hook", SealedSecret: []byte{byte(n)}, Event: "alert.open", Body: []byte(`{}`),
			Status: status, NextAttempt: at(time.Duration(n) * time.Minute), Created: at(time.Duration(-n) * time.Second), Updated: at(0)}
	}
	m1, m2, m3 := msg(1, p2, 8001, atlasx509.OutboxPending), msg(2, p1, 8002, atlasx509.OutboxDelivered), msg(3, p1, 8001, atlasx509.OutboxPending)
	update(t, s, func(tx store.Tx) error {
		for _, m := range []atlasx509.OutboxMessage{m3, m1, m2} {
			if err := tx.InsertOutboxMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name string
		page store.Page
		want []atlasx509.OutboxMessage
	}{
		{"all", store.Page{}, []atlasx509.OutboxMessage{m1, m2, m3}},
		{"limit", store.Page{Limit: 2}, []atlasx509.OutboxMessage{m1, m2}},
		{"offset", store.Page{Limit: 2, Offset: 2}, []atlasx509.OutboxMessage{m3}},
		{"past the end", store.Page{Offset: 3}, []atlasx509.OutboxMessage{}},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range tests {
			got, err := tx.ListAllOutboxMessages(ctx, tc.page)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("ListAllOutboxMessages %s (-want +got):\n%s", tc.name, d)
			}
		}
		return nil
	})
}
