package resource

import contract "vigie/events/resource"

// A resource's events and the enums they carry are its contract, in
// vigie/events/resource, which the readers (boards, timeline, replay, drill) import
// without the write side. These names let the aggregate and its commands read as
// the domain they are.
type (
	ResourceRegistered      = contract.ResourceRegistered
	ResourceEngaged         = contract.ResourceEngaged
	ResourceReleased        = contract.ResourceReleased
	ResourceStatusChanged   = contract.ResourceStatusChanged
	ShelterOccupancyChanged = contract.ShelterOccupancyChanged

	Kind   = contract.Kind
	Status = contract.Status
)

const (
	KindTeam      = contract.KindTeam
	KindVehicle   = contract.KindVehicle
	KindEquipment = contract.KindEquipment
	KindDrone     = contract.KindDrone
	KindShelter   = contract.KindShelter
	KindCamera    = contract.KindCamera

	StatusAvailable   = contract.StatusAvailable
	StatusEngaged     = contract.StatusEngaged
	StatusUnavailable = contract.StatusUnavailable
	StatusDemobilized = contract.StatusDemobilized
)

var (
	Kinds    = contract.Kinds
	Statuses = contract.Statuses
	Register = contract.Register
)
