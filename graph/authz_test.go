package graph_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/graph/gatewaytest"
	"vigie/services/alerts/alert"
)

// The authorization matrix of the gateway, end to end over HTTP: every operation of
// the schema on incidents, resources, roles, reinforcements, the timeline and the
// prefecture's overview, for every role, aimed at every place. Written out by hand
// from the roles' descriptions and the issue, not computed from policy.csv, so that a mistake in
// either shows as a disagreement.
//
// Each role is granted on its natural domain: the commune roles and admin on Nîmes
// (dep:30/com:30189), the prefecture on the Gard (dep:30). Each cell is four outcomes
// for an operation aimed at, in order:
//
//  1. Nîmes, the own commune                   dep:30/com:30189
//  2. Alès, another commune of the Gard        dep:30/com:30007
//  3. the Gard itself (a prefecture-level act) dep:30
//  4. Istres, a commune of another département dep:13/com:13047
//
// An operation on an existing object (an incident's id…) aims at an object of that
// place; objects live in communes, so such operations have no third outcome.
//
//	o  answered                   F  FORBIDDEN (the caller may see it, not do it)
//	0  null, as for an unknown id N  NOT_FOUND, as for an unknown id
//	R  REJECTED by a domain rule  .  not applicable
//
// The prefecture's R: until an incident is escalated the mayor directs it, so the
// prefecture may log and escalate but not qualify, stabilize, close or reopen it.
const authzMatrix = `
operation                    mayor rac  operator field observer prefecture admin
me                           o... o...  o...     o...  o...     o...       o...
incidents                    oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
incidentCounts               oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
overview                     oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
incident                     o0.0 o0.0  o0.0     o0.0  o0.0     oo.0       00.0
resources                    oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
shelters                     oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
reinforcements               oFFF oFFF  oFFF     FFFF  oFFF     oooF       FFFF
timeline                     oFFF oFFF  oFFF     FFFF  oFFF     oooF       FFFF
causalChain                  oFFF oFFF  oFFF     FFFF  oFFF     oooF       FFFF
decisionDelays               oFFF oFFF  oFFF     FFFF  oFFF     oooF       FFFF
replay                       oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
reportIncident               oFFF oFFF  oFFF     oFFF  FFFF     FFFF       FFFF
qualifyIncident              oN.N oN.N  FN.N     FN.N  FN.N     RR.N       NN.N
addLogEntry                  oN.N oN.N  oN.N     FN.N  FN.N     oo.N       NN.N
correctLogEntry              oN.N oN.N  oN.N     FN.N  FN.N     oo.N       NN.N
escalateIncident             oN.N FN.N  FN.N     FN.N  FN.N     oo.N       NN.N
stabilizeIncident            oN.N oN.N  FN.N     FN.N  FN.N     RR.N       NN.N
closeIncident                oN.N oN.N  FN.N     FN.N  FN.N     RR.N       NN.N
reopenIncident               oN.N oN.N  FN.N     FN.N  FN.N     RR.N       NN.N
registerResource             oFFF oFFF  FFFF     FFFF  FFFF     FFFF       FFFF
engageResource               oN.N oN.N  FN.N     FN.N  FN.N     FF.N       NN.N
releaseResource              oN.N oN.N  FN.N     FN.N  FN.N     FF.N       NN.N
setResourceStatus            oN.N oN.N  oN.N     oN.N  FN.N     FF.N       NN.N
setShelterOccupancy          oN.N oN.N  oN.N     oN.N  FN.N     FF.N       NN.N
grantRole                    FFFF FFFF  FFFF     FFFF  FFFF     FFFF       oFFF
revokeRole                   FFFF FFFF  FFFF     FFFF  FFFF     FFFF       oFFF
requestReinforcement         oFFF oFFF  FFFF     FFFF  FFFF     FFFF       FFFF
acceptReinforcement          FN.N FN.N  FN.N     NN.N  FN.N     oo.N       NN.N
refuseReinforcement          FN.N FN.N  FN.N     NN.N  FN.N     oo.N       NN.N
dispatchReinforcement        FN.N FN.N  FN.N     NN.N  FN.N     oo.N       NN.N
confirmReinforcementArrival  oN.N oN.N  FN.N     NN.N  FN.N     FF.N       NN.N
releaseReinforcement         oN.N oN.N  FN.N     NN.N  FN.N     oo.N       NN.N
alerts                       oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
pendingApprovals             o... o...  o...     o...  o...     o...       o...
draftAlert                   oFFF oFFF  FFFF     FFFF  FFFF     FFFF       FFFF
updateAlert                  oN.N oN.N  FN.N     FN.N  FN.N     FF.N       NN.N
submitAlert                  oN.N oN.N  FN.N     FN.N  FN.N     FF.N       NN.N
approveAlert                 oN.N FN.N  FN.N     FN.N  FN.N     FF.N       NN.N
rejectAlert                  oN.N FN.N  FN.N     FN.N  FN.N     FF.N       NN.N
validateFrAlert              FN.N FN.N  FN.N     FN.N  FN.N     oo.N       NN.N
refuseFrAlert                FN.N FN.N  FN.N     FN.N  FN.N     oo.N       NN.N
confirmFrAlertBroadcast      FN.N FN.N  FN.N     FN.N  FN.N     oo.N       NN.N
alertAudience                oN.N oN.N  oN.N     oN.N  oN.N     oo.N       NN.N
cancelAlert                  oN.N oN.N  FN.N     FN.N  FN.N     FF.N       NN.N
registerResident             oFFF oFFF  oFFF     FFFF  FFFF     FFFF       FFFF
eraseResident                oN.N NN.N  NN.N     NN.N  NN.N     NN.N       NN.N
boardChanged                 oFFF oFFF  oFFF     oFFF  oFFF     oooF       FFFF
`

