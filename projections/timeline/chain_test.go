package timeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/projectiontest"
	"vigie/projections/timeline"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/resident"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

// The causal chain of an incident's escalation, and of an alert drafted about the
// incident, leads back to the report; alert and resident events are summarized
// without personal data.
func TestCausalChainLeadsBackToTheReport(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, incident.Register, resource.Register, alert.Register, resident.Register)
	proj, err := timeline.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 4)

	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("A"), Domain: nimes, Kind: incident.KindFlood, Title: "Crue du Vistre"}, by, at)
	})
	s.inc("B", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("B"), Domain: nimes, Kind: incident.KindStorm, Title: "Toiture envolée"}, by, at)
	})
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlashFlood, Severity: incident.SeveritySevere}, by, at)
	})
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Moyens dépassés", by, at)
	})
	// A resident registers: sealed contact details, never shown.
	s.Raw(events.StreamID(events.CategoryResident, s.ID("r1")), mayor, nimes, resident.ResidentRegistered{ResidentID: s.ID("r1"), Domain: nimes,
		Channels: []string{"SMS", "EMAIL"}, Language: "fr-FR", ConsentText: "J'accepte", Sealed: []byte("06 12 34 56 78 Dupont"), By: mayor.Subject, At: s.Now()})
	// Two alerts about A: X drafted by the gateway with the incident's last event as
	// its cause, Y with no cause but the incident it names.
	projectiontest.WaitCaughtUp(t, rdb, st, timeline.Name)
	entries, err := timeline.Reader{Redis: rdb}.Range(ctx, nimes, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil || len(entries) != 5 {
		t.Fatalf("entries: %d, %v", len(entries), err)
	}
	escalation := entries[3]
	draft := func(name string) alert.AlertDrafted {
		return alert.AlertDrafted{AlertID: s.ID(name), Domain: nimes, IncidentID: s.ID("A"), Content: alert.Content{Headline: "Évacuez les berges"}, By: rac.Subject, At: s.Now()}
	}
	md := events.NewMetadata(s.CommandID("draft"), rac, nimes, s.Now())
	md = md.Caused(events.Metadata{EventID: escalation.EventID, CorrelationID: escalation.CorrelationID})
	s.RawWith("alert-"+s.ID("X"), []events.Event{draft("X")}, []events.Metadata{md})
	s.Raw("alert-"+s.ID("Y"), rac, nimes, draft("Y"))
	s.Raw("alert-"+s.ID("Y"), mayor, nimes, alert.AlertApproved{By: mayor.Subject, At: s.Now()})
	projectiontest.WaitCaughtUp(t, rdb, st, timeline.Name)
	entries, err = timeline.Reader{Redis: rdb}.Range(ctx, nimes, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil || len(entries) != 8 {
		t.Fatalf("entries: %d, %v", len(entries), err)
	}

	types := func(chain []timeline.Entry) string {
		var out []string
		for _, e := range chain {
			out = append(out, e.Type)
		}
		return strings.Join(out, " ← ")
	}
	for _, c := range []struct {
		of   timeline.Entry
		want string
	}{
		{escalation, "IncidentEscalated ← IncidentQualified ← IncidentReported"},
		{entries[5], "AlertDrafted ← IncidentEscalated ← IncidentQualified ← IncidentReported"},
		{entries[7], "AlertApproved ← AlertDrafted ← IncidentEscalated ← IncidentQualified ← IncidentReported"},
	} {
		chain, err := timeline.Reader{Redis: rdb}.Chain(ctx, gard, c.of.EventID)
		if err != nil {
			t.Fatal(err)
		}
		if got := types(chain); got != c.want {
			t.Errorf("chain of %s: %s, want %s", c.of.Summary, got, c.want)
		}
		if last := chain[len(chain)-1]; last.StreamID != "incident-"+s.ID("A") {
			t.Errorf("chain ends in %s", last.StreamID)
		}
	}
	if x := entries[5]; x.CausationID != escalation.EventID || x.CorrelationID != escalation.CorrelationID || x.About != "incident-"+s.ID("A") {
		t.Errorf("drafted alert = %+v", x)
	}
	wantSummaries := []string{"Résident inscrit (2 canaux)", "Alerte rédigée : « Évacuez les berges » pour l'incident « Crue du Vistre »", "Alerte approuvée"}
	for i, e := range []timeline.Entry{entries[4], entries[5], entries[7]} {
		if e.Summary != wantSummaries[i] {
			t.Errorf("summary %q, want %q", e.Summary, wantSummaries[i])
		}
	}
	for _, m := range projectiontest.Dump(t, rdb, "*") {
		if strings.Contains(m, "Dupont") || strings.Contains(m, "06 12") || strings.Contains(m, "J'accepte") {
			t.Errorf("personal data in the timeline: %.300s", m)
		}
	}
}
