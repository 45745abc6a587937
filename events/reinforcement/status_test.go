package reinforcement_test

import (
	"testing"

	"vigie/events"
	"vigie/events/reinforcement"
	"vigie/events/resource"
)

func TestStatusAfter(t *testing.T) {
	for _, tc := range []struct {
		cur       reinforcement.Status
		requested int
		e         events.Event
		want      reinforcement.Status
		changed   bool
	}{
		{"", 0, reinforcement.ReinforcementRequested{Quantity: 3}, reinforcement.StatusRequested, true},
		{reinforcement.StatusRequested, 3, reinforcement.ReinforcementAccepted{Quantity: 3}, reinforcement.StatusAccepted, true},
		{reinforcement.StatusRequested, 3, reinforcement.ReinforcementAccepted{Quantity: 2}, reinforcement.StatusPartiallyAccepted, true},
		{reinforcement.StatusRequested, 3, reinforcement.ReinforcementRefused{}, reinforcement.StatusRefused, true},
		{reinforcement.StatusAccepted, 3, reinforcement.ReinforcementDispatched{}, reinforcement.StatusDispatched, true},
		{reinforcement.StatusDispatched, 3, reinforcement.ReinforcementArrived{}, reinforcement.StatusArrived, true},
		{reinforcement.StatusArrived, 3, reinforcement.ReinforcementReleased{}, reinforcement.StatusReleased, true},
		// Another stream's event moves nothing.
		{reinforcement.StatusArrived, 3, resource.ResourceEngaged{}, reinforcement.StatusArrived, false},
	} {
		got, changed := reinforcement.StatusAfter(tc.cur, tc.requested, tc.e)
		if got != tc.want || changed != tc.changed {
			t.Errorf("%s from %q (%d requested): %q, %v; want %q, %v", tc.e.EventType(), tc.cur, tc.requested, got, changed, tc.want, tc.changed)
		}
	}
}

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := reinforcement.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range reinforcement.Events() {
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
