package app

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509"
)

// builtinRoles are the MongoDB built-in roles Atlas accepts, with whether the
// role only exists on the admin database.
var builtinRoles = map[string]bool{
	"atlasAdmin":           true,
	"backup":               true,
	"clusterMonitor":       true,
	"dbAdmin":              false,
	"dbAdminAnyDatabase":   true,
	"enableSharding":       true,
	"read":                 false,
	"readAnyDatabase":      true,
	"readWrite":            false,
	"readWriteAnyDatabase": true,
}

var (
	scopeNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	scopeTypes  = map[string]bool{"CLUSTER": true, "DATA_LAKE": true, "STREAM": true}
	enumValues  = map[string][]string{
		"x509Type":     {atlasx509.X509None, atlasx509.X509Customer, atlasx509.X509Managed},
		"awsIAMType":   {atlasx509.AWSIAMNone, atlasx509.AWSIAMUser, atlasx509.AWSIAMRole},
		"ldapAuthType": {atlasx509.LDAPNone, atlasx509.LDAPGroup, atlasx509.LDAPUser},
		"oidcAuthType": {atlasx509.OIDCNone, atlasx509.OIDCIdPGroup, atlasx509.OIDCUser},
		"databaseName": {atlasx509.DatabaseAdmin, atlasx509.DatabaseExternal},
	}
)

const (
	maxUsernameLen    = 1024
	maxManagedNameLen = 64 // X.520 upper bound of a common name
	maxDescriptionLen = 100
	maxLabelLen       = 255
	// Atlas publishes no bound on these lists; these keep one user small
	// (a project's user list is read whole by every reader).
	maxUserLabels        = 50
	maxUserLabelBytes    = 8 << 10 // keys and values together
	maxUserRoles         = 100
	maxUserScopes        = 100
	maxCollectionLen     = 255
	minPasswordLen       = 8
	maxTemporaryLifetime = 7 * 24 * time.Hour
)

func checkEnum(attr, value string) error {
	for _, v := range enumValues[attr] {
		if v == value {
			return nil
		}
	}
	return errInvalidEnum(value)
}

// internalKind names a user that authenticates inside MongoDB, for DATABASE_NAME_INVALID_ADMIN.
func internalKind(u atlasx509.DatabaseUser) string {
	switch {
	case u.LDAPAuthType == atlasx509.LDAPGroup:
		return "LDAP group users"
	case u.OIDCAuthType == atlasx509.OIDCIdPGroup:
		return "OIDC identity provider groups"
	default:
		return "SCRAM users"
	}
}

// isExternal reports whether the user authenticates outside MongoDB (X.509,
// AWS IAM, LDAP user, OIDC user) and must therefore live in $external.
func isExternal(u atlasx509.DatabaseUser) bool {
	return u.X509Type != atlasx509.X509None || u.AWSIAMType != atlasx509.AWSIAMNone ||
		u.LDAPAuthType == atlasx509.LDAPUser || u.OIDCAuthType == atlasx509.OIDCUser
}

// usesPassword reports whether the user authenticates with SCRAM.
func usesPassword(u atlasx509.DatabaseUser) bool {
	return u.X509Type == atlasx509.X509None && u.AWSIAMType == atlasx509.AWSIAMNone &&
		u.LDAPAuthType == atlasx509.LDAPNone && u.OIDCAuthType == atlasx509.OIDCNone
}

// validateUser checks a complete database user as it would be stored. It
// implements the rules of Atlas's CloudDatabaseUser in the order a client
// most needs to hear about them. passwordGiven tells whether the request set
// a password.
func validateUser(u atlasx509.DatabaseUser, passwordGiven bool, now time.Time) error {
	for attr, v := range map[string]string{"x509Type": u.X509Type, "awsIAMType": u.AWSIAMType, "ldapAuthType": u.LDAPAuthType, "oidcAuthType": u.OIDCAuthType, "databaseName": u.DatabaseName} {
		if err := checkEnum(attr, v); err != nil {
			return err
		}
	}
	kinds := 0
	for _, v := range []string{u.X509Type, u.AWSIAMType, u.LDAPAuthType, u.OIDCAuthType} {
		if v != "NONE" {
			kinds++
		}
	}
	if kinds > 1 {
		if u.X509Type != atlasx509.X509None && u.LDAPAuthType != atlasx509.LDAPNone {
			return errX509UserCannotUseLDAP()
		}
		return errInvalidAuthSettings("A database user can use only one of x509Type, awsIAMType, ldapAuthType and oidcAuthType")
	}
	if err := validateUsername(u); err != nil {
		return err
	}
	if isExternal(u) && u.DatabaseName != atlasx509.DatabaseExternal {
		return errDatabaseNameInvalidExternal()
	}
	if !isExternal(u) && u.DatabaseName != atlasx509.DatabaseAdmin {
		return errDatabaseNameInvalidAdmin(internalKind(u))
	}
	if u.X509Type != atlasx509.X509None {
		if passwordGiven {
			return errX509UserCannotUseSCRAM()
		}
		if u.DeleteAfterDate != nil {
			return errX509UserCannotBeTemporary()
		}
	}
	if passwordGiven && !usesPassword(u) {
		return errInvalidAttr("password")
	}
	if u.DeleteAfterDate != nil {
		switch {
		case !u.DeleteAfterDate.After(now):
			return errExpirationDateInPast()
		case u.DeleteAfterDate.Sub(now) > maxTemporaryLifetime:
			return errExpirationDateExceedsMax(int(maxTemporaryLifetime / (24 * time.Hour)))
		}
	}
	if utf8.RuneCountInString(u.Description) > maxDescriptionLen || hasInvisible(u.Description) {
		return errInvalidAttr("description")
	}
	if err := validateRoles(u.Username, u.Roles); err != nil {
		return err
	}
	if err := checkUserListBounds(u); err != nil {
		return err
	}
	for _, s := range u.Scopes {
		if !scopeNameRE.MatchString(s.Name) || len(s.Name) > 64 {
			return errInvalidAttr("scopes.name")
		}
		if !scopeTypes[s.Type] {
			return errInvalidEnum(s.Type)
		}
	}
	for _, l := range u.Labels {
		if n := utf8.RuneCountInString(l.Key); n < 1 || n > maxLabelLen || hasInvisible(l.Key) {
			return errInvalidAttr("labels.key")
		}
		if n := utf8.RuneCountInString(l.Value); n < 1 || n > maxLabelLen || hasInvisible(l.Value) {
			return errInvalidAttr("labels.value")
		}
	}
	return nil
}

