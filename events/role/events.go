package role

import (
	"time"

	"vigie/events"
)

// RoleGranted records that Subject now holds Role on Domain, granted by the
// admin whose subject is By.
type RoleGranted struct {
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Domain  string    `json:"domain"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// RoleRevoked records that Subject no longer holds Role on Domain, nor waits
// for it: it also withdraws a grant still waiting for its confirmation.
type RoleRevoked struct {
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Domain  string    `json:"domain"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// RoleGrantRequested records that the admin By asked for Subject to hold a
// role whose powers need two people (NeedsConfirmation): it grants nothing
// until someone else confirms it.
type RoleGrantRequested struct {
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Domain  string    `json:"domain"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// RoleGrantConfirmed records that By, another person than RequestedBy (a
// second admin, or the prefecture for a commune's mayor), confirmed the
// request: from this event on, Subject holds Role on Domain.
type RoleGrantConfirmed struct {
	Subject     string    `json:"subject"`
	Role        string    `json:"role"`
	Domain      string    `json:"domain"`
	RequestedBy string    `json:"requestedBy"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

func (RoleGranted) EventType() string        { return "RoleGranted" }
func (RoleRevoked) EventType() string        { return "RoleRevoked" }
func (RoleGrantRequested) EventType() string { return "RoleGrantRequested" }
func (RoleGrantConfirmed) EventType() string { return "RoleGrantConfirmed" }

// DomainOf is the domain a role event names, and whether e is one: a role
// event is valid only in the stream of that domain (StreamID), the
// one its author was authorized on.
func DomainOf(e events.Event) (string, bool) {
	switch e := e.(type) {
	case RoleGranted:
		return e.Domain, true
	case RoleRevoked:
		return e.Domain, true
	case RoleGrantRequested:
		return e.Domain, true
	case RoleGrantConfirmed:
		return e.Domain, true
	}
	return "", false
}

// Events lists one value of every event type of a domain's role stream: the list
// every consumer's exhaustiveness test walks, so that a new event type fails the test
// of each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{RoleGranted{}, RoleRevoked{}, RoleGrantRequested{}, RoleGrantConfirmed{}}
}

// Register adds the role events to r at their current schema versions.
func Register(r *events.Registry) error {
	if err := events.Register[RoleGranted](r, 1); err != nil {
		return err
	}
	if err := events.Register[RoleRevoked](r, 1); err != nil {
		return err
	}
	if err := events.Register[RoleGrantRequested](r, 1); err != nil {
		return err
	}
	return events.Register[RoleGrantConfirmed](r, 1)
}
