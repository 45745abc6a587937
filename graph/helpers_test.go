package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"vigie/graph/gatewaytest"
)

// The four places an operation is aimed at, from the point of view of a caller granted
// on Nîmes (or, for the prefecture, on the Gard).
const (
	nimes  = "dep:30/com:30189" // the own commune
	ales   = "dep:30/com:30007" // another commune of the same département
	gard   = "dep:30"           // the département: a prefecture-level act
	istres = "dep:13/com:13047" // a commune of another département
)

var scopes = [4]string{nimes, ales, gard, istres}

// roles in the order of the matrices' columns.
var roles = []string{"mayor", "rac", "operator", "field", "observer", "prefecture", "admin"}

// naturalDomain is where each role is granted.
func naturalDomain(role string) string {
	if role == "prefecture" {
		return gard
	}
	return nimes
}

// departementOf is the département of a domain.
func departementOf(domain string) string {
	d, _, _ := strings.Cut(domain, "/")
	return d
}

// within says whether an object of domain d may show in an answer about scope.
func within(d, scope string) bool {
	return d == scope || !strings.Contains(scope, "/") && departementOf(d) == scope
}

var unique atomic.Int64

// uniq is a name no other call returns.
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, unique.Add(1)) }

// must fails the test unless the answer has no error, and returns it.
func must(t testing.TB, r gatewaytest.Response) gatewaytest.Response {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != 200 {
		t.Fatalf("want a clean answer, got %s", r)
	}
	return r
}

// field returns one top-level field of the answer's data (JSON null when absent).
func field(t testing.TB, r gatewaytest.Response, name string) json.RawMessage {
	t.Helper()
	var data map[string]json.RawMessage
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return json.RawMessage("null")
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	if v, ok := data[name]; ok {
		return v
	}
	return json.RawMessage("null")
}

// str reads a string at a path of keys in a JSON object ("id", or "log.0.id" style
// is not needed: one level).
func str(t testing.TB, raw json.RawMessage, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	s, _ := m[key].(string)
	return s
}

// fixtures prepares, through the gateway, the incidents, resources, grants and
// reinforcement requests the tests act on, with the tokens of the mayor (or admin,
// or prefecture) of each place. A fixture a test changed is used up: the next call
// makes a fresh one.
type fixtures struct {
	t    testing.TB
	env  *gatewaytest.Env
	pool map[string]string // kind|scope → id
}

func newFixtures(t testing.TB, env *gatewaytest.Env) *fixtures {
	return &fixtures{t: t, env: env, pool: map[string]string{}}
}

func (f *fixtures) mayor(scope string) string {
	return f.env.Token("fx-mayor-"+strings.ReplaceAll(scope, "/", "-"), "mayor", scope)
}

func (f *fixtures) prefecture(scope string) string {
	dep := departementOf(scope)
	return f.env.Token("fx-prefecture-"+dep, "prefecture", dep)
}

func (f *fixtures) rac(scope string) string {
	return f.env.Token("fx-rac-"+strings.ReplaceAll(scope, "/", "-"), "rac", scope)
}

func (f *fixtures) admin(scope string) string {
	return f.env.Token("fx-admin-"+strings.ReplaceAll(scope, "/", "-"), "admin", scope)
}

// get returns a fixture of kind in scope, making one if there is none.
func (f *fixtures) get(kind, scope string) string {
	f.t.Helper()
	k := kind + "|" + scope
	if id, ok := f.pool[k]; ok {
		return id
	}
	id := f.make(kind, scope)
	f.pool[k] = id
	return id
}

// usedUp forgets the fixture of kind in scope: a test changed it.
func (f *fixtures) usedUp(kind, scope string) { delete(f.pool, kind+"|"+scope) }

func (f *fixtures) do(token, query string, vars map[string]any, name string) json.RawMessage {
	f.t.Helper()
	return field(f.t, must(f.t, f.env.Do(f.t, token, query, vars)), name)
}

