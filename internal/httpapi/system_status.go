package httpapi

import (
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// buildRevision is the git commit the binary was built from, 40 hex
// digits as Atlas's build field, or zeros when the build has none.
var buildRevision = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) == 40 {
				return s.Value
			}
		}
	}
	return strings.Repeat("0", 40)
}()

// handleGetSystemStatus serves GET /api/atlas/{v1.0,v2} (Atlas
// getSystemStatus): who the caller is, from which address.
func (s *server) handleGetSystemStatus(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	st, err := s.app.GetSystemStatus(r.Context(), p)
	if err != nil {
		return err
	}
	v := atlasapi.SystemStatus{AppName: "atlasx509", Build: buildRevision, IPAddress: atlasAddr(s.guard.clientAddr(r)),
		Links: selfLink(r, r.URL.EscapedPath())}
	if st.Key != nil {
		key := apiKeyView(r, *st.Key)
		list := make([]atlasapi.AccessListItem, 0, len(p.AccessList))
		for _, n := range p.AccessList {
			item := atlasapi.AccessListItem{CIDRBlock: atlasCIDR(n.String())}
			if n.IsSingleIP() {
				item.IPAddress = atlasAddr(n.Addr())
			}
			list = append(list, item)
		}
		v.APIKey = &atlasapi.SystemStatusAPIKey{AccessList: list, ID: key.ID, PublicKey: key.PublicKey, Roles: key.Roles}
	}
	return s.writeJSON(w, r, http.StatusOK, v)
}
