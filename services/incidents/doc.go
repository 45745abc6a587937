// Package incidents is the incidents service: the incident lifecycle and the main
// courante (package incident), served over gRPC (incidentspb). It also hosts the
// administration of role grants (policies/role), whose events the policies follow.
// Every command is authorized here, whatever the gateway checked.
package incidents
