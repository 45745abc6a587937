package alert_test

import (
	"reflect"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/alert"
)

func content(headline string) alert.Content {
	expires := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return alert.Content{Headline: headline, Polygon: []alert.Point{{Lat: 43.8, Lon: 4.3}, {Lat: 43.9, Lon: 4.4}, {Lat: 43.8, Lon: 4.5}}, Expires: &expires}
}

// After says what every event type of the contract does to the versions: a new
// event type fails here until the transition names it, and the table below says
// what it does.
func TestVersionsAfterEveryEventOfTheContract(t *testing.T) {
	v1 := alert.Revision{Number: 1, Content: content("v1"), Channels: []alert.Channel{alert.ChannelSMS}}
	v2 := alert.Revision{Number: 2, Content: content("v2"), Channels: []alert.Channel{alert.ChannelEmail}}
	// Version 1 published, version 2 pending.
	before := alert.Versions{Latest: v2, Published: v1}
	moves := map[string]alert.Versions{
		"AlertDrafted":   {Latest: alert.Revision{Number: 1, Content: content("new"), Channels: []alert.Channel{alert.ChannelVoice}}, Published: v1},
		"AlertRevised":   {Latest: alert.Revision{Number: 3, Content: content("new"), Channels: []alert.Channel{alert.ChannelVoice}}, Published: v1},
		"AlertApproved":  {Latest: v2, Published: v2},
		"AlertSubmitted": before, "AlertRejected": before,
		"FrAlertRequested": before, "FrAlertValidated": before, "FrAlertRefused": before, "FrAlertBroadcastConfirmed": before,
		"AlertCancelled": before, "AlertExpired": before,
		"AlertDispatchStarted": before, "AlertSent": before, "AlertDispatchFailed": before, "DeliveriesRecorded": before,
	}
	written := map[string]events.Event{
		"AlertDrafted": alert.AlertDrafted{Content: content("new"), Channels: []alert.Channel{alert.ChannelVoice}},
		"AlertRevised": alert.AlertRevised{Content: content("new"), Channels: []alert.Channel{alert.ChannelVoice}},
	}
	for _, e := range alert.Events() {
		want, said := moves[e.EventType()]
		if !said {
			t.Errorf("%s: this test does not say what it does to the versions", e.EventType())
			continue
		}
		if w, ok := written[e.EventType()]; ok {
			e = w
		}
		got, known := before.After(e)
		if !known {
			t.Errorf("%s: After does not say what it does to the versions", e.EventType())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: versions %+v, want %+v", e.EventType(), got, want)
		}
	}
	if got, known := before.After(unknownEvent{}); known || !reflect.DeepEqual(got, before) {
		t.Errorf("an event of another contract: %+v, known %v", got, known)
	}
}

type unknownEvent struct{}

func (unknownEvent) EventType() string { return "SomethingElse" }

// An unapproved revision is never public: the published version stays the content
// approved, until the revision is approved in turn. A cancellation withdraws the
// alert; what was published stays what the cancellation references, and a revision
// written before it stays pending.
func TestOnlyAnApprovalPublishes(t *testing.T) {
	var v alert.Versions
	if _, ok := v.Pending(); ok {
		t.Error("pending before the draft")
	}
	for _, step := range []struct {
		e         events.Event
		published int    // 0: nothing published
		headline  string // of the published version
		pending   int    // 0: nothing pending
	}{
		{alert.AlertDrafted{Content: content("v1"), Channels: []alert.Channel{alert.ChannelSMS}}, 0, "", 1},
		{alert.AlertSubmitted{}, 0, "", 1},
		{alert.AlertApproved{Version: 1, Message: alert.Message{Identifier: "m1"}}, 1, "v1", 0},
		{alert.AlertRevised{Content: content("v2"), Channels: []alert.Channel{alert.ChannelSMS, alert.ChannelEmail}}, 1, "v1", 2},
		{alert.AlertSubmitted{}, 1, "v1", 2},
		{alert.AlertRejected{}, 1, "v1", 2},
		{alert.AlertApproved{Version: 2, Message: alert.Message{Identifier: "m2"}}, 2, "v2", 0},
		{alert.AlertRevised{Content: content("v3"), Channels: []alert.Channel{alert.ChannelSMS}}, 2, "v2", 3},
		{alert.AlertCancelled{Message: &alert.Message{Identifier: "m3", MsgType: alert.MsgTypeCancel}}, 2, "v2", 3},
		{alert.AlertExpired{}, 2, "v2", 3},
	} {
		var known bool
		if v, known = v.After(step.e); !known {
			t.Fatalf("%s unknown", step.e.EventType())
		}
		p := v.Published
		if p.Number != step.published || v.IsPublished() != (step.published > 0) || p.Content.Headline != step.headline {
			t.Errorf("after %s: published %d %q, want %d %q", step.e.EventType(), p.Number, p.Content.Headline, step.published, step.headline)
		}
		if r, ok := v.Pending(); ok != (step.pending > 0) || r.Number != step.pending {
			t.Errorf("after %s: pending %d (%v), want %d", step.e.EventType(), r.Number, ok, step.pending)
		}
	}
	// The published channels are the approved version's, not the revision's.
	if len(v.Published.Channels) != 2 || v.Latest.Content.Headline != "v3" {
		t.Errorf("published channels %v, latest %q", v.Published.Channels, v.Latest.Content.Headline)
	}
}

// The versions never share memory with the events they come from, nor with each
// other: a caller reusing an event, or changing what it was given, changes nothing.
func TestVersionsShareNothing(t *testing.T) {
	drafted := alert.AlertDrafted{Content: content("v1"), Channels: []alert.Channel{alert.ChannelSMS}}
	v, _ := alert.Versions{}.After(drafted)
	v, _ = v.After(alert.AlertApproved{})
	drafted.Content.Polygon[0].Lat, drafted.Channels[0] = 0, alert.ChannelVoice
	*drafted.Content.Expires = time.Time{}
	if v.Latest.Content.Polygon[0].Lat == 0 || v.Latest.Channels[0] != alert.ChannelSMS || v.Latest.Content.Expires.IsZero() {
		t.Error("the latest version aliases the event")
	}
	v.Latest.Content.Polygon[0].Lat, v.Latest.Channels[0] = 1, alert.ChannelPush
	*v.Latest.Content.Expires = time.Time{}
	if v.Published.Content.Polygon[0].Lat == 1 || v.Published.Channels[0] != alert.ChannelSMS || v.Published.Content.Expires.IsZero() {
		t.Error("the published version aliases the latest")
	}
	p, _ := alert.Versions{Latest: v.Published}.Pending()
	p.Content.Polygon[0].Lat = 2
	if v.Published.Content.Polygon[0].Lat == 2 {
		t.Error("Pending returns the version itself, not a copy")
	}
	c := alert.CloneContent(v.Published.Content)
	*c.Expires = time.Time{}
	if v.Published.Content.Expires.IsZero() {
		t.Error("CloneContent shares the expiry")
	}
}
