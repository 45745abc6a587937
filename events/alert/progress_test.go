package alert_test

import (
	"testing"

	"vigie/events"
	"vigie/events/alert"
)

// The status after each step of an alert's life, as the aggregate and the boards
// both read it from Progress.
func TestProgressStatusAfterEachEvent(t *testing.T) {
	var p alert.Progress
	for _, step := range []struct {
		e    events.Event
		want alert.Status
	}{
		{alert.AlertDrafted{Channels: []alert.Channel{alert.ChannelSMS}}, alert.StatusDraft},
		{alert.AlertSubmitted{}, alert.StatusPendingApproval},
		{alert.AlertRejected{}, alert.StatusRejected},
		{alert.AlertRevised{Channels: []alert.Channel{alert.ChannelSMS}}, alert.StatusDraft},
		{alert.AlertSubmitted{}, alert.StatusPendingApproval},
		{alert.AlertApproved{Message: alert.Message{Identifier: "m1", MsgType: alert.MsgTypeAlert}}, alert.StatusApproved},
		{alert.AlertDispatchStarted{Identifier: "m1", Recipients: map[string]int{"SMS": 2}}, alert.StatusDispatching},
		{alert.DeliveriesRecorded{Identifier: "m1", Channel: alert.ChannelSMS, Sent: 2, Delivered: 2}, alert.StatusDispatching},
		{alert.AlertSent{Identifier: "m1"}, alert.StatusSent},
		{alert.AlertCancelled{Message: &alert.Message{Identifier: "m2", MsgType: alert.MsgTypeCancel}}, alert.StatusCancelled},
	} {
		p.Apply(step.e)
		if got := p.Status(); got != step.want {
			t.Errorf("after %s: %s, want %s", step.e.EventType(), got, step.want)
		}
	}
}

// Every event type of the list is registered, and the other way round.
func TestEventsListsEveryRegisteredType(t *testing.T) {
	r := events.NewRegistry()
	if err := alert.Register(r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range alert.Events() {
		if seen[e.EventType()] {
			t.Errorf("%s listed twice", e.EventType())
		}
		seen[e.EventType()] = true
		if _, ok := r.Version(e.EventType()); !ok {
			t.Errorf("%s listed, not registered", e.EventType())
		}
	}
	if got := len(r.Types()); got != len(seen) {
		t.Errorf("%d types registered, %d listed", got, len(seen))
	}
}
