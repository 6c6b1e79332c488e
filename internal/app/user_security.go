package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// maxCustomerCAs bounds the CA certificates of self-managed X.509.
const (
	maxCustomerCAs      = 50
	maxCustomerCABytes  = 256 << 10
	customerCAsNotValid = "INVALID_ATTRIBUTE"
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

// UpdateCustomerX509 sets the CA certificates of self-managed X.509 (Atlas
// updateUserSecurity with customerX509.cas). An empty cas turns it off.
// Each certificate must be a CA that has not expired.
func (a *App) UpdateCustomerX509(ctx context.Context, p atlasx509.Principal, groupID, cas string) (atlasx509.Project, error) {
	canonical, err := a.checkCustomerCAs(cas)
	if err != nil {
		return atlasx509.Project{}, err
	}
	return a.setCustomerCAs(ctx, p, groupID, canonical)
}

// DisableCustomerX509 turns self-managed X.509 off (Atlas
// disableCustomerX509): the CAs are cleared. Managed X.509 is unaffected.
func (a *App) DisableCustomerX509(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, error) {
	return a.setCustomerCAs(ctx, p, groupID, "")
}

func (a *App) setCustomerCAs(ctx context.Context, p atlasx509.Principal, groupID, cas string) (atlasx509.Project, error) {
	var project atlasx509.Project
	err := a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if project, err = loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite); err != nil {
			return err
		}
		project.CustomerX509CAs = cas
		return tx.UpdateProject(ctx, project)
	})
	return project, userStoreError("update user security", err)
}

// checkCustomerCAs parses a PEM bundle of CA certificates and returns it
// re-encoded (certificates only, in order, canonical PEM).
func (a *App) checkCustomerCAs(cas string) (string, error) {
	if strings.TrimSpace(cas) == "" {
		return "", nil
	}
	if len(cas) > maxCustomerCABytes {
		return "", invalid(customerCAsNotValid, "Invalid attribute %s specified.", "customerX509.cas")
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
			return "", invalid(customerCAsNotValid, "Invalid attribute %s specified.", "customerX509.cas")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", &atlasx509.Error{Kind: atlasx509.KindInvalid, Code: "VALIDATION_ERROR",
				Detail: "The request content produced the validation error: customerX509.cas holds a certificate that cannot be parsed.", Params: []any{"customerX509.cas"}, Err: err}
		}
		if !cert.IsCA || !cert.BasicConstraintsValid {
			return "", invalid("VALIDATION_ERROR", "The request content produced the validation error: %s.", "customerX509.cas holds a certificate that is not a CA ("+cert.Subject.String()+")")
		}
		if !now.Before(cert.NotAfter) {
			return "", invalid("EXPIRED_X509_CA_CERTIFICATE", "The X.509 CA certificate has expired.")
		}
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	if n == 0 || len(bytes.TrimSpace(rest)) != 0 {
		return "", invalid(customerCAsNotValid, "Invalid attribute %s specified.", "customerX509.cas")
	}
	return out.String(), nil
}

// errAdvancedX509 is Atlas's answer to a managed issuance while
// self-managed X.509 is on.
var errAdvancedX509 = errors.New("advanced X.509")

func advancedX509() error {
	return &atlasx509.Error{Kind: atlasx509.KindInvalid, Code: "CANNOT_GENERATE_CERT_IF_ADVANCED_X509",
		Detail: "The user cannot create managed X.509 certs if advanced mode is on.", Err: errAdvancedX509}
}

// LeafKeyType returns the key type of a project's managed certificates.
func leafKeyType(p atlasx509.Project) pki.KeyType {
	if p.LeafKeyType == "" {
		return pki.DefaultKeyType
	}
	return pki.KeyType(p.LeafKeyType)
}

// GetManagedX509 returns the project whose managed X.509 settings are
// asked for (an extension: the leaf key type).
func (a *App) GetManagedX509(ctx context.Context, p atlasx509.Principal, groupID string) (atlasx509.Project, pki.KeyType, error) {
	var project atlasx509.Project
	err := a.store.View(ctx, func(tx store.Tx) error {
		var err error
		project, err = loadProject(ctx, tx, p, groupID, authz.ProjectRead)
		return err
	})
	return project, leafKeyType(project), userStoreError("get managed X.509", err)
}

// SetLeafKeyType sets the key type of the project's future managed
// certificates (an extension; Atlas always issues RSA 4096).
func (a *App) SetLeafKeyType(ctx context.Context, p atlasx509.Principal, groupID, keyType string) (atlasx509.Project, pki.KeyType, error) {
	kt, err := pki.ParseKeyType(keyType)
	if err != nil {
		return atlasx509.Project{}, "", invalid("INVALID_ENUM_VALUE", "An invalid enumeration value %s was specified.", keyType)
	}
	var project atlasx509.Project
	err = a.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if project, err = loadProject(ctx, tx, p, groupID, authz.ProjectSecurityWrite); err != nil {
			return err
		}
		project.LeafKeyType = string(kt)
		if kt == pki.DefaultKeyType {
			project.LeafKeyType = ""
		}
		return tx.UpdateProject(ctx, project)
	})
	return project, kt, userStoreError("set leaf key type", err)
}
