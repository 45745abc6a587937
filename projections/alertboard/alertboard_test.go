package alertboard_test

import (
	"context"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/alertboard"
	"vigie/projections/projectiontest"
	"vigie/services/alerts/alert"
)

const (
	nimes = "dep:30/com:30189"
	ales  = "dep:30/com:30007"
)

var (
	rac        = events.Actor{Subject: "rac", Role: events.RoleRAC}
	mayor      = events.Actor{Subject: "maire", Role: events.RoleMayor}
	prefecture = events.Actor{Subject: "cod", Role: events.RolePrefecture}
	system     = events.Actor{Subject: "vigie-dispatcher", Role: alert.RoleSystem}
)

func content() alert.Content {
	return alert.Content{Event: "Crue", Headline: "Crue du Vistre", Description: "Le Vistre déborde.", Instruction: "Montez à l'étage.",
		Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryMet, AreaDesc: "Nîmes"}
}

// revised is the text of a revision of a sent alert.
func revised() alert.Content {
	c := content()
	c.Headline, c.Description, c.Severity = "Crue du Vistre : évacuez le rez-de-chaussée", "Le Vistre monte encore.", alert.SeverityExtreme
	return c
}

// batch is one bucket of the dispatch journal for a channel.
type batch struct {
	channel                 alert.Channel
	sent, delivered, failed int
}

// script wraps the projection test script with the alerts' commands.
type script struct {
	*projectiontest.Script
}

func (s script) do(name string, by events.Actor, domain string, decide func(*alert.Alert, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *alert.Alert { return &alert.Alert{} }, events.CategoryAlert, name, by, domain, decide)
}

func (s script) draft(name, domain string, channels ...alert.Channel) {
	s.T.Helper()
	s.do(name, rac, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Draft(alert.Draft{AlertID: s.ID(name), Domain: domain, Content: content(), Channels: channels}, by, at)
	})
}

func (s script) revise(name, domain string, c alert.Content, channels ...alert.Channel) {
	s.T.Helper()
	s.do(name, rac, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Revise(alert.Revision{Content: c, Channels: channels}, by, at)
	})
}

func (s script) submit(name, domain string) {
	s.T.Helper()
	s.do(name, rac, domain, (*alert.Alert).Submit)
}

// approve approves as the mayor who was shown audience.
func (s script) approve(name, domain string, audience map[string]int) {
	s.T.Helper()
	s.do(name, mayor, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Approve(audience, by, at)
	})
}

// dispatch plays the dispatcher for message identifier: started with the
// recipients (and the channels left to people), the journal's batches, the
// channels that failed as a whole, then done.
func (s script) dispatch(name, domain, identifier string, recipients map[string]int, manual []alert.Channel, batches []batch, failed map[alert.Channel]string) {
	s.T.Helper()
	s.do(name, system, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		if a.Cancelled() {
			return a.StartCancellation(identifier, recipients, by, at)
		}
		return a.StartDispatch(identifier, recipients, manual, by, at)
	})
	for i, b := range batches {
		s.Raw("dispatch-"+s.ID(name), system, domain, alert.DeliveriesRecorded{AlertID: s.ID(name), Domain: domain, Identifier: identifier,
			Channel: b.channel, Bucket: i, Sent: b.sent, Delivered: b.delivered, Failed: b.failed, At: s.Now()})
	}
	for _, c := range alert.Channels() {
		if reason, ok := failed[c]; ok {
			s.do(name, system, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
				return a.RecordDispatchFailure(identifier, c, reason, by, at)
			})
		}
	}
	s.do(name, system, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.MarkSent(identifier, by, at)
	})
}

// sent drafts, submits, approves and sends an alert on SMS and CAP_FEED,
// every message delivered.
func (s script) sent(name, domain string) {
	s.T.Helper()
	s.draft(name, domain, alert.ChannelSMS, alert.ChannelCAPFeed)
	s.submit(name, domain)
	s.approve(name, domain, map[string]int{"SMS": 3})
	s.dispatch(name, domain, s.ID(name)+".1", map[string]int{"SMS": 3, "CAP_FEED": 1}, nil,
		[]batch{{alert.ChannelSMS, 2, 2, 0}, {alert.ChannelSMS, 1, 1, 0}, {alert.ChannelCAPFeed, 1, 1, 0}}, nil)
}

