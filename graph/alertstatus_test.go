package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events/store"
	"vigie/graph"
	"vigie/graph/gatewaytest"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

// The truth of an alert through the gateway (issue 13): each channel's state and its
// French reason, the overall status, who an approval reaches, and the prefecture's
// confirmation of an FR-Alert it broadcast itself.

const alertFields = `id status approvedBy published { version headline }
	deliveries { channel state reason countsKnown recipients sent delivered failed }
	cancellations { channel state reason countsKnown recipients sent delivered failed }`

// startStackWith runs the stack with the dispatcher and only the given providers.
func startStackWith(t *testing.T, cfg channel.Config) *gatewaytest.Env {
	t.Helper()
	cfg.Retry = channel.Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	return gatewaytest.Start(t, gatewaytest.WithDispatcher(cfg.Senders()))
}

// approved drafts an alert as the coordinator, submits it and has the mayor approve it.
func approved(t *testing.T, env *gatewaytest.Env, in map[string]any) string {
	t.Helper()
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	a := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": in}), "draftAlert")
	id := map[string]any{"id": a.ID}
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	return a.ID
}

func reasonOf(d delivery) string {
	if d.Reason == nil {
		return ""
	}
	return *d.Reason
}

// TestAFailedChannelIsReportedWithItsStateAndFrenchReason: an alert on SMS (whose
// gateway refuses some messages for good), e-mail (fine), voice (no provider) and the
// CAP feed is PARTIALLY_SENT; each channel says its state, and the failed ones why,
// in French, in the gateway's answer.
func TestAFailedChannelIsReportedWithItsStateAndFrenchReason(t *testing.T) {
	mail, sms := channeltest.StartSMTP(t), channeltest.StartHTTP(t)
	env := startStackWith(t, channel.Config{SMTPAddr: mail.Addr(), SMSURL: sms.URL()})
	mayor := env.Token("maire-nimes", "mayor", nimes)
	const residents, refused = 10, 3
	registerResidents(t, env, mayor, residents)
	sms.FailNext(refused, http.StatusBadRequest) // permanent: not retried

	id := approved(t, env, floodAlert(nimes, "SMS", "EMAIL", "VOICE", "CAP_FEED"))
	got := waitAlert(t, env, mayor, id, func(a alertView) bool {
		return a.Status != "APPROVED" && a.Status != "DISPATCHING"
	})
	if got.Status != "PARTIALLY_SENT" {
		t.Errorf("status %s, want PARTIALLY_SENT (SMS partly refused, voice without provider); board: %+v", got.Status, got)
	}
	smsD, mailD, voice, feed := got.delivery("SMS"), got.delivery("EMAIL"), got.delivery("VOICE"), got.delivery("CAP_FEED")
	if smsD.State != "PARTIAL" || !smsD.CountsKnown || smsD.Failed != refused || smsD.Delivered != residents-refused {
		t.Errorf("SMS: %+v, want PARTIAL with %d failed and %d delivered", smsD, refused, residents-refused)
	}
	if r := reasonOf(smsD); !strings.Contains(r, fmt.Sprintf("%d messages sur %d", refused, residents)) || !strings.Contains(r, "remis") {
		t.Errorf("SMS reason %q, want the French count of refused messages", r)
	}
	if voice.State != "FAILED" || !strings.Contains(reasonOf(voice), "aucun fournisseur") {
		t.Errorf("voice: %+v (reason %q), want FAILED saying no provider is configured", voice, reasonOf(voice))
	}
	if mailD.State != "DELIVERED" || mailD.Delivered != residents || mailD.Failed != 0 {
		t.Errorf("e-mail: %+v, want DELIVERED to all %d", mailD, residents)
	}
	if feed.State != "DELIVERED" {
		t.Errorf("CAP feed: %+v, want DELIVERED", feed)
	}
	if got.Published == nil || got.Published.Version < 1 {
		t.Errorf("published: %+v, want the approved version", got.Published)
	}
	// The same through the approvals' answer: the mutation's own view of the alert.
	r := must(t, env.Do(t, mayor, `query($d: String!, $s: [AlertStatus!]){ alerts(domain: $d, status: $s){ id status } }`, map[string]any{"d": nimes, "s": []string{"PARTIALLY_SENT"}}))
	if !strings.Contains(string(r.Raw), id) {
		t.Errorf("filtering on PARTIALLY_SENT does not find the alert: %s", r.Raw)
	}
}

