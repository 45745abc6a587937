package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/events/store"
	"vigie/projections/projectiontest"
)

// commandSpan is the time between the first and the last event recorded in domain by
// an actor whose subject ends with suffix (the people's commands, not the dispatcher's).
func commandSpan(t *testing.T, esURL, domain, suffix string) time.Duration {
	t.Helper()
	es, err := store.Open(esURL)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	recs, err := es.ReadAll(context.Background(), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for _, r := range recs {
		var md struct {
			Actor, Domain string
			OccurredAt    time.Time
		}
		if json.Unmarshal(r.Metadata, &md) != nil || md.Domain != domain || !strings.HasSuffix(md.Actor, suffix) {
			continue
		}
		if first.IsZero() {
			first = md.OccurredAt
		}
		last = md.OccurredAt
	}
	if first.IsZero() {
		t.Fatalf("no command recorded in %s by *%s", domain, suffix)
	}
	return last.Sub(first)
}

// drillBoards is what a domain's boards show, as the drill test compares them.
type drillBoards struct {
	Incidents []struct {
		ID, Title, Status, Severity string
		Log                         []struct{ Author, Text string }
	}
	Resources []struct {
		ID, Name, Status string
		IncidentID       *string
		Occupancy        *int
	}
	Alerts []struct {
		ID, Status, Headline, Author string
		ApprovedBy                   *string
		Exercise                     bool
		Channels                     []string
		IncidentID                   *string
	}
}

func readDrillBoards(gql *gqlClient, token, domain string) (drillBoards, string) {
	gql.t.Helper()
	var b drillBoards
	vars := map[string]any{"d": domain}
	gql.query(token, `query($d: String!){ incidents(domain: $d){ id title status severity log { author text } } }`, vars, "incidents", &b.Incidents)
	gql.query(token, `query($d: String!){ resources(domain: $d){ id name status incidentId occupancy } }`, vars, "resources", &b.Resources)
	gql.query(token, `query($d: String!){ alerts(domain: $d){ id status headline author approvedBy exercise channels incidentId } }`, vars, "alerts", &b.Alerts)
	raw, _ := json.Marshal(b)
	return b, string(raw)
}

// TestDrillReplaysACrisisIntoAnExerciseCommuneAtTenTimesItsPace scripts a small crisis
// in Nîmes over GraphQL (every component a process, the alerts service pointed at local
// SMS and SMTP sinks, residents registered in Nîmes only), then runs `vigie drill` at
// speed 10 into the exercise commune dep:30/com:30999: it takes a tenth of the recorded
// time (± scheduling noise), the exercise boards show the same crisis marked exercise,
// the sinks receive nothing, Nîmes' boards are unchanged, a drill run again changes
// nothing, and a participant acts on the exercise as in a real crisis.
func TestDrillReplaysACrisisIntoAnExerciseCommuneAtTenTimesItsPace(t *testing.T) {
	rdb := projectiontest.Redis(t)
	data := t.TempDir()
	prov := startProviders(t, 0)
	top := startTopology(t, data, redisDBURL(t, rdb.Options().DB), prov.env)
	hc := &http.Client{Timeout: 15 * time.Second}
	waitOK(t, hc, top.gateway.addr+"/readyz")
	gql := &gqlClient{t: t, http: hc, url: top.gateway.addr + "/graphql"}

	const real, exercise = "dep:30/com:30189", "dep:30/com:30999"
	rac := vigieToken(t, data, "rac-30189", "rac", real)
	mayor := vigieToken(t, data, "mayor-30189", "mayor", real)
	observer := vigieToken(t, data, "cod-30", "prefecture", "dep:30")
	const residents = 6
	registerMany(t, top.alerts.addr, rac, real, "drill", residents)

	// The crisis, a step every ~0.8 s.
	var inc, team, gym, al struct{ ID string }
	step := func() { time.Sleep(800 * time.Millisecond) }
	firstStart := time.Now()
	gql.mutate(rac, `mutation($in: ReportIncidentInput!){ reportIncident(input: $in){ id } }`, map[string]any{"in": map[string]any{
		"domain": real, "kind": "FLASH_FLOOD", "title": "Crue du Vistre — quartier Richelieu", "severity": "MODERATE",
		"location": map[string]float64{"lat": 43.84, "lon": 4.35}}}, "reportIncident", &inc)
	firstEnd := time.Now()
	step()
	gql.mutate(rac, `mutation($id: ID!){ qualifyIncident(id: $id, kind: FLASH_FLOOD, severity: SEVERE){ id } }`, map[string]any{"id": inc.ID}, "qualifyIncident", nil)
	step()
	logEntry := `mutation($id: ID!, $t: String!){ addLogEntry(incidentId: $id, text: $t){ id } }`
	gql.mutate(rac, logEntry, map[string]any{"id": inc.ID, "t": "Vistre à 2,10 m au pont de la route de Sauve, en hausse."}, "addLogEntry", nil)
	step()
	register := `mutation($in: RegisterResourceInput!){ registerResource(input: $in){ id } }`
	gql.mutate(rac, register, map[string]any{"in": map[string]any{"domain": real, "kind": "TEAM", "name": "Police municipale — équipe 2"}}, "registerResource", &team)
	gql.mutate(rac, register, map[string]any{"in": map[string]any{"domain": real, "kind": "SHELTER", "name": "Gymnase Jean Bouin", "capacity": 120}}, "registerResource", &gym)
	step()
	gql.mutate(rac, `mutation($r: ID!, $i: ID!){ engageResource(resourceId: $r, incidentId: $i){ id } }`, map[string]any{"r": team.ID, "i": inc.ID}, "engageResource", nil)
	step()
	gql.mutate(mayor, logEntry, map[string]any{"id": inc.ID, "t": "Décision du maire : ouverture du gymnase Jean Bouin."}, "addLogEntry", nil)
	step()
	draft := vistreAlert(real, "SMS", "EMAIL")
	draft["in"].(map[string]any)["incidentId"] = inc.ID
	gql.mutate(rac, alertDraft, draft, "draftAlert", &al)
	step()
	gql.mutate(rac, alertSubmit, map[string]any{"id": al.ID}, "submitAlert", nil)
	step()
	gql.mutate(mayor, alertApprove, map[string]any{"id": al.ID}, "approveAlert", nil)
	step()
	lastStart := time.Now()
	gql.mutate(rac, `mutation($r: ID!, $n: Int!){ setShelterOccupancy(resourceId: $r, occupancy: $n){ id } }`, map[string]any{"r": gym.ID, "n": 42}, "setShelterOccupancy", nil)
	lastEnd := time.Now()
	recorded := (lastStart.Sub(firstEnd) + lastEnd.Sub(firstStart)) / 2
	t.Logf("recorded crisis: %v (between %v and %v)", recorded.Round(time.Millisecond), lastStart.Sub(firstEnd).Round(time.Millisecond), lastEnd.Sub(firstStart).Round(time.Millisecond))

	// The real alert reaches Nîmes' residents; then nothing more may arrive.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, sink := range map[string]interface {
		Wait(context.Context, int) error
	}{"SMS": prov.sms, "e-mail": prov.mail} {
		if err := sink.Wait(ctx, residents); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	waitAlertState(t, gql, mayor, real, al.ID, 30*time.Second, func(s alertState) bool { return s.Status == "SENT" })
	smsBefore, mailBefore := prov.sms.Raw(), prov.mail.Raw()
	realBefore, realBeforeJSON := readDrillBoards(gql, observer, real)

	env := []string{"EVENTSTORE_URL=" + top.esURL, "VIGIE_DATA=", "VIGIE_GATEWAY_URL=",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	args := []string{"drill", "--from", real, "--to", exercise, "--speed", "10", "--gateway", top.gateway.addr, "--data", data}
	began := time.Now()
	stdout, stderr, code := runVigie(t, env, args...)
	took := time.Since(began)
	t.Logf("vigie drill took %v for %v recorded ÷ 10 = %v; stdout:\n%sstderr:\n%s", took.Round(time.Millisecond), recorded.Round(time.Millisecond), (recorded / 10).Round(time.Millisecond), stdout, stderr)
	if code != exitOK {
		t.Fatalf("vigie drill: exit code %d", code)
	}
	// The pace is read from the log, not from the process's wall time: how far apart
	// the first and the last of the drill's commands were recorded, against the same
	// span of the real crisis. A process that starts slowly on a loaded machine does
	// not change it; a drill that ignores --speed does.
	realSpan, exSpan := commandSpan(t, top.esURL, real, "-30189"), commandSpan(t, top.esURL, exercise, "-exercice")
	t.Logf("recorded in the log: real crisis %v, exercise %v", realSpan.Round(time.Millisecond), exSpan.Round(time.Millisecond))
	const tolerance = 1500 * time.Millisecond
	if want := realSpan / 10; exSpan < want-tolerance || exSpan > want+tolerance {
		t.Errorf("the drill's commands span %v, want %v ± %v", exSpan, want, tolerance)
	}
	// One line per command (report, qualify, 2 log entries, 2 registrations, engage,
	// draft, submit, approve, occupancy) and the summary.
	lines := regexp.MustCompile(`(?m)^\+ *\d+\.\d{3}s +\w+ +\w+ `).FindAllString(stdout, -1)
	if len(lines) != 11 || !strings.Contains(stdout, "drill done: 11 commands") {
		t.Errorf("the drill printed %d command lines, want 11, and its summary", len(lines))
	}

	ex, _ := readDrillBoards(gql, observer, exercise)
	if len(ex.Incidents) != len(realBefore.Incidents) || len(ex.Resources) != len(realBefore.Resources) || len(ex.Alerts) != len(realBefore.Alerts) {
		t.Fatalf("exercise boards: %d incidents, %d resources, %d alerts; real: %d, %d, %d",
			len(ex.Incidents), len(ex.Resources), len(ex.Alerts), len(realBefore.Incidents), len(realBefore.Resources), len(realBefore.Alerts))
	}
	exInc := ex.Incidents[0]
	if r := realBefore.Incidents[0]; len(exInc.Log) != len(r.Log) || exInc.Title != r.Title || exInc.Status != r.Status || exInc.Severity != r.Severity {
		t.Errorf("exercise incident %+v, real %+v", exInc, r)
	}
	for _, e := range exInc.Log {
		if !strings.HasSuffix(e.Author, "-exercice") {
			t.Errorf("exercise log entry by %q, want an exercise twin", e.Author)
		}
	}
	engaged := 0
	for _, r := range ex.Resources {
		if r.Status == "ENGAGED" && r.IncidentID != nil && *r.IncidentID == exInc.ID {
			engaged++
		}
		if r.Occupancy != nil && *r.Occupancy != 42 {
			t.Errorf("exercise shelter occupancy %d, want 42", *r.Occupancy)
		}
	}
	if engaged != 1 {
		t.Errorf("%d exercise resources engaged on the exercise incident, want 1: %+v", engaged, ex.Resources)
	}
	a := ex.Alerts[0]
	if !a.Exercise || !strings.HasPrefix(a.Headline, "EXERCICE") || a.IncidentID == nil || *a.IncidentID != exInc.ID ||
		a.Author != "rac-30189-exercice" || a.ApprovedBy == nil || *a.ApprovedBy != "mayor-30189-exercice" {
		t.Errorf("exercise alert %+v", a)
	}
	// Let the exercise alert's dispatch run its course: no resident, nothing sent.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var list []alertState
		gql.query(observer, `query($d: String!){ alerts(domain: $d){ id status deliveries { channel recipients sent delivered failed } } }`, map[string]any{"d": exercise}, "alerts", &list)
		if len(list) == 1 && (list[0].Status == "SENT" || list[0].Status == "FAILED") || time.Now().After(deadline) {
			t.Logf("exercise alert after the drill: %+v", list)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if sms, mail := prov.sms.Raw()-smsBefore, prov.mail.Raw()-mailBefore; sms != 0 || mail != 0 {
		t.Errorf("the real channels' sinks received %d SMS and %d e-mails during the drill, want none", sms, mail)
	}
	if _, after := readDrillBoards(gql, observer, real); after != realBeforeJSON {
		t.Errorf("Nîmes' boards changed during the drill:\nbefore %s\nafter  %s", realBeforeJSON, after)
	}

	// The same drill again resends the same commands: nothing changes.
	_, exJSON := readDrillBoards(gql, observer, exercise)
	args[6] = "1000"
	if out, errOut, code := runVigie(t, env, args...); code != exitOK {
		t.Fatalf("vigie drill again: exit code %d\n%s%s", code, out, errOut)
	}
	if _, again := readDrillBoards(gql, observer, exercise); again != exJSON {
		t.Errorf("a drill run again changed the exercise:\nbefore %s\nafter  %s", exJSON, again)
	}

	// A participant of the exercise commune acts on the exercise's incident; a
	// participant never reaches the real one.
	participant := vigieToken(t, data, "participant-30999", "rac", exercise)
	var got struct {
		Log []struct{ Author, Text string }
	}
	gql.mutate(participant, `mutation($id: ID!, $t: String!){ addLogEntry(incidentId: $id, text: $t){ id log { author text } } }`,
		map[string]any{"id": exInc.ID, "t": "Exercice : point de situation du participant."}, "addLogEntry", &got)
	if n := len(got.Log); n != len(exInc.Log)+1 || got.Log[n-1].Author != "participant-30999" {
		t.Errorf("the participant's entry: %+v", got.Log)
	}
	if code := gql.code(participant, logEntry, map[string]any{"id": inc.ID, "t": "intrus"}); code != "NOT_FOUND" && code != "FORBIDDEN" {
		t.Errorf("the participant writing in Nîmes' incident: %q, want NOT_FOUND or FORBIDDEN", code)
	}
}

func TestDrillRefusesTheSameDomainOrADepartement(t *testing.T) {
	for _, to := range []string{"dep:30/com:30189", "dep:30", "nowhere"} {
		_, stderr, code := runVigie(t, []string{"EVENTSTORE_URL="}, "drill", "--from", "dep:30/com:30189", "--to", to, "--speed", "10", "--data", t.TempDir())
		if code != exitUsage || !strings.Contains(stderr, "--to must") {
			t.Errorf("--to %s: exit code %d, stderr %q; want 2 and a refusal", to, code, stderr)
		}
	}
}
