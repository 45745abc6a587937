package alert

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

// Issue 13: what is public and sent is exactly what the mayor approved; every
// channel says what happened to it; exercises never reach people who did not
// agree; nothing invalid is accepted.

func TestARevisionOfASentAlertIsNeverPublishedBeforeApproval(t *testing.T) {
	a := build(append(out(), revised(rac, 30)))
	p, ok := a.Published()
	if !ok || p.Version != 1 || p.Content.Headline != flood().Headline || p.Message.Identifier != "al-1.1" {
		t.Fatalf("published = %+v, %v; want version 1 with the first headline", p, ok)
	}
	if !a.PendingRevision() || a.Version() != 2 || a.Content().Headline != revisedFlood().Headline {
		t.Errorf("the revision is not the pending version: version %d, pending %v", a.Version(), a.PendingRevision())
	}
	// Rejecting the revision leaves the published version as it was.
	a = build(append(out(), revised(rac, 30), submitted(31), AlertRejected{Reason: "Non", By: mayor.Subject, At: at(32)}))
	if p2, _ := a.Published(); !reflect.DeepEqual(p2, p) {
		t.Errorf("after a rejected revision published = %+v, want %+v", p2, p)
	}
	// Its approval publishes version 2 as an Update.
	a = build(append(out(), revised(rac, 30), submitted(31), approved(2, MsgTypeUpdate, 32)))
	if p3, _ := a.Published(); p3.Version != 2 || p3.Content.Headline != revisedFlood().Headline || p3.Message.MsgType != MsgTypeUpdate {
		t.Errorf("after approval published = %+v", p3)
	}
	if a.PendingRevision() {
		t.Error("an approved version is still pending")
	}
}

func TestNothingIsPublishedBeforeTheFirstApproval(t *testing.T) {
	a := build(pending())
	if _, ok := a.Published(); ok {
		t.Error("a draft waiting for the mayor is published")
	}
	if !a.PendingRevision() {
		t.Error("the first draft does not wait for approval")
	}
}

func TestTheApprovalRecordsTheAudienceTheMayorSaw(t *testing.T) {
	want := approved(1, MsgTypeAlert, 5)
	want.Audience = map[string]int{"SMS": 1200}
	thenEvents(t, pending(), func(a *Alert) ([]events.Event, error) {
		return a.Approve(map[string]int{"SMS": 1200}, mayor, at(5))
	}, want)
	thenRefused(t, pending(), func(a *Alert) ([]events.Event, error) {
		return a.Approve(map[string]int{"VOICE": 3}, mayor, at(5))
	}, ErrInvalidInput)
}

func TestDatesOutsideAnyCrisisAreRefused(t *testing.T) {
	now := at(0)
	year0 := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]func(*Content){
		"effective in year 0000":     func(c *Content) { c.Effective = &year0 },
		"expires in year 0000":       func(c *Content) { c.Expires = &year0 },
		"effective before 2000":      func(c *Content) { c.Effective = ptr(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)) },
		"expiry before effective":    func(c *Content) { c.Effective, c.Expires = ptr(now.Add(3*time.Hour)), ptr(now.Add(time.Hour)) },
		"expiry more than a year":    func(c *Content) { c.Expires = ptr(now.Add(400 * 24 * time.Hour)) },
		"effective more than a year": func(c *Content) { c.Effective = ptr(now.Add(367 * 24 * time.Hour)) },
		"expiry already passed":      func(c *Content) { c.Expires = ptr(now.Add(-time.Minute)) },
	} {
		t.Run(name, func(t *testing.T) {
			content := flood()
			content.Effective, content.Expires = nil, nil
			c(&content)
			thenRefused(t, given(), draft(Draft{AlertID: "al-1", Domain: nimes, Content: content, Channels: []Channel{ChannelSMS}}, rac, now), ErrInvalidInput)
			thenRefused(t, out(), revise(Revision{Content: content, Channels: []Channel{ChannelSMS}}, rac, now), ErrInvalidInput)
		})
	}
}