// hasInvisible reports whether s holds a character that does not show or
// changes how the rest shows: a control, a Unicode format character (Cf:
// zero-width spaces and joiners, byte order marks, every bidirectional
// control), a line or paragraph separator, or U+FFFD (what a lone surrogate
// escape in JSON decodes to). Such a character makes two different names
// read the same (alice\u200b has a certificate reading CN=alice).
func hasInvisible(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
	}) >= 0
}

func validateUsername(u atlasx509.DatabaseUser) error {
	name := u.Username
	if name == "" || len(name) > maxUsernameLen || !utf8.ValidString(name) || hasInvisible(name) {
		return errInvalidUsername(name)
	}
	switch {
	case u.X509Type == atlasx509.X509Managed:
		// The certificate subject is CN=<username> and MongoDB matches users
		// by the RFC 2253 string of the subject, so the name must be one
		// plain attribute value: no DN syntax, nothing that needs escaping,
		// and no longer than a common name may be.
		if utf8.RuneCountInString(name) > maxManagedNameLen || strings.ContainsAny(name, `,=+"\<>;#`) ||
			strings.TrimSpace(name) != name {
			return errManagedX509NameInvalid(name)
		}
	case u.X509Type == atlasx509.X509Customer || u.LDAPAuthType != atlasx509.LDAPNone:
		rdns, err := parseDN(name)
		if err != nil {
			return errInvalidLDAPName(name)
		}
		if u.X509Type == atlasx509.X509Customer && !hasCN(rdns) {
			return errX509NameWithoutCN(name)
		}
	}
	return nil
}

// checkUserListBounds bounds the count of a user's roles, scopes and labels
// and the bytes of its labels.
func checkUserListBounds(u atlasx509.DatabaseUser) error {
	for _, l := range []struct {
		attr   string
		n, max int
	}{{"roles", len(u.Roles), maxUserRoles}, {"scopes", len(u.Scopes), maxUserScopes}, {"labels", len(u.Labels), maxUserLabels}} {
		if l.n > l.max {
			return errValidationField(l.attr, fmt.Sprintf("must have at most %d elements", l.max))
		}
	}
	size := 0
	for _, l := range u.Labels {
		size += len(l.Key) + len(l.Value)
	}
	if size > maxUserLabelBytes {
		return errValidationField("labels", fmt.Sprintf("must hold at most %d bytes of keys and values", maxUserLabelBytes))
	}
	return nil
}

func validateRoles(username string, roles []atlasx509.DatabaseRole) error {
	if len(roles) == 0 {
		return errMissing("roles")
	}
	seen := make(map[atlasx509.DatabaseRole]bool, len(roles))
	for _, r := range roles {
		adminOnly, ok := builtinRoles[r.RoleName]
		if !ok {
			return errInvalidRole(r.RoleName, r.DatabaseName)
		}
		if r.DatabaseName == "" || strings.ContainsAny(r.DatabaseName, "/\\. \"$") && r.DatabaseName != "$external" || len(r.DatabaseName) > 64 {
			return errInvalidDatabaseName(r.DatabaseName)
		}
		if adminOnly && (r.DatabaseName != atlasx509.DatabaseAdmin || r.CollectionName != "") {
			return errInvalidRoleDatabase(r.RoleName, atlasx509.DatabaseAdmin)
		}
		if r.CollectionName != "" && r.RoleName != "read" && r.RoleName != "readWrite" || len(r.CollectionName) > maxCollectionLen || hasInvisible(r.CollectionName) {
			return errInvalidAttr("roles.collectionName")
		}
		if seen[r] {
			return errDuplicateDatabaseRoles(username, r.RoleName+"@"+r.DatabaseName)
		}
		seen[r] = true
	}
	return nil
}
