package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/atlasx509/atlasx509"
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
	return s.writeEmptyPage(w, r, "groupId", s.app.ListProjectTeams)
}

// handleListProjectUsers answers an empty page: atlasx509 has no MongoDB
// Cloud (console) users.
func (s *server) handleListProjectUsers(w http.ResponseWriter, r *http.Request) error {
	return s.writeEmptyPage(w, r, "groupId", s.app.ListProjectUsers)
}

// handleListClusters answers an empty page: atlasx509 runs no clusters.
func (s *server) handleListClusters(w http.ResponseWriter, r *http.Request) error {
	return s.writeEmptyPage(w, r, "groupId", s.app.ListClusters)
}

// handleListOrganizationUsers answers an empty page: atlasx509 has no
// MongoDB Cloud (console) users.
func (s *server) handleListOrganizationUsers(w http.ResponseWriter, r *http.Request) error {
	return s.writeEmptyPage(w, r, "orgId", s.app.ListOrganizationUsers)
}

// writeEmptyPage answers an empty list of something atlasx509 does not
// have, in Atlas's page shape, once check lets the caller read the project
// or organization the path parameter names.
func (s *server) writeEmptyPage(w http.ResponseWriter, r *http.Request, param string, check func(context.Context, atlasx509.Principal, string) error) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	if err := check(r.Context(), principal(r), r.PathValue(param)); err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, listPage[json.RawMessage](r, lp, nil, 0))
}

func (s *server) handleReturnAllIPAddresses(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.ReturnAllIPAddresses(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, atlasapi.GroupIPAddresses{GroupID: p.ID, Services: atlasapi.GroupService{Clusters: []json.RawMessage{}}})
}

// handleGetManagedSlowMs answers the bare JSON boolean, as Atlas does.
func (s *server) handleGetManagedSlowMs(w http.ResponseWriter, r *http.Request) error {
	on, err := s.app.GetManagedSlowMs(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, on)
}

func (s *server) handleEnableManagedSlowMs(w http.ResponseWriter, r *http.Request) error {
	return s.setManagedSlowMs(w, r, true)
}

func (s *server) handleDisableManagedSlowMs(w http.ResponseWriter, r *http.Request) error {
	return s.setManagedSlowMs(w, r, false)
}

func (s *server) setManagedSlowMs(w http.ResponseWriter, r *http.Request, on bool) error {
	if err := s.app.SetManagedSlowMs(r.Context(), principal(r), r.PathValue("groupId"), on); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