// parseAuthzMatrix reads the table: operation → role → four outcomes.
func parseAuthzMatrix(t *testing.T) map[string]map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(authzMatrix), "\n")
	header := strings.Fields(lines[0])[1:]
	if !slices.Equal(header, roles) {
		t.Fatalf("matrix columns %v, want %v", header, roles)
	}
	out := map[string]map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(roles)+1 {
			t.Fatalf("matrix line %q: %d cells", l, len(f)-1)
		}
		out[f[0]] = map[string]string{}
		for i, c := range f[1:] {
			if len(c) != 4 || strings.Trim(c, "oFN0R.") != "" {
				t.Fatalf("matrix line %q: cell %q", l, c)
			}
			out[f[0]][roles[i]] = c
		}
	}
	return out
}

// operation is one operation of the schema as the matrix exercises it.
type operation struct {
	name     string
	mutation bool
	byID     bool   // aimed at an existing object: no département column
	fixture  string // what it acts on (see fixtures.make); "" for nothing
	list     bool   // answers objects with a domain, all of which must be in the place asked
	noScope  bool   // takes no place: asked once per role
	query    string
	vars     func(fx *fixtures, scope, fixture string) map[string]any
}

func domainVar(_ *fixtures, scope, _ string) map[string]any { return map[string]any{"d": scope} }
func idVar(_ *fixtures, _, id string) map[string]any        { return map[string]any{"id": id} }

// baseIncident is an incident the operation may refer to: the place's own, or Nîmes'
// for the département (incidents live in communes).
func baseIncident(fx *fixtures, scope string) string {
	if !strings.Contains(scope, "/") {
		scope = nimes
	}
	return fx.get("incident.base", scope)
}

