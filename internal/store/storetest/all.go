package storetest

import (
	"testing"

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
