package drill_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/resource"
	"vigie/graph/drill"
	"vigie/identity"
	"vigie/services/incidents"
)

// call is one mutation the fake gateway received.
type call struct {
	op, subject, grant string
	vars               map[string]any
}

// fakeGateway answers every mutation with a new id and records who sent what.
func fakeGateway(t *testing.T, pub ed25519.PublicKey) (*httptest.Server, func() []call) {
	var mu sync.Mutex
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if r.URL.Path != "/graphql" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		p, err := identity.Verify(pub, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil || len(p.Grants) != 1 {
			fmt.Fprintf(w, `{"errors":[{"message":"%v","extensions":{"code":"UNAUTHENTICATED"}}]}`, err)
			return
		}
		// The operation is the field after the first "{ " of the mutation.
		_, rest, _ := strings.Cut(req.Query, "{ ")
		op, _, _ := strings.Cut(rest, "(")
		mu.Lock()
		calls = append(calls, call{op: op, subject: p.Subject, grant: p.Grants[0].Role + "@" + p.Grants[0].Domain, vars: req.Variables})
		id := fmt.Sprintf("ex-%d", len(calls))
		mu.Unlock()
		fmt.Fprintf(w, `{"data":{%q:{"id":%q}}}`, op, id)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []call { mu.Lock(); defer mu.Unlock(); return append([]call(nil), calls...) }
}

// A drill sends each recorded command as its exercise twin, maps the recorded ids to
// the exercise's (a log entry's as the incidents service derives it), derives its
// command ids from the recorded events, keeps FR-Alert out, and says why it skips
// what it skips.
func TestADrillReissuesTheCommandsAsTheExerciseTwins(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, calls := fakeGateway(t, pub)
	const real, exercise = "dep:30/com:30189", "dep:30/com:30999"
	t0 := time.Now().Add(-time.Hour)
	rac := events.Metadata{Actor: "rac-30189", Role: "rac", Domain: real}
	pref := events.Metadata{Actor: "cod-30", Role: "prefecture", Domain: real}
	var recorded []drill.Recorded
	add := func(stream string, md events.Metadata, e events.Event) {
		md.EventID = fmt.Sprintf("ev-%d", len(recorded)+1)
		recorded = append(recorded, drill.Recorded{Stream: stream, ID: md.EventID, Event: e, Meta: md, At: t0.Add(time.Duration(len(recorded)) * 100 * time.Millisecond)})
	}
	add("incident-A", rac, incident.IncidentReported{IncidentID: "A", Domain: real, Kind: incident.KindFlood, Title: "Crue du Vistre"})
	add("incident-A", rac, incident.LogEntryAdded{EntryID: "e1", Text: "Vistre à 2 m"})
	add("incident-A", rac, incident.LogEntryAdded{EntryID: "e2", Text: "Vistre à 2,10 m", Corrects: "e1"})
	add("incident-A", pref, incident.IncidentQualified{Kind: incident.KindFlashFlood, Severity: incident.SeveritySevere})
	add("resource-R", rac, resource.ResourceEngaged{IncidentID: "A"})
	add("alert-X", rac, alert.AlertDrafted{AlertID: "X", Domain: real, IncidentID: "A",
		Content:  alert.Content{Event: "Crue", Headline: "Montez à l'étage", Severity: alert.SeveritySevere},
		Channels: []alert.Channel{alert.ChannelSMS, alert.ChannelFrAlert}})
	add("alert-X", pref, alert.FrAlertValidated{})

	d, err := drill.New(drill.Config{From: real, To: exercise, Speed: 1000, Key: key, Gateway: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []drill.Step
	sum, err := d.Run(context.Background(), recorded, func(s drill.Step) { steps = append(steps, s) })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 5 || sum.Skipped != 2 || sum.Failed != 0 || sum.Span != 600*time.Millisecond || len(steps) != 7 {
		t.Fatalf("summary %+v, %d steps", sum, len(steps))
	}
	if s := steps[4]; !strings.Contains(s.Skipped, "resource-R was not replayed") {
		t.Errorf("the engagement of a resource never registered: %+v", s)
	}
	if s := steps[6]; s.Skipped == "" || s.Op != "" {
		t.Errorf("FR-Alert's validation: %+v", s)
	}
	got := calls()
	want := []struct{ op, subject, grant string }{
		{"reportIncident", "rac-30189-exercice", "rac@" + exercise},
		{"addLogEntry", "rac-30189-exercice", "rac@" + exercise},
		{"correctLogEntry", "rac-30189-exercice", "rac@" + exercise},
		{"qualifyIncident", "cod-30-exercice", "prefecture@dep:30"},
		{"draftAlert", "rac-30189-exercice", "rac@" + exercise},
	}
	if len(got) != len(want) {
		t.Fatalf("the gateway received %d mutations, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].op != w.op || got[i].subject != w.subject || got[i].grant != w.grant {
			t.Errorf("mutation %d: %s as %s (%s), want %s as %s (%s)", i+1, got[i].op, got[i].subject, got[i].grant, w.op, w.subject, w.grant)
		}
		if c := "drill:" + exercise + ":" + recorded[i].ID; i < 4 && got[i].vars["c"] != c {
			t.Errorf("mutation %d: command id %v, want %s", i+1, got[i].vars["c"], c)
		}
	}
	if in := got[0].vars["in"].(map[string]any); in["domain"] != exercise || got[1].vars["id"] != "ex-1" {
		t.Errorf("the report went to %v, the log entry to %v", in["domain"], got[1].vars["id"])
	}
	if entry := incidents.LogEntryID("ex-1", "rac-30189-exercice", "drill:"+exercise+":ev-2"); got[2].vars["e"] != entry {
		t.Errorf("the correction names entry %v, want the exercise's %s", got[2].vars["e"], entry)
	}
	in := got[4].vars["in"].(map[string]any)
	if in["exercise"] != true || in["incidentId"] != "ex-1" || fmt.Sprint(in["channels"]) != "[SMS]" {
		t.Errorf("the exercise alert: %v", in)
	}
}

// A drill never writes into the real crisis nor into a département.
func TestADrillRefusesTheRecordedCommuneOrADepartement(t *testing.T) {
	for _, to := range []string{"dep:30/com:30189", "dep:30", "nowhere"} {
		if _, err := drill.New(drill.Config{From: "dep:30/com:30189", To: to, Speed: 10}); err == nil {
			t.Errorf("a drill into %s was accepted", to)
		}
	}
}