// crisis scripts alerts at every stage through the domain's commands, and the
// dispatcher's journal as it writes it.
func crisis(t *testing.T) script {
	t.Helper()
	st, _ := projectiontest.Store(t)
	s := script{projectiontest.NewScript(t, st, alert.Register)}

	s.sent("sent", nimes)

	s.draft("pending", nimes, alert.ChannelCAPFeed)
	s.submit("pending", nimes)

	s.draft("fr", nimes, alert.ChannelFrAlert)
	s.submit("fr", nimes)
	s.approve("fr", nimes, nil)

	s.draft("refused", ales, alert.ChannelCAPFeed)
	s.submit("refused", ales)
	s.do("refused", mayor, ales, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Reject("Trop alarmiste", by, at)
	})
	s.draft("validated", ales, alert.ChannelFrAlert)
	s.submit("validated", ales)
	s.approve("validated", ales, nil)
	s.do("validated", prefecture, ales, (*alert.Alert).ValidateFrAlert)

	// A sent alert revised: the revision waits for the mayor.
	s.sent("revised", nimes)
	s.revise("revised", nimes, revised(), alert.ChannelSMS, alert.ChannelCAPFeed)
	// A revision the mayor rejected.
	s.sent("revisionRejected", nimes)
	s.revise("revisionRejected", nimes, revised(), alert.ChannelSMS, alert.ChannelCAPFeed)
	s.submit("revisionRejected", nimes)
	s.do("revisionRejected", mayor, nimes, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Reject("Pas d'évacuation décidée", by, at)
	})
	// A revision the mayor approved: it goes out as the Update.
	s.sent("updated", nimes)
	s.revise("updated", nimes, revised(), alert.ChannelSMS, alert.ChannelCAPFeed)
	s.submit("updated", nimes)
	s.approve("updated", nimes, map[string]int{"SMS": 4})

	// SMS refused for some recipients.
	s.draft("partial", nimes, alert.ChannelSMS, alert.ChannelCAPFeed)
	s.submit("partial", nimes)
	s.approve("partial", nimes, map[string]int{"SMS": 10})
	s.dispatch("partial", nimes, s.ID("partial")+".1", map[string]int{"SMS": 10, "CAP_FEED": 1}, nil,
		[]batch{{alert.ChannelSMS, 5, 5, 0}, {alert.ChannelSMS, 5, 2, 3}, {alert.ChannelCAPFeed, 1, 1, 0}}, nil)

	// Every channel failed: SMS without a provider, every e-mail refused.
	s.draft("failed", nimes, alert.ChannelSMS, alert.ChannelEmail)
	s.submit("failed", nimes)
	s.approve("failed", nimes, map[string]int{"SMS": 4, "EMAIL": 4})
	s.dispatch("failed", nimes, s.ID("failed")+".1", map[string]int{"SMS": 4, "EMAIL": 4}, nil,
		[]batch{{alert.ChannelEmail, 4, 0, 4}}, map[alert.Channel]string{alert.ChannelSMS: "aucun fournisseur SMS configuré"})

	// The commune's SMS went out; the prefecture refused FR-Alert.
	s.draft("frRefused", nimes, alert.ChannelSMS, alert.ChannelFrAlert)
	s.submit("frRefused", nimes)
	s.approve("frRefused", nimes, map[string]int{"SMS": 2})
	s.dispatch("frRefused", nimes, s.ID("frRefused")+".1", map[string]int{"SMS": 2, "FR_ALERT": 1}, nil,
		[]batch{{alert.ChannelSMS, 2, 2, 0}}, nil)
	s.do("frRefused", prefecture, nimes, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.RefuseFrAlert("Zone trop large pour la diffusion cellulaire", by, at)
	})

	// FR-Alert validated with no intake configured: the prefecture broadcasts
	// it by hand; "confirmed" is then confirmed.
	for _, name := range []string{"manual", "confirmed"} {
		s.draft(name, nimes, alert.ChannelCAPFeed, alert.ChannelFrAlert)
		s.submit(name, nimes)
		s.approve(name, nimes, map[string]int{})
		s.do(name, prefecture, nimes, (*alert.Alert).ValidateFrAlert)
		s.dispatch(name, nimes, s.ID(name)+".1", map[string]int{"CAP_FEED": 1, "FR_ALERT": 1}, []alert.Channel{alert.ChannelFrAlert},
			[]batch{{alert.ChannelCAPFeed, 1, 1, 0}}, nil)
	}
	s.do("confirmed", prefecture, nimes, (*alert.Alert).ConfirmFrAlertBroadcast)

	// A sent alert cancelled: the cancellation goes to those who received it.
	s.sent("cancelled", nimes)
	s.do("cancelled", mayor, nimes, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("Décrue amorcée", by, at)
	})
	s.dispatch("cancelled", nimes, s.ID("cancelled")+".2", map[string]int{"SMS": 3}, nil, []batch{{alert.ChannelSMS, 3, 3, 0}}, nil)
	return s
}

