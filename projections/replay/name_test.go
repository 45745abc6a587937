package replay_test

import (
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/replay"
	"vigie/projections/timeline"
)

// The report's Acteur column names a person by the name their event recorded, once
// (the role has its own column), and by the subject for an event without one.
func TestTheReportNamesTheActorElseShowsTheSubject(t *testing.T) {
	at := time.Date(2026, 9, 14, 4, 12, 0, 0, time.UTC)
	entry := func(subject, name string) replay.ReportEntry {
		return replay.ReportEntry{Entry: timeline.Entry{At: at, Domain: "dep:30/com:30189", Actor: subject, ActorName: name,
			Role: events.RoleRAC, Type: "IncidentReported", StreamID: "incident-1", Summary: "Crue du Vistre", EventID: "evt-" + name},
			TypeLabel: "incident signalé", RoleLabel: "responsable des actions communales", Place: "Nîmes"}
	}
	rep := &replay.Report{Domain: "dep:30/com:30189", Place: "Nîmes", To: at, GeneratedAt: at, Names: map[string]string{},
		Timeline: []replay.ReportEntry{entry("rac-nimes", "Marie Durand"), entry("op-nimes", "")}}
	var page strings.Builder
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if !strings.Contains(html, "<td>Marie Durand</td>") || strings.Contains(html, ">rac-nimes<") {
		t.Errorf("the named actor is not shown by their name alone:\n%s", html)
	}
	if !strings.Contains(html, "<td>op-nimes</td>") {
		t.Errorf("the actor without a name is not shown by their subject:\n%s", html)
	}
}
