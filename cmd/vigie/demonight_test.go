package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The demo records its crisis over a night, through the same commands as live: a
// replay at 23:30 shows the Gardon and the Vidourle in flood and nothing yet in Nîmes;
// at 03:30 the cadereaux are in flood, the Gardon stabilized and the landslide
// cleared. Before 21:00, replay says in French that the log had not begun. After the
// seed, the clock is the wall clock again: what is done live is recorded now.
func TestDemoNightReplayAt2330DiffersFrom0330(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	d, tokens := startDemoForTest(t, data)
	// Live use after the seed is at the real time.
	gql := &gqlClient{t: t, url: d.addr + "/graphql", http: &http.Client{Timeout: 30 * time.Second}}
	var incidents []struct{ ID, Title string }
	gql.do(tokens["rac-nimes"], `query { incidents(domain: "dep:30/com:30189") { id title } }`, nil, "incidents", &incidents)
	if len(incidents) == 0 {
		t.Fatal("the demo seeded no incident in Nîmes")
	}
	before := time.Now()
	gql.do(tokens["rac-nimes"], `mutation($id: ID!, $t: String!) { addLogEntry(incidentId: $id, text: $t, commandId: "test-live") { id } }`,
		map[string]any{"id": incidents[0].ID, "t": "Entrée ajoutée après la démonstration."}, "addLogEntry", nil)
	d.stop(t)

	night := demoNight(time.Now())
	at := func(hhmm string) time.Time {
		t.Helper()
		tm, err := demoInstant(night, hhmm)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	type board struct {
		Events int `json:"events"`
		Boards []struct {
			Domain    string `json:"domain"`
			Incidents []struct {
				Title, Kind, Status, Severity string
				Log                           []struct {
					At   time.Time `json:"at"`
					Text string    `json:"text"`
				} `json:"log"`
			} `json:"incidents"`
		} `json:"boards"`
	}
	replayAt := func(instant time.Time) (board, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"replay", "--data", data, "--domain", "dep:30", "--at", instant.Format(time.RFC3339)}, &stdout, &stderr); code != exitOK {
			t.Fatalf("replay at %s: exit %d: %s", instant, code, stderr.String())
		}
		var b board
		if err := json.Unmarshal(stdout.Bytes(), &b); err != nil || len(b.Boards) != 1 {
			t.Fatalf("replay at %s: %v: %s", instant, err, stdout.String())
		}
		return b, stdout.String()
	}
	statuses := func(b board) map[string]string {
		out := map[string]string{}
		for _, i := range b.Boards[0].Incidents {
			out[i.Title] = i.Status
		}
		return out
	}
	evening, eveningJSON := replayAt(at("23:30"))
	morning, morningJSON := replayAt(at("03:30"))
	if eveningJSON == morningJSON || evening.Events >= morning.Events {
		t.Errorf("the boards at 23:30 (%d events) and 03:30 (%d events) do not differ", evening.Events, morning.Events)
	}
	wantEvening := map[string]string{
		"Gardon d'Alès en crue — quais":           "QUALIFIED",
		"Éboulement route d'Anduze":               "REPORTED",
		"Débordement du Vidourle — centre ancien": "ESCALATED",
	}
	if got := statuses(evening); !maps.Equal(got, wantEvening) {
		t.Errorf("at 23:30: %v, want %v", got, wantEvening)
	}
	wantMorning := map[string]string{
		"Gardon d'Alès en crue — quais":           "STABILIZED",
		"Éboulement route d'Anduze":               "CLOSED",
		"Débordement du Vidourle — centre ancien": "ESCALATED",
		"Crue des cadereaux — quartier Richelieu": "QUALIFIED",
		"Route de Sauve coupée au pont du Vistre": "REPORTED",
	}
	if got := statuses(morning); !maps.Equal(got, wantMorning) {
		t.Errorf("at 03:30: %v, want %v", got, wantMorning)
	}
	// The CLI spells values as GraphQL does; and the main courante carries the night's
	// times, not the second the demo started.
	for _, i := range morning.Boards[0].Incidents {
		if i.Title == "Crue des cadereaux — quartier Richelieu" && (i.Kind != "FLASH_FLOOD" || i.Severity != "SEVERE") {
			t.Errorf("the cadereaux at 03:30: kind %q severity %q, want FLASH_FLOOD and SEVERE", i.Kind, i.Severity)
		}
		instants := map[time.Time]bool{}
		for _, e := range i.Log {
			if e.At.Before(night) || e.At.After(night.Add(7*time.Hour)) {
				t.Errorf("%s: main courante entry %q at %s, outside the night", i.Title, e.Text, e.At)
			}
			instants[e.At.UTC()] = true
		}
		if len(i.Log) > 1 && len(instants) == 1 {
			t.Errorf("%s: every entry of its main courante at one instant %v", i.Title, instants)
		}
	}

	// The entry added live is at the real time: the clock was given back.
	now, _ := replayAt(time.Now())
	found := false
	for _, i := range now.Boards[0].Incidents {
		for _, e := range i.Log {
			if e.Text == "Entrée ajoutée après la démonstration." {
				found = true
				if e.At.Before(before.Add(-time.Second)) {
					t.Errorf("the live entry is recorded at %s, before it was made (%s)", e.At, before)
				}
			}
		}
	}
	if !found {
		t.Error("the live entry is not on the board now")
	}

	// Before the night: no board, a French message naming where the log starts.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"replay", "--data", data, "--at", at("20:00").Format(time.RFC3339)}, &stdout, &stderr)
	if code != exitNothingBefore || stdout.Len() != 0 {
		t.Errorf("replay before the first event: exit %d, stdout %q; want exit %d and nothing", code, stdout.String(), exitNothingBefore)
	}
	if msg := stderr.String(); !strings.Contains(msg, "aucun événement avant le") || !strings.Contains(msg, "le journal commence le 26/11/2026 à 21:00:00") {
		t.Errorf("replay before the first event says %q", msg)
	}
}

// startDemoForTest runs `vigie demo` in this process on a free port with data as its
// data directory, and returns it with the tokens it printed, by subject.
func startDemoForTest(t *testing.T, data string) (*inProcess, map[string]string) {
	t.Helper()
	for _, k := range []string{"REDIS_URL", "EVENTSTORE_URL", "VIGIE_DATA", "VIGIE_HTTP_ADDR", "VIGIE_OIDC_ISSUER", "VIGIE_OIDC_CLIENT_ID",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "VIGIE_GATEWAY_URL"} {
		t.Setenv(k, "")
	}
	d := startInProcess(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, []string{"demo", "--data", data, "--http", "127.0.0.1:0"}, stdout, stderr)
	})
	// Each token is printed as "  who: TOKEN".
	printed := map[string]string{}
	for _, l := range d.before {
		if who, tok, ok := strings.Cut(l, ":"); ok {
			printed[strings.TrimSpace(who)] = strings.TrimSpace(tok)
		}
	}
	tokens := map[string]string{}
	for _, p := range demoPeople {
		if tokens[p.sub] = printed[p.who]; tokens[p.sub] == "" {
			t.Fatalf("no token printed for %s in %q", p.who, d.before)
		}
	}
	return d, tokens
}
