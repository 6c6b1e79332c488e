package storetest

import (
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// event returns the n-th test event of type typ, created at d.
func event(n int, typ, groupID, orgID string, d time.Duration) atlasx509.Event {
	return atlasx509.Event{
		ID: id(5000 + n), Created: at(d), TypeName: typ, GroupID: groupID, OrgID: orgID,
		APIKeyID: id(7), PublicKey: "abcdefgh", RemoteAddress: "192.0.2.1",
	}
}

func eventIDs(evs []atlasx509.Event) []string {
	ids := []string{}
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	g1, g2, o1 := id(1), id(2), id(3)
	full := atlasx509.Event{
		ID: id(5000), Created: at(time.Hour + 123456*time.Microsecond), TypeName: "MONGODB_USER_ADDED", GroupID: g1,
		ServiceAccountID: "mdb_sa_id_1", RemoteAddress: "2001:db8::1", DBUserUsername: "CN=alice",
		TargetPublicKey: "tpk", WhitelistEntry: "10.0.0.0/8", TargetClientID: "mdb_sa_id_2",
		AlertID: id(8), AlertConfigID: id(9), Details: map[string]string{"serial": "42"},
	}
	evs := []atlasx509.Event{
		full,
		// Two of the same instant: the last inserted comes first.
		event(1, "MONGODB_USER_UPDATED", g1, "", 2*time.Hour),
		event(2, "MONGODB_USER_DELETED", g1, "", 2*time.Hour),
		event(3, "MONGODB_USER_X509_CERT_CREATED", g1, "", 3*time.Hour),
		event(4, "MONGODB_USER_ADDED", g2, "", 4*time.Hour),
		event(5, "GROUP_CREATED", g1, o1, 0),
		event(6, "API_KEY_CREATED", "", o1, 5*time.Hour),
	}
	update(t, s, func(tx store.Tx) error {
		for _, e := range evs {
			if err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertEvent(ctx, event(0, "X", g1, "", 0)) })
	wantIs(t, "InsertEvent of a taken id", err, store.ErrConflict)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetEvent(ctx, g1, "", full.ID)
		if err != nil {
			return err
		}
		if d := diff(full, got); d != "" {
			t.Errorf("GetEvent round trip (-want +got):\n%s", d)
		}
		got, err = tx.GetEvent(ctx, "", o1, evs[5].ID)
		if err != nil {
			return err
		}
		if d := diff(evs[5], got); d != "" {
			t.Errorf("GetEvent of an org (-want +got):\n%s", d)
		}
		return nil
	})
	for _, tt := range []struct{ name, groupID, orgID, id string }{
		{"of another project", g2, "", full.ID},
		{"of a project through its org", "", o1, full.ID},
		{"unknown", g1, "", id(4999)},
	} {
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.GetEvent(ctx, tt.groupID, tt.orgID, tt.id)
			return err
		})
		wantIs(t, "GetEvent "+tt.name, err, store.ErrNotFound)
	}

	tests := []struct {
		name string
		f    store.EventFilter
		page store.Page
		want []string
	}{
		{"project, newest first", store.EventFilter{GroupID: g1}, store.Page{},
			[]string{evs[3].ID, evs[2].ID, evs[1].ID, full.ID, evs[5].ID}},
		{"other project", store.EventFilter{GroupID: g2}, store.Page{}, []string{evs[4].ID}},
		{"organization", store.EventFilter{OrgID: o1}, store.Page{}, []string{evs[6].ID, evs[5].ID}},
		{"no organization matches ''", store.EventFilter{}, store.Page{}, []string{}},
		{"types", store.EventFilter{GroupID: g1, Types: []string{"MONGODB_USER_ADDED", "GROUP_CREATED"}}, store.Page{},
			[]string{full.ID, evs[5].ID}},
		{"excluded types", store.EventFilter{GroupID: g1, ExcludedTypes: []string{"MONGODB_USER_ADDED", "GROUP_CREATED"}}, store.Page{},
			[]string{evs[3].ID, evs[2].ID, evs[1].ID}},
		{"min date inclusive, max date exclusive", store.EventFilter{GroupID: g1, MinDate: at(time.Hour + 123456*time.Microsecond), MaxDate: at(3 * time.Hour)},
			store.Page{}, []string{evs[2].ID, evs[1].ID, full.ID}},
		{"min date a nanosecond later", store.EventFilter{GroupID: g1, MinDate: at(time.Hour + 123456*time.Microsecond + 1), MaxDate: at(3 * time.Hour)},
			store.Page{}, []string{evs[2].ID, evs[1].ID}},
		{"page", store.EventFilter{GroupID: g1}, store.Page{Limit: 2, Offset: 1}, []string{evs[2].ID, evs[1].ID}},
	}
	for _, tt := range tests {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListEvents(ctx, tt.f, tt.page)
			if err != nil {
				return err
			}
			if d := diff(tt.want, eventIDs(got)); d != "" {
				t.Errorf("ListEvents %s (-want +got):\n%s", tt.name, d)
			}
			n, err := tx.CountEvents(ctx, tt.f)
			if err != nil {
				return err
			}
			if tt.page == (store.Page{}) && n != len(tt.want) {
				t.Errorf("CountEvents %s = %d, want %d", tt.name, n, len(tt.want))
			}
			return nil
		})
	}

	wantCount(t, s, "DeleteEventsBefore", 2, func(tx store.Tx) (int, error) {
		return tx.DeleteEventsBefore(ctx, at(2*time.Hour))
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListEvents(ctx, store.EventFilter{GroupID: g1}, store.Page{})
		if err != nil {
			return err
		}
		want := []string{evs[3].ID, evs[2].ID, evs[1].ID}
		if d := diff(want, eventIDs(got)); d != "" {
			t.Errorf("ListEvents after DeleteEventsBefore (-want +got):\n%s", d)
		}
		return nil
	})
}
