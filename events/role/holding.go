package role

import (
	"errors"
	"fmt"

	"vigie/events"
)

// Change is what one role event does to who holds what: the one rule the write side
// (the grants' aggregate, which decides the next grant) and the authorization (which
// enforces the grants) both follow, so they cannot disagree on who holds a role.
type Change int

const (
	// Requests: the grant waits for a second person; the subject holds nothing yet.
	Requests Change = iota + 1
	// Grants: the subject holds the role on the domain (and no request waits).
	Grants
	// Revokes: the subject neither holds the role nor waits for it.
	Revokes
)

// Effect is a role event's Change, and to whom, what and where it applies.
type Effect struct {
	Change                Change
	Subject, Role, Domain string
	By                    string // who decided it (for a request: who asked)
}

// ErrNotSecondPerson: a RoleGrantConfirmed by the one who asked, by the one it
// empowers, or by nobody. The domain never decides such a confirmation; one recorded
// anyway was written around the Roles API and confirms nothing.
var ErrNotSecondPerson = errors.New("role: a confirmation must be a second person's")

// ErrUnknownEvent: the event is none of the role stream's (Events lists them).
var ErrUnknownEvent = errors.New("role: not a role event")

// EffectOf says what e does to the role holdings, or why it does nothing.
func EffectOf(e events.Event) (Effect, error) {
	switch e := e.(type) {
	case RoleGranted:
		return Effect{Grants, e.Subject, e.Role, e.Domain, e.By}, nil
	case RoleGrantRequested:
		return Effect{Requests, e.Subject, e.Role, e.Domain, e.By}, nil
	case RoleGrantConfirmed:
		if e.By == "" || e.By == e.RequestedBy || e.By == e.Subject {
			return Effect{}, fmt.Errorf("%w: confirmed by %q, requested by %q, for %q", ErrNotSecondPerson, e.By, e.RequestedBy, e.Subject)
		}
		return Effect{Grants, e.Subject, e.Role, e.Domain, e.By}, nil
	case RoleRevoked:
		return Effect{Revokes, e.Subject, e.Role, e.Domain, e.By}, nil
	}
	return Effect{}, fmt.Errorf("%w: %s", ErrUnknownEvent, e.EventType())
}
