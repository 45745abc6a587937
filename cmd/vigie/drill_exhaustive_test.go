package main

import (
	"testing"

	"vigie/events/incident"
)

// The drill replays every person's command on an incident: a new event type in the
// contract fails here until the drill says whether it replays it (and how, translate).
func TestTheDrillReplaysEveryIncidentEvent(t *testing.T) {
	for _, e := range incident.Events() {
		if !replayable(e) {
			t.Errorf("the drill does not replay %s", e.EventType())
		}
	}
}
