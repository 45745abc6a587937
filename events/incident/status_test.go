package incident_test

import (
	"testing"

	"vigie/events"
	"vigie/events/incident"
)

func TestStatusAfter(t *testing.T) {
	for _, tc := range []struct {
		cur       incident.Status
		qualified bool
		e         events.Event
		want      incident.Status
		changed   bool
	}{
		{"", false, incident.IncidentReported{}, incident.StatusReported, true},
		{incident.StatusReported, false, incident.IncidentQualified{}, incident.StatusQualified, true},
		// A later qualification leaves the status as it is.
		{incident.StatusEscalated, true, incident.IncidentQualified{}, incident.StatusEscalated, false},
		{incident.StatusQualified, true, incident.LogEntryAdded{}, incident.StatusQualified, false},
		{incident.StatusQualified, true, incident.IncidentEscalated{}, incident.StatusEscalated, true},
		{incident.StatusEscalated, true, incident.IncidentStabilized{}, incident.StatusStabilized, true},
		{incident.StatusStabilized, true, incident.IncidentClosed{}, incident.StatusClosed, true},
		{incident.StatusClosed, true, incident.IncidentReopened{}, incident.StatusQualified, true},
		{incident.StatusClosed, false, incident.IncidentReopened{}, incident.StatusReported, true},
	} {
		got, changed := incident.StatusAfter(tc.cur, tc.qualified, tc.e)
		if got != tc.want || changed != tc.changed {
			t.Errorf("%s from %q (qualified %v): %q, %v; want %q, %v", tc.e.EventType(), tc.cur, tc.qualified, got, changed, tc.want, tc.changed)
		}
	}
}

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := incident.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range incident.Events() {
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
