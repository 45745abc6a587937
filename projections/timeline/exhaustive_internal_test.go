package timeline

import (
	"testing"

	"vigie/events/incident"
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
