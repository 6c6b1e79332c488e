package app

import "github.com/atlasx509/atlasx509"

// This file holds the constructors of the Atlas errors the use cases
// return: one per error code.

func errMaxAPIKeysPerOrgExceeded(orgID string) error {
	return invalid("MAX_API_KEYS_PER_ORG_EXCEEDED", "Maximum number of API keys per org %d in %s exceeded while trying to add API keys.", maxAPIKeysPerOrg, orgID)
}

func errMissingAPIKeyRoles() error {
	return invalid("MISSING_API_KEY_ROLES", "API keys must have at least one role.")
}

func errMissingOneOf(a, b string) error {
	return invalid("MISSING_ONE_OF_ATTRIBUTES", "Either the %s attribute or the %s attribute must be specified.", a, b)
}

// errAPIKeyNotFound is Atlas's answer for a missing API key: 400, as its
// error table says.
func errAPIKeyNotFound(id string) error {
	return atlasx509.Errorf(atlasx509.KindInvalid, "API_KEY_NOT_FOUND", "No API key with ID %s exists.", id)
}

// errServiceAccountNotFound answers for a missing service account. Atlas's
// error table predates service accounts; the code is atlasx509's.
func errServiceAccountNotFound(clientID string) error {
	return atlasx509.Errorf(atlasx509.KindNotFound, "SERVICE_ACCOUNT_NOT_FOUND", "No Service Account with client ID %s exists.", clientID)
}

func errServiceAccountSecretNotFound(secretID, clientID string) error {
	return atlasx509.Errorf(atlasx509.KindNotFound, "SERVICE_ACCOUNT_SECRET_NOT_FOUND", "No secret with ID %s exists for Service Account %s.", secretID, clientID)
}
