// Package incidents is the incidents service: the incident lifecycle and the main
// courante (package incident), served over gRPC (incidentspb). Every command is
// authorized here, whatever the gateway checked.
package incidents