func TestAChannelWithoutAProviderIsRefusedNamingTheOfferedOnes(t *testing.T) {
	offered := []Channel{ChannelEmail, ChannelCAPFeed, ChannelFrAlert}
	err := thenRefused(t, given(), draft(Draft{AlertID: "al-1", Domain: nimes, Content: flood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}, Offered: offered}, rac, at(0)), ErrInvalidInput)
	if msg := err.Error(); !strings.Contains(msg, "SMS") || !strings.Contains(msg, "EMAIL, CAP_FEED, FR_ALERT") {
		t.Errorf("error %q does not name the channel and the offered ones", msg)
	}
	thenRefused(t, out(), revise(Revision{Content: revisedFlood(), Channels: []Channel{ChannelVoice}, Offered: offered}, rac, at(30)), ErrInvalidInput)
}

func TestAnExerciseNeverGoesOnFrAlert(t *testing.T) {
	thenRefused(t, given(), draft(Draft{AlertID: "al-1", Domain: nimes, Content: flood(), Channels: []Channel{ChannelSMS, ChannelFrAlert}, Exercise: true}, rac, at(0)), ErrInvalidInput)
}

func TestOnlyThePrefectureConfirmsAnFrAlertItBroadcast(t *testing.T) {
	validated := append(frRequested(), FrAlertValidated{By: cod.Subject, At: at(6)},
		AlertDispatchStarted{Identifier: "al-1.1", Recipients: map[string]int{"SMS": 3}, Manual: []Channel{ChannelFrAlert}, At: at(6)})
	confirm := func(by events.Actor) command {
		return func(a *Alert) ([]events.Event, error) { return a.ConfirmFrAlertBroadcast(by, at(20)) }
	}
	thenRefused(t, validated, confirm(mayor), ErrFrAlertRole)
	thenRefused(t, frRequested(), confirm(cod), ErrNoFrAlertToConfirm)
	a := thenEvents(t, validated, confirm(cod), FrAlertBroadcastConfirmed{By: cod.Subject, At: at(20)})
	thenRefused(t, append(validated, FrAlertBroadcastConfirmed{By: cod.Subject, At: at(20)}), confirm(cod), ErrNoFrAlertToConfirm)
	fr := a.Progress().Outcomes()[1]
	if fr.Channel != ChannelFrAlert || fr.State != ChannelDelivered || fr.CountsKnown {
		t.Errorf("FR-Alert after confirmation = %+v, want DELIVERED with unknown counts", fr)
	}
	// Sent through an intake, there is nothing to confirm by hand.
	intake := append(frRequested(), FrAlertValidated{By: cod.Subject, At: at(6)}, started(1, 6))
	thenRefused(t, intake, confirm(cod), ErrNoFrAlertToConfirm)
}

func TestFrAlertWithoutIntakeWaitsForThePrefecture(t *testing.T) {
	history := append(frRequested(), AlertDispatchStarted{Identifier: "al-1.1", Recipients: map[string]int{"SMS": 2}, Manual: []Channel{ChannelFrAlert}, At: at(6)},
		DeliveriesRecorded{Identifier: "al-1.1", Channel: ChannelSMS, Sent: 2, Delivered: 2, At: at(7)}, sent(1, 8))
	a := build(history)
	if o := a.Progress().Outcomes(); o[1].State != ChannelPending || !strings.Contains(o[1].Reason, "validation") {
		t.Errorf("before validation FR-Alert = %+v", o[1])
	}
	a.Apply(FrAlertValidated{By: cod.Subject, At: at(9)})
	o := a.Progress().Outcomes()
	if o[1].State != ChannelPending || o[1].Reason != "à diffuser par la préfecture sur FR-Alert" {
		t.Errorf("validated without intake FR-Alert = %+v", o[1])
	}
	wantStatus(t, a, StatusDispatching)
	a.Apply(FrAlertBroadcastConfirmed{By: cod.Subject, At: at(10)})
	wantStatus(t, a, StatusSent)
}

