package prefecture

import (
	"testing"

	"vigie/events/incident"
	"vigie/events/reinforcement"
)

// The prefecture's overview handles every event of an incident's stream but the ones
// it leaves out on purpose: a new event type in the contract fails here until
// applyIncident handles it or it is named below.
func TestTheOverviewHandlesEveryIncidentEvent(t *testing.T) {
	leftOut := map[string]bool{
		"LogEntryAdded": true, // the overview shows no main courante: the commune's board does
	}
	for _, e := range incident.Events() {
		doc := &Incident{Status: string(incident.StatusClosed), Qualified: true}
		if got := applyIncident(doc, e); got == leftOut[e.EventType()] {
			t.Errorf("%s: changed the overview %v, want %v", e.EventType(), got, !leftOut[e.EventType()])
		}
	}
}

// The overview handles every event of a reinforcement request's stream: a new event
// type in the contract fails here until applyRequest says what it does to the request.
func TestTheOverviewHandlesEveryReinforcementEvent(t *testing.T) {
	for _, e := range reinforcement.Events() {
		doc := &Reinforcement{ID: "rf-1", Status: string(reinforcement.StatusRequested), Quantity: 3}
		if !applyRequest(doc, e) {
			t.Errorf("the overview ignores %s", e.EventType())
		}
	}
}
