package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// maxCustomerCAs bounds the CA certificates of self-managed X.509.
const (
	maxCustomerCAs     = 50
	maxCustomerCABytes = 256 << 10
)

// GetUserSecurity returns the project whose user security settings are
// asked for (Atlas getUserSecurity): its CustomerX509CAs.
func (a *App) GetUserSecurity(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite)
		return err
	})
	return project, userStoreError("get user security", err)
}

// UserSecurityInput changes a project's user security settings (Atlas
// updateUserSecurity). A nil field was absent.
type UserSecurityInput struct {
	// CustomerX509CAs replaces the CA certificates of self-managed X.509;
	// empty turns it off.
	CustomerX509CAs *string
	// CustomerX509CRLs replaces the CRLs of those CAs (an extension);
	// empty removes them. When absent, a change of the CAs keeps the CRLs
	// that one of the new CAs signed.
	CustomerX509CRLs *string
	LDAP             *LDAPInput
}

// LDAPInput is the LDAP part of a user security change. atlasx509 offers
// no LDAP: only turning it off (or leaving it off) is accepted.
type LDAPInput struct {
	AuthenticationEnabled *bool
	AuthorizationEnabled  *bool
	AuthzQueryTemplate    *string
	BindPassword          *string
	BindUsername          *string
	CaCertificate         *string
	Hostname              *string
	Port                  *int
	// UserToDNMapping reports whether the change holds a mapping.
	UserToDNMapping bool
}

// configures reports whether l asks for LDAP on or sets any of its
// settings.
func (l LDAPInput) configures() bool {
	return l.AuthenticationEnabled != nil && *l.AuthenticationEnabled || l.AuthorizationEnabled != nil && *l.AuthorizationEnabled ||
		l.AuthzQueryTemplate != nil || l.BindPassword != nil || l.BindUsername != nil || l.CaCertificate != nil ||
		l.Hostname != nil || l.Port != nil || l.UserToDNMapping
}

// UpdateUserSecurity changes a project's user security settings (Atlas
// updateUserSecurity) and returns the project: the CA certificates of
// self-managed X.509 when in sets them. Asking for LDAP is refused with
// UNSUPPORTED_FEATURE, before the caller's right is checked, as Atlas
// does.
func (a *App) UpdateUserSecurity(ctx context.Context, p atlasx509.Principal, groupID string, in UserSecurityInput) (atlasx509.Project, error) {
	if in.LDAP != nil && in.LDAP.configures() {
		return atlasx509.Project{}, errUnsupportedFeature()
	}
	if in.CustomerX509CAs == nil && in.CustomerX509CRLs == nil {
		return a.GetUserSecurity(ctx, p, groupID)
	}
	if err := a.authorize(ctx, p, groupID, authz.ProjectSecurityWrite); err != nil {
		return atlasx509.Project{}, userStoreError("update user security", err)
	}
	var cas *string
	if in.CustomerX509CAs != nil {
		canonical, err := a.checkCustomerCAs(*in.CustomerX509CAs)
		if err != nil {
			return atlasx509.Project{}, err
		}
		cas = &canonical
	}
	return a.setCustomerX509(ctx, p, groupID, cas, in.CustomerX509CRLs)
}

// DisableCustomerX509 turns self-managed X.509 off (Atlas
// disableCustomerX509): the CAs and their CRLs are cleared. Managed X.509
// is unaffected.
func (a *App) DisableCustomerX509(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, error) {
	none := ""
	return a.setCustomerX509(ctx, p, groupID, &none, nil)
}

// setCustomerX509 sets the CA certificates (canonical) of self-managed
// X.509 when cas is not nil, and its CRLs when crls is not nil (checked
// against the CAs the project then has); new CAs without new CRLs keep the
// CRLs one of them signed. Each change records its event.
func (a *App) setCustomerX509(ctx context.Context, p atlasx509.Principal, groupID string, cas, crls *string) (atlasx509.Project, error) {
	now := a.now()
	var project atlasx509.Project
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if project, err = loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite); err != nil {
			return err
		}
		oldCRLs, wasEnabled := project.CustomerX509CRLs, project.CustomerX509CAs != ""
		if cas != nil {
			project.CustomerX509CAs = *cas
		}
		switch {
		case crls != nil:
			if project.CustomerX509CRLs, err = checkCustomerCRLs(*crls, project.CustomerX509CAs, now); err != nil {
				return err
			}
		case cas != nil:
			project.CustomerX509CRLs = keepSignedCRLs(oldCRLs, project.CustomerX509CAs)
		}
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		if !wasEnabled && project.CustomerX509CAs != "" {
			if err := ensureCustomerCAAlertConfig(ctx, tx, project, now); err != nil {
				return err
			}
		}
		if cas != nil {
			// Atlas has no event type of its own for self-managed X.509;
			// its security settings event says which way it went in raw.
			ev := groupEvent(p, EventUserSecurityUpdated, groupID)
			ev.Details = map[string]string{"customerX509": "disabled"}
			if *cas != "" {
				ev.Details["customerX509"] = "enabled"
			}
			if err := a.recordEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		if crls == nil && project.CustomerX509CRLs == oldCRLs {
			return nil // the CRLs were neither given nor dropped
		}
		ev := groupEvent(p, EventCustomerX509CRLUpdated, groupID)
		ev.Details = map[string]string{"crls": strconv.Itoa(len(parseCRLs(project.CustomerX509CRLs)))}
		return a.recordEvent(ctx, tx, ev)
	})
	return project, userStoreError("update user security", err)
}

