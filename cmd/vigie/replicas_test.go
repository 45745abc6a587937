package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/identity"
	"vigie/policies"
	"vigie/projections/projectiontest"
)

// TestReplicasSurviveKillingOneOfEach runs every component but the event store twice,
// as separate processes on one data directory and one Redis database: two instances
// of each service, two projectors (one active, one standby), two gateways each given
// both instances of every service. Eight clients drive reports and log entries
// through both gateways; mid-load one gateway, one instance of each service and the
// active projector are killed (SIGKILL). A client whose request fails sends the same
// command (same command id) to the other gateway, as a real client would. Then every
// command that was answered OK is on the boards exactly once, the boards hold nothing
// else, and the subscriptions on the surviving gateway go on delivering. The standby's
// takeover and the killed gateway's clients' reconnection are measured.
//
// "together" kills the five at the same instant; "apart" kills the projector 3 s after
// the others, so that the clients' switch to the other gateway is not measured
// together with the wait for a board that no projector updates.
func TestReplicasSurviveKillingOneOfEach(t *testing.T) {
	t.Run("together", func(t *testing.T) { replicaDrill(t, false) })
	t.Run("apart", func(t *testing.T) { replicaDrill(t, true) })
}

func replicaDrill(t *testing.T, apart bool) {
	rdb := projectiontest.Redis(t)
	redisURL := redisDBURL(t, rdb.Options().DB)
	data := t.TempDir()
	setupStart := time.Now()

	es := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	base := []string{"EVENTSTORE_URL=esdb://" + es.addr + "?tls=false", "REDIS_URL=", "VIGIE_DATA=", "VIGIE_HTTP_ADDR=",
		"VIGIE_INCIDENTS_ADDR=", "VIGIE_RESOURCES_ADDR=", "VIGIE_ALERTS_ADDR=", "VIGIE_OIDC_ISSUER=", "VIGIE_DRAIN_DELAY=",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	with := func(kv ...string) []string { return append(slices.Clone(base), kv...) }
	// The first service creates the signing key in --data; the others read it.
	var svc [2]struct{ incidents, resources, alerts *process }
	for i := range svc {
		svc[i].incidents = startVigieEnv(t, base, "serve", "incidents", "--data", data, "--listen", "127.0.0.1:0")
		svc[i].resources = startVigieEnv(t, base, "serve", "resources", "--data", data, "--listen", "127.0.0.1:0")
		// Both alerts instances run a dispatcher: two of them count each bucket once.
		svc[i].alerts = startVigieEnv(t, base, "serve", "alerts", "--data", data, "--listen", "127.0.0.1:0")
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	// The first projector takes every lease before the second starts: it is the
	// active one of every read model, the second the standby of every one.
	projA := startVigieEnv(t, with("REDIS_URL="+redisURL), "serve", "projector", "--data", data, "--listen", "127.0.0.1:0")
	waitProjections(t, hc, projA, true, e2eReadyWait)
	projB := startVigieEnv(t, with("REDIS_URL="+redisURL), "serve", "projector", "--data", data, "--listen", "127.0.0.1:0")
	waitOK(t, hc, "http://"+projB.addr+"/readyz")
	if active := projectorActive(t, hc, projB); active != 0 {
		t.Fatalf("the second projector is active for %d read models, want a standby", active)
	}
	both := func(get func(int) *process) string { return get(0).addr + "," + get(1).addr }
	gwEnv := with("REDIS_URL="+redisURL,
		"VIGIE_INCIDENTS_ADDR="+both(func(i int) *process { return svc[i].incidents }),
		"VIGIE_RESOURCES_ADDR="+both(func(i int) *process { return svc[i].resources }),
		"VIGIE_ALERTS_ADDR="+both(func(i int) *process { return svc[i].alerts }),
		"VIGIE_DRAIN_DELAY=200ms")
	var gw [2]*process
	for i := range gw {
		gw[i] = startVigieEnv(t, gwEnv, "serve", "gateway", "--data", data, "--http", "127.0.0.1:0")
		waitOK(t, hc, gw[i].addr+"/readyz")
	}
	t.Logf("topology of %d processes up in %v", 1+6+2+2, time.Since(setupStart).Round(time.Millisecond))

	const (
		nimes   = "dep:30/com:30189"
		workers = 8
	)
	key, err := identity.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(sub, role, domain string) string {
		tok, err := identity.Issue(key, identity.Claims{Subject: sub, Grants: []policies.Grant{{Role: role, Domain: domain}}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	prefecture := issue("cod-30", "prefecture", "dep:30")
	run := uuid.NewString()[:8]

	// Each gateway has a subscriber of the prefecture's board; gqlgen does not
	// acknowledge a subscription, so a warm-up incident is changed until both hear.
	heardOn := [2]*heardLog{recordBoard(subscribeBoard(t, gw[0].addr, prefecture, "dep:30")), recordBoard(subscribeBoard(t, gw[1].addr, prefecture, "dep:30"))}
	warmCl := &replicaClient{hc: hc, gateways: [2]string{gw[0].addr, gw[1].addr}, token: issue("mayor-warm", "mayor", nimes)}
	warm := warmCl.exec(reportIncident(nimes, "warm-"+run))
	if warm.err != nil {
		t.Fatalf("warm-up report: %v", warm.err)
	}
	for i := 0; ; i++ {
		if r := warmCl.exec(addLogEntry(warm.id, fmt.Sprintf("warm-%s-%d", run, i))); r.err != nil {
			t.Fatalf("warm-up log entry: %v", r.err)
		}
		if heardOn[0].has("incident-"+warm.id, "LogEntryAdded") && heardOn[1].has("incident-"+warm.id, "LogEntryAdded") {
			break
		}
		if i > 100 {
			t.Fatal("the subscribers never heard of the warm-up incident")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The load: each client paces itself (the gateway admits 20 operations a second
	// per caller), half of them start on each gateway.
	var (
		stopLoad = make(chan struct{})
		killAt   atomic.Int64 // unix ns; 0 until the kills
		wg       sync.WaitGroup
		mu       sync.Mutex
		results  []result
	)
	loadStart := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &replicaClient{hc: hc, gateways: [2]string{gw[0].addr, gw[1].addr}, prefer: w % 2,
				token: issue(fmt.Sprintf("mayor-%d", w), "mayor", nimes), killAt: &killAt}
			var own []string
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for seq := 0; ; seq++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				cmd := fmt.Sprintf("%s-w%d-%d", run, w, seq)
				var op operation
				if len(own) == 0 || seq%10 == 0 {
					op = reportIncident(nimes, cmd)
				} else {
					op = addLogEntry(own[rng.IntN(len(own))], cmd)
				}
				r := cl.exec(op)
				if r.err == nil && op.kind == "report" {
					own = append(own, r.id)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				time.Sleep(80 * time.Millisecond)
			}
		}()
	}

	// Mid-load, one gateway and one instance of each service die, and the active
	// projector with them or 3 s later.
	time.Sleep(3 * time.Second)
	kill := time.Now()
	killAt.Store(kill.UnixNano())
	victims := []*process{gw[0], svc[0].incidents, svc[0].resources, svc[0].alerts}
	if !apart {
		victims = append(victims, projA)
	}
	for _, p := range victims {
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	// The subscriber of the killed gateway sees its connection end and subscribes on
	// the other one.
	select {
	case <-heardOn[0].done:
	case <-time.After(5 * time.Second):
		t.Error("the subscriber of the killed gateway is still connected 5 s after the kill")
	}
	resubscribed := recordBoard(subscribeBoard(t, gw[1].addr, prefecture, "dep:30"))
	resubscribeTime := time.Since(kill)
	killProj := kill
	if apart {
		time.Sleep(time.Until(kill.Add(3 * time.Second)))
		killProj = time.Now()
		if err := projA.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	// The standby's takeover: every read model active on the second projector.
	allActive := waitProjections(t, hc, projB, false, 15*time.Second)
	takeoverAll := allActive.Sub(killProj)
	time.Sleep(5 * time.Second)
	close(stopLoad)
	wg.Wait()
	loadTime := time.Since(loadStart)

	// What the clients know they did.
	type want struct{ logs []string }
	accepted := map[string]*want{} // incident id → its log entries (command ids)
	var (
		failed, retried, reports, logs int
		stale                          int
		retryReasons                   = map[string]int{}
		worst                          time.Duration
		reconnects, outages            []time.Duration
	)
	for _, r := range results {
		if r.err != nil {
			failed++
			t.Errorf("command %s (%s) never answered OK: %v", r.cmd, r.kind, r.err)
			continue
		}
		if r.attempts > 1 {
			retried++
			for _, why := range r.reasons {
				retryReasons[why]++
			}
		}
		if r.stale {
			stale++
		}
		worst = max(worst, r.done.Sub(r.sent))
		if r.reconnect > 0 {
			reconnects = append(reconnects, r.reconnect)
			outages = append(outages, r.outage)
		}
		switch r.kind {
		case "report":
			reports++
			if accepted[r.id] == nil {
				accepted[r.id] = &want{}
			}
		case "log":
			logs++
		}
	}
	for _, r := range results {
		if r.err == nil && r.kind == "log" {
			if accepted[r.target] == nil {
				t.Fatalf("log entry %s on %s, an incident no report answered", r.cmd, r.target)
			}
			accepted[r.target].logs = append(accepted[r.target].logs, r.cmd)
		}
	}

	// The boards, through the surviving gateway, once the projector has caught up.
	type boardIncident struct {
		ID  string
		Log []struct{ Text string }
	}
	q := &replicaClient{hc: hc, gateways: [2]string{gw[1].addr, gw[1].addr}, token: prefecture}
	var diffs []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list []boardIncident
		if err := q.query(`query($d:String!){ incidents(domain:$d){ id log { text } } }`, map[string]any{"d": nimes}, "incidents", &list); err != nil {
			t.Fatalf("the surviving gateway's board: %v", err)
		}
		diffs = diffs[:0]
		onBoard := map[string]bool{}
		for _, inc := range list {
			if onBoard[inc.ID] {
				diffs = append(diffs, "incident "+inc.ID+" listed twice")
			}
			onBoard[inc.ID] = true
			if inc.ID == warm.id {
				continue
			}
			w, ok := accepted[inc.ID]
			if !ok {
				diffs = append(diffs, "incident "+inc.ID+" on the board, never answered OK")
				continue
			}
			var got []string
			for _, e := range inc.Log {
				got = append(got, e.Text)
			}
			exp := slices.Clone(w.logs)
			slices.Sort(got)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				diffs = append(diffs, fmt.Sprintf("incident %s: log %d entries %v, want %d %v", inc.ID, len(got), got, len(exp), exp))
			}
		}
		if !onBoard[warm.id] {
			diffs = append(diffs, "the warm-up incident is missing")
		}
		for id := range accepted {
			if !onBoard[id] {
				diffs = append(diffs, "incident "+id+" answered OK, missing from the board")
			}
		}
		if len(diffs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, d := range diffs {
		t.Error(d)
	}

	// The subscriptions on the surviving gateway deliver what was changed after the
	// kills: the first change heard there after the kill is the standby's first write
	// (the killed projector can publish nothing more) — unless the change was already
	// on its way; count only events that happened after the kill.
	first, ok := heardOn[1].firstAfter(killProj)
	if !ok {
		t.Fatal("the surviving gateway's subscriber heard nothing of what happened after the kills")
	}
	takeoverFirst := first.Sub(killProj)
	// Every change sent once every read model was active again was heard, once.
	sentAfter := map[string]int{}
	for _, r := range results {
		if r.err == nil && r.sent.After(allActive) {
			stream := "incident-" + r.id
			if r.kind == "log" {
				stream = "incident-" + r.target
			}
			sentAfter[stream+" "+typeOf(r.kind)]++
		}
	}
	heardAfter, heardAll := heardOn[1].counts(allActive), heardOn[1].counts(time.Time{})
	missed := 0
	for k, n := range sentAfter {
		if heardAfter[k] < n {
			missed += n - heardAfter[k]
		}
	}
	if missed > 0 {
		t.Errorf("the surviving gateway's subscriber missed %d of the changes made after the takeover", missed)
	}
	for k, n := range heardAll {
		stream, typ, _ := strings.Cut(k, " ")
		id := strings.TrimPrefix(stream, "incident-")
		if a := accepted[id]; a != nil && typ == "LogEntryAdded" && n > len(a.logs) {
			t.Errorf("%s: heard %d LogEntryAdded, %d were accepted", stream, n, len(a.logs))
		}
	}
	// A last change is heard by the surviving subscriber and the resubscribed one.
	var last string
	for id := range accepted {
		last = id
		break
	}
	mark := warmCl.exec(addLogEntry(last, "mark-"+run))
	if mark.err != nil {
		t.Fatalf("a last log entry: %v", mark.err)
	}
	for name, h := range map[string]*heardLog{"the surviving gateway's subscriber": heardOn[1], "the resubscribed one": resubscribed} {
		if !h.waitFor("incident-"+last, "LogEntryAdded", mark.sent, e2eNoticeWait) {
			t.Errorf("%s did not hear the last change within %v", name, e2eNoticeWait)
		}
	}

	sort.Slice(reconnects, func(i, j int) bool { return reconnects[i] < reconnects[j] })
	sort.Slice(outages, func(i, j int) bool { return outages[i] < outages[j] })
	t.Logf("load: %d workers for %v, %d commands answered OK (%d reports, %d log entries), %d after a retry (failed attempts: %v), %d failed; %d answered STALE; slowest answer %v",
		workers, loadTime.Round(time.Millisecond), reports+logs, reports, logs, retried, retryReasons, failed, stale, worst.Round(time.Millisecond))
	t.Logf("standby projector: first change on a board %v after its kill, every read model active %v after", takeoverFirst.Round(time.Millisecond), takeoverAll.Round(time.Millisecond))
	if len(reconnects) > 0 {
		t.Logf("killed gateway's clients (%d): answered by the other gateway %v..%v after the kill (median %v); %v..%v after their failed request",
			len(reconnects), reconnects[0].Round(time.Millisecond), reconnects[len(reconnects)-1].Round(time.Millisecond),
			reconnects[len(reconnects)/2].Round(time.Millisecond), outages[0].Round(time.Millisecond), outages[len(outages)-1].Round(time.Millisecond))
	} else {
		t.Error("no client of the killed gateway was measured switching to the other")
	}
	t.Logf("resubscribed on the other gateway %v after the kill", resubscribeTime.Round(time.Millisecond))

	// The survivors still end cleanly, readers before writers.
	for _, p := range []*process{gw[1], projB, svc[1].alerts, svc[1].resources, svc[1].incidents, es} {
		p.stop(t, syscall.SIGTERM)
	}
}

// TestReplicaGatewayDrainsOnSIGTERM: on SIGTERM the gateway says it is not ready at
// once, goes on serving for VIGIE_DRAIN_DELAY, then closes its listener and lets the
// requests in flight finish before it exits 0. The request in flight is a mutation
// whose body arrives in two halves, the second after the listener closed.
func TestReplicaGatewayDrainsOnSIGTERM(t *testing.T) {
	rdb := projectiontest.Redis(t)
	redisURL := redisDBURL(t, rdb.Options().DB)
	data := t.TempDir()
	top := startTopology(t, data, redisURL, nil)
	const drainDelay = 500 * time.Millisecond
	gw := startVigieEnv(t, []string{"EVENTSTORE_URL=" + top.esURL, "REDIS_URL=" + redisURL, "VIGIE_DATA=", "VIGIE_HTTP_ADDR=",
		"VIGIE_INCIDENTS_ADDR=" + top.incidents.addr, "VIGIE_RESOURCES_ADDR=" + top.resources.addr, "VIGIE_ALERTS_ADDR=" + top.alerts.addr,
		"VIGIE_OIDC_ISSUER=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "VIGIE_DRAIN_DELAY=" + drainDelay.String()},
		"serve", "gateway", "--data", data, "--http", "127.0.0.1:0")
	// Probes on new connections each time, as a balancer's.
	probe := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitOK(t, probe, gw.addr+"/readyz")
	token := vigieToken(t, data, "mayor-30189", "mayor", "dep:30/com:30189")
	op := reportIncident("dep:30/com:30189", "drain-"+uuid.NewString())
	body, _ := json.Marshal(map[string]any{"query": op.query, "variables": op.vars})
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, gw.addr+"/graphql", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	type answer struct {
		at   time.Time
		resp gqlResponse
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := probe.Do(req)
		a := answer{at: time.Now(), err: err}
		if err == nil {
			defer resp.Body.Close()
			a.err = json.NewDecoder(resp.Body).Decode(&a.resp)
			a.at = time.Now()
		}
		answered <- a
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil { // the server is reading it
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	sigterm := time.Now()
	if err := gw.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Not ready at once, still serving.
	for {
		resp, err := probe.Get(gw.addr + "/readyz")
		if err != nil {
			t.Fatalf("/readyz %v after SIGTERM: %v (the listener closed before the drain delay)", time.Since(sigterm), err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Since(sigterm) > drainDelay/2 {
			t.Fatalf("/readyz still %d %v after SIGTERM", resp.StatusCode, time.Since(sigterm))
		}
		time.Sleep(10 * time.Millisecond)
	}
	notReady := time.Since(sigterm)
	cl := &replicaClient{hc: probe, gateways: [2]string{gw.addr, gw.addr}, token: token}
	var me struct{ Subject string }
	if err := cl.query(`{ me { subject } }`, nil, "me", &me); err != nil || me.Subject != "mayor-30189" {
		t.Fatalf("a query during the drain delay: %+v %v", me, err)
	}
	// Past the delay the listener is closed: a new connection is refused.
	time.Sleep(drainDelay + 300*time.Millisecond)
	if resp, err := probe.Get(gw.addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the gateway took a new connection %v after SIGTERM (drain delay %v)", time.Since(sigterm), drainDelay)
	}
	select {
	case <-gw.done:
		t.Fatal("the gateway exited with a request in flight")
	default:
	}
	// The request in flight completes and is answered.
	if _, err := pw.Write(body[len(body)/2:]); err != nil {
		t.Fatalf("the rest of the body: %v", err)
	}
	pw.Close()
	a := <-answered
	if a.err != nil || len(a.resp.Errors) > 0 || len(a.resp.Data["reportIncident"]) == 0 {
		t.Fatalf("the mutation in flight at SIGTERM: %+v %v", a.resp, a.err)
	}
	select {
	case <-gw.done:
	case <-time.After(stopTimeout):
		t.Fatalf("still running %v after SIGTERM; stderr:\n%s", stopTimeout, gw.stderr)
	}
	if err := gw.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, gw.stderr)
	}
	t.Logf("SIGTERM: not ready after %v; listener closed after the %v drain delay; the request in flight answered %v after SIGTERM; exit %v after SIGTERM",
		notReady.Round(time.Millisecond), drainDelay, a.at.Sub(sigterm).Round(time.Millisecond), time.Since(sigterm).Round(time.Millisecond))
}

// operation is one mutation a test client sends, with its command id.
type operation struct {
	kind, cmd, target string // target: the incident of a log entry
	query             string
	vars              map[string]any
	field             string
}

func reportIncident(domain, cmd string) operation {
	return operation{kind: "report", cmd: cmd, field: "reportIncident",
		query: `mutation($in:ReportIncidentInput!,$c:ID){ reportIncident(input:$in, commandId:$c){ id } }`,
		vars:  map[string]any{"c": cmd, "in": map[string]any{"domain": domain, "kind": "OTHER", "title": cmd}}}
}

func addLogEntry(incident, cmd string) operation {
	return operation{kind: "log", cmd: cmd, target: incident, field: "addLogEntry",
		query: `mutation($id:ID!,$t:String!,$c:ID){ addLogEntry(incidentId:$id, text:$t, commandId:$c){ id } }`,
		vars:  map[string]any{"id": incident, "t": cmd, "c": cmd}}
}

func typeOf(kind string) string {
	if kind == "report" {
		return "IncidentReported"
	}
	return "LogEntryAdded"
}

// result is what a client knows of one command.
type result struct {
	kind, cmd, target, id string
	sent, done            time.Time
	attempts              int
	reasons               []string // why each failed attempt failed
	stale                 bool     // answered before the board showed it
	err                   error    // set when it never got an OK answer
	// For a client whose gateway was killed: from the kill, and from its failed
	// request, to the other gateway's OK answer.
	reconnect, outage time.Duration
}

// replicaClient is a GraphQL client that knows two gateways: it stays on one until a
// request fails, then sends the same request to the other.
type replicaClient struct {
	hc       *http.Client
	gateways [2]string
	prefer   int
	token    string
	killAt   *atomic.Int64
	switched bool // already measured its switch to the other gateway
}

// exec sends op until it is answered OK (within 30 s), switching gateway after a
// transport error or an UNAVAILABLE, CONFLICT or RATE_LIMITED answer.
func (c *replicaClient) exec(op operation) result {
	r := result{kind: op.kind, cmd: op.cmd, target: op.target, sent: time.Now()}
	var failedAt time.Time
	for {
		r.attempts++
		gw := c.prefer
		id, stale, err := c.send(gw, op)
		if err == nil {
			r.id, r.done, r.stale = id, time.Now(), stale
			if !failedAt.IsZero() && !c.switched && c.killAt != nil && c.killAt.Load() != 0 && failedAt.UnixNano() >= c.killAt.Load() {
				c.switched = true
				r.reconnect = r.done.Sub(time.Unix(0, c.killAt.Load()))
				r.outage = r.done.Sub(failedAt)
			}
			return r
		}
		var refused *refusal
		if asRefusal(err, &refused) && !refused.retryable() {
			r.err = err
			return r
		}
		if failedAt.IsZero() && gw == 0 {
			failedAt = time.Now()
		}
		if time.Since(r.sent) > 30*time.Second {
			r.err = fmt.Errorf("after %d attempts: %w", r.attempts, err)
			return r
		}
		r.reasons = append(r.reasons, reason(err))
		// To the other gateway at once; after a failure on both, a short pause.
		c.prefer = 1 - gw
		if r.attempts%2 == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// once sends op once to the preferred gateway.
func (c *replicaClient) once(op operation) result {
	r := result{kind: op.kind, cmd: op.cmd, target: op.target, sent: time.Now(), attempts: 1}
	r.id, r.stale, r.err = c.send(c.prefer, op)
	r.done = time.Now()
	return r
}

// send posts op to gateway gw and returns the id it answered and whether the answer
// was STALE.
func (c *replicaClient) send(gw int, op operation) (string, bool, error) {
	var out struct{ ID string }
	stale, err := c.post(c.gateways[gw], op.query, op.vars, op.field, &out)
	return out.ID, stale, err
}

func (c *replicaClient) query(query string, vars map[string]any, field string, into any) error {
	_, err := c.post(c.gateways[c.prefer], query, vars, field, into)
	return err
}

// reason names a failure for the test's log: the error code, or "transport".
func reason(err error) string {
	if r, ok := err.(*refusal); ok {
		return r.code
	}
	return "transport"
}

// refusal is a GraphQL answer with an error.
type refusal struct {
	code, msg string
}

func (r *refusal) Error() string { return r.code + ": " + r.msg }

func (r *refusal) retryable() bool {
	return r.code == "UNAVAILABLE" || r.code == "CONFLICT" || r.code == "RATE_LIMITED"
}

func asRefusal(err error, into **refusal) bool {
	r, ok := err.(*refusal)
	*into = r
	return ok
}

// post sends an operation to gateway and decodes the data's field into into; stale
// says the answer's extensions.consistency was STALE.
func (c *replicaClient) post(gateway, query string, vars map[string]any, field string, into any) (stale bool, err error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return false, err
	}
	req, err := http.NewRequest(http.MethodPost, gateway+"/graphql", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, err // transport: the gateway is gone
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return false, fmt.Errorf("%d, not a GraphQL answer: %s", resp.StatusCode, raw)
	}
	if len(r.Errors) > 0 {
		code, _ := r.Errors[0].Extensions["code"].(string)
		return false, &refusal{code: code, msg: r.Errors[0].Message}
	}
	return r.Extensions["consistency"] == "STALE", json.Unmarshal(r.Data[field], into)
}

// heardLog records what a boardChanged subscriber receives, with when.
type heardLog struct {
	mu      sync.Mutex
	changes []heardChange
	done    chan struct{} // closed when the connection ends
}

type heardChange struct {
	boardChange
	got time.Time
}

// recordBoard reads l's messages until its connection ends (the listener's next is
// not used alongside).
func recordBoard(l *boardListener) *heardLog {
	h := &heardLog{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for m := range l.msgs {
			var p struct {
				Data struct{ BoardChanged boardChange }
			}
			if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
				continue
			}
			h.mu.Lock()
			h.changes = append(h.changes, heardChange{p.Data.BoardChanged, time.Now()})
			h.mu.Unlock()
		}
	}()
	return h
}

func (h *heardLog) has(stream, typ string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.changes, func(c heardChange) bool { return c.StreamID == stream && c.Type == typ })
}

// waitFor waits up to d for a change of stream and typ received after since.
func (h *heardLog) waitFor(stream, typ string, since time.Time, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		h.mu.Lock()
		ok := slices.ContainsFunc(h.changes, func(c heardChange) bool {
			return c.StreamID == stream && c.Type == typ && c.got.After(since)
		})
		h.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return ok
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// firstAfter is when the first change of an event that happened after t was received.
func (h *heardLog) firstAfter(t time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.changes {
		if c.At.After(t) {
			return c.got, true
		}
	}
	return time.Time{}, false
}

// counts is the number of changes received after since, by "stream type".
func (h *heardLog) counts(since time.Time) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, c := range h.changes {
		if c.got.After(since) {
			out[c.StreamID+" "+c.Type]++
		}
	}
	return out
}

// projectorState reads a projector's /readyz: how many read models it runs actively,
// of how many, and whether all of those are caught up.
func projectorState(hc *http.Client, p *process) (active, total int, caughtUp bool, err error) {
	resp, err := hc.Get("http://" + p.addr + "/readyz")
	if err != nil {
		return 0, 0, false, err
	}
	defer resp.Body.Close()
	var st struct {
		Projections []struct{ Active, CaughtUp bool }
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, false, err
	}
	caughtUp = true
	for _, s := range st.Projections {
		if s.Active {
			active++
			caughtUp = caughtUp && s.CaughtUp
		}
	}
	return active, len(st.Projections), caughtUp, nil
}

func projectorActive(t *testing.T, hc *http.Client, p *process) int {
	t.Helper()
	active, _, _, err := projectorState(hc, p)
	if err != nil {
		t.Fatal(err)
	}
	return active
}

// waitProjections polls p until it runs every read model actively (and, when
// caughtUp, has caught up with the log); it returns when it saw that.
func waitProjections(t *testing.T, hc *http.Client, p *process, caughtUp bool, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		active, total, cu, err := projectorState(hc, p)
		if err == nil && total > 0 && active == total && (cu || !caughtUp) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("projector %s: %d of %d read models active (caught up: %v, %v) after %v", p.addr, active, total, cu, err, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
