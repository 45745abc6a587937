// Issue 14, points 6 and 7, through the gateway from the attacker's side: an admin
// cannot make itself mayor, a mayor grant is honoured only once a second person confirms
// it, and a commune's command on another commune's incident is answered exactly as one
// on an unknown id.
package graph_test

import (
	"testing"
	"time"

	"vigie/graph/gatewaytest"
	"vigie/policies"
)

func TestDutiesStaySeparateAndReferencesStayInTheirCommuneOverGraphQL(t *testing.T) {
	env := gatewaytest.Start(t)
	adminA := env.Token("adm-a", "admin", nimes)
	adminB := env.Token("adm-b", "admin", nimes)
	cod := env.Token("cod-gard", "prefecture", "dep:30")
	rac := env.Token("rac-nimes", "rac", nimes)
	x := env.TokenFor("maire-x", time.Hour, policies.Grant{Role: "observer", Domain: "dep:13/com:13047"})
	const grant = `mutation($s:String!){ grantRole(subject:$s, role:"mayor", domain:"dep:30/com:30189"){ subject roles { role domain } } }`

	r := env.Do(t, adminA, `mutation { grantRole(subject:"adm-a", role:"mayor", domain:"dep:30/com:30189"){ subject } }`, nil)
	t.Logf("self grant: %s", r)
	if r.Code() != "REJECTED" {
		t.Errorf("self-grant: %s", r)
	}
	r = must(t, env.Do(t, adminA, grant, map[string]any{"s": "maire-x"}))
	t.Logf("request: %s", r)
	drafted := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": floodAlert(nimes, "CAP_FEED")}), "draftAlert")
	id := map[string]any{"id": drafted.ID}
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id status } }`, id))
	r = env.Do(t, x, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id)
	t.Logf("X approves before confirmation: %s", r)
	if r.Code() == "" {
		t.Fatal("a mayor grant requested by one admin, not confirmed, let X approve an alert")
	}
	r = env.Do(t, adminA, grant, map[string]any{"s": "maire-x"})
	t.Logf("A confirms own: %s", r)
	if r.Code() != "REJECTED" {
		t.Errorf("own confirmation: %s", r)
	}
	r = must(t, env.Do(t, adminB, grant, map[string]any{"s": "maire-x"}))
	t.Logf("B confirms: %s", r)
	r = must(t, env.Do(t, x, `mutation($id: ID!){ approveAlert(id: $id){ id status approvedBy } }`, id))
	t.Logf("X approves: %s", r)

	// the prefecture confirms another mayor
	must(t, env.Do(t, adminA, grant, map[string]any{"s": "maire-y"}))
	r = must(t, env.Do(t, cod, grant, map[string]any{"s": "maire-y"}))
	t.Logf("prefecture confirms: %s", r)
	r = env.Do(t, cod, `mutation { grantRole(subject:"u-9", role:"observer", domain:"dep:30/com:30189"){ subject } }`, nil)
	t.Logf("prefecture grants observer: %s", r)
	if r.Code() != "FORBIDDEN" {
		t.Errorf("prefecture observer: %s", r)
	}

	// references
	racAles := env.Token("rac-ales", "rac", ales)
	inc := str(t, field(t, must(t, env.Do(t, rac, `mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:FLOOD, title:"Crue"}){ id } }`, nil)), "reportIncident"), "id")
	res := str(t, field(t, must(t, env.Do(t, racAles, `mutation { registerResource(input:{domain:"dep:30/com:30007", kind:EQUIPMENT, name:"Pompe"}){ id } }`, nil)), "registerResource"), "id")
	a := env.Do(t, racAles, `mutation($r:ID!,$i:ID!){ engageResource(resourceId:$r, incidentId:$i){ id } }`, map[string]any{"r": res, "i": inc})
	b := env.Do(t, racAles, `mutation($r:ID!,$i:ID!){ engageResource(resourceId:$r, incidentId:$i){ id } }`, map[string]any{"r": res, "i": "00000000-0000-5000-8000-000000000000"})
	t.Logf("engage elsewhere %s / nowhere %s", a, b)
	if string(a.Raw) != string(b.Raw) || a.Code() != "NOT_FOUND" {
		t.Errorf("Alès's command on Nîmes' incident answered %s, an unknown id %s: want the same NOT_FOUND", a, b)
	}
	a = env.Do(t, racAles, `mutation($i:ID!){ requestReinforcement(input:{domain:"dep:30/com:30007", incidentId:$i, kind:TEAM, quantity:1}){ id } }`, map[string]any{"i": inc})
	b = env.Do(t, racAles, `mutation($i:ID!){ requestReinforcement(input:{domain:"dep:30/com:30007", incidentId:$i, kind:TEAM, quantity:1}){ id } }`, map[string]any{"i": "nope"})
	t.Logf("request elsewhere %s / nowhere %s", a, b)
	if string(a.Raw) != string(b.Raw) || a.Code() != "NOT_FOUND" {
		t.Errorf("Alès's command on Nîmes' incident answered %s, an unknown id %s: want the same NOT_FOUND", a, b)
	}
	in := floodAlert(ales, "CAP_FEED")
	in["incidentId"] = inc
	a = env.Do(t, racAles, draftMutation, map[string]any{"in": in})
	in["incidentId"] = "nope"
	b = env.Do(t, racAles, draftMutation, map[string]any{"in": in})
	t.Logf("draft elsewhere %s / nowhere %s", a, b)
	if string(a.Raw) != string(b.Raw) || a.Code() != "NOT_FOUND" {
		t.Errorf("Alès's command on Nîmes' incident answered %s, an unknown id %s: want the same NOT_FOUND", a, b)
	}
}