// board projects the crisis and returns every alert of the département by
// script name.
func board(t *testing.T, s script) (alertboard.Reader, map[string]alertboard.Alert) {
	t.Helper()
	rdb := projectiontest.Redis(t)
	p, err := alertboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, s.Store, p, 0)
	projectiontest.WaitCaughtUp(t, rdb, s.Store, alertboard.Name)
	r := alertboard.Reader{Redis: rdb}
	all, err := r.List(context.Background(), "dep:30", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]alertboard.Alert{}
	for _, a := range all {
		for _, name := range []string{"sent", "pending", "fr", "refused", "validated", "revised", "revisionRejected", "updated",
			"partial", "failed", "frRefused", "manual", "confirmed", "cancelled"} {
			if a.ID == s.ID(name) {
				got[name] = a
			}
		}
	}
	return r, got
}

func byChannel(ds []alertboard.Delivery) map[string]alertboard.Delivery {
	out := map[string]alertboard.Delivery{}
	for _, d := range ds {
		out[d.Channel] = d
	}
	return out
}

// TestTheBoardShowsEachAlertAtItsStageWithItsCounts: statuses, delivery totals and
// the inbox indexes, per commune and for the département.
func TestTheBoardShowsEachAlertAtItsStageWithItsCounts(t *testing.T) {
	s := crisis(t)
	r, got := board(t, s)
	ctx := context.Background()
	want := map[string]string{"sent": "sent", "pending": "pending_approval", "fr": "fr_alert_requested", "refused": "rejected", "validated": "approved",
		"revised": "draft", "revisionRejected": "rejected", "updated": "approved", "partial": "partially_sent", "failed": "failed",
		"frRefused": "fr_alert_refused", "manual": "dispatching", "confirmed": "sent", "cancelled": "cancelled"}
	for name, status := range want {
		a, ok := got[name]
		if !ok {
			t.Errorf("%s is not on the département's board", name)
			continue
		}
		if a.Status != status {
			t.Errorf("%s: status %s, want %s", name, a.Status, status)
		}
		if a.Deliveries == nil || a.Cancellations == nil {
			t.Errorf("%s: deliveries %v and cancellations %v must be lists, never null", name, a.Deliveries, a.Cancellations)
		}
	}
	sent := got["sent"]
	counts := byChannel(sent.Deliveries)
	if d := counts["SMS"]; d.Recipients != 3 || d.Sent != 3 || d.Delivered != 3 || d.State != "DELIVERED" || !d.CountsKnown {
		t.Errorf("SMS deliveries %+v, want 3 recipients, 3 sent and delivered, DELIVERED", d)
	}
	if d := counts["CAP_FEED"]; d.State != "DELIVERED" {
		t.Errorf("CAP_FEED %+v, want DELIVERED", d)
	}
	if len(sent.Messages) != 1 || sent.SentAt == nil || sent.ApprovedBy != "maire" {
		t.Errorf("sent alert: %+v", sent)
	}
	if sent.Published == nil || sent.Published.Version != 1 || sent.PendingRevision != nil || sent.Audience["SMS"] != 3 {
		t.Errorf("sent alert: published %+v, pending %+v, audience %v; want version 1 published, nothing pending, the audience of 3", sent.Published, sent.PendingRevision, sent.Audience)
	}
	if got["refused"].Reason != "Trop alarmiste" {
		t.Errorf("the rejection's reason is not shown: %+v", got["refused"])
	}
	if p := got["pending"]; p.Published != nil || p.PendingRevision == nil || p.PendingRevision.Version != 1 || p.PendingRevision.Content.Headline != "Crue du Vistre" {
		t.Errorf("a first draft: published %+v, pending %+v; want nothing published and version 1 pending", p.Published, p.PendingRevision)
	}
	inbox, _ := r.List(ctx, nimes, []string{"pending_approval"})
	if len(inbox) != 1 || inbox[0].ID != s.ID("pending") {
		t.Errorf("Nîmes' pending approvals: %+v", inbox)
	}
	fr, _ := r.List(ctx, "dep:30", []string{"fr_alert_requested"})
	if len(fr) != 1 || fr[0].ID != s.ID("fr") {
		t.Errorf("the prefecture's FR-Alert requests: %+v", fr)
	}
	// The new statuses are indexed like the others.
	for status, name := range map[string]string{"partially_sent": "partial", "fr_alert_refused": "frRefused", "failed": "failed"} {
		l, err := r.List(ctx, nimes, []string{status})
		if err != nil || len(l) != 1 || l[0].ID != s.ID(name) {
			t.Errorf("Nîmes' alerts %s: %+v (%v), want %s only", status, l, err, name)
		}
	}
	// A status left is no longer indexed: "sent" holds the sent ones only.
	l, _ := r.List(ctx, nimes, []string{"sent"})
	for _, a := range l {
		if a.Status != "sent" {
			t.Errorf("%s (%s) is still indexed as sent", a.ID, a.Status)
		}
	}
	ales, _ := r.List(ctx, ales, nil)
	if len(ales) != 2 {
		t.Errorf("Alès' board has %d alerts, want its 2", len(ales))
	}
}

