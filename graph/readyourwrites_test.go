package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"vigie/graph/gatewaytest"
)

// consistency is the answer's extensions.consistency ("" when it has none).
func consistency(r gatewaytest.Response) string {
	s, _ := r.Extensions["consistency"].(string)
	return s
}

func TestAMutationAnswersWithTheBoardAsItShowsTheChange(t *testing.T) {
	env := gatewaytest.Start(t)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	settled := func(r gatewaytest.Response) gatewaytest.Response {
		t.Helper()
		must(t, r)
		if c := consistency(r); c != "" && c != "CONSISTENT" {
			t.Fatalf("with the projectors running the answer must be consistent: %s", r)
		}
		return r
	}

	var inc struct {
		ID, Kind, Title, Status string
		Severity                *string
		Log                     []struct{ ID, Author, Text string }
	}
	settled(env.Do(t, mayor, `mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:FLOOD, title:"Le Vistre monte", severity:MODERATE}){ id kind title status severity log { id author text } } }`, nil)).
		Decode(t, &struct{ ReportIncident any }{&inc})
	if inc.Kind != "FLOOD" || inc.Title != "Le Vistre monte" || inc.Status != "REPORTED" || inc.Severity == nil || *inc.Severity != "MODERATE" {
		t.Errorf("reportIncident answered %+v", inc)
	}

	settled(env.Do(t, mayor, `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Échelle du Vistre : 1,80 m"){ id log { id author text } } }`, map[string]any{"id": inc.ID})).
		Decode(t, &struct{ AddLogEntry any }{&inc})
	if len(inc.Log) != 1 || inc.Log[0].Text != "Échelle du Vistre : 1,80 m" || inc.Log[0].Author != "maire-nimes" {
		t.Fatalf("addLogEntry's answer must hold the new entry in log: %+v", inc.Log)
	}

	settled(env.Do(t, mayor, `mutation($id:ID!){ qualifyIncident(id:$id, kind:FLASH_FLOOD, severity:SEVERE){ id kind status severity } }`, map[string]any{"id": inc.ID})).
		Decode(t, &struct{ QualifyIncident any }{&inc})
	if inc.Kind != "FLASH_FLOOD" || inc.Status != "QUALIFIED" || *inc.Severity != "SEVERE" {
		t.Errorf("qualifyIncident answered %+v", inc)
	}

	var res struct {
		ID, Status string
		IncidentID *string
		Capacity   *int
		Occupancy  *int
	}
	settled(env.Do(t, mayor, `mutation { registerResource(input:{domain:"dep:30/com:30189", kind:SHELTER, name:"Gymnase Diderot", capacity:120}){ id status capacity occupancy } }`, nil)).
		Decode(t, &struct{ RegisterResource any }{&res})
	if res.Status != "AVAILABLE" || res.Capacity == nil || *res.Capacity != 120 || *res.Occupancy != 0 {
		t.Errorf("registerResource answered %+v", res)
	}
	settled(env.Do(t, mayor, `mutation($r:ID!){ setShelterOccupancy(resourceId:$r, occupancy:37){ id occupancy } }`, map[string]any{"r": res.ID})).
		Decode(t, &struct{ SetShelterOccupancy any }{&res})
	if *res.Occupancy != 37 {
		t.Errorf("setShelterOccupancy answered %+v", res)
	}
	settled(env.Do(t, mayor, `mutation($r:ID!,$i:ID!){ engageResource(resourceId:$r, incidentId:$i){ id status incidentId } }`, map[string]any{"r": res.ID, "i": inc.ID})).
		Decode(t, &struct{ EngageResource any }{&res})
	if res.Status != "ENGAGED" || res.IncidentID == nil || *res.IncidentID != inc.ID {
		t.Errorf("engageResource answered %+v", res)
	}

	// What the answers said, the boards say to the next query — the incident board
	// included, which follows the resource's engagement from another stream.
	r := must(t, env.Do(t, mayor, `query($id:ID!){ incident(id:$id){ status log { text } resources { id status } } shelters(domain:"dep:30/com:30189"){ occupancy } }`, map[string]any{"id": inc.ID}))
	if !strings.Contains(string(r.Data), res.ID) || !strings.Contains(string(r.Data), `"occupancy":37`) || !strings.Contains(string(r.Data), "1,80 m") {
		t.Errorf("the boards after the mutations: %s", r.Data)
	}

	var req struct{ ID, Status string }
	settled(env.Do(t, mayor, `mutation($i:ID!){ requestReinforcement(input:{domain:"dep:30/com:30189", incidentId:$i, kind:EQUIPMENT, quantity:4, reason:"Motopompes"}){ id status } }`, map[string]any{"i": inc.ID})).
		Decode(t, &struct{ RequestReinforcement any }{&req})
	if req.Status != "REQUESTED" {
		t.Errorf("requestReinforcement answered %+v", req)
	}
	r = must(t, env.Do(t, env.Token("cod-gard", "prefecture", gard), `{ reinforcements(domain:"dep:30"){ id status } }`, nil))
	if !strings.Contains(string(r.Data), req.ID) {
		t.Errorf("the prefecture's list right after the request: %s", r.Data)
	}

	r = settled(env.Do(t, env.Token("admin-nimes", "admin", nimes), `mutation { grantRole(subject:"adjointe", role:"rac", domain:"dep:30/com:30189"){ subject roles { role domain } } }`, nil))
	if !strings.Contains(string(r.Data), `{"role":"rac","domain":"dep:30/com:30189"}`) {
		t.Errorf("grantRole answered %s", r.Data)
	}
	r = must(t, env.Do(t, env.TokenFor("adjointe", time.Hour), `{ me { roles { role domain } } incidents(domain:"dep:30/com:30189"){ id } }`, nil))
	if !strings.Contains(string(r.Data), inc.ID) {
		t.Errorf("the new rac, with a token that carries no grant, reads the board at once: %s", r)
	}
}

