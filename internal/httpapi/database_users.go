package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
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

// decodeUserInput reads the body that creates or changes a database user.
func decodeUserInput(r *http.Request) (app.DatabaseUserInput, error) {
	var req atlasapi.DatabaseUserRequest
	if err := decodeBody(r, &req, false); err != nil {
		return app.DatabaseUserInput{}, err
	}
	in := app.DatabaseUserInput{Username: req.Username, DatabaseName: req.DatabaseName, GroupID: req.GroupID,
		X509Type: req.X509Type, AWSIAMType: req.AWSIAMType, LDAPAuthType: req.LDAPAuthType, OIDCAuthType: req.OIDCAuthType,
		Description: req.Description, Password: req.Password, DeleteAfterDate: req.DeleteAfterDate}
	if req.Roles != nil {
		roles := make([]atlasx509.DatabaseRole, 0, len(*req.Roles))
		for _, ro := range *req.Roles {
			roles = append(roles, atlasx509.DatabaseRole{RoleName: ro.RoleName, DatabaseName: ro.DatabaseName, CollectionName: ro.CollectionName})
		}
		in.Roles = &roles
	}
	if req.Scopes != nil {
		scopes := make([]atlasx509.UserScope, 0, len(*req.Scopes))
		for _, sc := range *req.Scopes {
			scopes = append(scopes, atlasx509.UserScope{Name: sc.Name, Type: sc.Type})
		}
		in.Scopes = &scopes
	}
	if req.Labels != nil {
		labels := make([]atlasx509.Label, 0, len(*req.Labels))
		for _, l := range *req.Labels {
			labels = append(labels, atlasx509.Label{Key: l.Key, Value: l.Value})
		}
		in.Labels = &labels
	}
	return in, nil
}

func (s *server) handleCreateDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeUserInput(r)
	if err != nil {
		return err
	}
	u, err := s.app.CreateDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), in)
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
	return s.writeJSON(w, r, http.StatusOK, viewPage(r, lp, users, total, userView))
}

func (s *server) handleGetDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.app.GetDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, userView(r, u))
}

func (s *server) handleUpdateDatabaseUser(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeUserInput(r)
	if err != nil {
		return err
	}
	u, err := s.app.UpdateDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("databaseName"), r.PathValue("username"), in)
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
