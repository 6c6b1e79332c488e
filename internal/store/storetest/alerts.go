package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func alertConfig(n int, p atlasx509.Project) atlasx509.AlertConfig {
	return atlasx509.AlertConfig{
		ID: id(5000 + n), GroupID: p.ID, EventTypeName: atlasx509.EventManagedCertsExpiration,
		Enabled: true, Threshold: 30,
		Notifications: []atlasx509.Notification{
			{TypeName: atlasx509.NotifyGroup, NotifierID: id(6000 + n), IntervalMin: 1440, EmailEnabled: true, Roles: []string{"GROUP_OWNER"}},
			{TypeName: atlasx509.NotifyWebhook, NotifierID: id(7000 + n), IntervalMin: 60, DelayMin: 5,
				WebhookURL: "https://example.com/hook", SealedWebhookSecret: []byte{1, 2, 3}},
		},
		Created: at(time.Duration(n) * time.Second), Updated: at(time.Duration(n) * time.Second),
	}
}

func testAlertConfigs(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := project(1, 1), project(2, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p1, p2})
	c1, c2, c3 := alertConfig(1, p1), alertConfig(2, p1), alertConfig(3, p2)
	c2.Notifications = nil
	update(t, s, func(tx store.Tx) error {
		for _, c := range []atlasx509.AlertConfig{c2, c3, c1} {
			if err := tx.InsertAlertConfig(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertAlertConfig(ctx, c1) })
	wantIs(t, "InsertAlertConfig of a taken id", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetAlertConfig(ctx, p1.ID, c1.ID)
		if err != nil {
			return err
		}
		if d := diff(c1, got); d != "" {
			t.Errorf("GetAlertConfig (-want +got):\n%s", d)
		}
		_, err = tx.GetAlertConfig(ctx, p2.ID, c1.ID)
		wantIs(t, "GetAlertConfig of another project", err, store.ErrNotFound)
		list, err := tx.ListAlertConfigs(ctx, p1.ID, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.AlertConfig{c1, c2}, list); d != "" {
			t.Errorf("ListAlertConfigs (-want +got):\n%s", d)
		}
		all, err := tx.CountAlertConfigs(ctx, "")
		if err != nil {
			return err
		}
		if all != 3 {
			t.Errorf("CountAlertConfigs(all) = %d, want 3", all)
		}
		return nil
	})
	c1.Enabled, c1.Threshold, c1.Updated = false, 7, at(time.Hour)
	c1.Notifications = c1.Notifications[:1]
	update(t, s, func(tx store.Tx) error { return tx.UpdateAlertConfig(ctx, c1) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteAlertConfig(ctx, p1.ID, c2.ID) })
	view(t, s, func(tx store.Tx) error {
		list, err := tx.ListAlertConfigs(ctx, p1.ID, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.AlertConfig{c1}, list); d != "" {
			t.Errorf("after update and delete (-want +got):\n%s", d)
		}
		return nil
	})
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteAlertConfig(ctx, p1.ID, c2.ID) })
	wantIs(t, "DeleteAlertConfig twice", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.DeleteProject(ctx, p2.ID) })
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountAlertConfigs(ctx, p2.ID)
		if n != 0 {
			t.Errorf("configs of a deleted project: %d", n)
		}
		return err
	})
}

