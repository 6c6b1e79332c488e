package httpapi

import (
	"net/http"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// timeFormat is how Atlas writes instants: ISO 8601 in UTC, to the second.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func groupView(r *http.Request, p atlasx509.Project) atlasapi.Group {
	return atlasapi.Group{
		ClusterCount: 0, Created: formatTime(p.Created), ID: p.ID,
		Links: selfLink(r, apiPrefix(r)+"/groups/"+p.ID), Name: p.Name, OrgID: p.OrgID,
		WithDefaultAlertsSettings: true,
	}
}

func (s *server) handleCreateProject(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.CreateGroupRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	p, err := s.app.CreateProject(r.Context(), principal(r), app.ProjectInput{Name: req.Name, OrgID: req.OrgID})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, groupView(r, p))
}

func (s *server) handleListProjects(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	projects, total, err := s.app.ListProjects(r.Context(), principal(r), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.Group, 0, len(projects))
	for _, p := range projects {
		views = append(views, groupView(r, p))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

func (s *server) handleGetProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.GetProject(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, groupView(r, p))
}

func (s *server) handleDeleteProject(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteProject(r.Context(), principal(r), r.PathValue("groupId")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
