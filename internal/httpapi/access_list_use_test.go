package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// TestAccessListUse checks that access list entries answer how many
// requests they let through and the time and address of the last one: the
// most specific entry that holds the caller's address counts it.
func TestAccessListUse(t *testing.T) {
	e := newEnv(t)
	list := e.orgs() + "/serviceAccounts/" + e.boot.ServiceAccount.ClientID + "/accessList"
	// httptest requests come from 192.0.2.1.
	e.mustDo(http.StatusOK, "POST", list, `[{"ipAddress":"192.0.2.1"},{"cidrBlock":"192.0.2.0/24"},{"cidrBlock":"198.51.100.0/24"}]`)
	from := func(addr string) {
		req := httptest.NewRequest("GET", "/api/atlas/v1.0/groups", nil)
		req.RemoteAddr = addr
		req.Header.Set("Authorization", "Bearer "+e.token)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /groups from %s: %d %s", addr, rec.Code, rec.Body.String())
		}
	}
	from("192.0.2.1:1000")
	from("192.0.2.1:1001")
	from("192.0.2.77:1000")
	from("192.0.2.1:1002")

	var page atlasapi.Paginated[atlasapi.ServiceAccountAccessListEntry]
	if err := json.Unmarshal(e.mustDo(http.StatusOK, "GET", list, ""), &page); err != nil {
		t.Fatal(err)
	}
	type use struct {
		Count int64
		Addr  string
		Seen  bool
	}
	got := map[string]use{}
	for _, v := range page.Results {
		got[v.CIDRBlock] = use{v.RequestCount, v.LastUsedAddress, v.LastUsedAt != ""}
	}
	want := map[string]use{
		"192.0.2.1/32":    {4, "192.0.2.1", true}, // three GETs and the list itself
		"192.0.2.0/24":    {1, "192.0.2.77", true},
		"198.51.100.0/24": {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("uses (-want +got):\n%s", diff)
	}
}
