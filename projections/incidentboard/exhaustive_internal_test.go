package incidentboard

import (
	"testing"

	"vigie/events/incident"
	"vigie/projections"
)

// The commune's board handles every event of an incident's stream: a new event type
// in the contract fails here until apply says what it does to the board.
func TestTheBoardHandlesEveryIncidentEvent(t *testing.T) {
	for _, e := range incident.Events() {
		doc := &Incident{Status: string(incident.StatusClosed), Qualified: true}
		entry, changed := apply(doc, projections.Event{Event: e})
		if entry == nil && !changed {
			t.Errorf("the incident board ignores %s", e.EventType())
		}
	}
}
