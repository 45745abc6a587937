package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"vigie/projections/projectiontest"
)

// Bounds of the end-to-end test: how long a change may take to reach a subscriber, and
// how long a component may take to say it is ready once it listens.
const (
	e2eNoticeWait = 10 * time.Second
	e2eReadyWait  = 20 * time.Second
)

// TestEveryComponentAsASeparateProcess deploys Vigie as a production install would:
// the event store, the incidents and resources services, the projector and the
// gateway, each its own process, on a real Redis. A crisis cell reports, qualifies,
// logs, engages a team and closes an incident over GraphQL; after each step the
// mutation's answer, the boards and the live subscriptions of two other clients (the
// commune's RAC and the prefecture) all show the change.
func TestEveryComponentAsASeparateProcess(t *testing.T) {
	// A database of the test's own, emptied, locked against the other test packages.
	rdb := projectiontest.Redis(t)
	redisURL := redisDBURL(t, rdb.Options().DB)
	data := t.TempDir()
	top := startTopology(t, data, redisURL, nil)
	proj, gw := top.projector, top.gateway
	gatewayURL := gw.addr
	if !strings.HasPrefix(gatewayURL, "http://127.0.0.1:") {
		t.Fatalf("the gateway announced %q, want http://127.0.0.1:PORT", gatewayURL)
	}

	const (
		nimesDom = "dep:30/com:30189"
		gardDom  = "dep:30"
	)
	mayor := vigieToken(t, data, "mayor-30189", "mayor", nimesDom)
	rac := vigieToken(t, data, "rac-30189", "rac", nimesDom)
	prefecture := vigieToken(t, data, "cod-30", "prefecture", gardDom)

	// Probes: liveness at once, readiness within a bound (the projector is ready once
	// every read model has caught up with the log).
	hc := &http.Client{Timeout: 15 * time.Second}
	for _, probe := range []string{gatewayURL + "/healthz", gatewayURL + "/readyz", "http://" + proj.addr + "/healthz", "http://" + proj.addr + "/readyz"} {
		waitOK(t, hc, probe)
	}

	gql := &gqlClient{t: t, http: hc, url: gatewayURL + "/graphql"}
	// Command ids, and so the ids the services derive from them, differ from run to
	// run: a stream this test awaits is its own, whatever else shares the Redis server.
	run := uuid.NewString()
	cmdID := func(step string) string { return "e2e-" + step + "-" + run }

	// The second clients open their boards before anything happens. gqlgen does not
	// acknowledge a subscription, so a warm-up incident is changed until both hear of
	// it: from then on their subscriptions are surely in place.
	racBoard := subscribeBoard(t, gatewayURL, rac, nimesDom)
	prefBoard := subscribeBoard(t, gatewayURL, prefecture, gardDom)
	boards := map[string]*boardListener{"the RAC's board of " + nimesDom: racBoard, "the prefecture's board of " + gardDom: prefBoard}
	var warm struct{ ID string }
	gql.mutate(mayor, `mutation($c:ID){ reportIncident(input:{domain:"dep:30/com:30189", kind:OTHER, title:"Veille"}, commandId:$c){ id } }`, map[string]any{"c": cmdID("warm-up")}, "reportIncident", &warm)
	deadline := time.Now().Add(e2eReadyWait)
	for name, l := range boards {
		for {
			gql.mutate(mayor, `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Veille active"){ id } }`, map[string]any{"id": warm.ID}, "addLogEntry", nil)
			if _, ok := l.next("incident-"+warm.ID, "", 300*time.Millisecond); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never heard of the warm-up incident within %v", name, e2eReadyWait)
			}
		}
	}

	// heard: both subscribers receive the change of stream, of type typ, in the commune.
	heard := func(step, stream, typ string) {
		t.Helper()
		for name, l := range boards {
			c, ok := l.next(stream, typ, e2eNoticeWait)
			if !ok {
				t.Errorf("%s: %s did not hear %s on %s within %v (heard instead: %v)", step, name, typ, stream, e2eNoticeWait, l.skipped(stream))
				continue
			}
			if c.Domain != nimesDom || c.At.IsZero() {
				t.Errorf("%s: %s heard %+v, want domain %s and a time", step, name, c, nimesDom)
			}
		}
	}
	type logEntry struct{ Author, Text string }
	type resource struct {
		ID, Domain, Kind, Name, Status string
		IncidentID                     *string
	}
	type incident struct {
		ID, Domain, Kind, Title, Status string
		Severity                        *string
		Log                             []logEntry
		Resources                       []resource
	}
	const incidentFields = `id domain kind title status severity log { author text } resources { id domain kind name status incidentId }`
	ids := func(list []incident) []string {
		var out []string
		for _, i := range list {
			out = append(out, i.ID)
		}
		return out
	}
	// listed: the ids of the incidents a caller's board lists in domain with statuses.
	listed := func(token, domain string, statuses ...string) []string {
		t.Helper()
		var list []incident
		gql.query(token, `query($d:String!,$s:[IncidentStatus!]){ incidents(domain:$d, status:$s){ id } }`,
			map[string]any{"d": domain, "s": statuses}, "incidents", &list)
		return ids(list)
	}
	// board: the incident as the prefecture's board shows it.
	board := func(id string) incident {
		t.Helper()
		var got *incident
		gql.query(prefecture, `query($id:ID!){ incident(id:$id){ `+incidentFields+` } }`, map[string]any{"id": id}, "incident", &got)
		if got == nil {
			t.Fatalf("the prefecture's board has no incident %s", id)
		}
		return *got
	}
	active := []string{"REPORTED", "QUALIFIED", "ESCALATED", "STABILIZED"}

	// 1. The mayor reports.
	var inc1 incident
	gql.mutate(mayor, `mutation($in:ReportIncidentInput!,$c:ID){ reportIncident(input:$in, commandId:$c){ `+incidentFields+` } }`,
		map[string]any{"c": cmdID("report"), "in": map[string]any{"domain": nimesDom, "kind": "FLOOD", "title": "Le Cadereau d'Uzès sort de son lit"}}, "reportIncident", &inc1)
	if inc1.ID == "" || inc1.Domain != nimesDom || inc1.Kind != "FLOOD" || inc1.Status != "REPORTED" || inc1.Title != "Le Cadereau d'Uzès sort de son lit" {
		t.Fatalf("reportIncident answered %+v", inc1)
	}
	stream := "incident-" + inc1.ID
	if got := listed(mayor, nimesDom, "REPORTED"); !slices.Contains(got, inc1.ID) {
		t.Errorf("after the report, the mayor's board of reported incidents lists %v, not %s", got, inc1.ID)
	}
	if got := listed(prefecture, gardDom, "REPORTED"); !slices.Contains(got, inc1.ID) {
		t.Errorf("after the report, the prefecture's board of reported incidents lists %v, not %s", got, inc1.ID)
	}
	heard("report", stream, "IncidentReported")

	// 2. The RAC qualifies it.
	var q incident
	gql.mutate(rac, `mutation($id:ID!,$c:ID){ qualifyIncident(id:$id, kind:FLASH_FLOOD, severity:SEVERE, commandId:$c){ `+incidentFields+` } }`,
		map[string]any{"id": inc1.ID, "c": cmdID("qualify")}, "qualifyIncident", &q)
	if q.ID != inc1.ID || q.Status != "QUALIFIED" || q.Kind != "FLASH_FLOOD" || q.Severity == nil || *q.Severity != "SEVERE" {
		t.Errorf("qualifyIncident answered %+v", q)
	}
	if got := listed(prefecture, gardDom, "QUALIFIED"); !slices.Contains(got, inc1.ID) {
		t.Errorf("after the qualification, the prefecture's board of qualified incidents lists %v, not %s", got, inc1.ID)
	}
	if got := listed(mayor, nimesDom, "REPORTED"); slices.Contains(got, inc1.ID) {
		t.Errorf("after the qualification, the mayor's board still lists %s as reported: %v", inc1.ID, got)
	}
	if b := board(inc1.ID); b.Status != "QUALIFIED" || b.Kind != "FLASH_FLOOD" || b.Severity == nil || *b.Severity != "SEVERE" {
		t.Errorf("after the qualification, the prefecture's board shows %+v", b)
	}
	heard("qualify", stream, "IncidentQualified")

	// 3. The RAC writes in the main courante.
	const entry = "Échelle du Cadereau : 2,10 m, école Jean Jaurès évacuée"
	var logged incident
	gql.mutate(rac, `mutation($id:ID!,$t:String!,$c:ID){ addLogEntry(incidentId:$id, text:$t, commandId:$c){ `+incidentFields+` } }`,
		map[string]any{"id": inc1.ID, "t": entry, "c": cmdID("log")}, "addLogEntry", &logged)
	if want := (logEntry{Author: "rac-30189", Text: entry}); len(logged.Log) != 1 || logged.Log[0] != want {
		t.Errorf("addLogEntry answered the log %+v, want [%+v]", logged.Log, want)
	}
	if b := board(inc1.ID); len(b.Log) != 1 || b.Log[0].Text != entry || b.Log[0].Author != "rac-30189" {
		t.Errorf("after the log entry, the prefecture's board shows the log %+v", b.Log)
	}
	heard("log", stream, "LogEntryAdded")

	// 4. The mayor registers a team, 5. the RAC engages it on the incident.
	var team resource
	gql.mutate(mayor, `mutation($c:ID){ registerResource(input:{domain:"dep:30/com:30189", kind:TEAM, name:"Police municipale, équipe 2"}, commandId:$c){ id domain kind name status incidentId } }`,
		map[string]any{"c": cmdID("team")}, "registerResource", &team)
	if team.ID == "" || team.Domain != nimesDom || team.Kind != "TEAM" || team.Status != "AVAILABLE" || team.IncidentID != nil {
		t.Fatalf("registerResource answered %+v", team)
	}
	var teams []resource
	gql.query(rac, `{ resources(domain:"dep:30/com:30189", kind:TEAM, status:AVAILABLE){ id status } }`, nil, "resources", &teams)
	if !slices.ContainsFunc(teams, func(r resource) bool { return r.ID == team.ID }) {
		t.Errorf("after the registration, the RAC's board of available teams is %+v", teams)
	}
	heard("register", "resource-"+team.ID, "ResourceRegistered")

	var engaged resource
	gql.mutate(rac, `mutation($r:ID!,$i:ID!,$c:ID){ engageResource(resourceId:$r, incidentId:$i, commandId:$c){ id domain kind name status incidentId } }`,
		map[string]any{"r": team.ID, "i": inc1.ID, "c": cmdID("engage")}, "engageResource", &engaged)
	if engaged.ID != team.ID || engaged.Status != "ENGAGED" || engaged.IncidentID == nil || *engaged.IncidentID != inc1.ID {
		t.Errorf("engageResource answered %+v", engaged)
	}
	// The incident board follows the engagement, which is written on the resource's stream.
	if b := board(inc1.ID); len(b.Resources) != 1 || b.Resources[0].ID != team.ID || b.Resources[0].Status != "ENGAGED" {
		t.Errorf("after the engagement, the prefecture's board shows the resources %+v", b.Resources)
	}
	gql.query(mayor, `{ resources(domain:"dep:30/com:30189", status:ENGAGED){ id status incidentId } }`, nil, "resources", &teams)
	if !slices.ContainsFunc(teams, func(r resource) bool {
		return r.ID == team.ID && r.IncidentID != nil && *r.IncidentID == inc1.ID
	}) {
		t.Errorf("after the engagement, the mayor's board of engaged resources is %+v", teams)
	}
	heard("engage", "resource-"+team.ID, "ResourceEngaged")

	// 6. The mayor closes the incident.
	var closed incident
	gql.mutate(mayor, `mutation($id:ID!,$c:ID){ closeIncident(id:$id, summary:"Décrue amorcée, aucune victime", commandId:$c){ `+incidentFields+` } }`,
		map[string]any{"id": inc1.ID, "c": cmdID("close")}, "closeIncident", &closed)
	if closed.ID != inc1.ID || closed.Status != "CLOSED" {
		t.Errorf("closeIncident answered %+v", closed)
	}
	if got := listed(prefecture, gardDom, "CLOSED"); !slices.Contains(got, inc1.ID) {
		t.Errorf("after the closing, the prefecture's board of closed incidents lists %v, not %s", got, inc1.ID)
	}
	if got := listed(prefecture, gardDom, active...); slices.Contains(got, inc1.ID) || !slices.Contains(got, warm.ID) {
		t.Errorf("after the closing, the prefecture's board of active incidents lists %v: want %s (the warm-up) and not %s", got, warm.ID, inc1.ID)
	}
	if b := board(inc1.ID); b.Status != "CLOSED" || len(b.Log) != 1 {
		t.Errorf("after the closing, the prefecture's board shows %+v", b)
	}
	heard("close", stream, "IncidentClosed")

	// Each event reached each board once: though several read models apply it, the
	// subscriber hears of it one time, and in the order of the log.
	for name, l := range boards {
		l.next("", "", 500*time.Millisecond) // no stream is "": records whatever is still on its way
		for _, s := range []string{stream, "resource-" + team.ID} {
			if extra := l.skipped(s); len(extra) > 0 {
				t.Errorf("%s heard of %s more than the changes awaited, or out of order: %v", name, s, extra)
			}
		}
	}

	// The read models are in the test's own Redis database, where REDIS_URL said.
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n == 0 {
		t.Errorf("the test's Redis database holds %d keys (%v): the read models are not there", n, err)
	}

	// Metrics: the gateway counts its calls to the services; the projector what it applied.
	// Not on the gateway's public address (issue 14): on VIGIE_METRICS_ADDR.
	if resp, err := hc.Get(gatewayURL + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s/metrics: %v %v, want 404: metrics are not public", gatewayURL, resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	gwMetrics := metricsText(t, hc, "http://"+top.metricsAddr+"/metrics")
	for _, method := range []string{"vigie.incidents.v1.Incidents/Report", "vigie.incidents.v1.Incidents/Close", "vigie.resources.v1.Resources/Engage"} {
		if !hasSeries(gwMetrics, "rpc_client_call_duration_seconds_count", `rpc_method="`+method+`"`, `rpc_response_status_code="OK"`) {
			t.Errorf("the gateway's /metrics counts no successful call to %s:\n%s", method, gwMetrics)
		}
	}
	if !hasSeries(gwMetrics, "target_info") {
		t.Errorf("the gateway's /metrics has no target_info:\n%s", gwMetrics)
	}
	projMetrics := metricsText(t, hc, "http://"+proj.addr+"/metrics")
	if !hasSeries(projMetrics, "vigie_projection_applied_total") {
		t.Errorf("the projector's /metrics counts no event applied:\n%s", projMetrics)
	}

	// Every component ends cleanly on SIGTERM: the readers before the writers, the
	// store last. The subscribers see their connection end with the gateway.
	gw.stop(t, syscall.SIGTERM)
	for name, l := range boards {
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s is still connected 5 s after the gateway stopped", name)
		}
	}
	for _, p := range []*process{proj, top.alerts, top.resources, top.incidents, top.eventstore} {
		p.stop(t, syscall.SIGTERM)
	}
}