// TestAnFrAlertRefusedByThePrefectureSaysSo: the commune's own channels went out; the
// prefecture refused cell broadcast: the status says FR_ALERT_REFUSED, FR_ALERT is
// REFUSED with the prefecture's reason, and its counts are unknown, not 0.
func TestAnFrAlertRefusedByThePrefectureSaysSo(t *testing.T) {
	env := startStackWith(t, channel.Config{})
	mayor := env.Token("maire-nimes", "mayor", nimes)
	prefecture := env.Token("cod-gard", "prefecture", gard)
	id := approved(t, env, floodAlert(nimes, "FR_ALERT", "CAP_FEED"))
	must(t, env.Do(t, prefecture, `mutation($id: ID!){ refuseFrAlert(id: $id, reason: "Zone trop restreinte pour FR-Alert"){ id } }`, map[string]any{"id": id}))
	got := waitAlert(t, env, mayor, id, func(a alertView) bool {
		return a.Status == "FR_ALERT_REFUSED" && a.delivery("CAP_FEED").State == "DELIVERED"
	})
	fr := got.delivery("FR_ALERT")
	if fr.State != "REFUSED" || !strings.Contains(reasonOf(fr), "Zone trop restreinte") || !strings.Contains(reasonOf(fr), "préfecture") {
		t.Errorf("FR_ALERT: %+v (reason %q), want REFUSED with the prefecture's reason", fr, reasonOf(fr))
	}
	if fr.CountsKnown {
		t.Errorf("FR_ALERT counts shown as known: %+v", fr)
	}
}

// TestOnlyThePrefectureConfirmsTheFrAlertItBroadcastItself: without an FR-Alert
// intake, a validated FR-Alert stays PENDING (« à diffuser par la préfecture ») until
// the prefecture confirms it broadcast it; neither the mayor nor the coordinator may
// confirm, another département does not even see it, and a confirmation before the
// validation is refused.
func TestOnlyThePrefectureConfirmsTheFrAlertItBroadcastItself(t *testing.T) {
	env := startStackWith(t, channel.Config{}) // no intake: FR-Alert by hand
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	prefecture := env.Token("cod-gard", "prefecture", gard)
	otherPrefecture := env.Token("cod-bdr", "prefecture", "dep:13")
	alesMayor := env.Token("maire-ales", "mayor", ales)
	const confirm = `mutation($id: ID!){ confirmFrAlertBroadcast(id: $id){ ` + alertFields + ` } }`

	id := approved(t, env, floodAlert(nimes, "FR_ALERT", "CAP_FEED"))
	vars := map[string]any{"id": id}
	if r := env.Do(t, prefecture, confirm, vars); r.Code() != "REJECTED" {
		t.Errorf("confirming before the validation: %s, want REJECTED", r)
	}
	must(t, env.Do(t, prefecture, `mutation($id: ID!){ validateFrAlert(id: $id){ id } }`, vars))
	pending := waitAlert(t, env, mayor, id, func(a alertView) bool {
		return a.delivery("FR_ALERT").State == "PENDING" && a.delivery("CAP_FEED").State == "DELIVERED"
	})
	if fr := pending.delivery("FR_ALERT"); !strings.Contains(reasonOf(fr), "préfecture") {
		t.Errorf("FR_ALERT pending: reason %q, want it to say the prefecture broadcasts it", reasonOf(fr))
	}
	if pending.Status == "SENT" {
		t.Errorf("status SENT while FR-Alert is still to be broadcast: %+v", pending)
	}
	head := env.Head()
	for who, want := range map[string]struct{ token, code string }{
		"the mayor":                 {mayor, "FORBIDDEN"},
		"the coordinator":           {rac, "FORBIDDEN"},
		"Alès' mayor":               {alesMayor, "NOT_FOUND"},
		"another département's":     {otherPrefecture, "NOT_FOUND"},
		"an unauthenticated caller": {"", "UNAUTHENTICATED"},
	} {
		if r := env.Do(t, want.token, confirm, vars); r.Code() != want.code {
			t.Errorf("%s confirming: %s, want %s", who, r, want.code)
		}
	}
	if env.Head() != head {
		t.Error("refused confirmations appended to the log")
	}
	done := alertOf(t, env.Do(t, prefecture, confirm, vars), "confirmFrAlertBroadcast")
	if done.ID != id {
		t.Fatalf("confirmed %+v", done)
	}
	got := waitAlert(t, env, mayor, id, func(a alertView) bool { return a.delivery("FR_ALERT").State == "DELIVERED" })
	if got.Status != "SENT" {
		t.Errorf("after the confirmation: %s, want SENT (every channel delivered)", got.Status)
	}
	if fr := got.delivery("FR_ALERT"); fr.CountsKnown {
		t.Errorf("FR-Alert counts shown as known after the confirmation: %+v", fr)
	}
	if r := env.Do(t, prefecture, confirm, map[string]any{"id": id}); r.Code() != "REJECTED" {
		t.Errorf("a second confirmation (another command): %s, want REJECTED", r)
	}
}

