package resource

import (
	"errors"
	"time"

	"vigie/events"
)

// ResourceRegistered starts a resource's stream; the resource is available.
type ResourceRegistered struct {
	ResourceID string       `json:"resourceId"`
	Domain     string       `json:"domain"`
	Kind       Kind         `json:"kind"`
	Name       string       `json:"name"`
	Capacity   int          `json:"capacity,omitempty"` // shelters only
	By         events.Actor `json:"by"`
	At         time.Time    `json:"at"`
}

// ResourceEngaged puts the resource on an incident. Only the resource's stream
// records it; the incident's boards learn of it through read models.
type ResourceEngaged struct {
	IncidentID string       `json:"incidentId"`
	By         events.Actor `json:"by"`
	At         time.Time    `json:"at"`
}

// ResourceReleased takes the resource off the incident it was engaged on; it
// is available again.
type ResourceReleased struct {
	IncidentID string       `json:"incidentId"`
	By         events.Actor `json:"by"`
	At         time.Time    `json:"at"`
}

// ResourceStatusChanged moves the resource between available, unavailable and
// demobilized; engagement has its own events.
type ResourceStatusChanged struct {
	Status Status       `json:"status"`
	By     events.Actor `json:"by"`
	At     time.Time    `json:"at"`
}

// ShelterOccupancyChanged records how many people a shelter holds now.
// Previous makes the change readable on its own in the timeline.
type ShelterOccupancyChanged struct {
	Occupancy int          `json:"occupancy"`
	Previous  int          `json:"previous"`
	By        events.Actor `json:"by"`
	At        time.Time    `json:"at"`
}

func (ResourceRegistered) EventType() string      { return "ResourceRegistered" }
func (ResourceEngaged) EventType() string         { return "ResourceEngaged" }
func (ResourceReleased) EventType() string        { return "ResourceReleased" }
func (ResourceStatusChanged) EventType() string   { return "ResourceStatusChanged" }
func (ShelterOccupancyChanged) EventType() string { return "ShelterOccupancyChanged" }

// Events lists one value of every event type of a resource's stream: the list every
// consumer's exhaustiveness test walks, so that a new event type fails the test of
// each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{
		ResourceRegistered{}, ResourceEngaged{}, ResourceReleased{}, ResourceStatusChanged{}, ShelterOccupancyChanged{},
	}
}

// Register adds the resource events, at their current schema versions, to r.
func Register(r *events.Registry) error {
	return errors.Join(
		events.Register[ResourceRegistered](r, 1),
		events.Register[ResourceEngaged](r, 1),
		events.Register[ResourceReleased](r, 1),
		events.Register[ResourceStatusChanged](r, 1),
		events.Register[ShelterOccupancyChanged](r, 1),
	)
}
