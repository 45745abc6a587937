package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"vigie/identity"
	"vigie/projections/projectiontest"
	alertspb "vigie/services/alerts/alertspb"
	"vigie/services/alerts/channel/channeltest"
)

// alertProviders are the local providers the alerts service is pointed at: an SMTP
// server and an SMS gateway, each answering after latency (a real provider is not
// instant, and it keeps a dispatch going long enough to be interrupted).
type alertProviders struct {
	mail *channeltest.SMTPSink
	sms  *channeltest.HTTPSink
	env  []string
}

func startProviders(t *testing.T, latency time.Duration) alertProviders {
	t.Helper()
	p := alertProviders{mail: channeltest.StartSMTP(t), sms: channeltest.StartHTTP(t)}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		p.sms.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	p.env = []string{"VIGIE_SMTP_ADDR=" + p.mail.Addr(), "VIGIE_SMS_URL=" + slow.URL, "VIGIE_VOICE_URL=", "VIGIE_FRALERT_URL=", "VIGIE_WEBHOOK_URL=", "VIGIE_DISPATCHER="}
	return p
}

const (
	alertDraft   = `mutation($in: DraftAlertInput!){ draftAlert(input: $in){ id status } }`
	alertSubmit  = `mutation($id: ID!){ submitAlert(id: $id){ id status } }`
	alertApprove = `mutation($id: ID!){ approveAlert(id: $id){ id status approvedBy } }`
)

func vistreAlert(domain string, channels ...string) map[string]any {
	return map[string]any{"in": map[string]any{
		"domain": domain, "event": "Crue du Vistre", "headline": "Crue rapide : restez chez vous",
		"description": "Le Vistre déborde.", "instruction": "Montez à l'étage.",
		"severity": "SEVERE", "urgency": "IMMEDIATE", "certainty": "OBSERVED", "category": "MET",
		"areaDesc": "Nîmes", "channels": channels,
	}}
}

type alertState struct {
	ID, Status string
	Deliveries []struct {
		Channel                     string
		Recipients, Sent, Delivered int
		Failed                      int
	}
}

