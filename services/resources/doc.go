// Package resources is the resources service: teams, vehicles, equipment, drones,
// shelters and cameras of a commune (package resource), and reinforcement requests
// from a commune to the prefecture (package reinforcement), served over gRPC
// (resourcespb). Every command is authorized here, whatever the gateway checked.
package resources
