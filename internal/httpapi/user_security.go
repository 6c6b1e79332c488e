package httpapi

import (
	"net/http"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func userSecurityView(p atlasx509.Project) atlasapi.UserSecurity {
	return atlasapi.UserSecurity{CustomerX509: atlasapi.CustomerX509{Cas: p.CustomerX509CAs, Crls: p.CustomerX509CRLs}}
}

func (s *server) handleGetUserSecurity(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.GetUserSecurity(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, userSecurityView(p))
}

// handleUpdateUserSecurity changes self-managed X.509. Atlas answers 202
// because it restarts clusters; so does atlasx509, although the change is
// done when it answers.
func (s *server) handleUpdateUserSecurity(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.UserSecurityRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	var in app.UserSecurityInput
	if req.CustomerX509 != nil {
		in.CustomerX509CAs, in.CustomerX509CRLs = req.CustomerX509.Cas, req.CustomerX509.Crls
	}
	if l := req.LDAP; l != nil {
		in.LDAP = &app.LDAPInput{AuthenticationEnabled: l.AuthenticationEnabled, AuthorizationEnabled: l.AuthorizationEnabled,
			AuthzQueryTemplate: l.AuthzQueryTemplate, BindPassword: l.BindPassword, BindUsername: l.BindUsername,
			CaCertificate: l.CaCertificate, Hostname: l.Hostname, Port: l.Port, UserToDNMapping: len(l.UserToDNMapping) > 0}
	}
	p, err := s.app.UpdateUserSecurity(r.Context(), principal(r), r.PathValue("groupId"), in)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusAccepted, userSecurityView(p))
}

func (s *server) handleDisableCustomerX509(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.DisableCustomerX509(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusAccepted, userSecurityView(p))
}

func managedX509View(r *http.Request, doc app.ManagedX509) atlasapi.ManagedX509 {
	cas := make([]atlasapi.ManagedX509CA, 0, len(doc.CAs))
	for _, ca := range doc.CAs {
		cas = append(cas, atlasapi.ManagedX509CA{Generation: ca.Generation, NotBefore: formatTime(ca.NotBefore),
			NotAfter: formatTime(ca.NotAfter), Sha256Fingerprint: ca.SHA256Fingerprint, Active: ca.Active,
			UnexpiredCertificates: ca.UnexpiredCertificates})
	}
	return atlasapi.ManagedX509{LeafKeyType: string(doc.LeafKeyType), Cas: cas,
		Links: selfLink(r, apiPrefix(r)+"/groups/"+doc.GroupID+"/userSecurity/managedX509")}
}

// handleGetManagedX509 answers the project's managed X.509 document (an extension).
func (s *server) handleGetManagedX509(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.app.GetManagedX509(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, managedX509View(r, doc))
}

// handleUpdateManagedX509 changes the leaf key type of future certificates (an extension).
func (s *server) handleUpdateManagedX509(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.ManagedX509Request
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	doc, err := s.app.SetLeafKeyType(r.Context(), principal(r), r.PathValue("groupId"), req.LeafKeyType)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, managedX509View(r, doc))
}

// handleRotateManagedX509CA creates a new CA generation, which signs every
// certificate from then on, and answers the managed X.509 document (an
// extension). It takes no body.
func (s *server) handleRotateManagedX509CA(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.app.RotateManagedX509CA(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, managedX509View(r, doc))
}