// TestARevisionNeverChangesThePublishedVersion: a revision of a sent alert is
// pending until approved; rejected, the published version is untouched; approved,
// it is the published version and the Update's.
func TestARevisionNeverChangesThePublishedVersion(t *testing.T) {
	s := crisis(t)
	_, got := board(t, s)
	original, next := content(), revised()
	for _, name := range []string{"revised", "revisionRejected"} {
		a := got[name]
		p := a.Published
		if p == nil || p.Version != 1 || p.Content.Headline != original.Headline || p.Content.Description != original.Description ||
			p.Content.Severity != original.Severity || p.ApprovedBy != "maire" || p.ApprovedAt == nil {
			t.Errorf("%s: published %+v, want version 1 with the approved text", name, p)
		}
		if r := a.PendingRevision; r == nil || r.Version != 2 || r.Content.Headline != next.Headline || r.Content.Severity != next.Severity || r.ApprovedBy != "" {
			t.Errorf("%s: pending revision %+v, want version 2 with the new text", name, r)
		}
		if a.Version != 2 || a.Content.Headline != next.Headline {
			t.Errorf("%s: latest version %d %q, want 2 with the new text", name, a.Version, a.Content.Headline)
		}
		// What went out is still shown as it went out.
		if d := byChannel(a.Deliveries)["SMS"]; d.State != "DELIVERED" || d.Delivered != 3 {
			t.Errorf("%s: SMS %+v, want the first message's DELIVERED 3", name, d)
		}
		if len(a.Messages) != 1 {
			t.Errorf("%s: %d messages, want the first one only", name, len(a.Messages))
		}
	}
	if r := got["revisionRejected"].Reason; r != "Pas d'évacuation décidée" {
		t.Errorf("the revision's rejection reason: %q", r)
	}
	u := got["updated"]
	if p := u.Published; p == nil || p.Version != 2 || p.Content.Headline != next.Headline || p.Content.Severity != next.Severity {
		t.Errorf("approved revision: published %+v, want version 2", p)
	}
	if u.PendingRevision != nil {
		t.Errorf("approved revision: still pending %+v", u.PendingRevision)
	}
	if len(u.Messages) != 2 || u.Messages[1].MsgType != alert.MsgTypeUpdate || u.Audience["SMS"] != 4 {
		t.Errorf("approved revision: messages %+v, audience %v; want the Update and the audience of its approval", u.Messages, u.Audience)
	}
	// The Update has not gone out yet: its channels wait, they do not show the
	// first message's counts.
	for _, d := range u.Deliveries {
		if d.State != "PENDING" {
			t.Errorf("the Update's %s: %+v, want PENDING", d.Channel, d)
		}
	}
}