// redisDBURL is the tests' Redis URL with database db.
func redisDBURL(t *testing.T, db int) string {
	t.Helper()
	u, err := url.Parse(projectiontest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/%d", db)
	return u.String()
}

// waitOK polls u until it answers 200, within e2eReadyWait.
func waitOK(t *testing.T, hc *http.Client, u string) {
	t.Helper()
	deadline := time.Now().Add(e2eReadyWait)
	for {
		status, body := 0, ""
		resp, err := hc.Get(u)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body = resp.StatusCode, string(b)
			if status == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q (%v) after %v, want 200", u, status, body, err, e2eReadyWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricsText reads a /metrics page and checks that it is the Prometheus text format.
func metricsText(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: %d %s, want 200 in the Prometheus text format", u, resp.StatusCode, ct)
	}
	if !strings.Contains(string(b), "# TYPE ") {
		t.Fatalf("GET %s is not Prometheus text:\n%s", u, b)
	}
	return string(b)
}

// hasSeries says whether a Prometheus text page has a sample of metric, with every
// one of labels, whose value is not zero.
func hasSeries(text, metric string, labels ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, metric)
		i := strings.LastIndexByte(rest, ' ')
		if !ok || i < 0 || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if !slices.ContainsFunc(labels, func(l string) bool { return !strings.Contains(rest[:i], l) }) && rest[i+1:] != "0" {
			return true
		}
	}
	return false
}

