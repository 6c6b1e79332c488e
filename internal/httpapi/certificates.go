package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
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
	groupID, username := r.PathValue("groupId"), r.PathValue("username")
	pemBytes, err := s.app.CreateDatabaseUserCertificate(r.Context(), principal(r), groupID, username, req.MonthsUntilExpiration)
	if errors.Is(err, app.ErrCredentialsChanged) {
		// The principal came from the cache and credentials changed since
		// (any credential's, anywhere): ask again with it confirmed.
		p, err := confirmed(r)
		if err != nil {
			return err
		}
		pemBytes, err = s.app.CreateDatabaseUserCertificate(r.Context(), p, groupID, username, req.MonthsUntilExpiration)
		if err != nil {
			return err
		}
	} else if err != nil {
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

// handleListDatabaseUserCertificates lists the certificates that still
// grant access; includeRevoked=true (an extension) adds the revoked ones
// that have not expired, with revoked, revokedAt and revocationReason.
func (s *server) handleListDatabaseUserCertificates(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseList(r)
	if err != nil {
		return err
	}
	includeRevoked := false
	if vs, ok := r.URL.Query()["includeRevoked"]; ok {
		if includeRevoked, err = strconv.ParseBool(vs[0]); err != nil || len(vs) != 1 {
			return invalidQuery("includeRevoked", strings.Join(vs, ","))
		}
	}
	certs, total, err := s.app.ListDatabaseUserCertificates(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("username"), lp.ListOptions, includeRevoked)
	if err != nil {
		return err
	}
	views := make([]atlasapi.UserCert, 0, len(certs))
	for _, c := range certs {
		// Atlas reports createdAt as the certificate's notBefore (issue time − 1 h).
		v := atlasapi.UserCert{ID: c.Serial, CreatedAt: formatTime(c.NotBefore), GroupID: c.GroupID, NotAfter: formatTime(c.NotAfter), Subject: c.Subject}
		if c.RevokedAt != nil {
			v.Revoked, v.RevokedAt, v.RevocationReason = true, formatTime(*c.RevokedAt), pki.RevocationReasonName(c.RevocationReason)
		}
		views = append(views, v)
	}
	page := listPage(r, lp, views, total)
	if includeRevoked {
		// The links page through the same list.
		for i := range page.Links {
			page.Links[i].Href += "&includeRevoked=true"
		}
	}
	return s.writeJSON(w, r, http.StatusOK, page)
}

// handleRevokeDatabaseUserCertificate revokes one certificate (an
// extension): 204, also when it was revoked already.
func (s *server) handleRevokeDatabaseUserCertificate(w http.ResponseWriter, r *http.Request) error {
	reason, err := revocationReason(r)
	if err != nil {
		return err
	}
	if err := s.app.RevokeDatabaseUserCertificate(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("username"), r.PathValue("serial"), reason); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

// handleRevokeDatabaseUserCertificates revokes every unexpired certificate
// of a user (an extension): 204.
//
// Its path also reads as Atlas's deleteDatabaseUser of a user named
// "certs" (…/databaseUsers/{databaseName}/{username}), which the mux
// finds less specific. When {username} names an authentication database
// in which such a user exists, Atlas's operation wins.
func (s *server) handleRevokeDatabaseUserCertificates(w http.ResponseWriter, r *http.Request) error {
	if db := r.PathValue("username"); db == atlasx509.DatabaseAdmin || db == atlasx509.DatabaseExternal {
		if _, err := s.app.GetDatabaseUser(r.Context(), principal(r), r.PathValue("groupId"), db, "certs"); err == nil {
			logState(r).op = "deleteDatabaseUser"
			r.SetPathValue("databaseName", db)
			r.SetPathValue("username", "certs")
			return s.handleDeleteDatabaseUser(w, r)
		}
	}
	reason, err := revocationReason(r)
	if err != nil {
		return err
	}
	if err := s.app.RevokeDatabaseUserCertificates(r.Context(), principal(r), r.PathValue("groupId"), r.PathValue("username"), reason); err != nil {
		return err
	}
	return s.writeNoContent(w, r)
}

// revocationReason reads the optional reason query parameter.
func revocationReason(r *http.Request) (int, error) {
	vs, ok := r.URL.Query()["reason"]
	return app.ParseRevocationReason(vs, ok)
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

// handleGetManagedX509CRL answers the PEM of one CRL per CA that the CA
// route lists, in the same order (an extension), with a strong ETag; a
// matching If-None-Match is answered 304 without a body.
func (s *server) handleGetManagedX509CRL(w http.ResponseWriter, r *http.Request) error {
	pemBytes, err := s.app.ProjectCRLPEM(r.Context(), principal(r), r.PathValue("groupId"))
	if err != nil {
		return err
	}
	if queryBool(r, "envelope") {
		return s.writeJSON(w, r, http.StatusOK, string(pemBytes))
	}
	sum := sha256.Sum256(pemBytes)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	if etagMatches(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(pemBytes)))
	w.WriteHeader(http.StatusOK)
	w.Write(pemBytes)
	return nil
}

// etagMatches reports whether an If-None-Match header (its values, each a
// list) matches etag, by the weak comparison RFC 9110 asks for there.
func etagMatches(headers []string, etag string) bool {
	for _, h := range headers {
		for _, tag := range strings.Split(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}
