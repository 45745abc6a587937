package dispatch

import (
	"testing"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/resident"
	"vigie/events/store"
)

// The dispatcher says what it does with every event of the residents' contract: a
// new event type fails here until observeResident handles it or leaves it out on
// purpose, instead of taking it for an alert's.
func TestTheDispatcherNamesEveryResidentEvent(t *testing.T) {
	d := &Dispatcher{}
	d.Directory()
	for _, e := range resident.Events() {
		if !d.observeResident(e, store.Recorded{StreamID: events.StreamID(events.CategoryResident, "r1")}) {
			t.Errorf("the dispatcher does not say what it does with %s", e.EventType())
		}
	}
	for _, e := range alert.Events() {
		if d.observeResident(e, store.Recorded{StreamID: events.StreamID(events.CategoryAlert, "a1")}) {
			t.Errorf("the dispatcher takes %s for a resident's event", e.EventType())
		}
	}
}

// So it does with every event of an alert's stream and of its dispatch journal.
func TestTheDispatcherNamesEveryAlertEvent(t *testing.T) {
	for _, e := range alert.Events() {
		if !newTracked().note(e, 1) {
			t.Errorf("the dispatcher does not say what it notes of %s", e.EventType())
		}
	}
}