// registerMany registers n residents of domain on SMS and e-mail straight through the
// alerts service's gRPC API (what the gateway's registerResident calls), 16 at a time.
func registerMany(t *testing.T, addr, token, domain, run string, n int) {
	t.Helper()
	client := alertspb.NewResidentsClient(grpcConn(t, addr))
	ctx := identity.WithToken(context.Background(), token)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				_, err := client.Register(ctx, &alertspb.RegisterResidentRequest{
					CommandId: fmt.Sprintf("%s-resident-%d", run, i), Domain: domain, Consent: true,
					Phone: fmt.Sprintf("+336%08d", i), Email: fmt.Sprintf("habitant%d@example.org", i),
					Location: &alertspb.Point{Lat: 43.83, Lon: 4.35}, Channels: []string{"SMS", "EMAIL"},
				})
				if err != nil {
					errs <- fmt.Errorf("resident %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func waitAlertState(t *testing.T, gql *gqlClient, token, domain, id string, within time.Duration, cond func(alertState) bool) alertState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var list []alertState
		gql.query(token, `query($d: String!){ alerts(domain: $d){ id status deliveries { channel recipients sent delivered failed } } }`, map[string]any{"d": domain}, "alerts", &list)
		for _, a := range list {
			if a.ID == id && cond(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s not in the expected state within %v: %+v", id, within, list)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAlertWorkflowWithEveryComponentAsAProcess is the workflow over GraphQL
// with every component a separate process: the coordinator drafts and submits, their
// own approval is refused, the mayor approves, the residents receive one message per
// channel at the providers and the board's counts match; an FR-Alert request waits for
// the prefecture, which a mayor cannot validate; another commune sees none of it.
func TestAlertWorkflowWithEveryComponentAsAProcess(t *testing.T) {
	rdb := projectiontest.Redis(t)
	data := t.TempDir()
	prov := startProviders(t, 0)
	top := startTopology(t, data, redisDBURL(t, rdb.Options().DB), prov.env)
	hc := &http.Client{Timeout: 15 * time.Second}
	waitOK(t, hc, top.gateway.addr+"/readyz")
	gql := &gqlClient{t: t, http: hc, url: top.gateway.addr + "/graphql"}

	const nimesDom, alesDom = "dep:30/com:30189", "dep:30/com:30007"
	rac := vigieToken(t, data, "rac-30189", "rac", nimesDom)
	mayor := vigieToken(t, data, "mayor-30189", "mayor", nimesDom)
	alesMayor := vigieToken(t, data, "mayor-30007", "mayor", alesDom)
	prefecture := vigieToken(t, data, "cod-30", "prefecture", "dep:30")
	const residents = 40
	registerMany(t, top.alerts.addr, rac, nimesDom, "wf", residents)

	var a alertState
	gql.mutate(rac, alertDraft, vistreAlert(nimesDom, "SMS", "EMAIL", "FR_ALERT"), "draftAlert", &a)
	id := map[string]any{"id": a.ID}
	gql.mutate(rac, alertSubmit, id, "submitAlert", nil)
	if code := gql.code(rac, alertApprove, id); code != "FORBIDDEN" {
		t.Errorf("the coordinator approving: %q, want FORBIDDEN", code)
	}
	if code := gql.code(alesMayor, alertApprove, id); code != "NOT_FOUND" {
		t.Errorf("Alès' mayor approving Nîmes' alert: %q, want NOT_FOUND", code)
	}
	gql.mutate(mayor, alertApprove, id, "approveAlert", &a)
	if a.Status != "FR_ALERT_REQUESTED" {
		t.Errorf("after the mayor's approval: %s, want FR_ALERT_REQUESTED", a.Status)
	}
	if code := gql.code(mayor, `mutation($id: ID!){ validateFrAlert(id: $id){ id } }`, id); code != "FORBIDDEN" {
		t.Errorf("the mayor validating FR-Alert: %q, want FORBIDDEN", code)
	}
	// The commune's own channels go out without waiting for the prefecture.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, sink := range map[string]interface {
		Wait(context.Context, int) error
	}{"SMS": prov.sms, "e-mail": prov.mail} {
		if err := sink.Wait(ctx, residents); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var inbox []alertState
	gql.query(prefecture, `{ pendingApprovals { id status } }`, nil, "pendingApprovals", &inbox)
	if len(inbox) != 1 || inbox[0].ID != a.ID {
		t.Errorf("the prefecture's inbox: %+v", inbox)
	}
	var alesBoard []alertState
	gql.query(alesMayor, `query($d: String!){ alerts(domain: $d){ id } }`, map[string]any{"d": alesDom}, "alerts", &alesBoard)
	if len(alesBoard) != 0 {
		t.Errorf("Alès' board shows Nîmes' alerts: %+v", alesBoard)
	}
	gql.mutate(prefecture, `mutation($id: ID!){ validateFrAlert(id: $id){ id status } }`, id, "validateFrAlert", nil)
	// Without an intake configured the prefecture broadcasts on the State's platform: until it
	// says so, the alert is not sent, whatever the commune's channels did.
	waitAlertState(t, gql, mayor, nimesDom, a.ID, 30*time.Second, func(s alertState) bool { return s.Status == "DISPATCHING" })
	gql.mutate(prefecture, `mutation($id: ID!){ confirmFrAlertBroadcast(id: $id){ id status } }`, id, "confirmFrAlertBroadcast", nil)
	final := waitAlertState(t, gql, mayor, nimesDom, a.ID, 30*time.Second, func(s alertState) bool { return s.Status == "SENT" })
	assertCountsMatch(t, final, prov, residents)
}

func assertCountsMatch(t *testing.T, a alertState, prov alertProviders, residents int) {
	t.Helper()
	sent := map[string]int{}
	for _, d := range a.Deliveries {
		sent[d.Channel] = d.Sent
	}
	for name, sink := range map[string]interface {
		Count() int
		Raw() int
		PerRecipient() map[string]int
	}{"SMS": prov.sms, "EMAIL": prov.mail} {
		if sink.Count() != residents {
			t.Errorf("%s: %d residents received the alert, want %d", name, sink.Count(), residents)
		}
		for to, n := range sink.PerRecipient() {
			if n != 1 {
				t.Errorf("%s: %s received it %d times", name, to, n)
			}
		}
		if sent[name] != sink.Count() {
			t.Errorf("%s: the board counts %d sent, the provider received %d", name, sent[name], sink.Count())
		}
		t.Logf("%s: %d residents, %d receptions at the provider (%d resends recognised by their idempotency key)", name, sink.Count(), sink.Raw(), sink.Raw()-sink.Count())
	}
}

// TestKillingTheAlertsServiceTenTimesDuringADispatchLosesAndDuplicatesNothing kills
// the alerts service (and its dispatcher) with SIGKILL ten times while it sends one
// alert to 10,000 residents, restarting it each time on the same address: every
// resident receives the alert exactly once per channel, and the board's counts match
// the providers'.
func TestKillingTheAlertsServiceTenTimesDuringADispatchLosesAndDuplicatesNothing(t *testing.T) {
	rdb := projectiontest.Redis(t)
	data := t.TempDir()
	prov := startProviders(t, 5*time.Millisecond)
	top := startTopology(t, data, redisDBURL(t, rdb.Options().DB), prov.env)
	hc := &http.Client{Timeout: 30 * time.Second}
	waitOK(t, hc, top.gateway.addr+"/readyz")
	gql := &gqlClient{t: t, http: hc, url: top.gateway.addr + "/graphql"}

	const nimesDom = "dep:30/com:30189"
	rac := vigieToken(t, data, "rac-30189", "rac", nimesDom)
	mayor := vigieToken(t, data, "mayor-30189", "mayor", nimesDom)
	const residents = 10_000
	registerMany(t, top.alerts.addr, rac, nimesDom, "kill", residents)

	var a alertState
	gql.mutate(rac, alertDraft, vistreAlert(nimesDom, "SMS", "EMAIL"), "draftAlert", &a)
	id := map[string]any{"id": a.ID}
	gql.mutate(rac, alertSubmit, id, "submitAlert", nil)
	gql.mutate(mayor, alertApprove, id, "approveAlert", nil)

	alerts := top.alerts
	addr := alerts.addr
	env := append([]string{"EVENTSTORE_URL=" + top.esURL, "VIGIE_DATA=", "OTEL_EXPORTER_OTLP_ENDPOINT="}, prov.env...)
	received := func() int { return prov.sms.Raw() + prov.mail.Raw() }
	for kill := 1; kill <= 10; kill++ {
		// Kill mid-send: once this run has handed some messages to the providers.
		from := received()
		deadline := time.Now().Add(time.Minute)
		for received() < from+100 {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the dispatch made no progress in a minute (%d received)", kill, received())
			}
			time.Sleep(2 * time.Millisecond)
		}
		if received() >= 2*residents {
			t.Fatalf("the dispatch finished before kill %d: slow the providers down", kill)
		}
		if err := alerts.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = alerts.cmd.Wait()
		t.Logf("kill %d after %d receptions", kill, received())
		alerts = restartOn(t, env, data, addr)
	}
	final := waitAlertState(t, gql, mayor, nimesDom, a.ID, 3*time.Minute, func(s alertState) bool { return s.Status == "SENT" })
	assertCountsMatch(t, final, prov, residents)
}

// restartOn starts the alerts service again on addr (the gateway knows it there); the
// port of a killed process may take a moment to be free again.
func restartOn(t *testing.T, env []string, data, addr string) *process {
	t.Helper()
	for range 50 {
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return startVigieEnv(t, env, "serve", "alerts", "--data", data, "--listen", addr)
}
