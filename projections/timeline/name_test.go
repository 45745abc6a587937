package timeline_test

import (
	"context"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/projectiontest"
	"vigie/projections/timeline"
	"vigie/services/incidents/incident"
)

// The timeline says who decided by the name the event recorded, and by the subject
// for an event recorded without one (before names were, or a token without one).
func TestTimelineShowsTheActorsNameElseTheSubject(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, incident.Register)
	proj, err := timeline.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 4)
	named := events.Actor{Subject: "rac-nimes", Role: events.RoleRAC, Name: "Marie Durand"}
	s.inc("N", nimes, named, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("N"), Domain: nimes, Kind: incident.KindFlood, Title: "Crue du Vistre", Severity: incident.SeverityModerate}, by, at)
	})
	s.inc("N", nimes, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlood, Severity: incident.SeveritySevere}, by, at)
	})
	projectiontest.WaitCaughtUp(t, rdb, st, timeline.Name)
	all, err := timeline.Reader{Redis: rdb}.Range(ctx, nimes, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d entries: %+v", len(all), all)
	}
	if e := all[0]; e.Actor != "rac-nimes" || e.ActorName != "Marie Durand" || e.Who() != "Marie Durand" || e.Role != events.RoleRAC {
		t.Errorf("named entry = %+v (shown as %q)", e, e.Who())
	}
	if e := all[1]; e.ActorName != "" || e.Who() != rac.Subject {
		t.Errorf("entry without a name = %+v (shown as %q), want its subject", e, e.Who())
	}
}
