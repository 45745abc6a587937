package incidentboard

import (
	"testing"

	"vigie/events/incident"
	"vigie/events/resource"
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

// The commune's board shows the resources engaged on each incident, from the
// resources' streams: a new event type of a resource's stream fails here until apply
// handles it or it is named below.
func TestTheBoardHandlesEveryResourceEventOrSaysWhyNot(t *testing.T) {
	leftOut := map[string]bool{
		// The incident's document lists the resources engaged on it; what a resource
		// is, its status and a shelter's occupancy are the resource board's.
		"ResourceRegistered":      true,
		"ResourceStatusChanged":   true,
		"ShelterOccupancyChanged": true,
	}
	for _, e := range resource.Events() {
		doc := &Incident{Status: string(incident.StatusQualified), Qualified: true, Resources: []string{}}
		entry, changed := apply(doc, projections.Event{StreamID: "resource-r1", Event: e})
		if handled := entry != nil || changed; handled == leftOut[e.EventType()] {
			t.Errorf("%s: changed the incident board %v, want %v", e.EventType(), handled, !leftOut[e.EventType()])
		}
	}
}