var operations = []operation{
	{name: "me", query: `{ me { subject roles { role domain } } }`},
	{name: "incidents", list: true, query: `query($d:String!){ incidents(domain:$d){ id domain } }`, vars: domainVar},
	{name: "incidentCounts", query: `query($d:String!){ incidentCounts(domain:$d){ key value } }`, vars: domainVar},
	{name: "overview", list: true, query: `query($d:String!){ overview(domain:$d){ id domain } }`, vars: domainVar},
	{name: "incident", byID: true, fixture: "incident.base", query: `query($id:ID!){ incident(id:$id){ id domain log { text } resources { id } } }`, vars: idVar},
	{name: "resources", list: true, query: `query($d:String!){ resources(domain:$d){ id domain } }`, vars: domainVar},
	{name: "shelters", query: `query($d:String!){ shelters(domain:$d){ shelters capacity occupancy } }`, vars: domainVar},
	{name: "reinforcements", list: true, query: `query($d:String!){ reinforcements(domain:$d){ id domain } }`, vars: domainVar},
	{name: "timeline", query: `query($d:String!){ timeline(domain:$d){ streamId type } }`, vars: domainVar},
	{name: "causalChain", query: `query($d:String!){ causalChain(domain:$d, eventId:"none"){ streamId type } }`, vars: domainVar},
	{name: "decisionDelays", query: `query($d:String!){ decisionDelays(domain:$d){ summary { delay count } } }`, vars: domainVar},
	{name: "replay", query: `query($d:String!){ replay(domain:$d, at:"2030-01-01T00:00:00Z"){ at events incidents { id domain log { text } resources { id } } resources { id } alerts { id } } }`, vars: domainVar},

	{name: "alerts", list: true, query: `query($d:String!){ alerts(domain:$d){ id domain } }`, vars: domainVar},
	{name: "pendingApprovals", noScope: true, list: true, query: `{ pendingApprovals { id domain } }`},
	{name: "draftAlert", mutation: true, query: `mutation($in: DraftAlertInput!){ draftAlert(input: $in){ id domain } }`,
		vars: func(_ *fixtures, scope, _ string) map[string]any {
			return map[string]any{"in": floodAlert(scope, "CAP_FEED")}
		}},
	{name: "updateAlert", mutation: true, byID: true, fixture: "alert.draft",
		query: `mutation($id:ID!, $in: DraftAlertInput!){ updateAlert(id:$id, input:$in){ id status } }`,
		vars: func(_ *fixtures, scope, id string) map[string]any {
			return map[string]any{"id": id, "in": floodAlert(scope, "CAP_FEED")}
		}},
	{name: "submitAlert", mutation: true, byID: true, fixture: "alert.draft", query: `mutation($id:ID!){ submitAlert(id:$id){ id status } }`, vars: idVar},
	{name: "approveAlert", mutation: true, byID: true, fixture: "alert.pending", query: `mutation($id:ID!){ approveAlert(id:$id){ id status } }`, vars: idVar},
	{name: "rejectAlert", mutation: true, byID: true, fixture: "alert.pending", query: `mutation($id:ID!){ rejectAlert(id:$id, reason:"Trop alarmiste"){ id status } }`, vars: idVar},
	{name: "validateFrAlert", mutation: true, byID: true, fixture: "alert.frrequested", query: `mutation($id:ID!){ validateFrAlert(id:$id){ id status } }`, vars: idVar},
	{name: "refuseFrAlert", mutation: true, byID: true, fixture: "alert.frrequested", query: `mutation($id:ID!){ refuseFrAlert(id:$id, reason:"Zone trop restreinte"){ id status } }`, vars: idVar},
	{name: "confirmFrAlertBroadcast", mutation: true, byID: true, fixture: "alert.frvalidated", query: `mutation($id:ID!){ confirmFrAlertBroadcast(id:$id){ id status } }`, vars: idVar},
	{name: "alertAudience", byID: true, fixture: "alert.draft", query: `query($id:ID!){ alertAudience(id:$id){ channel recipients known } }`, vars: idVar},
	{name: "cancelAlert", mutation: true, byID: true, fixture: "alert.draft", query: `mutation($id:ID!){ cancelAlert(id:$id, reason:"Décrue"){ id status } }`, vars: idVar},
	{name: "registerResident", mutation: true,
		query: `mutation($d:String!){ registerResident(input:{domain:$d, phone:"+33600000001", location:{lat:43.83, lon:4.35}, channels:[SMS]}){ id domain } }`, vars: domainVar},
	{name: "eraseResident", mutation: true, byID: true, fixture: "resident", query: `mutation($id:ID!){ eraseResident(id:$id) }`, vars: idVar},

	{name: "reportIncident", mutation: true, query: `mutation($d:String!){ reportIncident(input:{domain:$d, kind:FLOOD, title:"Cadereau d'Uzès en crue"}){ id domain } }`, vars: domainVar},
	{name: "qualifyIncident", mutation: true, byID: true, fixture: "incident.fresh",
		query: `mutation($id:ID!){ qualifyIncident(id:$id, kind:FLASH_FLOOD, severity:SEVERE){ id status } }`, vars: idVar},
	{name: "addLogEntry", mutation: true, byID: true, fixture: "incident.fresh",
		query: `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Point de situation"){ id log { text } } }`, vars: idVar},
	{name: "correctLogEntry", mutation: true, byID: true, fixture: "incident.logged",
		query: `mutation($id:ID!,$e:ID!){ correctLogEntry(incidentId:$id, entryId:$e, text:"Relevé corrigé : 2,30 m"){ id } }`,
		vars: func(_ *fixtures, _, fx string) map[string]any {
			id, entry, _ := strings.Cut(fx, " ")
			return map[string]any{"id": id, "e": entry}
		}},
	{name: "escalateIncident", mutation: true, byID: true, fixture: "incident.qualified",
		query: `mutation($id:ID!){ escalateIncident(id:$id, reason:"Crue majeure du Gardon"){ id directedByPrefecture } }`, vars: idVar},
	{name: "stabilizeIncident", mutation: true, byID: true, fixture: "incident.qualified",
		query: `mutation($id:ID!){ stabilizeIncident(id:$id){ id status } }`, vars: idVar},
	{name: "closeIncident", mutation: true, byID: true, fixture: "incident.fresh",
		query: `mutation($id:ID!){ closeIncident(id:$id, summary:"Décrue amorcée"){ id status } }`, vars: idVar},
	{name: "reopenIncident", mutation: true, byID: true, fixture: "incident.closed",
		query: `mutation($id:ID!){ reopenIncident(id:$id, reason:"Nouvel épisode cévenol"){ id status } }`, vars: idVar},

	{name: "registerResource", mutation: true, query: `mutation($d:String!){ registerResource(input:{domain:$d, kind:VEHICLE, name:"Fourgon pompe"}){ id domain } }`, vars: domainVar},
	{name: "engageResource", mutation: true, byID: true, fixture: "resource.available",
		query: `mutation($r:ID!,$i:ID!){ engageResource(resourceId:$r, incidentId:$i){ id status } }`,
		vars: func(fx *fixtures, scope, id string) map[string]any {
			return map[string]any{"r": id, "i": baseIncident(fx, scope)}
		}},
	{name: "releaseResource", mutation: true, byID: true, fixture: "resource.engaged",
		query: `mutation($r:ID!){ releaseResource(resourceId:$r){ id status } }`,
		vars:  func(_ *fixtures, _, id string) map[string]any { return map[string]any{"r": id} }},
	{name: "setResourceStatus", mutation: true, byID: true, fixture: "resource.available",
		query: `mutation($r:ID!){ setResourceStatus(resourceId:$r, status:UNAVAILABLE){ id status } }`,
		vars:  func(_ *fixtures, _, id string) map[string]any { return map[string]any{"r": id} }},
	{name: "setShelterOccupancy", mutation: true, byID: true, fixture: "resource.shelter",
		query: `mutation($r:ID!){ setShelterOccupancy(resourceId:$r, occupancy:5){ id occupancy } }`,
		vars:  func(_ *fixtures, _, id string) map[string]any { return map[string]any{"r": id} }},

	{name: "grantRole", mutation: true,
		query: `mutation($s:String!,$d:String!){ grantRole(subject:$s, role:"observer", domain:$d){ subject roles { role domain } } }`,
		vars: func(_ *fixtures, scope, _ string) map[string]any {
			return map[string]any{"s": uniq("target"), "d": scope}
		}},
	{name: "revokeRole", mutation: true, fixture: "grant",
		query: `mutation($s:String!,$d:String!){ revokeRole(subject:$s, role:"observer", domain:$d){ subject roles { role domain } } }`,
		vars: func(_ *fixtures, scope, sub string) map[string]any {
			return map[string]any{"s": sub, "d": scope}
		}},

	{name: "requestReinforcement", mutation: true,
		query: `mutation($d:String!,$i:ID!){ requestReinforcement(input:{domain:$d, incidentId:$i, kind:EQUIPMENT, quantity:2}){ id status } }`,
		vars: func(fx *fixtures, scope, _ string) map[string]any {
			return map[string]any{"d": scope, "i": baseIncident(fx, scope)}
		}},
	{name: "acceptReinforcement", mutation: true, byID: true, fixture: "reinforcement.requested",
		query: `mutation($id:ID!){ acceptReinforcement(id:$id, quantity:1, note:"Une équipe du SDIS"){ id status accepted } }`, vars: idVar},
	{name: "refuseReinforcement", mutation: true, byID: true, fixture: "reinforcement.requested",
		query: `mutation($id:ID!){ refuseReinforcement(id:$id, reason:"Moyens engagés à Alès"){ id status } }`, vars: idVar},
	{name: "dispatchReinforcement", mutation: true, byID: true, fixture: "reinforcement.accepted",
		query: `mutation($id:ID!){ dispatchReinforcement(id:$id){ id status } }`, vars: idVar},
	{name: "confirmReinforcementArrival", mutation: true, byID: true, fixture: "reinforcement.dispatched",
		query: `mutation($id:ID!){ confirmReinforcementArrival(id:$id){ id status } }`, vars: idVar},
	{name: "releaseReinforcement", mutation: true, byID: true, fixture: "reinforcement.arrived",
		query: `mutation($id:ID!){ releaseReinforcement(id:$id){ id status } }`, vars: idVar},
}

