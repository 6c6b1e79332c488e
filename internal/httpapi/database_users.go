package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func userView(r *http.Request, u atlasx509.DatabaseUser) atlasapi.DatabaseUser {
	v := atlasapi.DatabaseUser{
		AWSIAMType: u.AWSIAMType, DatabaseName: u.DatabaseName, Description: u.Description, GroupID: u.GroupID,
		Labels: make([]atlasapi.Label, 0, len(u.Labels)), LDAPAuthType: u.LDAPAuthType,
		Links:        selfLink(r, apiPrefix(r)+"/groups/"+u.GroupID+"/databaseUsers/"+pathEscape(u.DatabaseName)+"/"+pathEscape(u.Username)),
		OIDCAuthType: u.OIDCAuthType, Roles: make([]atlasapi.DatabaseRole, 0, len(u.Roles)),
		Scopes: make([]atlasapi.UserScope, 0, len(u.Scopes)), Username: u.Username, X509Type: u.X509Type,
	}
	if u.DeleteAfterDate != nil {
		v.DeleteAfterDate = formatTime(*u.DeleteAfterDate)
	}
	for _, l := range u.Labels {
		v.Labels = append(v.Labels, atlasapi.Label{Key: l.Key, Value: l.Value})
	}
	for _, ro := range u.Roles {
		v.Roles = append(v.Roles, atlasapi.DatabaseRole{CollectionName: ro.CollectionName, DatabaseName: ro.DatabaseName, RoleName: ro.RoleName})
	}
	for _, sc := range u.Scopes {
		v.Scopes = append(v.Scopes, atlasapi.UserScope{Name: sc.Name, Type: sc.Type})
	}
	return v
}

func (s *server) handleCreateDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.DatabaseUserRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	u, err := s.app.CreateDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), req)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusCreated, userView(r, u))
}

func (s *server) handleListDatabaseUsers(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	users, total, err := s.app.ListDatabaseUsers(r.Context(), principal(r), r.PathValue("groupId"), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.DatabaseUser, 0, len(users))
	for _, u := range users {
		views = append(views, userView(r, u))
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

func (s *server) handleGetDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.app.GetDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, userView(r, u))
}

func (s *server) handleUpdateDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.DatabaseUserRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	u, err := s.app.UpdateDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username"), req)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, userView(r, u))
}

func (s *server) handleDeleteDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username")); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}
