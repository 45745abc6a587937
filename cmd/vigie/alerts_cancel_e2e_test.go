package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/events/store"
	"vigie/identity"
	"vigie/projections/projectiontest"
	alertspb "vigie/services/alerts/alertspb"
)

// TestKillingTheDispatcherDuringACancellationReachesEachRecipientOnce: an alert
// goes out to the residents of Nîmes (the SMS gateway refusing a few numbers),
// a resident registers afterwards, and the mayor cancels it. The alerts
// service, with its dispatcher, is killed with SIGKILL three times while the
// cancellation goes out. In the end every resident who received the alert has
// exactly one « ANNULATION » per channel they received it on; those the gateway
// refused and the late resident have none.
func TestKillingTheDispatcherDuringACancellationReachesEachRecipientOnce(t *testing.T) {
	rdb := projectiontest.Redis(t)
	data := t.TempDir()
	prov := startProviders(t, 20*time.Millisecond)
	top := startTopology(t, data, redisDBURL(t, rdb.Options().DB), prov.env)
	hc := &http.Client{Timeout: 30 * time.Second}
	waitOK(t, hc, top.gateway.addr+"/readyz")
	gql := &gqlClient{t: t, http: hc, url: top.gateway.addr + "/graphql"}
	es, err := store.Open(top.esURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })

	const nimesDom = "dep:30/com:30189"
	rac := vigieToken(t, data, "rac-30189", "rac", nimesDom)
	mayor := vigieToken(t, data, "mayor-30189", "mayor", nimesDom)
	const residents = 2000
	registerMany(t, top.alerts.addr, rac, nimesDom, "cancelkill", residents)

	// The gateway refuses three numbers for good (HTTP 400: not retried).
	prov.sms.FailNext(3, http.StatusBadRequest)
	var a alertState
	gql.mutate(rac, alertDraft, vistreAlert(nimesDom, "SMS", "EMAIL"), "draftAlert", &a)
	id := map[string]any{"id": a.ID}
	gql.mutate(rac, alertSubmit, id, "submitAlert", nil)
	gql.mutate(mayor, alertApprove, id, "approveAlert", nil)
	waitDispatchEvent(t, es, a.ID, "AlertSent", a.ID+".1", 2*time.Minute)
	alerted := prov.sms.PerRecipient()
	if len(alerted) != residents-3 || prov.mail.Count() != residents {
		t.Fatalf("the alert reached %d by SMS, %d by e-mail, want %d and %d", len(alerted), prov.mail.Count(), residents-3, residents)
	}

	// Registered after the alert went out: they never received it.
	late := "+33799999999"
	if _, err := alertspb.NewResidentsClient(grpcConn(t, top.alerts.addr)).Register(identity.WithToken(context.Background(), rac), &alertspb.RegisterResidentRequest{
		CommandId: "cancelkill-late", Domain: nimesDom, Consent: true, Phone: late, Email: "tardif@example.org",
		Location: &alertspb.Point{Lat: 43.83, Lon: 4.35}, Channels: []string{"SMS", "EMAIL"},
	}); err != nil {
		t.Fatal(err)
	}

	gql.mutate(mayor, `mutation($id: ID!, $r: String!){ cancelAlert(id: $id, reason: $r){ id } }`,
		map[string]any{"id": a.ID, "r": "Décrue amorcée"}, "cancelAlert", nil)
	cancelID := waitCancelID(t, es, a.ID)

	alerts := top.alerts
	addr := alerts.addr
	env := append([]string{"EVENTSTORE_URL=" + top.esURL, "VIGIE_DATA=", "OTEL_EXPORTER_OTLP_ENDPOINT="}, prov.env...)
	before := prov.sms.Raw()
	for kill := 1; kill <= 3; kill++ {
		from := prov.sms.Raw()
		deadline := time.Now().Add(time.Minute)
		for prov.sms.Raw() < from+100 {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the cancellation made no progress in a minute", kill)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if prov.sms.Raw()-before >= len(alerted) {
			t.Fatalf("the cancellation finished before kill %d: slow the gateway down", kill)
		}
		if err := alerts.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = alerts.cmd.Wait()
		t.Logf("kill %d after %d SMS receptions of the cancellation", kill, prov.sms.Raw()-before)
		alerts = restartOn(t, env, data, addr)
	}
	waitDispatchEvent(t, es, a.ID, "AlertSent", cancelID, 3*time.Minute)

	cancels := map[string]int{}
	for _, p := range prov.sms.Messages() {
		if strings.HasPrefix(p.Text, "ANNULATION : ") {
			cancels[p.To]++
		}
	}
	for to := range alerted {
		if cancels[to] != 1 {
			t.Errorf("%s received the alert and %d cancellations", to, cancels[to])
		}
	}
	for to, n := range cancels {
		if _, ok := alerted[to]; !ok {
			t.Errorf("%s received %d cancellations of an alert they never received", to, n)
		}
	}
	for to, n := range prov.sms.PerRecipient() {
		if _, ok := alerted[to]; ok && n != 2 {
			t.Errorf("%s: %d distinct SMS, want the alert and its cancellation", to, n)
		}
	}
	mails := prov.mail.PerRecipient()
	for to, n := range mails {
		if to == "tardif@example.org" {
			t.Errorf("the late resident received %d e-mails", n)
		} else if n != 2 {
			t.Errorf("%s: %d distinct e-mails, want the alert and its cancellation", to, n)
		}
	}
	if len(mails) != residents {
		t.Errorf("%d e-mail recipients, want %d", len(mails), residents)
	}
	t.Logf("SMS: %d receptions of the cancellation for %d recipients (resends recognised by their idempotency key)", prov.sms.Raw()-before, len(cancels))
}

// waitCancelID waits for the AlertCancelled of the alert and returns its CAP
// Cancel's identifier.
func waitCancelID(t *testing.T, es *store.Client, alertID string) string {
	t.Helper()
	var id string
	waitAlertStream(t, es, alertID, time.Minute, func(typ string, data []byte) bool {
		if typ != "AlertCancelled" {
			return false
		}
		var e struct {
			Message *struct {
				Identifier string `json:"identifier"`
			} `json:"message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Message == nil {
			t.Fatalf("AlertCancelled without a CAP Cancel: %s", data)
		}
		id = e.Message.Identifier
		return true
	})
	return id
}

// waitDispatchEvent waits for an event of type typ about the message identifier
// in the alert's stream.
func waitDispatchEvent(t *testing.T, es *store.Client, alertID, typ, identifier string, within time.Duration) {
	t.Helper()
	waitAlertStream(t, es, alertID, within, func(got string, data []byte) bool {
		var e struct {
			Identifier string `json:"identifier"`
		}
		return got == typ && json.Unmarshal(data, &e) == nil && e.Identifier == identifier
	})
}

func waitAlertStream(t *testing.T, es *store.Client, alertID string, within time.Duration, match func(typ string, data []byte) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		recs, err := es.ReadStream(context.Background(), "alert-"+alertID, store.Start, store.Forwards, store.NoLimit)
		if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
			t.Fatal(err)
		}
		for _, r := range recs {
			if match(r.Type, r.Data) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert-%s: the awaited event did not come within %v", alertID, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
