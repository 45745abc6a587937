package graph_test

import (
	"strings"
	"testing"

	"vigie/graph/gatewaytest"
)

// invisibleCase is a mutation carrying an invisible or direction character in a text
// shown to others, and what the refusal must name.
type invisibleCase struct {
	name, field, char string
	send              func() gatewaytest.Response
}

// refusedAsInvisible checks each case is answered INVALID_INPUT naming the field and
// the character, in French as the dashboard shows it, and that nothing was appended.
func refusedAsInvisible(t *testing.T, env *gatewaytest.Env, cases []invisibleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := env.Head()
			r := c.send()
			if r.Code() != "INVALID_INPUT" {
				t.Fatalf("want INVALID_INPUT, got %s", r)
			}
			msg := r.Message()
			if !strings.Contains(msg, c.field) || !strings.Contains(msg, "caractère invisible ou de contrôle de direction interdit ("+c.char+")") {
				t.Errorf("the message should name %s and say why in French (%s): %q", c.field, c.char, msg)
			}
			if after := env.Head(); after != head {
				t.Errorf("the log moved from %d to %d", head, after)
			}
		})
	}
}

// From the attacker's side (issue 14, point 8): texts the boards show and the alerts
// publish are written through the gateway by anyone with a commune role. A right-to-
// left override in an alert's headline, a zero-width space in an incident's title (two
// incidents that look alike), a direction isolate in the main courante: refused.
func TestInvisibleAndDirectionCharactersAreRefusedThroughTheGateway(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	fx := newFixtures(t, env)
	mayor, rac := fx.mayor(nimes), fx.rac(nimes)
	incident := fx.get("incident.base", nimes)
	alert := func(change func(map[string]any)) map[string]any {
		in := floodAlert(nimes, "CAP_FEED")
		change(in)
		return map[string]any{"in": in}
	}
	refusedAsInvisible(t, env, []invisibleCase{
		{"an incident title with a zero-width space", "title", "U+200B", func() gatewaytest.Response {
			return env.Do(t, mayor, reportMutation, reportInput(map[string]any{"title": "Le Vidourle\u200b déborde à Sommières"}))
		}},
		{"an incident description with a right-to-left override", "description", "U+202E", func() gatewaytest.Response {
			return env.Do(t, mayor, reportMutation, reportInput(map[string]any{"description": "Pont fermé. \u202eertuo'l ed zessap"}))
		}},
		{"a log entry with a left-to-right isolate", "text", "U+2066", func() gatewaytest.Response {
			return env.Do(t, mayor, `mutation($id:ID!,$t:String!){ addLogEntry(incidentId:$id, text:$t){ id } }`,
				map[string]any{"id": incident, "t": "Relevé à l'échelle : \u20662,10 m\u2069"})
		}},
		{"an alert headline with a right-to-left override", "headline", "U+202E", func() gatewaytest.Response {
			return env.Do(t, rac, draftMutation, alert(func(in map[string]any) { in["headline"] = "Crue du Vistre : \u202eegatè'l à zetnom" }))
		}},
		{"an alert instruction with a byte order mark", "instruction", "U+FEFF", func() gatewaytest.Response {
			return env.Do(t, rac, draftMutation, alert(func(in map[string]any) { in["instruction"] = "\ufeffMontez à l'étage" }))
		}},
	})
	// The same texts without the character pass: what is refused is the character.
	must(t, env.Do(t, mayor, reportMutation, reportInput(map[string]any{"title": "Le Vidourle déborde à Sommières"})))
}

// The same for the resources' texts, which the resources service checks with rules
// of its own: a resource's name on every board, a reinforcement's reason read by the
// prefecture.
func TestResourceTextsWithInvisibleCharactersAreRefusedThroughTheGateway(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	fx := newFixtures(t, env)
	mayor := fx.mayor(nimes)
	incident := fx.get("incident.base", nimes)
	refusedAsInvisible(t, env, []invisibleCase{
		{"a resource name with a right-to-left override", "name", "U+202E", func() gatewaytest.Response {
			return env.Do(t, mayor, `mutation($d:String!,$n:String!){ registerResource(input:{domain:$d, kind:TEAM, name:$n}){ id } }`,
				map[string]any{"d": nimes, "n": "Équipe \u202e21"})
		}},
		{"a reinforcement reason with a zero-width space", "reason", "U+200B", func() gatewaytest.Response {
			return env.Do(t, mayor, `mutation($d:String!,$i:ID!,$r:String){ requestReinforcement(input:{domain:$d, incidentId:$i, kind:TEAM, quantity:2, reason:$r}){ id } }`,
				map[string]any{"d": nimes, "i": incident, "r": "Digue\u200b fragilisée"})
		}},
	})
}
