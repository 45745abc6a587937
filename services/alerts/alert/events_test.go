package alert

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	"vigie/events"
)

func everyEvent() []events.Event {
	cancelMsg := message(2, MsgTypeCancel, 60)
	withEffective := drafted()
	withEffective.Content.Effective = atp(0)
	return []events.Event{
		withEffective, revised(rac, 1), submitted(2), approved(1, MsgTypeAlert, 5), rejected(),
		FrAlertRequested{By: mayor.Subject, At: at(5)}, FrAlertValidated{By: cod.Subject, At: at(6)},
		FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(6)},
		FrAlertBroadcastConfirmed{By: cod.Subject, At: at(7)},
		AlertCancelled{Reason: "Décrue", By: mayor.Subject, Message: &cancelMsg, At: at(60)},
		AlertExpired{At: at(400)}, started(1, 6), sent(1, 9), failed(1, ChannelSMS, 7),
		DeliveriesRecorded{AlertID: "al-1", Domain: nimes, Identifier: "al-1.1", Channel: ChannelSMS, Bucket: 3, Sent: 10, Delivered: 9, Failed: 1, At: at(8)},
	}
}

func TestRegisteredEventsRoundTripThroughTheRegistry(t *testing.T) {
	r := events.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	for _, e := range everyEvent() {
		t.Run(e.EventType(), func(t *testing.T) {
			if v, ok := r.Version(e.EventType()); !ok || v != 1 {
				t.Errorf("version = %d, %v, want 1", v, ok)
			}
			env, err := r.Encode(context.Background(), e, events.NewMetadata("cmd-1", rac, nimes, at(0)))
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, _, err := r.Decode(env.Type, env.Data, env.Metadata)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("decoded %#v\n   want %#v", got, e)
			}
		})
	}

	t.Run("registering twice is refused", func(t *testing.T) {
		if err := Register(r); !errors.Is(err, events.ErrDuplicateEventType) {
			t.Errorf("second Register = %v, want ErrDuplicateEventType", err)
		}
	})
}

func TestEventJSONKeysAreCamelCase(t *testing.T) {
	by := []string{"by", "at"}
	tests := map[string][]string{
		"AlertDrafted":              {"alertId", "domain", "incidentId", "content", "channels", "exercise", "by", "at"},
		"AlertRevised":              {"content", "channels", "by", "at"},
		"AlertSubmitted":            by,
		"AlertApproved":             {"by", "version", "message", "at"},
		"AlertRejected":             {"reason", "by", "at"},
		"FrAlertRequested":          by,
		"FrAlertValidated":          by,
		"FrAlertRefused":            {"reason", "by", "at"},
		"FrAlertBroadcastConfirmed": by,
		"AlertCancelled":            {"reason", "by", "message", "at"},
		"AlertExpired":              {"at"},
		"AlertDispatchStarted":      {"identifier", "recipients", "at"},
		"AlertSent":                 {"identifier", "at"},
		"AlertDispatchFailed":       {"identifier", "channel", "reason", "at"},
		"DeliveriesRecorded":        {"alertId", "domain", "identifier", "channel", "bucket", "sent", "delivered", "failed", "at"},
	}
	for _, e := range everyEvent() {
		t.Run(e.EventType(), func(t *testing.T) {
			if got, want := keys(t, e), tests[e.EventType()]; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("keys = %v, want %v", got, want)
			}
		})
	}
	t.Run("content", func(t *testing.T) {
		c := flood()
		c.Effective = atp(0)
		want := []string{"event", "headline", "description", "instruction", "severity", "urgency", "certainty", "category", "areaDesc", "polygon", "language", "effective", "expires"}
		if got := keys(t, c); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("keys = %v, want %v", got, want)
		}
	})
}

func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(raw))
}
