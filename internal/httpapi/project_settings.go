package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// The project settings document, project limits, and the teams and IP
// addresses of a project, which atlasx509 does not have (empty answers in
// Atlas's shapes).

func (s *server) handleGetProjectSettings(w http.ResponseWriter, r *http.Request) error {
	settings, err := s.app.GetProjectSettings(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, settings)
}

func (s *server) handleUpdateProjectSettings(w http.ResponseWriter, r *http.Request) error {
	var req map[string]*bool
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	set := map[string]bool{}
	for name, v := range req {
		if v != nil {
			set[name] = *v
		}
	}
	settings, err := s.app.UpdateProjectSettings(r.Context(), principal(r), r.PathValue("groupId"), set)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, settings)
}

func limitView(l app.ProjectLimit) atlasapi.GroupLimit {
	return atlasapi.GroupLimit{CurrentUsage: l.CurrentUsage, DefaultLimit: l.Default, MaximumLimit: l.Maximum, Name: l.Name, Value: l.Value}
}

// handleListProjectLimits answers a JSON array, not a page, as Atlas does.
func (s *server) handleListProjectLimits(w http.ResponseWriter, r *http.Request) error {
	limits, err := s.app.ListProjectLimits(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	views := make([]atlasapi.GroupLimit, 0, len(limits))
	for _, l := range limits {
		views = append(views, limitView(l))
	}
	return s.writeJSON(w, r, http.StatusOK, views)
}

func (s *server) handleGetProjectLimit(w http.ResponseWriter, r *http.Request) error {
	l, err := s.app.GetProjectLimit(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("limitName"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, limitView(l))
}

func (s *server) handleSetProjectLimit(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.SetGroupLimitRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	l, err := s.app.SetProjectLimit(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("limitName"), req.Value)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, limitView(l))
}

func (s *server) handleDeleteProjectLimit(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteProjectLimit(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("limitName")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

func (s *server) handleListProjectTeams(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	if err := s.app.ListProjectTeams(r.Context(), principal(r), r.PathValue("groupId")); err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage[atlasapi.TeamRole](r, lp, nil, 0))
}

func (s *server) handleReturnAllIPAddresses(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.ReturnAllIPAddresses(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, atlasapi.GroupIPAddresses{GroupID: p.ID, Services: atlasapi.GroupService{Clusters: []json.RawMessage{}}})
}