func testAlerts(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1 := project(1, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p1})
	notified := at(time.Minute)
	a1 := atlasx509.Alert{ID: id(8001), GroupID: p1.ID, AlertConfigID: id(5001), EventTypeName: atlasx509.EventManagedCertsExpiration,
		Target: "cert:1", Subject: "alice", NotAfter: at(48 * time.Hour), Status: atlasx509.AlertOpen,
		Created: at(0), Updated: at(0), LastNotified: &notified, Notified: map[string]time.Time{id(6001): notified}}
	a2 := atlasx509.Alert{ID: id(8002), GroupID: p1.ID, AlertConfigID: id(5001), EventTypeName: atlasx509.EventManagedCertsExpiration,
		Target: "cert:2", Subject: "bob", NotAfter: at(24 * time.Hour), Status: atlasx509.AlertOpen, Created: at(time.Second), Updated: at(time.Second)}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertAlert(ctx, a1); err != nil {
			return err
		}
		return tx.InsertAlert(ctx, a2)
	})
	dup := a1
	dup.ID = id(8003)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertAlert(ctx, dup) })
	wantIs(t, "InsertAlert of a taken (config, target)", err, store.ErrConflict)

	resolved := at(time.Hour)
	a2.Status, a2.Resolved, a2.Updated = atlasx509.AlertClosed, &resolved, resolved
	a2.AcknowledgedUntil, a2.AcknowledgementComment, a2.AcknowledgingUsername = &resolved, "seen", "key"
	update(t, s, func(tx store.Tx) error { return tx.UpdateAlert(ctx, a2) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetAlert(ctx, p1.ID, a1.ID)
		if err != nil {
			return err
		}
		if d := diff(a1, got); d != "" {
			t.Errorf("GetAlert (-want +got):\n%s", d)
		}
		list, err := tx.ListAlerts(ctx, store.AlertFilter{GroupID: p1.ID}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Alert{a2, a1}, list); d != "" {
			t.Errorf("ListAlerts newest first (-want +got):\n%s", d)
		}
		open, err := tx.ListAlerts(ctx, store.AlertFilter{AlertConfigID: id(5001), Status: atlasx509.AlertOpen}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Alert{a1}, open); d != "" {
			t.Errorf("ListAlerts OPEN (-want +got):\n%s", d)
		}
		byTarget, err := tx.ListAlerts(ctx, store.AlertFilter{AlertConfigID: id(5001), Target: "cert:2"}, store.Page{})
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.Alert{a2}, byTarget); d != "" {
			t.Errorf("ListAlerts by target (-want +got):\n%s", d)
		}
		n, err := tx.CountAlerts(ctx, store.AlertFilter{Status: atlasx509.AlertClosed})
		if n != 1 {
			t.Errorf("CountAlerts CLOSED = %d, want 1", n)
		}
		return err
	})
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1 := project(1, 1)
	seed(t, s, []atlasx509.Organization{org(1)}, []atlasx509.Project{p1})
	msg := func(n int, next time.Time) atlasx509.OutboxMessage {
		return atlasx509.OutboxMessage{ID: id(9000 + n), GroupID: p1.ID, AlertID: id(8001), Kind: atlasx509.NotifyWebhook,
			Destination: "https://example.com/hook", SealedSecret: []byte{9}, Event: "alert.open", Body: []byte(`{}`),
			Status: atlasx509.OutboxPending, NextAttempt: next, Created: at(time.Duration(n) * time.Second), Updated: at(0)}
	}
	m1, m2, m3 := msg(1, at(time.Minute)), msg(2, at(0)), msg(3, at(time.Hour))
	m3.SealedSecret = nil
	update(t, s, func(tx store.Tx) error {
		for _, m := range []atlasx509.OutboxMessage{m1, m2, m3} {
			if err := tx.InsertOutboxMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	m3.SealedSecret = []byte{}
	view(t, s, func(tx store.Tx) error {
		due, err := tx.ListDueOutboxMessages(ctx, at(time.Minute), 10)
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.OutboxMessage{m2, m1}, due); d != "" {
			t.Errorf("ListDueOutboxMessages (-want +got):\n%s", d)
		}
		return nil
	})
	m2.Status, m2.Attempts, m2.LastError, m2.Updated = atlasx509.OutboxDelivered, 1, "", at(time.Minute)
	m1.Attempts, m1.NextAttempt, m1.LastError = 1, at(2*time.Hour), "503"
	update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateOutboxMessage(ctx, m2); err != nil {
			return err
		}
		return tx.UpdateOutboxMessage(ctx, m1)
	})
	view(t, s, func(tx store.Tx) error {
		all, err := tx.ListOutboxMessages(ctx, id(8001))
		if err != nil {
			return err
		}
		if d := diff([]atlasx509.OutboxMessage{m1, m2, m3}, all); d != "" {
			t.Errorf("ListOutboxMessages (-want +got):\n%s", d)
		}
		due, err := tx.ListDueOutboxMessages(ctx, at(time.Hour), 10)
		if d := diff([]atlasx509.OutboxMessage{m3}, due); d != "" {
			t.Errorf("due after updates (-want +got):\n%s", d)
		}
		return err
	})
}

func testLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	acquire := func(holder string, now time.Time) bool {
		var ok bool
		update(t, s, func(tx store.Tx) error {
			var err error
			ok, err = tx.AcquireLease(ctx, "alerts", holder, now, now.Add(time.Minute))
			return err
		})
		return ok
	}
	steps := []struct {
		holder string
		now    time.Time
		want   bool
	}{
		{"a", at(0), true},                   // free
		{"b", at(30 * time.Second), false},   // held by a
		{"a", at(50 * time.Second), true},    // a extends to 1m50s
		{"b", at(100 * time.Second), false},  // still held
		{"b", at(110 * time.Second), true},   // expired: b takes it
		{"a", at(120 * time.Second), false},  // held by b
		{"other-lease-holder", at(0), false}, // time going back does not free it
	}
	for i, st := range steps {
		if got := acquire(st.holder, st.now); got != st.want {
			t.Errorf("step %d: AcquireLease(%s, %v) = %v, want %v", i, st.holder, st.now, got, st.want)
		}
	}
}

func testListExpiringCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, other := project(1, 1), project(2, 1)
	alice, bob, carol, dave := user(p, "alice"), user(p, "bob"), user(p, "carol"), user(p, "dave")
	carol.X509Type = atlasx509.X509Customer // no managed certificate counts for her
	eve, fay := user(other, "eve"), user(p, "fay")
	a1, a2, a3 := certificate(alice, 10, time.Hour), certificate(alice, 11, 2*time.Hour), certificate(alice, 12, 3*time.Hour)
	b1, b2 := certificate(bob, 21, 4*time.Hour), certificate(bob, 20, 4*time.Hour) // same NotAfter: the higher serial
	c1 := certificate(carol, 30, 4*time.Hour)
	d1 := certificate(dave, 40, 4*time.Hour)
	e1 := certificate(eve, 50, 4*time.Hour)
	f1, f2 := certificate(fay, 60, time.Hour), certificate(fay, 61, 10*time.Hour) // renewed: never expiring soon
	seedUsers(t, s, []atlasx509.Project{p, other}, []atlasx509.DatabaseUser{alice, bob, carol, dave, eve, fay},
		[]atlasx509.Certificate{a1, a2, a3, b1, b2, c1, d1, e1, f1, f2})
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.RevokeCertificates(ctx, store.Revocation{GroupID: p.ID, Username: "alice", Serial: 12, At: t0}); err != nil {
			return err
		}
		return tx.DeleteDatabaseUser(ctx, p.ID, dave.DatabaseName, "dave", t0)
	})
	for _, tc := range []struct {
		name            string
		validAt, before time.Time
		want            []atlasx509.Certificate
	}{
		{"all valid", t0, at(5 * time.Hour), []atlasx509.Certificate{a2, b1}},
		{"bob's not before", t0, at(3 * time.Hour), []atlasx509.Certificate{a2}},
		{"NotAfter equal to before is not before", t0, b1.NotAfter, []atlasx509.Certificate{a2}},
		{"alice's unrevoked expired", at(150 * time.Minute), at(5 * time.Hour), []atlasx509.Certificate{b1}},
		{"all expired", at(5 * time.Hour), at(6 * time.Hour), []atlasx509.Certificate{}},
	} {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListExpiringCertificates(ctx, p.ID, tc.validAt, tc.before)
			if err != nil {
				return err
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("%s: ListExpiringCertificates (-want +got):\n%s", tc.name, d)
			}
			return nil
		})
	}
}