func TestTheSameCommandSentTwiceChangesNothingTheSecondTime(t *testing.T) {
	env := gatewaytest.Start(t)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	report := `mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:STORM, title:"Rafales à 120 km/h"}, commandId:"cmd-storm-1"){ id status } }`
	first := must(t, env.Do(t, mayor, report, nil))
	head := env.Head()
	second := must(t, env.Do(t, mayor, report, nil))
	if string(first.Data) != string(second.Data) || env.Head() != head {
		t.Errorf("a resent report: %s then %s, log %d then %d", first.Data, second.Data, head, env.Head())
	}
	id := str(t, field(t, first, "reportIncident"), "id")
	entry := `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Arbre sur la chaussée", commandId:"cmd-log-1"){ log { id } } }`
	must(t, env.Do(t, mayor, entry, map[string]any{"id": id}))
	head = env.Head()
	r := must(t, env.Do(t, mayor, entry, map[string]any{"id": id}))
	var inc struct{ Log []struct{ ID string } }
	_ = json.Unmarshal(field(t, r, "addLogEntry"), &inc)
	if len(inc.Log) != 1 || env.Head() != head {
		t.Errorf("a resent log entry: the log holds %d entries, the event log moved %d → %d", len(inc.Log), head, env.Head())
	}
}

func TestWhenTheBoardsStopFollowingTheAnswerSaysStale(t *testing.T) {
	const wait = 300 * time.Millisecond
	env := gatewaytest.Start(t, gatewaytest.WithConsistencyWait(wait))
	fx := newFixtures(t, env)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	id := fx.get("incident.fresh", nimes)
	env.StopProjectors()

	stale := func(name, query string, vars map[string]any) json.RawMessage {
		t.Helper()
		head := env.Head()
		start := time.Now()
		r := must(t, env.Do(t, mayor, query, vars))
		if consistency(r) != "STALE" {
			t.Errorf("%s: want extensions.consistency STALE, got %s", name, r)
		}
		if took := time.Since(start); took < wait {
			t.Errorf("%s: STALE after %s, before the bound of %s", name, took, wait)
		}
		if env.Head() == head {
			t.Errorf("%s: the change must be recorded even though the board lags", name)
		}
		return field(t, r, name)
	}

	var inc struct {
		ID, Status string
		Log        []struct{ Text string }
	}
	_ = json.Unmarshal(stale("addLogEntry", `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Coupure de courant rue Hoche"){ id status log { text } } }`, map[string]any{"id": id}), &inc)
	if inc.ID != id || inc.Status != "REPORTED" || len(inc.Log) != 0 {
		t.Errorf("a stale answer is the board as it is (without the entry): %+v", inc)
	}

	// A new incident the board has not seen: the answer is still a valid Incident,
	// made of what was reported.
	var fresh struct{ ID, Domain, Kind, Title, Status, ReportedAt string }
	_ = json.Unmarshal(stale("reportIncident", `mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:HEATWAVE, title:"Canicule"}){ id domain kind title status reportedAt } }`, nil), &fresh)
	at, err := time.Parse(time.RFC3339, fresh.ReportedAt)
	if fresh.ID == "" || fresh.Domain != nimes || fresh.Kind != "HEATWAVE" || fresh.Title != "Canicule" || fresh.Status != "REPORTED" || err != nil || time.Since(at) > time.Minute {
		t.Errorf("a stale report answered %+v", fresh)
	}
	var res struct{ ID, Kind, Name, Status string }
	_ = json.Unmarshal(stale("registerResource", `mutation { registerResource(input:{domain:"dep:30/com:30189", kind:DRONE, name:"Drone thermique"}){ id kind name status } }`, nil), &res)
	if res.ID == "" || res.Kind != "DRONE" || res.Name != "Drone thermique" || res.Status != "AVAILABLE" {
		t.Errorf("a stale registration answered %+v", res)
	}
	stale("requestReinforcement", `mutation($i:ID!){ requestReinforcement(input:{domain:"dep:30/com:30189", incidentId:$i, kind:TEAM, quantity:1}){ id status } }`, map[string]any{"i": id})

	// Role grants are followed by the policies, not by a board: still consistent.
	r := must(t, env.Do(t, env.Token("admin-nimes", "admin", nimes), `mutation { grantRole(subject:"benevole", role:"field", domain:"dep:30/com:30189"){ subject } }`, nil))
	if consistency(r) == "STALE" {
		t.Errorf("grantRole does not wait for a board: %s", r)
	}
}