// gqlClient sends GraphQL over HTTP to the gateway, as the dashboard does.
type gqlClient struct {
	t    *testing.T
	http *http.Client
	url  string
}

type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]any `json:"extensions"`
}

// send posts an operation with token and returns the answer and its HTTP status; it
// fails the test only when no GraphQL answer comes back.
func (c *gqlClient) send(token, query string, vars map[string]any) (gqlResponse, int, []byte) {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("POST /graphql: %v", err)
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		c.t.Fatalf("POST /graphql: %d, not a GraphQL response: %s", resp.StatusCode, raw)
	}
	return r, resp.StatusCode, raw
}

// code is the error code of a refused operation ("" when it was accepted).
func (c *gqlClient) code(token, query string, vars map[string]any) string {
	c.t.Helper()
	r, _, _ := c.send(token, query, vars)
	if len(r.Errors) == 0 {
		return ""
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

// do posts an operation with token and fails the test on any error; into, when not
// nil, receives the data's field.
func (c *gqlClient) do(token, query string, vars map[string]any, field string, into any) gqlResponse {
	c.t.Helper()
	r, status, raw := c.send(token, query, vars)
	if status != http.StatusOK || len(r.Errors) > 0 {
		c.t.Fatalf("POST /graphql %s: %d %s", field, status, raw)
	}
	if into != nil {
		if err := json.Unmarshal(r.Data[field], into); err != nil {
			c.t.Fatalf("%s: %v in %s", field, err, raw)
		}
	}
	return r
}

// query runs a query.
func (c *gqlClient) query(token, query string, vars map[string]any, field string, into any) {
	c.t.Helper()
	c.do(token, query, vars, field, into)
}

// mutate runs a mutation and checks that its answer is the board after the change
// (read-your-writes): the gateway must not say it answered before the board caught up.
func (c *gqlClient) mutate(token, query string, vars map[string]any, field string, into any) {
	c.t.Helper()
	r := c.do(token, query, vars, field, into)
	if s, ok := r.Extensions["consistency"]; ok && s != "CONSISTENT" {
		c.t.Errorf("%s answered with consistency %v, want CONSISTENT: the projector is running", field, s)
	}
}

// boardChange is one event of the boardChanged subscription.
type boardChange struct {
	Domain, StreamID, Type string
	At                     time.Time
}

// boardListener is a client subscribed to boardChanged on its own websocket, speaking
// graphql-transport-ws (token in the connection_init payload).
type boardListener struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan wsMessage
	done chan struct{} // closed when the connection ends

	mu     sync.Mutex
	seen   []boardChange // what next skipped, for the failure messages
	closed error         // why the connection ended, once it has
}

type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribeBoard connects to the gateway's websocket with token, waits for the
// connection_ack and subscribes to the board of domain.
func subscribeBoard(t *testing.T, gatewayURL, token, domain string) *boardListener {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gatewayURL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatalf("websocket to the gateway: %v", err)
	}
	if c.Subprotocol() != "graphql-transport-ws" {
		c.CloseNow()
		t.Fatalf("the gateway chose the subprotocol %q", c.Subprotocol())
	}
	l := &boardListener{t: t, c: c, msgs: make(chan wsMessage, 256), done: make(chan struct{})}
	t.Cleanup(func() { _ = c.CloseNow(); <-l.done })
	go l.read()
	init, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + token})
	l.send(wsMessage{Type: "connection_init", Payload: init})
	for acked := false; !acked; {
		select {
		case m, ok := <-l.msgs:
			if !ok {
				t.Fatalf("the gateway closed the websocket before connection_ack: %v", l.err())
			}
			acked = m.Type == "connection_ack"
		case <-time.After(10 * time.Second):
			t.Fatal("no connection_ack within 10 s")
		}
	}
	p, _ := json.Marshal(map[string]any{
		"query":     `subscription($d: String!) { boardChanged(domain: $d) { domain streamId type at } }`,
		"variables": map[string]any{"d": domain},
	})
	l.send(wsMessage{Type: "subscribe", ID: "board", Payload: p})
	return l
}

