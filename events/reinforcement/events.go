package reinforcement

import (
	"errors"
	"time"

	"vigie/events"
	"vigie/events/resource"
)

// Category is the stream category of reinforcement requests:
// events.StreamID(Category, requestID) is reinforcement-<id>.
const Category = events.CategoryReinforcement

// ReinforcementRequested starts a request: a commune asks the prefecture for
// Quantity means of one kind for an incident.
type ReinforcementRequested struct {
	RequestID  string        `json:"requestId"`
	Domain     string        `json:"domain"` // the requesting commune's
	IncidentID string        `json:"incidentId"`
	Kind       resource.Kind `json:"kind"`
	Quantity   int           `json:"quantity"`
	Reason     string        `json:"reason,omitempty"`
	By         events.Actor  `json:"by"`
	At         time.Time     `json:"at"`
}

// ReinforcementAccepted is the prefecture's yes: in full when Quantity is the
// quantity requested, in part when it is less.
type ReinforcementAccepted struct {
	Quantity int          `json:"quantity"`
	Note     string       `json:"note,omitempty"`
	By       events.Actor `json:"by"`
	At       time.Time    `json:"at"`
}

// ReinforcementRefused is the prefecture's no, always with its reason.
type ReinforcementRefused struct {
	Reason string       `json:"reason"`
	By     events.Actor `json:"by"`
	At     time.Time    `json:"at"`
}

// ReinforcementDispatched: the prefecture has sent the accepted means.
type ReinforcementDispatched struct {
	By events.Actor `json:"by"`
	At time.Time    `json:"at"`
}

// ReinforcementArrived: the commune confirms the means are on site.
type ReinforcementArrived struct {
	By events.Actor `json:"by"`
	At time.Time    `json:"at"`
}

// ReinforcementReleased: the means are no longer needed and go back.
type ReinforcementReleased struct {
	By events.Actor `json:"by"`
	At time.Time    `json:"at"`
}

func (ReinforcementRequested) EventType() string  { return "ReinforcementRequested" }
func (ReinforcementAccepted) EventType() string   { return "ReinforcementAccepted" }
func (ReinforcementRefused) EventType() string    { return "ReinforcementRefused" }
func (ReinforcementDispatched) EventType() string { return "ReinforcementDispatched" }
func (ReinforcementArrived) EventType() string    { return "ReinforcementArrived" }
func (ReinforcementReleased) EventType() string   { return "ReinforcementReleased" }

// Events lists one value of every event type of a request's stream: the list every
// consumer's exhaustiveness test walks, so that a new event type fails the test of
// each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{
		ReinforcementRequested{}, ReinforcementAccepted{}, ReinforcementRefused{},
		ReinforcementDispatched{}, ReinforcementArrived{}, ReinforcementReleased{},
	}
}

// Register adds the reinforcement events, at their current schema versions, to r.
func Register(r *events.Registry) error {
	return errors.Join(
		events.Register[ReinforcementRequested](r, 1),
		events.Register[ReinforcementAccepted](r, 1),
		events.Register[ReinforcementRefused](r, 1),
		events.Register[ReinforcementDispatched](r, 1),
		events.Register[ReinforcementArrived](r, 1),
		events.Register[ReinforcementReleased](r, 1),
	)
}
