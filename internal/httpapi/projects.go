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
	tags := make([]atlasapi.ResourceTag, 0, len(p.Tags))
	for _, t := range p.Tags {
		tags = append(tags, atlasapi.ResourceTag{Key: t.Key, Value: t.Value})
	}
	return atlasapi.Group{
		ClusterCount: 0, Created: formatTime(p.Created), ID: p.ID,
		Links: selfLink(r, apiPrefix(r)+"/groups/"+p.ID), Name: p.Name, OrgID: p.OrgID,
		Tags: tags, WithDefaultAlertsSettings: p.WithDefaultAlertsSettings,
	}
}

// projectTags converts the tags of a request; nil stays nil.
func projectTags(in *[]atlasapi.ResourceTag) *[]atlasx509.Tag {
	if in == nil {
		return nil
	}
	out := make([]atlasx509.Tag, 0, len(*in))
	for _, t := range *in {
		out = append(out, atlasx509.Tag{Key: t.Key, Value: t.Value})
	}
	return &out
}

func (s *server) handleCreateProject(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.CreateGroupRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := app.ProjectInput{Name: req.Name, OrgID: req.OrgID, WithDefaultAlertsSettings: req.WithDefaultAlertsSettings}
	if tags := projectTags(req.Tags); tags != nil {
		in.Tags = *tags
	}
	p, err := s.app.CreateProject(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, groupView(r, p))
}

func (s *server) handleUpdateProject(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.UpdateGroupRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := app.ProjectUpdateInput{Name: req.Name, Tags: projectTags(req.Tags), WithDefaultAlertsSettings: req.WithDefaultAlertsSettings}
	p, err := s.app.UpdateProject(r.Context(), principal(r), r.PathValue("groupId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, groupView(r, p))
}

// handleGetProjectByName serves GET /groups/byName/{groupName}. Its route
// is /groups/{byName}/{groupName}: a literal "byName" segment would make
// the pattern conflict with /groups/{groupId}/apiKeys and the like in
// ServeMux, so the segment is checked here.
func (s *server) handleGetProjectByName(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("byName") != "byName" {
		return notFound(r) // no other method serves /groups/{groupId}/{name} either
	}
	p, err := s.app.GetProjectByName(r.Context(), principal(r), r.PathValue("groupName"))
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
	return s.writeJSON(w, r, http.StatusOK, viewPage(r, lp, projects, total, groupView))
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
