package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func orgView(r *http.Request, o atlasx509.Organization) atlasapi.Organization {
	return atlasapi.Organization{
		ID: o.ID, Links: selfLink(r, apiPrefix(r)+"/orgs/"+o.ID), Name: o.Name,
		SkipDefaultAlertsSettings: o.SkipDefaultAlertsSettings,
	}
}

func (s *server) handleListOrganizations(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	orgs, total, err := s.app.ListOrganizations(r.Context(), principal(r), r.URL.Query().Get("name"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewPage(r, lp, orgs, total, orgView))
}

func (s *server) handleGetOrganization(w http.ResponseWriter, r *http.Request) error {
	o, err := s.app.GetOrganization(r.Context(), principal(r), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, orgView(r, o))
}

func (s *server) handleGetOrganizationSettings(w http.ResponseWriter, r *http.Request) error {
	o, err := s.app.GetOrganizationSettings(r.Context(), principal(r), r.PathValue("orgId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, atlasapi.OrganizationSettings(o))
}

func (s *server) handleRenameOrganization(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.UpdateOrganizationRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	in := app.OrganizationInput{Name: req.Name, SkipDefaultAlertsSettings: req.SkipDefaultAlertsSettings}
	o, err := s.app.RenameOrganization(r.Context(), principal(r), r.PathValue("orgId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, orgView(r, o))
}

func (s *server) handleListOrganizationProjects(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	projects, total, err := s.app.ListOrganizationProjects(r.Context(), principal(r), r.PathValue("orgId"), r.URL.Query().Get("name"), lp.ListOptions)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewPage(r, lp, projects, total, groupView))
}