// outcomeOf classifies an answer as the matrix writes it.
func outcomeOf(t *testing.T, r gatewaytest.Response, name string) byte {
	t.Helper()
	if len(r.Errors) == 0 {
		if string(field(t, r, name)) == "null" {
			return '0'
		}
		return 'o'
	}
	switch r.Code() {
	case "FORBIDDEN":
		return 'F'
	case "NOT_FOUND":
		return 'N'
	case "REJECTED":
		return 'R'
	}
	return '?'
}

func TestEveryOperationIsAuthorizedForEveryRoleInEveryPlace(t *testing.T) {
	matrix := parseAuthzMatrix(t)
	names := map[string]bool{"boardChanged": true}
	for _, op := range operations {
		names[op.name] = true
		if matrix[op.name] == nil {
			t.Fatalf("operation %s has no line in the matrix", op.name)
		}
	}
	for name := range matrix {
		if !names[name] {
			t.Fatalf("the matrix has a line for %s, which no test runs", name)
		}
	}
	// One caller per role; no rate limit (the matrix is several hundred requests).
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6), gatewaytest.WithAudience(fixedAudience{}))
	fx := newFixtures(t, env)
	tokens := map[string]string{}
	for _, role := range roles {
		tokens[role] = env.Token("matrix-"+role, role, naturalDomain(role))
	}

	messages := map[string]map[string]bool{} // code → the messages seen with it
	cells := 0
	for _, op := range operations {
		for _, role := range roles {
			want := matrix[op.name][role]
			for i, scope := range scopes {
				if want[i] == '.' || (op.name == "me" || op.noScope) && i > 0 {
					continue
				}
				cells++
				cell := fmt.Sprintf("%s by %s on %s", op.name, role, scope)
				var fixture string
				if op.fixture != "" {
					fixture = fx.get(op.fixture, scope)
				}
				var vars map[string]any
				if op.vars != nil {
					vars = op.vars(fx, scope, fixture)
				}
				head := env.Head()
				r := env.Do(t, tokens[role], op.query, vars)
				got := outcomeOf(t, r, op.name)
				if got != want[i] {
					t.Errorf("%s: want %c, got %c: %s", cell, want[i], got, r)
				}
				if after := env.Head(); op.mutation && got == 'o' && after == head {
					t.Errorf("%s: answered but appended nothing", cell)
				} else if got != 'o' && after != head {
					t.Errorf("%s: refused (%c) but the log moved from %d to %d", cell, got, head, after)
				}
				if got == 'o' && op.mutation && op.fixture != "" {
					fx.usedUp(op.fixture, scope)
				}
				if len(r.Errors) > 0 {
					if len(r.Errors) != 1 || string(field(t, r, op.name)) != "null" {
						t.Errorf("%s: a refusal must be one error and no data: %s", cell, r)
					}
					if messages[r.Code()] == nil {
						messages[r.Code()] = map[string]bool{}
					}
					messages[r.Code()][r.Message()] = true
				}
				if got == 'o' && op.list {
					var items []struct{ ID, Domain string }
					if err := json.Unmarshal(field(t, r, op.name), &items); err != nil {
						t.Fatalf("%s: %v", cell, err)
					}
					for _, it := range items {
						if !within(it.Domain, scope) {
							t.Errorf("%s: the answer shows %s of %s", cell, it.ID, it.Domain)
						}
					}
				}
			}
		}
	}
	t.Logf("%d cells over HTTP", cells)

	// Refusals say nothing of what exists elsewhere: one wording per code, whatever
	// the place, the role or the operation…
	if got := slices.Sorted(maps.Keys(messages["FORBIDDEN"])); !slices.Equal(got, []string{"action non autorisée pour votre rôle sur ce territoire"}) {
		t.Errorf("FORBIDDEN answers worded %q: they must not differ", got)
	}
	if got := slices.Sorted(maps.Keys(messages["NOT_FOUND"])); !slices.Equal(got, []string{"introuvable (ou hors de votre territoire)"}) {
		t.Errorf("NOT_FOUND answers worded %q: they must not differ", got)
	}

	// …and an id of another place is answered exactly as an id that exists nowhere.
	mayor := tokens["mayor"]
	unknown := "00000000-0000-5000-8000-000000000000"
	for _, op := range operations {
		if !op.byID {
			continue
		}
		other := fx.get(op.fixture, istres)
		head := env.Head()
		elsewhere := env.Do(t, mayor, op.query, op.vars(fx, istres, other))
		fake := strings.ReplaceAll(other, strings.Fields(other)[0], unknown)
		nowhere := env.Do(t, mayor, op.query, op.vars(fx, istres, fake))
		if string(elsewhere.Raw) != string(nowhere.Raw) || elsewhere.Status != nowhere.Status {
			t.Errorf("%s: an id of Istres is answered %s, an unknown id %s", op.name, elsewhere, nowhere)
		}
		if env.Head() != head {
			t.Errorf("%s on ids of another place or of nothing appended to the log", op.name)
		}
	}

	subscriptionsMatrix(t, env, fx, matrix["boardChanged"], tokens)
}

