package drill

import (
	"testing"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resource"
)

// replaysOrSaysWhy reports whether the drill replays e, failing the test when it says
// it does but translate has neither a command for it nor a reason to skip it.
func replaysOrSaysWhy(t *testing.T, e events.Event) bool {
	t.Helper()
	if !replayable(e) {
		return false
	}
	d := &Drill{to: "dep:30/com:30999", dep: "dep:30", ids: map[string]string{"1": "ex-1"}, entries: map[string]string{}}
	is, why := d.translate(Recorded{Stream: "x-1", Event: e}, func(t time.Time) time.Time { return t })
	if is == nil && why == "" {
		t.Errorf("the drill says it replays %s, but translate has no command for it", e.EventType())
	}
	return true
}

// The drill replays every person's command on an incident: a new event type in the
// contract fails here until the drill says whether it replays it (and how, translate).
func TestTheDrillReplaysEveryIncidentEvent(t *testing.T) {
	for _, e := range incident.Events() {
		if !replaysOrSaysWhy(t, e) {
			t.Errorf("the drill does not replay %s", e.EventType())
		}
	}
}

// So it does for resources, reinforcement requests and alerts, but for the events it
// leaves out on purpose, named below (and which it must then leave out indeed).
// Residents and role grants are not replayed at all: the drill reads none of their
// streams (crisisCategories).
func TestTheDrillReplaysEveryCommandOfTheCrisis(t *testing.T) {
	leftOut := map[string]string{
		"FrAlertRequested":          "follows the approval of an alert with FR_ALERT: the domain writes it, no person asks",
		"FrAlertBroadcastConfirmed": "FR-Alert is never used in an exercise",
		"AlertExpired":              "the system's, when the expiry has passed",
		"AlertDispatchStarted":      "the dispatcher's",
		"AlertSent":                 "the dispatcher's",
		"AlertDispatchFailed":       "the dispatcher's",
		"DeliveriesRecorded":        "the dispatcher's journal",
	}
	for _, c := range []struct {
		context string
		events  []events.Event
	}{
		{"resource", resource.Events()},
		{"reinforcement", reinforcement.Events()},
		{"alert", alert.Events()},
	} {
		for _, e := range c.events {
			_, out := leftOut[e.EventType()]
			if replays := replaysOrSaysWhy(t, e); replays == out {
				t.Errorf("%s: the drill replays %s %v, want %v", c.context, e.EventType(), replays, !out)
			}
		}
	}
}