func TestChannelStatesAndTheOverallStatusTellTheTruth(t *testing.T) {
	base := given(drafted(ChannelSMS, ChannelEmail, ChannelCAPFeed), submitted(2), approved(1, MsgTypeAlert, 5),
		AlertDispatchStarted{Identifier: "al-1.1", Recipients: map[string]int{"SMS": 10, "EMAIL": 4, "CAP_FEED": 1}, At: at(6)},
		DeliveriesRecorded{Identifier: "al-1.1", Channel: ChannelCAPFeed, Sent: 1, Delivered: 1, At: at(6)})
	rec := func(c Channel, sent, delivered, failed int) events.Event {
		return DeliveriesRecorded{Identifier: "al-1.1", Channel: c, Sent: sent, Delivered: delivered, Failed: failed, At: at(7)}
	}
	for _, tc := range []struct {
		name   string
		then   []events.Event
		states []ChannelState
		status Status
	}{
		{"still sending", nil, []ChannelState{ChannelSending, ChannelSending, ChannelSending}, StatusDispatching},
		{"all delivered", []events.Event{rec(ChannelSMS, 10, 10, 0), rec(ChannelEmail, 4, 4, 0), sent(1, 8)},
			[]ChannelState{ChannelDelivered, ChannelDelivered, ChannelDelivered}, StatusSent},
		{"some SMS refused", []events.Event{rec(ChannelSMS, 10, 7, 3), rec(ChannelEmail, 4, 4, 0), sent(1, 8)},
			[]ChannelState{ChannelPartial, ChannelDelivered, ChannelDelivered}, StatusPartiallySent},
		{"SMS without provider", []events.Event{failed(1, ChannelSMS, 7), rec(ChannelEmail, 4, 4, 0), sent(1, 8)},
			[]ChannelState{ChannelFailed, ChannelDelivered, ChannelDelivered}, StatusPartiallySent},
		{"nothing delivered", []events.Event{rec(ChannelSMS, 10, 0, 10), failed(1, ChannelEmail, 7), failed(1, ChannelCAPFeed, 7), sent(1, 8)},
			[]ChannelState{ChannelFailed, ChannelFailed, ChannelFailed}, StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := build(append(slicesClone(base), tc.then...))
			o := a.Progress().Outcomes()
			for i, want := range tc.states {
				if o[i].State != want {
					t.Errorf("%s = %s (%q), want %s", o[i].Channel, o[i].State, o[i].Reason, want)
				}
				if (want == ChannelFailed || want == ChannelPartial) && o[i].Reason == "" {
					t.Errorf("%s is %s without a reason", o[i].Channel, want)
				}
			}
			wantStatus(t, a, tc.status)
		})
	}
}

func TestTheCancellationIsDispatchedOnlyForItsOwnMessage(t *testing.T) {
	cancelMsg := message(2, MsgTypeCancel, 60)
	cancelled := append(out(), AlertCancelled{Reason: "Décrue", By: mayor.Subject, Message: &cancelMsg, At: at(60)})
	start := func(id string) command {
		return func(a *Alert) ([]events.Event, error) {
			return a.StartCancellation(id, map[string]int{"SMS": 4}, dispatcher, at(61))
		}
	}
	thenRefused(t, out(), start("al-1.2"), ErrNoCancellation)
	thenRefused(t, cancelled, start("al-1.1"), ErrNoCancellation)
	a := thenEvents(t, cancelled, start("al-1.2"), AlertDispatchStarted{Identifier: "al-1.2", Recipients: map[string]int{"SMS": 4}, At: at(61)})
	thenRefused(t, append(slicesClone(cancelled), AlertDispatchStarted{Identifier: "al-1.2", Recipients: map[string]int{"SMS": 4}, At: at(61)}), start("al-1.2"), ErrAlreadyDispatching)
	a.Apply(DeliveriesRecorded{Identifier: "al-1.2", Channel: ChannelSMS, Sent: 4, Delivered: 4, At: at(62)})
	a.Apply(AlertSent{Identifier: "al-1.2", At: at(62)})
	c := a.Progress().CancellationOutcomes()
	if len(c) != 1 || c[0].State != ChannelDelivered || c[0].Delivered != 4 {
		t.Errorf("cancellation = %+v", c)
	}
	// The cancellation's counts are not the alert's.
	if d := a.Deliveries(); d[ChannelSMS].Sent != 0 {
		t.Errorf("alert deliveries counted the cancellation: %+v", d)
	}
	if !errors.Is(thenRefused(t, given(), start("al-1.2"), ErrNotFound), ErrNotFound) {
		t.Error("unreachable")
	}
}

func ptr(t time.Time) *time.Time { return &t }

func slicesClone(es []events.Event) []events.Event { return append([]events.Event(nil), es...) }
