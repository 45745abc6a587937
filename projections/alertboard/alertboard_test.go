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

// crisis scripts alerts at every stage through the domain's commands, and the
// dispatcher's journal as it writes it.
func crisis(t *testing.T) *projectiontest.Script {
	t.Helper()
	st, _ := projectiontest.Store(t)
	s := projectiontest.NewScript(t, st, alert.Register)
	do := func(name string, by events.Actor, domain string, decide func(*alert.Alert, events.Actor, time.Time) ([]events.Event, error)) {
		projectiontest.Do(s, func() *alert.Alert { return &alert.Alert{} }, events.CategoryAlert, name, by, domain, decide)
	}
	draft := func(name, domain string, channels ...alert.Channel) {
		do(name, rac, domain, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.Draft(alert.Draft{AlertID: s.ID(name), Domain: domain, Content: content(), Channels: channels}, by, at)
		})
	}
	submit := func(name, domain string) { do(name, rac, domain, (*alert.Alert).Submit) }
	approve := func(name, domain string) { do(name, mayor, domain, (*alert.Alert).Approve) }

	draft("sent", nimes, alert.ChannelSMS, alert.ChannelCAPFeed)
	submit("sent", nimes)
	approve("sent", nimes)
	id := s.ID("sent") + ".1"
	do("sent", system, nimes, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.StartDispatch(id, map[string]int{"SMS": 3, "CAP_FEED": 1}, by, at)
	})
	for b, n := range []int{2, 1} {
		s.Raw("dispatch-"+s.ID("sent"), system, nimes, alert.DeliveriesRecorded{AlertID: s.ID("sent"), Domain: nimes, Identifier: id, Channel: alert.ChannelSMS, Bucket: b, Sent: n, Delivered: n, At: s.Now()})
	}
	s.Raw("dispatch-"+s.ID("sent"), system, nimes, alert.DeliveriesRecorded{AlertID: s.ID("sent"), Domain: nimes, Identifier: id, Channel: alert.ChannelCAPFeed, Sent: 1, Delivered: 1, At: s.Now()})
	do("sent", system, nimes, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.MarkSent(id, by, at)
	})

	draft("pending", nimes, alert.ChannelCAPFeed)
	submit("pending", nimes)

	draft("fr", nimes, alert.ChannelFrAlert)
	submit("fr", nimes)
	approve("fr", nimes)

	draft("refused", ales, alert.ChannelCAPFeed)
	submit("refused", ales)
	do("refused", mayor, ales, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Reject("Trop alarmiste", by, at)
	})
	draft("validated", ales, alert.ChannelFrAlert)
	submit("validated", ales)
	approve("validated", ales)
	do("validated", prefecture, ales, (*alert.Alert).ValidateFrAlert)
	return s
}

// TestTheBoardShowsEachAlertAtItsStageWithItsCounts: statuses, delivery totals and
// the inbox indexes, per commune and for the département.
func TestTheBoardShowsEachAlertAtItsStageWithItsCounts(t *testing.T) {
	s := crisis(t)
	rdb := projectiontest.Redis(t)
	p, err := alertboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, s.Store, p, 0)
	projectiontest.WaitCaughtUp(t, rdb, s.Store, alertboard.Name)
	r := alertboard.Reader{Redis: rdb}
	ctx := context.Background()
	want := map[string]string{"sent": "sent", "pending": "pending_approval", "fr": "fr_alert_requested", "refused": "rejected", "validated": "approved"}
	all, err := r.List(ctx, "dep:30", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]alertboard.Alert{}
	for _, a := range all {
		got[a.ID] = a
	}
	for name, status := range want {
		a, ok := got[s.ID(name)]
		if !ok {
			t.Errorf("%s is not on the département's board", name)
			continue
		}
		if a.Status != status {
			t.Errorf("%s: status %s, want %s", name, a.Status, status)
		}
	}
	sent := got[s.ID("sent")]
	counts := map[string]alertboard.Delivery{}
	for _, d := range sent.Deliveries {
		counts[d.Channel] = d
	}
	if d := counts["SMS"]; d.Recipients != 3 || d.Sent != 3 || d.Delivered != 3 {
		t.Errorf("SMS deliveries %+v, want 3 recipients, 3 sent and delivered", d)
	}
	if len(sent.Messages) != 1 || sent.SentAt == nil || sent.ApprovedBy != "maire" {
		t.Errorf("sent alert: %+v", sent)
	}
	if got[s.ID("refused")].Reason != "Trop alarmiste" {
		t.Errorf("the rejection's reason is not shown: %+v", got[s.ID("refused")])
	}
	inbox, _ := r.List(ctx, nimes, []string{"pending_approval"})
	if len(inbox) != 1 || inbox[0].ID != s.ID("pending") {
		t.Errorf("Nîmes' pending approvals: %+v", inbox)
	}
	fr, _ := r.List(ctx, "dep:30", []string{"fr_alert_requested"})
	if len(fr) != 1 || fr[0].ID != s.ID("fr") {
		t.Errorf("the prefecture's FR-Alert requests: %+v", fr)
	}
	ales, _ := r.List(ctx, ales, nil)
	if len(ales) != 2 {
		t.Errorf("Alès' board has %d alerts, want its 2", len(ales))
	}
}

// TestTheBoardIsTheSameHoweverTheLogIsBatched: one event per batch or 512, the same
// model key by key (a rebuild must match the live model).
func TestTheBoardIsTheSameHoweverTheLogIsBatched(t *testing.T) {
	s := crisis(t)
	projectiontest.BatchesAlike(t, s.Store, alertboard.New)
}
