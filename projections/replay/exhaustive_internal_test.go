package replay

import (
	"testing"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/resource"
	"vigie/projections"
)

// The delays read the events of incidents, resources and alerts that start or end a
// decision, and leave the others out on purpose: a new event type in one of these
// contracts fails here until the tracker reads it or it is named below, so that a new
// step of a decision (a new way an alert reaches people, say) is not silently left out
// of the after-action review.
func TestTheDelaysReadEveryEventOrSayWhyNot(t *testing.T) {
	leftOut := map[string]string{
		// Incidents: the delays are report → qualification → engagement.
		"LogEntryAdded":      "the main courante decides nothing",
		"IncidentEscalated":  "no delay ends at an escalation",
		"IncidentStabilized": "no delay ends at a stabilization",
		"IncidentClosed":     "no delay ends at a closing",
		"IncidentReopened":   "a reopening starts no delay: the first qualification counts",
		// Resources: only the first engagement on an incident ends a delay.
		"ResourceRegistered":      "a resource's registration is no decision about an incident",
		"ResourceReleased":        "no delay ends at a release",
		"ResourceStatusChanged":   "a resource's status is no decision about an incident",
		"ShelterOccupancyChanged": "a shelter's occupancy is no decision",
		// Alerts: draft → approval → first delivery, FR-Alert request → decision.
		"AlertRevised":         "the draft's time starts the delay, whatever its revisions",
		"AlertSubmitted":       "the delay to approval runs from the draft",
		"AlertRejected":        "a rejection ends no delay: the approval does",
		"AlertExpired":         "no delay ends at an expiry",
		"AlertDispatchStarted": "a start reaches nobody yet: the first delivery counts",
		"AlertSent":            "DeliveriesRecorded says who was reached, AlertSent only that it ended",
		"AlertDispatchFailed":  "a failure reaches nobody",
	}
	var all []events.Event
	for _, list := range [][]events.Event{incident.Events(), resource.Events(), alert.Events()} {
		all = append(all, list...)
	}
	for _, e := range all {
		_, out := leftOut[e.EventType()]
		if read := NewTracker().add(projections.Event{StreamID: "x-1", Event: e}); read == out {
			t.Errorf("%s: read by the delays %v, want %v", e.EventType(), read, !out)
		}
	}
}