// Fixture kinds. An incident's or a resource's id, a grant's subject, a request's id;
// "incident.logged" is "incidentID entryID".
func (f *fixtures) make(kind, scope string) string {
	f.t.Helper()
	t, m := f.t, func() string { return f.mayor(scope) }
	switch kind {
	case "incident.base", "incident.fresh":
		return str(t, f.do(m(), `mutation($d:String!){ reportIncident(input:{domain:$d, kind:FLOOD, title:"Crue du Vistre", severity:MODERATE}){ id } }`,
			map[string]any{"d": scope}, "reportIncident"), "id")
	case "incident.logged":
		id := f.make("incident.fresh", scope)
		var inc struct{ Log []struct{ ID string } }
		_ = json.Unmarshal(f.do(m(), `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Relevé à l'échelle : 2,10 m"){ log { id } } }`,
			map[string]any{"id": id}, "addLogEntry"), &inc)
		if len(inc.Log) != 1 {
			t.Fatalf("fixture %s: log %v", kind, inc.Log)
		}
		return id + " " + inc.Log[0].ID
	case "incident.qualified":
		id := f.make("incident.fresh", scope)
		f.do(m(), `mutation($id:ID!){ qualifyIncident(id:$id, kind:FLASH_FLOOD, severity:SEVERE){ id } }`, map[string]any{"id": id}, "qualifyIncident")
		return id
	case "incident.closed":
		id := f.make("incident.fresh", scope)
		f.do(m(), `mutation($id:ID!){ closeIncident(id:$id, summary:"Décrue"){ id } }`, map[string]any{"id": id}, "closeIncident")
		return id
	case "resource.available":
		return str(t, f.do(m(), `mutation($d:String!){ registerResource(input:{domain:$d, kind:TEAM, name:"Services techniques"}){ id } }`,
			map[string]any{"d": scope}, "registerResource"), "id")
	case "resource.engaged":
		id := f.make("resource.available", scope)
		f.do(m(), `mutation($r:ID!,$i:ID!){ engageResource(resourceId:$r, incidentId:$i){ id } }`,
			map[string]any{"r": id, "i": f.get("incident.base", scope)}, "engageResource")
		return id
	case "resource.shelter":
		return str(t, f.do(m(), `mutation($d:String!){ registerResource(input:{domain:$d, kind:SHELTER, name:"Gymnase", capacity:100}){ id } }`,
			map[string]any{"d": scope}, "registerResource"), "id")
	case "grant":
		sub := uniq("granted")
		f.do(f.admin(scope), `mutation($s:String!,$d:String!){ grantRole(subject:$s, role:"observer", domain:$d){ subject } }`,
			map[string]any{"s": sub, "d": scope}, "grantRole")
		return sub
	case "reinforcement.requested":
		return str(t, f.do(m(), `mutation($d:String!,$i:ID!){ requestReinforcement(input:{domain:$d, incidentId:$i, kind:TEAM, quantity:2}){ id } }`,
			map[string]any{"d": scope, "i": f.get("incident.base", scope)}, "requestReinforcement"), "id")
	case "reinforcement.accepted":
		id := f.make("reinforcement.requested", scope)
		f.do(f.prefecture(scope), `mutation($id:ID!){ acceptReinforcement(id:$id, quantity:2){ id } }`, map[string]any{"id": id}, "acceptReinforcement")
		return id
	case "reinforcement.dispatched":
		id := f.make("reinforcement.accepted", scope)
		f.do(f.prefecture(scope), `mutation($id:ID!){ dispatchReinforcement(id:$id){ id } }`, map[string]any{"id": id}, "dispatchReinforcement")
		return id
	case "reinforcement.arrived":
		id := f.make("reinforcement.dispatched", scope)
		f.do(m(), `mutation($id:ID!){ confirmReinforcementArrival(id:$id){ id } }`, map[string]any{"id": id}, "confirmReinforcementArrival")
		return id
	case "alert.draft", "alert.frdraft":
		channels := []string{"CAP_FEED"}
		if kind == "alert.frdraft" {
			channels = append(channels, "FR_ALERT")
		}
		// Drafted by the place's RAC, so that its mayor (and the matrix's) may approve.
		return str(t, f.do(f.rac(scope), `mutation($in: DraftAlertInput!){ draftAlert(input: $in){ id } }`,
			map[string]any{"in": floodAlert(scope, channels...)}, "draftAlert"), "id")
	case "alert.pending", "alert.frpending":
		id := f.make(strings.Replace(kind, "pending", "draft", 1), scope)
		f.do(f.rac(scope), `mutation($id:ID!){ submitAlert(id:$id){ id } }`, map[string]any{"id": id}, "submitAlert")
		return id
	case "alert.frrequested":
		id := f.make("alert.frpending", scope)
		f.do(m(), `mutation($id:ID!){ approveAlert(id:$id){ id } }`, map[string]any{"id": id}, "approveAlert")
		return id
	case "alert.frvalidated":
		id := f.make("alert.frrequested", scope)
		f.do(f.prefecture(scope), `mutation($id:ID!){ validateFrAlert(id:$id){ id } }`, map[string]any{"id": id}, "validateFrAlert")
		return id
	case "resident":
		return str(t, f.do(m(), `mutation($d:String!){ registerResident(input:{domain:$d, phone:"+33612345678", location:{lat:43.83, lon:4.35}, channels:[SMS]}){ id } }`,
			map[string]any{"d": scope}, "registerResident"), "id")
	}
	t.Fatalf("no fixture of kind %q", kind)
	return ""
}
