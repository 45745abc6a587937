package resource

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/events"
	"vigie/events/input"
)

// Registration is the command that registers a resource.
type Registration struct {
	ResourceID string
	Domain     string // the commune's, e.g. dep:30/com:30189
	Kind       Kind
	Name       string // trimmed of surrounding spaces before it is checked and recorded
	Capacity   int    // shelters: 1..MaxCapacity; other kinds: 0
}

// Register registers a new, available resource.
func (r *Resource) Register(cmd Registration, by events.Actor, at time.Time) ([]events.Event, error) {
	if r.Exists() {
		return nil, ErrAlreadyRegistered
	}
	name := strings.TrimSpace(cmd.Name)
	switch {
	case !validID(cmd.ResourceID):
		return nil, ErrInvalidResourceID
	case !cmd.Kind.Valid():
		return nil, fmt.Errorf("%w : %q", ErrUnknownKind, cmd.Kind)
	case name == "" || utf8.RuneCountInString(name) > MaxNameLen || !printable(name):
		// An invisible character is named, so the person sees what to remove.
		if err := input.Visible(ErrInvalidInput, "name", name); err != nil {
			return nil, err
		}
		return nil, ErrInvalidName
	}
	if err := ValidateCommuneDomain(cmd.Domain); err != nil {
		return nil, err
	}
	if cmd.Kind == KindShelter && (cmd.Capacity < 1 || cmd.Capacity > MaxCapacity) ||
		cmd.Kind != KindShelter && cmd.Capacity != 0 {
		return nil, fmt.Errorf("%w (capacité demandée : %d)", ErrCapacity, cmd.Capacity)
	}
	return []events.Event{ResourceRegistered{
		ResourceID: cmd.ResourceID,
		Domain:     cmd.Domain,
		Kind:       cmd.Kind,
		Name:       name,
		Capacity:   cmd.Capacity,
		By:         by,
		At:         at,
	}}, nil
}

// EngageOn puts an available resource on the incident incidentID, whose
// domain the service read from the incident's own stream: "" when no incident
// of that id exists for the caller (none at all, or one the caller may not
// read; both are answered ErrIncidentNotFound, so an id reveals nothing). The
// incident must be the resource's commune's: a commune that helps another
// sends its means through the prefecture's reinforcement workflow, where the
// prefecture decides, not by engaging them on the other's incident.
func (r *Resource) EngageOn(incidentID, incidentDomain string, by events.Actor, at time.Time) ([]events.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound
	}
	if !validID(incidentID) {
		return nil, ErrInvalidIncidentID
	}
	if incidentDomain == "" {
		return nil, ErrIncidentNotFound
	}
	if incidentDomain != r.domain {
		return nil, ErrIncidentOfAnotherCommune
	}
	return r.Engage(incidentID, by, at)
}

// Engage puts an available resource on an incident. A resource is on one
// incident at a time: engaging it again, even on the same incident, is
// refused; release it first. It does not look at the incident: commands from
// people go through EngageOn, which does; Engage remains for building
// histories (tests, projections' fixtures).
func (r *Resource) Engage(incidentID string, by events.Actor, at time.Time) ([]events.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound
	}
	if !validID(incidentID) {
		return nil, ErrInvalidIncidentID
	}
	switch r.status {
	case StatusEngaged:
		return nil, fmt.Errorf("%w : %s", ErrAlreadyEngaged, r.incidentID)
	case StatusAvailable:
	default:
		return nil, ErrNotAvailable
	}
	return []events.Event{ResourceEngaged{IncidentID: incidentID, By: by, At: at}}, nil
}

// Release takes an engaged resource off its incident; it becomes available.
func (r *Resource) Release(by events.Actor, at time.Time) ([]events.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound
	}
	if r.status != StatusEngaged {
		return nil, ErrNotEngaged
	}
	return []events.Event{ResourceReleased{IncidentID: r.incidentID, By: by, At: at}}, nil
}

// SetStatus moves the resource between available, unavailable and
// demobilized. Setting the status it already has is a no-op: no event and no
// error, so a field agent confirming "still unavailable" does not clutter the
// timeline. Engagement goes through Engage and Release, and a shelter must be
// emptied before it is made unavailable or demobilized.
func (r *Resource) SetStatus(status Status, by events.Actor, at time.Time) ([]events.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound
	}
	if !status.Valid() {
		return nil, fmt.Errorf("%w : %q", ErrUnknownStatus, status)
	}
	if status == r.status {
		return nil, nil
	}
	if status == StatusEngaged || r.status == StatusEngaged {
		return nil, ErrUseEngageRelease
	}
	if status != StatusAvailable && r.occupancy > 0 {
		return nil, fmt.Errorf("%w (%d)", ErrOccupiedShelter, r.occupancy)
	}
	return []events.Event{ResourceStatusChanged{Status: status, By: by, At: at}}, nil
}

// SetOccupancy records how many people a shelter holds, within 0..capacity.
// A shelter that is unavailable or demobilized takes no one (it may only be
// counted down to zero), which keeps "occupied shelters are open" true.
// Setting the occupancy it already has is a no-op: no event and no error.
func (r *Resource) SetOccupancy(n int, by events.Actor, at time.Time) ([]events.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound
	}
	switch {
	case r.kind != KindShelter:
		return nil, ErrNotAShelter
	case n < 0:
		return nil, fmt.Errorf("%w (%d)", ErrNegativeOccupancy, n)
	case n > r.capacity:
		return nil, fmt.Errorf("%w : %d personnes pour %d places", ErrShelterFull, n, r.capacity)
	case n == r.occupancy:
		return nil, nil
	case n > 0 && !r.status.Open():
		return nil, ErrNotAvailable
	}
	return []events.Event{ShelterOccupancyChanged{Occupancy: n, Previous: r.occupancy, By: by, At: at}}, nil
}
