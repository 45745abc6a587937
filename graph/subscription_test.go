package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"vigie/graph/gatewaytest"
)

const boardChanged = `subscription($d: String!) { boardChanged(domain: $d) { domain streamId type at } }`

type boardChange struct {
	Domain, StreamID, Type string
	At                     time.Time
}

// listener is one subscription to boardChanged on its own connection.
type listener struct {
	t  *testing.T
	ws *gatewaytest.WS
}

func listen(t *testing.T, env *gatewaytest.Env, token, domain string) *listener {
	t.Helper()
	ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + token})
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	ws.Subscribe(t, "board", boardChanged, map[string]any{"d": domain})
	return &listener{t: t, ws: ws}
}

// next waits up to d for a change on stream; ok is false if none came. A refusal of
// the subscription fails the test.
func (l *listener) next(stream string, d time.Duration) (boardChange, bool) {
	l.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, ok := l.ws.Next(time.Until(deadline))
		if !ok {
			return boardChange{}, false
		}
		if m.Type != "next" {
			l.t.Fatalf("subscription ended: %s %s", m.Type, m.Payload)
		}
		var p struct {
			Data   struct{ BoardChanged boardChange }
			Errors json.RawMessage
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
			l.t.Fatalf("subscription refused: %s", m.Payload)
		}
		if p.Data.BoardChanged.StreamID == stream {
			return p.Data.BoardChanged, true
		}
	}
}

// live makes sure each listener's subscription is in place before the test counts
// on it: gqlgen does not acknowledge a subscription, so keep changing an incident of
// the listener's place until the listener hears of it.
func live(t *testing.T, fx *fixtures, pairs map[*listener]string) {
	t.Helper()
	for l, place := range pairs {
		id := fx.get("incident.base", place)
		deadline := time.Now().Add(10 * time.Second)
		for {
			fx.do(fx.mayor(place), `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Veille"){ id } }`, map[string]any{"id": id}, "addLogEntry")
			if _, ok := l.next("incident-"+id, 200*time.Millisecond); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the subscription on %s never heard of changes in %s", place, place)
			}
		}
	}
	// Drain what the warm-up left.
	for l := range pairs {
		for {
			if _, ok := l.ws.Next(100 * time.Millisecond); !ok {
				break
			}
		}
	}
}

func TestAReportReachesItsCommuneAndItsPrefectureButNoOtherCommune(t *testing.T) {
	env := gatewaytest.Start(t)
	fx := newFixtures(t, env)
	nimesBoard := listen(t, env, env.Token("nimes-observer", "observer", nimes), nimes)
	prefecture := listen(t, env, env.Token("cod-gard", "prefecture", gard), gard)
	alesBoard := listen(t, env, env.Token("ales-observer", "observer", ales), ales)
	live(t, fx, map[*listener]string{nimesBoard: nimes, prefecture: nimes, alesBoard: ales})

	// Another client, a field agent in Nîmes, reports.
	before := time.Now()
	r := must(t, env.Do(t, env.Token("agent-nimes", "field", nimes),
		`mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:FLASH_FLOOD, title:"Cadereau d'Alès sorti de son lit"}){ id } }`, nil))
	stream := "incident-" + str(t, field(t, r, "reportIncident"), "id")

	for name, l := range map[string]*listener{"Nîmes' board": nimesBoard, "the prefecture of the Gard": prefecture} {
		c, ok := l.next(stream, 10*time.Second)
		if !ok {
			t.Fatalf("%s did not hear of the report", name)
		}
		if c.Domain != nimes || c.Type != "IncidentReported" || c.At.Before(before.Add(-time.Second)) {
			t.Errorf("%s heard %+v", name, c)
		}
	}
	// Alès hears nothing of Nîmes' incident — while it does hear of its own.
	if c, ok := alesBoard.next(stream, time.Second); ok {
		t.Errorf("Alès heard of Nîmes' incident: %+v", c)
	}
	own := must(t, env.Do(t, env.Token("agent-ales", "field", ales),
		`mutation { reportIncident(input:{domain:"dep:30/com:30007", kind:LANDSLIDE, title:"Glissement route de Saint-Jean"}){ id } }`, nil))
	if _, ok := alesBoard.next("incident-"+str(t, field(t, own, "reportIncident"), "id"), 10*time.Second); !ok {
		t.Error("Alès did not hear of its own incident")
	}
}

