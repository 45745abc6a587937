package timeline

import (
	"testing"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resident"
	"vigie/events/resource"
	"vigie/events/role"
)

// The timeline says every event of an incident's stream in French: a new event type in
// the contract fails here until summary has a sentence for it (its fallback is the
// event's type name, which no person should read).
func TestTheTimelineSaysEveryIncidentEvent(t *testing.T) {
	for _, e := range incident.Events() {
		if got := summary(e); got == e.EventType() || got == "" {
			t.Errorf("the timeline shows %s as %q", e.EventType(), got)
		}
	}
}

// So it does for every other context whose streams it follows, but for the events
// it leaves out on purpose, named below (and which must then be left out indeed).
func TestTheTimelineSaysEveryEventOfEveryContext(t *testing.T) {
	leftOut := map[string]bool{
		// The timeline does not follow residentkey- streams: no read model holds a key.
		"ResidentKeyIssued":  true,
		"ResidentKeyWrapped": true,
	}
	for _, c := range []struct {
		context string
		events  []events.Event
	}{
		{"resource", resource.Events()},
		{"reinforcement", reinforcement.Events()},
		{"alert", alert.Events()},
		{"resident", resident.Events()},
		{"role", role.Events()},
	} {
		for _, e := range c.events {
			got := summary(e)
			said := got != e.EventType() && got != ""
			if said == leftOut[e.EventType()] {
				t.Errorf("%s: the timeline shows %s as %q", c.context, e.EventType(), got)
			}
		}
	}
}
