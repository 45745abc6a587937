package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/projections/projectiontest"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

// vigie replay on the data directory of a stopped embedded store, without Redis: the
// boards at an instant as JSON (values spelt as GraphQL spells them), the timeline up
// to it, and the after-action report.
func TestReplayPrintsTheBoardsAtAnInstantAndWritesTheReport(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("EVENTSTORE_URL", "")
	dir := t.TempDir()
	es, err := embedded.Open(embedded.Config{Dir: filepath.Join(dir, "eventstore")})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := es.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s := projectiontest.NewScript(t, st, incident.Register, resource.Register)
	mayor := events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	const nimes = "dep:30/com:30189"
	do := func(decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) {
		projectiontest.Do(s, func() *incident.Incident { return &incident.Incident{} }, events.CategoryIncident, "A", mayor, nimes, decide)
	}
	do(func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("A"), Domain: nimes, Kind: incident.KindFlood, Title: "Crue du Vistre"}, by, at)
	})
	do(func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlashFlood, Severity: incident.SeveritySevere}, by, at)
	})
	between := s.Start.Add(2*s.Tick + s.Tick/2)
	do(func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Close("Décrue", by, at)
	})
	st.Close()
	srv.Close()
	es.Close()

	report := filepath.Join(dir, "retex.html")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"replay", "--at", between.Format(time.RFC3339), "--data", dir, "--domain", "dep:30", "--report", report}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		Events int `json:"events"`
		Boards []struct {
			Domain    string `json:"domain"`
			Incidents []struct {
				Title, Status, Severity string
			} `json:"incidents"`
		} `json:"boards"`
		Timeline []struct{ Type, Summary string } `json:"timeline"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if out.Events != 2 || len(out.Boards) != 1 || len(out.Boards[0].Incidents) != 1 || out.Boards[0].Incidents[0].Status != "QUALIFIED" || out.Boards[0].Incidents[0].Severity != "SEVERE" || len(out.Timeline) != 2 {
		t.Errorf("replay at %s: %s", between, stdout.String())
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Retour d'expérience", "Crue du Vistre", "Incident qualifié", "Signalement → qualification"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	// Without --at: a usage error.
	if code := run(context.Background(), []string{"replay", "--data", dir}, &stdout, &stderr); code != exitUsage {
		t.Errorf("without --at: exit %d", code)
	}
}
