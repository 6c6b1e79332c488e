package main

import "testing"

// TestTerraformRecorded replays every request the Terraform provider
// mongodbatlas 2.16.0 sent in a session (terraform apply, plan, apply of
// changes, plan, state rm and import of every resource, plan, apply,
// plan, destroy) of a configuration with mongodbatlas_project (tags,
// with_default_alerts_settings false, then renamed and retagged),
// mongodbatlas_project_api_key, mongodbatlas_database_user (MANAGED X.509
// and SCRAM), mongodbatlas_x509_authentication_database_user,
// mongodbatlas_alert_configuration for expiring managed certificates
// (WEBHOOK, EMAIL and GROUP notifications, threshold and interval
// changed), and the data sources mongodbatlas_roles_org_id,
// mongodbatlas_project, mongodbatlas_database_user(s) and
// mongodbatlas_x509_authentication_database_user; then a session (apply,
// plan, destroy) of credentials on the bootstrap organization and project:
// mongodbatlas_api_key with two mongodbatlas_access_list_api_key entries
// (an address, a CIDR block) and a mongodbatlas_api_key_project_assignment,
// mongodbatlas_service_account with an access list entry, a project
// assignment and a mongodbatlas_service_account_secret, and the data
// sources mongodbatlas_projects, mongodbatlas_api_keys,
// mongodbatlas_project_api_keys, mongodbatlas_alert_configurations (which
// sends pageNum=0), mongodbatlas_service_accounts,
// mongodbatlas_project_ip_addresses, mongodbatlas_organization and
// mongodbatlas_organizations; last a session (apply, plan, import,
// plan, destroy) of self-managed X.509 on the bootstrap project:
// mongodbatlas_x509_authentication_database_user with customer_x509_cas
// and a CUSTOMER mongodbatlas_database_user. See replayRecording.
// The provider cannot be built in CI; this keeps what it needs working.
func TestTerraformRecorded(t *testing.T) {
	t.Parallel()
	replayRecording(t, "terraform-mongodbatlas-2.16.0.json", "terraform-provider-mongodbatlas/2.16.0 (replay)")
}
