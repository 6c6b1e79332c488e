package httpapi

import (
	"net/http"
	"strconv"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// handleCreateDatabaseUserCertificate answers 201 with the certificate PEM
// followed by the private key PEM as the raw body, as Atlas does (its
// Content-Type says JSON although the body is PEM text; clients read the body
// verbatim). Under envelope=true the PEM becomes the JSON string "content".
func (s *server) handleCreateDatabaseUserCertificate(w http.ResponseWriter, r *http.Request) error {
	var req atlasapi.UserCertRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	pemBytes, err := s.app.CreateDatabaseUserCertificate(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("username"), req.MonthsUntilExpiration)
	if err != nil {
		return err
	}
	if queryBool(r, "envelope") {
		return s.writeJSON(w, r, http.StatusCreated, string(pemBytes))
	}
	w.Header().Set("Content-Type", contentType(r))
	w.Header().Set("Content-Length", strconv.Itoa(len(pemBytes)))
	w.WriteHeader(http.StatusCreated)
	w.Write(pemBytes)
	return nil
}

func (s *server) handleListDatabaseUserCertificates(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	certs, total, err := s.app.ListDatabaseUserCertificates(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("username"), lp.ListOptions)
	if err != nil {
		return err
	}
	views := make([]atlasapi.UserCert, 0, len(certs))
	for _, c := range certs {
		// Atlas reports createdAt as the certificate's notBefore (issue time − 1 h).
		views = append(views, atlasapi.UserCert{ID: c.Serial, CreatedAt: formatTime(c.NotBefore), GroupID: c.GroupID, NotAfter: formatTime(c.NotAfter), Subject: c.Subject})
	}
	return s.writeJSON(w, r, http.StatusOK, listPage(r, lp, views, total))
}

// handleGetManagedX509CA answers the PEM of every CA certificate a mongod
// must trust for the project's managed certificates (an extension).
func (s *server) handleGetManagedX509CA(w http.ResponseWriter, r *http.Request) error {
	pemBytes, err := s.app.ProjectCAPEM(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	if queryBool(r, "envelope") {
		return s.writeJSON(w, r, http.StatusOK, string(pemBytes))
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(pemBytes)))
	w.WriteHeader(http.StatusOK)
	w.Write(pemBytes)
	return nil
}