func TestADepartementSpelledWithItsWildcardIsTheDepartement(t *testing.T) {
	env := gatewaytest.Start(t)
	fx := newFixtures(t, env)
	token := env.Token("cod-gard", "prefecture", gard)
	wildcard := listen(t, env, token, "dep:30/*")
	live(t, fx, map[*listener]string{wildcard: ales})

	id := fx.get("incident.base", nimes)
	a := must(t, env.Do(t, token, `{ incidents(domain:"dep:30"){ id } }`, nil))
	b := must(t, env.Do(t, token, `{ incidents(domain:"dep:30/*"){ id } }`, nil))
	if string(field(t, a, "incidents")) != string(field(t, b, "incidents")) || !strings.Contains(string(b.Data), id) {
		t.Errorf("dep:30 lists %s, dep:30/* lists %s", field(t, a, "incidents"), field(t, b, "incidents"))
	}
	for _, q := range []string{`{ x: overview(domain:"dep:30/*"){ id } }`, `{ x: incidentCounts(domain:"dep:30/*"){ key value } }`} {
		if r := must(t, env.Do(t, token, q, nil)); string(field(t, r, "x")) == "[]" {
			t.Errorf("%s answers nothing", q)
		}
	}
}

func TestASubscriptionToAPlaceTheCallerMayNotReadIsForbidden(t *testing.T) {
	env := gatewaytest.Start(t)
	ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + env.Token("nimes-observer", "observer", nimes)})
	if err != nil {
		t.Fatal(err)
	}
	for _, place := range []string{ales, gard, istres} {
		ws.Subscribe(t, place, boardChanged, map[string]any{"d": place})
		m, ok := ws.Next(5 * time.Second)
		var p struct{ Errors []gatewaytest.Error }
		if ok {
			_ = json.Unmarshal(m.Payload, &p)
		}
		if !ok || m.ID != place || len(p.Errors) != 1 || p.Errors[0].Extensions.Code != "FORBIDDEN" || p.Errors[0].Message != "action non autorisée pour votre rôle sur ce territoire" {
			t.Fatalf("subscribing to %s: want FORBIDDEN, got %v %s %s", place, ok, m.Type, m.Payload)
		}
		if m, ok := ws.Next(5 * time.Second); !ok || m.Type != "complete" || m.ID != place {
			t.Fatalf("subscribing to %s: the refused operation must complete, got %v %s", place, ok, m.Type)
		}
	}
	// The connection itself stays usable for what the caller may read.
	ws.Subscribe(t, "own", boardChanged, map[string]any{"d": nimes})
	if m, ok := ws.Next(500 * time.Millisecond); ok {
		t.Errorf("a permitted subscription answered at once: %s %s", m.Type, m.Payload)
	}
}

func TestAConnectionWithoutAValidTokenIsClosedAs4403(t *testing.T) {
	env := gatewaytest.Start(t)
	for name, payload := range map[string]map[string]any{
		"no payload":       nil,
		"no token":         {"lang": "fr"},
		"another scheme":   {"Authorization": "Basic bWFpcmU6bmltZXM="},
		"a bad token":      {"Authorization": "Bearer not-a-token"},
		"an expired token": {"Authorization": "Bearer " + env.ExpiredToken("m", "mayor", nimes)},
	} {
		ws, err := env.DialWS(t, payload)
		if err == nil {
			ws.Close()
			t.Errorf("%s: the connection was acknowledged", name)
			continue
		}
		if got := websocket.CloseStatus(err); got != 4403 {
			t.Errorf("%s: want close 4403 Forbidden (graphql-transport-ws), got %v (%v)", name, got, err)
		}
	}
}

func TestAWebsocketFromAnotherOriginIsRefused(t *testing.T) {
	env := gatewaytest.Start(t)
	// A page elsewhere opening a socket with the browser's credentials (cross-site
	// websocket hijacking): the handshake itself is refused.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Origin": {"https://ailleurs.example"}},
	})
	if err == nil {
		c.CloseNow()
		t.Fatal("a websocket from another origin was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("want 403, got %v (%v)", resp, err)
	}
}
