// Package resources is the resources service: teams, vehicles, drones, shelters; built by the write-side issue.
package resources