// read hands the server's messages to msgs, answering pings, until the connection ends.
func (l *boardListener) read() {
	defer close(l.done)
	defer close(l.msgs)
	for {
		_, b, err := l.c.Read(context.Background())
		if err != nil {
			l.mu.Lock()
			l.closed = err
			l.mu.Unlock()
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		if m.Type == "ping" {
			l.send(wsMessage{Type: "pong"})
			continue
		}
		select {
		case l.msgs <- m:
		default: // nobody reads: lose it rather than block the pongs
		}
	}
}

func (l *boardListener) send(m wsMessage) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.c.Write(ctx, websocket.MessageText, b)
}

// next waits up to d for a change of stream (of type typ, unless typ is empty),
// skipping the others; a refused or ended subscription fails the test.
func (l *boardListener) next(stream, typ string, d time.Duration) (boardChange, bool) {
	l.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case <-deadline:
			return boardChange{}, false
		case m, ok := <-l.msgs:
			if !ok {
				l.t.Fatalf("the gateway closed the subscription's websocket: %v", l.err())
			}
			if m.Type != "next" || m.ID != "board" {
				l.t.Fatalf("subscription ended: %s %s %s", m.Type, m.ID, m.Payload)
			}
			var p struct {
				Data   struct{ BoardChanged boardChange }
				Errors json.RawMessage
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
				l.t.Fatalf("subscription refused: %s", m.Payload)
			}
			c := p.Data.BoardChanged
			if c.StreamID == stream && (typ == "" || c.Type == typ) {
				return c, true
			}
			l.mu.Lock()
			l.seen = append(l.seen, c)
			l.mu.Unlock()
		}
	}
}

// err is why the connection ended (nil while it is open).
func (l *boardListener) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// skipped lists the changes of stream that next passed over.
func (l *boardListener) skipped(stream string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.seen {
		if c.StreamID == stream {
			out = append(out, c.Type)
		}
	}
	return out
}