// TestEachChannelSaysWhatHappened: per channel state, reason and counts, and
// the alert's status that follows.
func TestEachChannelSaysWhatHappened(t *testing.T) {
	s := crisis(t)
	_, got := board(t, s)
	type want struct {
		state, reason string
		countsKnown   bool
	}
	for _, c := range []struct {
		alert string
		want  map[string]want
	}{
		{"sent", map[string]want{"SMS": {"DELIVERED", "", true}, "CAP_FEED": {"DELIVERED", "", true}}},
		{"partial", map[string]want{"SMS": {"PARTIAL", "3 messages sur 10 n'ont pas pu être remis", true}, "CAP_FEED": {"DELIVERED", "", true}}},
		{"failed", map[string]want{"SMS": {"FAILED", "aucun fournisseur SMS configuré", true}, "EMAIL": {"FAILED", "4 messages sur 4 n'ont pas pu être remis", true}}},
		{"frRefused", map[string]want{"SMS": {"DELIVERED", "", true}, "FR_ALERT": {"REFUSED", "refusée par la préfecture : Zone trop large pour la diffusion cellulaire", false}}},
		{"manual", map[string]want{"CAP_FEED": {"DELIVERED", "", true}, "FR_ALERT": {"PENDING", "à diffuser par la préfecture sur FR-Alert", false}}},
		{"confirmed", map[string]want{"CAP_FEED": {"DELIVERED", "", true}, "FR_ALERT": {"DELIVERED", "", false}}},
	} {
		a := got[c.alert]
		ds := byChannel(a.Deliveries)
		if len(a.Deliveries) != len(c.want) {
			t.Errorf("%s: deliveries %+v, want %d channels", c.alert, a.Deliveries, len(c.want))
		}
		for ch, w := range c.want {
			d := ds[ch]
			if d.State != w.state || d.Reason != w.reason || d.CountsKnown != w.countsKnown {
				t.Errorf("%s %s: %+v, want %s « %s » (counts known: %v)", c.alert, ch, d, w.state, w.reason, w.countsKnown)
			}
		}
	}
	if d := byChannel(got["partial"].Deliveries)["SMS"]; d.Recipients != 10 || d.Sent != 10 || d.Delivered != 7 || d.Failed != 3 {
		t.Errorf("partial SMS counts %+v, want 10 / 10 / 7 / 3", d)
	}
	if fr := byChannel(got["confirmed"].Deliveries)["FR_ALERT"]; fr.Recipients != 0 || fr.Sent != 0 || fr.Delivered != 0 {
		t.Errorf("FR-Alert counts %+v: unknown, never numbers", fr)
	}
	if a := got["frRefused"]; a.FrAlert != "refused" || a.Reason != "Zone trop large pour la diffusion cellulaire" {
		t.Errorf("FR-Alert refused: frAlert %q, reason %q", a.FrAlert, a.Reason)
	}
	if f := got["failed"].Failures; len(f) != 1 || f[0].Channel != "SMS" {
		t.Errorf("failures %+v, want SMS's", f)
	}
	c := got["cancelled"]
	if len(c.Cancellations) != 1 || c.Cancellations[0].Channel != "SMS" || c.Cancellations[0].State != "DELIVERED" || c.Cancellations[0].Delivered != 3 {
		t.Errorf("cancellation %+v, want SMS delivered to the 3 recipients", c.Cancellations)
	}
	if d := byChannel(c.Deliveries)["SMS"]; d.State != "DELIVERED" || d.Delivered != 3 {
		t.Errorf("the cancelled alert's own SMS %+v, want it as it went out", d)
	}
	// SentAt is the alert's own message's, not the cancellation's.
	if len(c.Messages) != 2 || c.SentAt == nil || !c.SentAt.Before(c.Messages[1].Sent) {
		t.Errorf("cancelled: sentAt %v, messages %+v", c.SentAt, c.Messages)
	}
}

// TestTheBoardIsTheSameHoweverTheLogIsBatched: one event per batch or 512, the same
// model key by key (a rebuild must match the live model).
func TestTheBoardIsTheSameHoweverTheLogIsBatched(t *testing.T) {
	s := crisis(t)
	projectiontest.BatchesAlike(t, s.Store, alertboard.New)
}