type audienceRow struct {
	Channel    string
	Recipients int
	Known      bool
}

func audienceOf(t *testing.T, env *gatewaytest.Env, token, id string) []audienceRow {
	t.Helper()
	var rows []audienceRow
	if err := json.Unmarshal(field(t, must(t, env.Do(t, token, `query($id: ID!){ alertAudience(id: $id){ channel recipients known } }`, map[string]any{"id": id})), "alertAudience"), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestAlertAudienceIsWhoTheApprovalReaches: alertAudience counts the registered
// residents of the area per channel (FR-Alert and the CAP feed: not counted); an
// exercise counts only the residents who agreed to exercises; the alert of another
// commune is answered exactly as an unknown id; and the approval carrying the shown
// audience reaches exactly that many people.
func TestAlertAudienceIsWhoTheApprovalReaches(t *testing.T) {
	env, sinks := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	const residents, volunteers = 12, 4
	registerResidents(t, env, rac, residents) // and one outside the area
	for i := range volunteers {
		must(t, env.Do(t, rac, `mutation($in: RegisterResidentInput!){ registerResident(input: $in){ id } }`, map[string]any{"in": map[string]any{
			"domain": nimes, "phone": fmt.Sprintf("+3367000%04d", i), "location": map[string]float64{"lat": 43.83, "lon": 4.35},
			"channels": []string{"SMS"}, "exercises": true,
		}}))
	}

	a := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": floodAlert(nimes, "SMS", "EMAIL", "CAP_FEED", "FR_ALERT")}), "draftAlert")
	want := []audienceRow{{"SMS", residents + volunteers, true}, {"EMAIL", residents, true}, {"CAP_FEED", 0, false}, {"FR_ALERT", 0, false}}
	var rows []audienceRow
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The directory follows the log: the last registrations may take a moment.
		if rows = audienceOf(t, env, mayor, a.ID); slices.Equal(rows, want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(rows, want) {
		t.Errorf("audience %+v, want %+v", rows, want)
	}

	// An exercise reaches only those who agreed to exercises.
	in := floodAlert(nimes, "SMS", "EMAIL")
	in["exercise"] = true
	ex := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": in}), "draftAlert")
	if rows := audienceOf(t, env, mayor, ex.ID); !slices.Equal(rows, []audienceRow{{"SMS", volunteers, true}, {"EMAIL", 0, true}}) {
		t.Errorf("exercise audience %+v, want only the %d volunteers", rows, volunteers)
	}

	// Another commune's alert is not found, worded as an id that exists nowhere.
	alesMayor := env.Token("maire-ales", "mayor", ales)
	istresMayor := env.Token("maire-istres", "mayor", istres)
	const q = `query($id: ID!){ alertAudience(id: $id){ channel recipients known } }`
	nowhere := env.Do(t, alesMayor, q, map[string]any{"id": "00000000-0000-5000-8000-000000000000"})
	for _, tok := range []string{alesMayor, istresMayor} {
		r := env.Do(t, tok, q, map[string]any{"id": a.ID})
		if r.Code() != "NOT_FOUND" || string(r.Raw) != string(nowhere.Raw) {
			t.Errorf("another commune's mayor asking the audience: %s, an unknown id: %s; want the same NOT_FOUND", r, nowhere)
		}
	}
	if r := env.Do(t, "", q, map[string]any{"id": a.ID}); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("without a token: %s", r)
	}

	// The mayor approves with what they were shown: the providers receive that many.
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, map[string]any{"id": a.ID}))
	shown := []map[string]any{}
	for _, r := range rows {
		if r.Known {
			shown = append(shown, map[string]any{"channel": r.Channel, "recipients": r.Recipients})
		}
	}
	if r := env.Do(t, mayor, `mutation($id: ID!, $a: [AudienceInput!]){ approveAlert(id: $id, audience: $a){ id } }`,
		map[string]any{"id": a.ID, "a": []map[string]any{{"channel": "SMS", "recipients": -1}}}); r.Code() != "INVALID_INPUT" {
		t.Errorf("a negative audience: %s, want INVALID_INPUT", r)
	}
	must(t, env.Do(t, mayor, `mutation($id: ID!, $a: [AudienceInput!]){ approveAlert(id: $id, audience: $a){ id status } }`, map[string]any{"id": a.ID, "a": shown}))
	if got := approvalAudience(t, env, a.ID); !maps.Equal(got, map[string]int{"SMS": residents + volunteers, "EMAIL": residents}) {
		t.Errorf("the approval recorded the audience %v, want what the mayor was shown %v", got, shown)
	}
	prefecture := env.Token("cod-gard", "prefecture", gard)
	must(t, env.Do(t, prefecture, `mutation($id: ID!){ validateFrAlert(id: $id){ id } }`, map[string]any{"id": a.ID}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sinks.sms.Wait(ctx, residents+volunteers); err != nil {
		t.Fatalf("SMS: %d received: %v", sinks.sms.Count(), err)
	}
	if err := sinks.mail.Wait(ctx, residents); err != nil {
		t.Fatalf("e-mail: %d received: %v", sinks.mail.Count(), err)
	}
	final := waitAlert(t, env, mayor, a.ID, func(v alertView) bool { return v.Status == "SENT" })
	for _, r := range rows {
		if !r.Known {
			continue
		}
		received := map[string]int{"SMS": sinks.sms.Count(), "EMAIL": sinks.mail.Count()}[r.Channel]
		if received != r.Recipients || final.delivery(r.Channel).Recipients != r.Recipients {
			t.Errorf("%s: the mayor was shown %d, the provider received %d, the board targeted %d", r.Channel, r.Recipients, received, final.delivery(r.Channel).Recipients)
		}
	}
}

// approvalAudience is the audience the last approval of the alert recorded in the log.
func approvalAudience(t *testing.T, env *gatewaytest.Env, id string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := env.Store.ReadStream(ctx, "alert-"+id, store.Start, store.Forwards, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]int
	for _, r := range recs {
		if r.Type == "AlertApproved" {
			var ev struct{ Audience map[string]int }
			if err := json.Unmarshal(r.Data, &ev); err != nil {
				t.Fatal(err)
			}
			out = ev.Audience
		}
	}
	return out
}

// fakeInbox is a DemoInbox with fixed messages.
type fakeInbox []graph.DemoMessage

func (f fakeInbox) Received() []graph.DemoMessage { return slices.Clone(f) }

// TestDemoMessagesAreServedMaskedToSignedInUsers: GET /demo/messages.json answers the
// demonstration's received messages, newest first, recipients masked, only with a
// token that may read alerts; a gateway without an inbox does not serve it.
func TestDemoMessagesAreServedMaskedToSignedInUsers(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	inbox := fakeInbox{
		{At: at, Channel: "SMS", To: "+33612345678", Body: "Crue rapide du Vistre : restez chez vous. Montez à l'étage."},
		{At: at.Add(time.Minute), Channel: "EMAIL", To: "habitant@example.org", Subject: "EXERCICE – Crue", Body: "EXERCICE – Crue", Exercise: true},
	}
	env := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *graph.Config) { c.DemoInbox = inbox }))
	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/demo/messages.json", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("without a token: HTTP %d, want 401", code)
	}
	if code, _ := get(env.TokenFor("nobody", time.Hour)); code != http.StatusForbidden {
		t.Errorf("with a token holding no grant: HTTP %d, want 403", code)
	}
	code, body := get(env.Token("obs-nimes", "observer", nimes))
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	var got struct {
		Total    int
		Messages []struct {
			At                         time.Time
			Channel, To, Subject, Body string
			Exercise                   bool
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || len(got.Messages) != 2 || got.Messages[0].Channel != "EMAIL" || !got.Messages[0].Exercise || got.Messages[1].Channel != "SMS" {
		t.Fatalf("messages %+v, want the e-mail (newest) then the SMS", got)
	}
	if to := got.Messages[1].To; to != "+33•••••••78" {
		t.Errorf("phone shown as %q", to)
	}
	if to := got.Messages[0].To; to != "h•••@e•••.org" {
		t.Errorf("e-mail shown as %q", to)
	}
	if strings.Contains(body, "12345678") || strings.Contains(body, "habitant@") || strings.Contains(body, "example.org") {
		t.Errorf("the answer shows a recipient in clear: %s", body)
	}

	plain := gatewaytest.Start(t)
	resp, err := plain.HTTP.Get(plain.URL + "/demo/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a gateway without a demonstration inbox: HTTP %d, want 404", resp.StatusCode)
	}
}

func TestMaskRecipient(t *testing.T) {
	for in, want := range map[string]string{
		"+33612345678":          "+33•••••••78",
		"06 12 34 56 78":        "061•••••78",
		"habitant@example.org":  "h•••@e•••.org",
		"élise@mairie-nîmes.fr": "é•••@m•••.fr",
		"a@b":                   "a•••@b•••",
		"":                      "",
		"+3":                    "••",
		"resident-42":           "re•••••••42",
	} {
		if got := graph.MaskRecipient(in); got != want {
			t.Errorf("MaskRecipient(%q) = %q, want %q", in, got, want)
		}
	}
}
