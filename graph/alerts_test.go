package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"vigie/graph/gatewaytest"
	"vigie/services/alerts/cap/captest"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

// alertSinks are local providers: an SMTP server and an SMS, a voice and an FR-Alert
// gateway, started by the test.
type alertSinks struct {
	mail                *channeltest.SMTPSink
	sms, voice, frAlert *channeltest.HTTPSink
}

func startAlertStack(t *testing.T) (*gatewaytest.Env, alertSinks) {
	t.Helper()
	s := alertSinks{mail: channeltest.StartSMTP(t), sms: channeltest.StartHTTP(t), voice: channeltest.StartHTTP(t), frAlert: channeltest.StartHTTP(t)}
	cfg := channel.Config{SMTPAddr: s.mail.Addr(), SMSURL: s.sms.URL(), VoiceURL: s.voice.URL(), FRAlertURL: s.frAlert.URL(),
		Retry: channel.Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
	return gatewaytest.Start(t, gatewaytest.WithDispatcher(cfg.Senders())), s
}

const draftMutation = `mutation($in: DraftAlertInput!, $c: ID){ draftAlert(input: $in, commandId: $c){ id status author exercise capUrl channels } }`

func floodAlert(domain string, channels ...string) map[string]any {
	return map[string]any{
		"domain": domain, "event": "Crue du Vistre", "headline": "Crue rapide du Vistre : restez chez vous",
		"description": "Le Vistre déborde dans les quartiers sud.", "instruction": "Montez à l'étage, ne prenez pas votre véhicule.",
		"severity": "SEVERE", "urgency": "IMMEDIATE", "certainty": "OBSERVED", "category": "MET",
		"areaDesc": "Quartiers sud de Nîmes", "channels": channels,
		"polygon": []map[string]float64{{"lat": 43.80, "lon": 4.30}, {"lat": 43.80, "lon": 4.40}, {"lat": 43.86, "lon": 4.40}, {"lat": 43.86, "lon": 4.30}},
	}
}

type alertView struct {
	ID, Status, Author string
	ApprovedBy         *string
	Exercise           bool
	CapURL             string
	Deliveries         []delivery
	Cancellations      []delivery
	Published          *struct {
		Version  int
		Headline string
	}
}

type delivery struct {
	Channel, State                      string
	Reason                              *string
	CountsKnown                         bool
	Recipients, Sent, Delivered, Failed int
}

// delivery returns the channel's delivery, or one with no state.
func (a alertView) delivery(channel string) delivery {
	for _, d := range a.Deliveries {
		if d.Channel == channel {
			return d
		}
	}
	return delivery{Channel: channel}
}

func alertOf(t *testing.T, r gatewaytest.Response, name string) alertView {
	t.Helper()
	var a alertView
	if err := json.Unmarshal(field(t, must(t, r), name), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// registerResidents registers n residents of Nîmes inside the alert's area and one
// outside it, each on SMS and e-mail.
func registerResidents(t *testing.T, env *gatewaytest.Env, token string, n int) {
	t.Helper()
	for i := range n + 1 {
		lat := 43.83
		if i == n {
			lat = 43.95 // north of the area: not targeted
		}
		must(t, env.Do(t, token, `mutation($in: RegisterResidentInput!){ registerResident(input: $in){ id } }`, map[string]any{"in": map[string]any{
			"domain": nimes, "phone": fmt.Sprintf("+3366000%04d", i), "email": fmt.Sprintf("habitant%d@example.org", i),
			"location": map[string]float64{"lat": lat, "lon": 4.35}, "channels": []string{"SMS", "EMAIL"},
		}}))
	}
}

// TestTheMayorApprovesTheCoordinatorsAlertAndResidentsReceiveItOnce is the workflow of
// the issue over GraphQL: the coordinator drafts and submits; their own approval is
// refused; the mayor approves; every resident of the area receives one message per
// channel at the providers, and the board's delivery counts match the providers'.
func TestTheMayorApprovesTheCoordinatorsAlertAndResidentsReceiveItOnce(t *testing.T) {
	env, sinks := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	otherMayor := env.Token("maire-ales", "mayor", ales)
	const residents = 25
	registerResidents(t, env, rac, residents)

	drafted := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": floodAlert(nimes, "SMS", "EMAIL", "CAP_FEED")}), "draftAlert")
	if drafted.Status != "DRAFT" || drafted.Author != "rac-nimes" || drafted.CapURL != "/cap/alerts/"+drafted.ID+".xml" {
		t.Fatalf("drafted %+v", drafted)
	}
	// Nothing is public before the mayor's approval.
	if code := getStatus(t, env.URL+drafted.CapURL); code != http.StatusNotFound {
		t.Errorf("CAP of a draft: HTTP %d, want 404", code)
	}
	id := map[string]any{"id": drafted.ID}
	submitted := alertOf(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id status } }`, id), "submitAlert")
	if submitted.Status != "PENDING_APPROVAL" {
		t.Fatalf("submitted: %s", submitted.Status)
	}
	// The coordinator may not approve (the mayor's power), and another commune's
	// mayor does not even see the alert.
	if r := env.Do(t, rac, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id); r.Code() != "FORBIDDEN" {
		t.Errorf("the coordinator's approval: %s, want FORBIDDEN", r)
	}
	if r := env.Do(t, otherMayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id); r.Code() != "NOT_FOUND" {
		t.Errorf("Alès' mayor approving Nîmes' alert: %s, want NOT_FOUND", r)
	}
	var inbox []alertView
	json.Unmarshal(field(t, must(t, env.Do(t, mayor, `{ pendingApprovals { id status } }`, nil)), "pendingApprovals"), &inbox)
	if len(inbox) != 1 || inbox[0].ID != drafted.ID {
		t.Errorf("the mayor's inbox: %+v, want the submitted alert", inbox)
	}
	json.Unmarshal(field(t, must(t, env.Do(t, otherMayor, `{ pendingApprovals { id } }`, nil)), "pendingApprovals"), &inbox)
	if len(inbox) != 0 {
		t.Errorf("Alès' mayor's inbox: %+v, want nothing", inbox)
	}

	approved := alertOf(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id status approvedBy } }`, id), "approveAlert")
	if approved.ApprovedBy == nil || *approved.ApprovedBy != "maire-nimes" {
		t.Fatalf("approved: %+v", approved)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sinks.sms.Wait(ctx, residents); err != nil {
		t.Fatalf("SMS: %d of %d received: %v", sinks.sms.Count(), residents, err)
	}
	if err := sinks.mail.Wait(ctx, residents); err != nil {
		t.Fatalf("e-mail: %d of %d received: %v", sinks.mail.Count(), residents, err)
	}
	final := waitAlert(t, env, mayor, drafted.ID, func(a alertView) bool { return a.Status == "SENT" })
	counts := map[string]int{}
	for _, d := range final.Deliveries {
		counts[d.Channel] = d.Sent
		if d.Failed != 0 {
			t.Errorf("%s: %d failed", d.Channel, d.Failed)
		}
	}
	for name, sink := range map[string]interface {
		Count() int
		Raw() int
		PerRecipient() map[string]int
	}{"SMS": sinks.sms, "EMAIL": sinks.mail} {
		if sink.Count() != residents || sink.Raw() != residents {
			t.Errorf("%s: %d distinct and %d raw messages, want %d (the resident outside the area gets none)", name, sink.Count(), sink.Raw(), residents)
		}
		for to, n := range sink.PerRecipient() {
			if n != 1 {
				t.Errorf("%s: %s received %d messages", name, to, n)
			}
		}
		if counts[name] != sink.Count() {
			t.Errorf("board says %d sent on %s, the provider received %d", counts[name], name, sink.Count())
		}
	}
	if sinks.voice.Raw() != 0 || sinks.frAlert.Raw() != 0 {
		t.Errorf("channels the alert does not use were called: voice %d, FR-Alert %d", sinks.voice.Raw(), sinks.frAlert.Raw())
	}
	// The published CAP message validates against the official schema.
	validateCAP(t, env.URL+drafted.CapURL)
}

// TestTheCoordinatorCannotApproveTheirOwnAlertEvenAsMayor is the two-person rule: a
// mayor who drafted an alert needs another mayor's approval.
func TestTheAuthorCannotApproveTheirOwnAlert(t *testing.T) {
	env, _ := startAlertStack(t)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	deputy := env.Token("adjoint-nimes", "mayor", nimes)
	a := alertOf(t, env.Do(t, mayor, draftMutation, map[string]any{"in": floodAlert(nimes, "CAP_FEED")}), "draftAlert")
	id := map[string]any{"id": a.ID}
	must(t, env.Do(t, mayor, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	r := env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id)
	if r.Code() != "REJECTED" || !strings.Contains(r.Message(), "auteur") {
		t.Errorf("self-approval: %s, want REJECTED naming the two-person rule", r)
	}
	got := alertOf(t, env.Do(t, deputy, `mutation($id: ID!){ approveAlert(id: $id){ id status approvedBy } }`, id), "approveAlert")
	if got.ApprovedBy == nil || *got.ApprovedBy != "adjoint-nimes" {
		t.Errorf("approved by %v", got.ApprovedBy)
	}
}

// TestFrAlertWaitsForThePrefecture: with FR_ALERT, the mayor's approval becomes a
// request to the prefecture; a mayor may not validate it, the prefecture may, and
// only then does cell broadcast go out.
func TestFrAlertWaitsForThePrefecture(t *testing.T) {
	env, sinks := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	prefecture := env.Token("cod-gard", "prefecture", gard)
	otherPrefecture := env.Token("cod-bdr", "prefecture", "dep:13")
	a := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": floodAlert(nimes, "FR_ALERT", "CAP_FEED")}), "draftAlert")
	id := map[string]any{"id": a.ID}
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	got := alertOf(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id status } }`, id), "approveAlert")
	if got.Status != "FR_ALERT_REQUESTED" {
		t.Fatalf("after the mayor's approval: %s, want FR_ALERT_REQUESTED", got.Status)
	}
	var inbox []alertView
	json.Unmarshal(field(t, must(t, env.Do(t, prefecture, `{ pendingApprovals { id status } }`, nil)), "pendingApprovals"), &inbox)
	if len(inbox) != 1 || inbox[0].ID != a.ID {
		t.Errorf("the prefecture's inbox: %+v", inbox)
	}
	if r := env.Do(t, mayor, `mutation($id: ID!){ validateFrAlert(id: $id){ id } }`, id); r.Code() != "FORBIDDEN" {
		t.Errorf("a mayor validating FR-Alert: %s, want FORBIDDEN", r)
	}
	if r := env.Do(t, otherPrefecture, `mutation($id: ID!){ validateFrAlert(id: $id){ id } }`, id); r.Code() != "NOT_FOUND" {
		t.Errorf("another département's prefecture: %s, want NOT_FOUND", r)
	}
	time.Sleep(200 * time.Millisecond)
	if n := sinks.frAlert.Raw(); n != 0 {
		t.Fatalf("cell broadcast requested %d times before the prefecture's decision", n)
	}
	must(t, env.Do(t, prefecture, `mutation($id: ID!){ validateFrAlert(id: $id){ id status } }`, id))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sinks.frAlert.Wait(ctx, 1); err != nil {
		t.Fatalf("no FR-Alert broadcast request after validation: %v", err)
	}
	// Broadcast through the State's intake: delivered, and nobody can say to how many.
	got = waitAlert(t, env, mayor, a.ID, func(a alertView) bool { return a.delivery("FR_ALERT").State == "DELIVERED" })
	if d := got.delivery("FR_ALERT"); d.CountsKnown || d.Recipients != 0 || d.Sent != 0 {
		t.Errorf("FR-Alert's counts: %+v, want them unknown (countsKnown false, zeros)", d)
	}
}

func waitAlert(t *testing.T, env *gatewaytest.Env, token, id string, cond func(alertView) bool) alertView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list []alertView
		json.Unmarshal(field(t, must(t, env.Do(t, token, `query($d: String!){ alerts(domain: $d){ id status approvedBy published { version headline }
			deliveries { channel state reason countsKnown recipients sent delivered failed }
			cancellations { channel state reason countsKnown recipients sent delivered failed } } }`, map[string]any{"d": nimes})), "alerts"), &list)
		for _, a := range list {
			if a.ID == id && cond(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s never reached the expected state; board: %+v", id, list)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// validateCAP fetches a CAP document and validates it with xmllint against the
// official schema (shared data), as the CAP package's own tests do.
func validateCAP(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/cap+xml") {
		t.Fatalf("GET %s: HTTP %d %s: %s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	captest.Valid(t, body)
	return body
}

// TestUpdateAndCancelArePublishedWithReferences: a sent alert revised and approved
// again goes out as a CAP Update naming the first message; a cancellation as a Cancel
// naming both; each validates against the official schema, and the commune's feed
// lists the alert.
func TestUpdateAndCancelArePublishedWithReferences(t *testing.T) {
	env, _ := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	in := floodAlert(nimes, "CAP_FEED")
	a := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": in}), "draftAlert")
	id := map[string]any{"id": a.ID}
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	first := validateCAP(t, env.URL+a.CapURL)
	waitAlert(t, env, mayor, a.ID, func(v alertView) bool { return v.Status == "SENT" })

	in["headline"] = "Crue du Vistre : évacuez le rez-de-chaussée"
	must(t, env.Do(t, rac, `mutation($id: ID!, $in: DraftAlertInput!){ updateAlert(id: $id, input: $in){ id status } }`, map[string]any{"id": a.ID, "in": in}))
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	update := string(validateCAP(t, env.URL+a.CapURL))
	if !strings.Contains(update, "<msgType>Update</msgType>") || !strings.Contains(update, "<references>") || !strings.Contains(update, a.ID+".1,") {
		t.Errorf("the revision is not an Update referencing the first message:\n%s", update)
	}
	if string(first) == update {
		t.Error("the CAP document did not change after the update")
	}
	must(t, env.Do(t, mayor, `mutation($id: ID!){ cancelAlert(id: $id, reason: "Décrue amorcée"){ id status } }`, id))
	cancel := string(validateCAP(t, env.URL+a.CapURL))
	if !strings.Contains(cancel, "<msgType>Cancel</msgType>") || !strings.Contains(cancel, a.ID+".1,") || !strings.Contains(cancel, a.ID+".2,") {
		t.Errorf("the cancellation does not reference both earlier messages:\n%s", cancel)
	}
	resp, err := http.Get(env.URL + "/cap/30189/feed.atom")
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(feed), "/cap/alerts/"+a.ID+".xml") {
		t.Errorf("the feed (HTTP %d) does not list the alert:\n%s", resp.StatusCode, feed)
	}
}

// TestAlertChangedDeliversTheAlertToItsCommuneOnly: the mayor's alertChanged
// subscription receives the alert after each change (pending, then approved); a
// subscriber of another commune receives none of it, and a subscription to a commune
// the caller may not read is refused.
func TestAlertChangedDeliversTheAlertToItsCommuneOnly(t *testing.T) {
	env, _ := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	alesMayor := env.Token("maire-ales", "mayor", ales)
	const sub = `subscription($d: String!){ alertChanged(domain: $d){ id status headline deliveries { channel sent } } }`
	dial := func(token, domain string) *gatewaytest.WS {
		ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + token})
		if err != nil {
			t.Fatal(err)
		}
		ws.Subscribe(t, "alerts", sub, map[string]any{"d": domain})
		return ws
	}
	type change struct{ ID, Status string }
	next := func(ws *gatewaytest.WS, d time.Duration) (change, bool) {
		m, ok := ws.Next(d)
		if !ok {
			return change{}, false
		}
		var p struct {
			Data   struct{ AlertChanged change }
			Errors json.RawMessage
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
			t.Fatalf("alertChanged: %s %s", m.Type, m.Payload)
		}
		return p.Data.AlertChanged, true
	}
	mine, theirs := dial(mayor, nimes), dial(alesMayor, ales)
	// gqlgen does not acknowledge a subscription: draft until the first is heard.
	var warm alertView
	for deadline := time.Now().Add(10 * time.Second); ; {
		warm = alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": floodAlert(nimes, "CAP_FEED")}), "draftAlert")
		if c, ok := next(mine, 300*time.Millisecond); ok && c.ID == warm.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mayor's subscription never delivered")
		}
	}
	id := map[string]any{"id": warm.ID}
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	seen := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Second); !(seen["PENDING_APPROVAL"] && seen["APPROVED"]) && time.Now().Before(deadline); {
		if c, ok := next(mine, time.Until(deadline)); ok && c.ID == warm.ID {
			seen[c.Status] = true
			if c.Status == "DISPATCHING" || c.Status == "SENT" {
				seen["APPROVED"] = true // the board may have moved on within one batch
			}
		}
	}
	if !seen["PENDING_APPROVAL"] || !seen["APPROVED"] {
		t.Errorf("the mayor's subscription saw %v, want the submission and the approval", seen)
	}
	if c, ok := next(theirs, 300*time.Millisecond); ok {
		t.Errorf("Alès' subscription received Nîmes' alert: %+v", c)
	}
	ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + alesMayor})
	if err != nil {
		t.Fatal(err)
	}
	ws.Subscribe(t, "nimes", sub, map[string]any{"d": nimes})
	m, ok := ws.Next(5 * time.Second)
	if !ok || m.Type != "error" && !strings.Contains(string(m.Payload), "FORBIDDEN") {
		t.Errorf("Alès' mayor subscribing to Nîmes' alerts: %v %s, want FORBIDDEN", ok, m.Payload)
	}
}
