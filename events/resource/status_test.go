package resource_test

import (
	"testing"

	"vigie/events"
	"vigie/events/resource"
)

func TestStatusAfter(t *testing.T) {
	for _, tc := range []struct {
		cur      resource.Status
		incident string
		e        events.Event
		want     resource.Status
		on       string
		changed  bool
	}{
		{"", "", resource.ResourceRegistered{}, resource.StatusAvailable, "", true},
		{resource.StatusAvailable, "", resource.ResourceEngaged{IncidentID: "inc-7"}, resource.StatusEngaged, "inc-7", true},
		{resource.StatusEngaged, "inc-7", resource.ShelterOccupancyChanged{Occupancy: 3}, resource.StatusEngaged, "inc-7", false},
		{resource.StatusEngaged, "inc-7", resource.ResourceReleased{IncidentID: "inc-7"}, resource.StatusAvailable, "", true},
		{resource.StatusAvailable, "", resource.ResourceStatusChanged{Status: resource.StatusUnavailable}, resource.StatusUnavailable, "", true},
		// Setting the status it has moves nothing.
		{resource.StatusUnavailable, "", resource.ResourceStatusChanged{Status: resource.StatusUnavailable}, resource.StatusUnavailable, "", false},
		// A resource that is not engaged is on no incident.
		{resource.StatusEngaged, "inc-7", resource.ResourceStatusChanged{Status: resource.StatusDemobilized}, resource.StatusDemobilized, "", true},
	} {
		got, on, changed := resource.StatusAfter(tc.cur, tc.incident, tc.e)
		if got != tc.want || on != tc.on || changed != tc.changed {
			t.Errorf("%s from %q on %q: %q on %q, %v; want %q on %q, %v", tc.e.EventType(), tc.cur, tc.incident, got, on, changed, tc.want, tc.on, tc.changed)
		}
	}
}

func TestOpenStatuses(t *testing.T) {
	for _, s := range resource.Statuses() {
		want := s == resource.StatusAvailable || s == resource.StatusEngaged
		if s.Open() != want {
			t.Errorf("%s open: %v, want %v", s, s.Open(), want)
		}
	}
}

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := resource.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range resource.Events() {
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