// checkCustomerCRLs parses a PEM bundle of CRLs and returns it re-encoded
// (CRLs only, in order, canonical PEM). Each must be signed by one of the
// CA certificates of cas and not be past its nextUpdate.
func checkCustomerCRLs(crls, cas string, now time.Time) (string, error) {
	if strings.TrimSpace(crls) == "" {
		return "", nil
	}
	if len(crls) > maxCustomerCABytes {
		return "", errInvalidAttr("customerX509.crls")
	}
	if cas == "" {
		return "", errValidation("customerX509.crls needs customerX509.cas: a CRL must be signed by one of the project's CA certificates")
	}
	authorities := parseCertificates(cas)
	rest := []byte(crls)
	var out bytes.Buffer
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "X509 CRL" || n > maxCustomerCAs {
			return "", errInvalidAttr("customerX509.crls")
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return "", errValidationOf("customerX509.crls holds a CRL that cannot be parsed", "customerX509.crls", err)
		}
		if signer(crl, authorities) == nil {
			return "", errValidation("customerX509.crls holds a CRL that no CA certificate of customerX509.cas signed (" + crl.Issuer.String() + ")")
		}
		if !crl.NextUpdate.IsZero() && !now.Before(crl.NextUpdate) {
			return "", errValidation("customerX509.crls holds a CRL past its nextUpdate (" + crl.Issuer.String() + ")")
		}
		pem.Encode(&out, &pem.Block{Type: "X509 CRL", Bytes: crl.Raw})
	}
	if n == 0 || len(bytes.TrimSpace(rest)) != 0 {
		return "", errInvalidAttr("customerX509.crls")
	}
	return out.String(), nil
}

// keepSignedCRLs returns the CRLs of crls that one of the CA certificates
// of cas signed.
func keepSignedCRLs(crls, cas string) string {
	authorities := parseCertificates(cas)
	var out bytes.Buffer
	for _, crl := range parseCRLs(crls) {
		if signer(crl, authorities) != nil {
			pem.Encode(&out, &pem.Block{Type: "X509 CRL", Bytes: crl.Raw})
		}
	}
	return out.String()
}

// signer returns the CA of cas that signed crl, or nil.
func signer(crl *x509.RevocationList, cas []*x509.Certificate) *x509.Certificate {
	for _, ca := range cas {
		if crl.CheckSignatureFrom(ca) == nil {
			return ca
		}
	}
	return nil
}

// parseCertificates parses the certificates of a stored (canonical) PEM
// bundle.
func parseCertificates(bundle string) []*x509.Certificate {
	var out []*x509.Certificate
	for rest := []byte(bundle); ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return out
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, cert)
		}
	}
}

// parseCRLs parses the CRLs of a stored (canonical) PEM bundle.
func parseCRLs(bundle string) []*x509.RevocationList {
	var out []*x509.RevocationList
	for rest := []byte(bundle); ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return out
		}
		if crl, err := x509.ParseRevocationList(block.Bytes); err == nil {
			out = append(out, crl)
		}
	}
}

// checkCustomerCAs parses a PEM bundle of CA certificates and returns it
// re-encoded (certificates only, in order, canonical PEM).
func (a *App) checkCustomerCAs(cas string) (string, error) {
	if strings.TrimSpace(cas) == "" {
		return "", nil
	}
	if len(cas) > maxCustomerCABytes {
		return "", errInvalidAttr("customerX509.cas")
	}
	now := a.now()
	rest := []byte(cas)
	var out bytes.Buffer
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" || n > maxCustomerCAs {
			return "", errInvalidAttr("customerX509.cas")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", errValidationOf("customerX509.cas holds a certificate that cannot be parsed", "customerX509.cas", err)
		}
		if !cert.IsCA || !cert.BasicConstraintsValid {
			return "", errValidation("customerX509.cas holds a certificate that is not a CA (" + cert.Subject.String() + ")")
		}
		if !now.Before(cert.NotAfter) {
			return "", errExpiredX509CACertificate()
		}
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	if n == 0 || len(bytes.TrimSpace(rest)) != 0 {
		return "", errInvalidAttr("customerX509.cas")
	}
	return out.String(), nil
}

// errAdvancedX509 is Atlas's answer to a managed issuance while
// self-managed X.509 is on.
var errAdvancedX509 = errors.New("advanced X.509")

// LeafKeyType returns the key type of a project's managed certificates.
func leafKeyType(p atlasx509.Project) pki.KeyType {
	if p.LeafKeyType == "" {
		return pki.DefaultKeyType
	}
	return pki.KeyType(p.LeafKeyType)
}

// SetLeafKeyType sets the key type of the project's future managed
// certificates (an extension; Atlas always issues RSA 4096) and returns
// the managed X.509 document. keyType is required; it is checked before
// the caller's right.
func (a *App) SetLeafKeyType(ctx context.Context, p atlasx509.Principal, groupID string, keyType *string) (ManagedX509, error) {
	now := a.now().UTC()
	var doc ManagedX509
	err := a.store.Update(ctx, func(tx store.Tx) error {
		project, err := loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite)
		if err != nil {
			return err
		}
		if keyType == nil {
			return errMissing("leafKeyType")
		}
		kt, err := pki.ParseKeyType(*keyType)
		if err != nil {
			return errInvalidEnum(*keyType)
		}
		project.LeafKeyType = string(kt)
		if kt == pki.DefaultKeyType {
			project.LeafKeyType = ""
		}
		if err := tx.UpdateProject(ctx, project); err != nil {
			return err
		}
		ev := groupEvent(p, EventManagedX509Updated, groupID)
		ev.Details = map[string]string{"leafKeyType": string(kt)}
		if err := a.recordEvent(ctx, tx, ev); err != nil {
			return err
		}
		doc, err = managedX509Doc(ctx, tx, project, now)
		return err
	})
	if err == nil {
		a.issuance.dropProject(groupID)
	}
	return doc, userStoreError("set leaf key type", err)
}
