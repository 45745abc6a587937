package resource

// Kind is what a resource is. The values are written in events: never rename one.
type Kind string

const (
	KindTeam      Kind = "team" // municipal police, technical services, réserve communale
	KindVehicle   Kind = "vehicle"
	KindEquipment Kind = "equipment" // pumps, sandbags, generators
	KindDrone     Kind = "drone"     // camera, thermal camera
	KindShelter   Kind = "shelter"   // the only kind with a capacity and an occupancy
	KindCamera    Kind = "camera"    // supervision centre
)

// Kinds returns every kind, for validation and exhaustive tests.
func Kinds() []Kind {
	return []Kind{KindTeam, KindVehicle, KindEquipment, KindDrone, KindShelter, KindCamera}
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindTeam, KindVehicle, KindEquipment, KindDrone, KindShelter, KindCamera:
		return true
	}
	return false
}

// Status is where a resource stands. The values are written in events: never rename one.
type Status string

const (
	StatusAvailable   Status = "available"
	StatusEngaged     Status = "engaged" // on exactly one incident
	StatusUnavailable Status = "unavailable"
	StatusDemobilized Status = "demobilized"
)

// Statuses returns every status, for validation and exhaustive tests.
func Statuses() []Status {
	return []Status{StatusAvailable, StatusEngaged, StatusUnavailable, StatusDemobilized}
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusAvailable, StatusEngaged, StatusUnavailable, StatusDemobilized:
		return true
	}
	return false
}

// Open reports whether a resource in status s is in service: available or engaged.
// An open shelter offers its capacity (the boards' totals) and may take people in;
// one unavailable or demobilized takes no one.
func (s Status) Open() bool { return s == StatusAvailable || s == StatusEngaged }