// subscriptionsMatrix is the boardChanged line of the matrix, over websocket: each
// role subscribes to the four places at once; the refused subscriptions end with a
// FORBIDDEN error, the others receive the changes of the incidents of their place.
func subscriptionsMatrix(t *testing.T, env *gatewaytest.Env, fx *fixtures, want map[string]string, tokens map[string]string) {
	t.Helper()
	conns := map[string]*gatewaytest.WS{}
	for _, role := range roles {
		ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + tokens[role]})
		if err != nil {
			t.Fatalf("websocket for %s: %v", role, err)
		}
		conns[role] = ws
		for i, scope := range scopes {
			ws.Subscribe(t, fmt.Sprint(i), `subscription($d:String!){ boardChanged(domain:$d){ domain streamId type at } }`, map[string]any{"d": scope})
		}
	}
	// The incidents whose changes each place must see (the département sees its
	// communes'): changed until every subscription that should hear has heard.
	changed := map[string]string{} // stream → domain
	incidents := map[string]string{}
	for _, scope := range []string{nimes, ales, istres} {
		incidents[scope] = fx.get("incident.base", scope)
		changed["incident-"+incidents[scope]] = scope
	}
	type sub struct{ role, id string }
	heard := map[sub]map[string]bool{} // streams heard
	refused := map[sub]string{}        // error payload
	expected := func() bool {
		for _, role := range roles {
			for i := range scopes {
				s := sub{role, fmt.Sprint(i)}
				if want[role][i] == 'o' && len(heard[s]) == 0 || want[role][i] == 'F' && refused[s] == "" {
					return false
				}
			}
		}
		return true
	}
	deadline := time.Now().Add(15 * time.Second)
	for !expected() && time.Now().Before(deadline) {
		for scope, id := range incidents {
			fx.do(fx.mayor(scope), `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Veille"){ id } }`, map[string]any{"id": id}, "addLogEntry")
		}
		until := time.Now().Add(300 * time.Millisecond)
		for _, role := range roles {
			for {
				m, ok := conns[role].Next(time.Until(until))
				if !ok {
					break
				}
				s := sub{role, m.ID}
				switch m.Type {
				case "next":
					var p struct {
						Data struct {
							BoardChanged struct{ Domain, StreamID string }
						}
						Errors json.RawMessage
					}
					_ = json.Unmarshal(m.Payload, &p)
					if len(p.Errors) > 0 {
						// A resolver's refusal comes as the one result of the
						// operation, followed by complete.
						refused[s] = string(p.Errors)
						continue
					}
					if heard[s] == nil {
						heard[s] = map[string]bool{}
					}
					heard[s][p.Data.BoardChanged.StreamID+" "+p.Data.BoardChanged.Domain] = true
				case "error": // graphql-transport-ws's refusal before execution
					refused[s] = string(m.Payload)
				}
			}
		}
	}
	for _, role := range roles {
		for i, scope := range scopes {
			s := sub{role, fmt.Sprint(i)}
			cell := fmt.Sprintf("boardChanged by %s on %s", role, scope)
			switch want[role][i] {
			case 'o':
				if refused[s] != "" || len(heard[s]) == 0 {
					t.Errorf("%s: want changes, heard %v, error %s", cell, heard[s], refused[s])
				}
				for h := range heard[s] {
					stream, domain, _ := strings.Cut(h, " ")
					if d, ours := changed[stream]; ours && (d != domain || !within(d, scope)) {
						t.Errorf("%s: heard of %s in %s", cell, stream, domain)
					}
				}
			case 'F':
				var errs []gatewaytest.Error
				_ = json.Unmarshal([]byte(refused[s]), &errs)
				if len(errs) != 1 || errs[0].Extensions.Code != "FORBIDDEN" || errs[0].Message != "action non autorisée pour votre rôle sur ce territoire" {
					t.Errorf("%s: want one FORBIDDEN error, got %q", cell, refused[s])
				}
				for h := range heard[s] {
					if stream, _, _ := strings.Cut(h, " "); changed[stream] != "" {
						t.Errorf("%s: refused, yet heard of %s", cell, h)
					}
				}
			}
		}
	}
}

// fixedAudience counts 3 residents on every channel sent to people, and none (not
// counted) on the others.
type fixedAudience struct{}

func (fixedAudience) Audience(_ string, _ []alert.Point, channels []alert.Channel, _ bool) map[alert.Channel]int {
	out := map[alert.Channel]int{}
	for _, c := range channels {
		if c != alert.ChannelCAPFeed && c != alert.ChannelFrAlert && c != alert.ChannelWebhook {
			out[c] = 3
		}
	}
	return out
}
