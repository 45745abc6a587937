package role_test

import (
	"testing"

	"vigie/events"
	"vigie/events/role"
)

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := role.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range role.Events() {
		if seen[e.EventType()] {
			t.Errorf("%s listed twice", e.EventType())
		}
		seen[e.EventType()] = true
		if _, ok := r.Version(e.EventType()); !ok {
			t.Errorf("%s listed, not registered", e.EventType())
		}
	}
	if got := len(r.Types()); got != len(seen) {
		t.Errorf("%d types registered, %d listed", got, len(seen))
	}
}

// Every role event names its domain, the one whose stream it belongs in.
func TestDomainOfEveryEvent(t *testing.T) {
	for _, e := range role.Events() {
		if _, ok := role.DomainOf(e); !ok {
			t.Errorf("DomainOf(%s) is not a role event's", e.EventType())
		}
	}
}
