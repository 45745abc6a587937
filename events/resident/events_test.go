package resident_test

import (
	"testing"

	"vigie/events"
	"vigie/events/resident"
)

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := resident.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range resident.Events() {
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

func TestStreams(t *testing.T) {
	if got := resident.StreamID("r-1"); got != "resident-r-1" {
		t.Errorf("StreamID = %q", got)
	}
	if got := resident.KeyStreamID("r-1"); got != "residentkey-r-1" || events.Category(got) != resident.KeyCategory {
		t.Errorf("KeyStreamID = %q", got)
	}
}
