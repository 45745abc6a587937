package reinforcement_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"vigie/events"
	"vigie/services/resources/reinforcement"
)

func TestEventsRoundTripWithCamelCaseKeys(t *testing.T) {
	r := events.NewRegistry()
	if err := reinforcement.Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	tests := []struct {
		event events.Event
		keys  []string
	}{
		{requested(), []string{"requestId", "domain", "incidentId", "kind", "quantity", "reason", "by", "at"}},
		{accepted(4), []string{"quantity", "note", "by", "at"}},
		{refused(), []string{"reason", "by", "at"}},
		{dispatched(), []string{"by", "at"}},
		{arrived(), []string{"by", "at"}},
		{released(rac), []string{"by", "at"}},
	}
	for _, tt := range tests {
		t.Run(tt.event.EventType(), func(t *testing.T) {
			env, err := r.Encode(context.Background(), tt.event, events.NewMetadata("cmd-1", rac, sommieres, at))
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}

			got, md, err := r.Decode(env.Type, env.Data, env.Metadata)

			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tt.event {
				t.Errorf("decoded %#v, want %#v", got, tt.event)
			}
			if md.Schema != 1 {
				t.Errorf("schema = %d, want 1", md.Schema)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(env.Data, &raw); err != nil {
				t.Fatal(err)
			}
			if keys, want := slices.Sorted(maps.Keys(raw)), slices.Sorted(slices.Values(tt.keys)); !slices.Equal(keys, want) {
				t.Errorf("keys = %v, want %v", keys, want)
			}
		})
	}

	t.Run("registering twice is refused", func(t *testing.T) {
		if err := reinforcement.Register(r); !errors.Is(err, events.ErrDuplicateEventType) {
			t.Errorf("Register again = %v, want ErrDuplicateEventType", err)
		}
	})
}

func TestStreamCategory(t *testing.T) {
	stream := events.StreamID(reinforcement.Category, "rf-1")
	if stream != "reinforcement-rf-1" || events.Category(stream) != reinforcement.Category {
		t.Errorf("stream = %q", stream)
	}
	if err := events.ValidateStreamID(stream); err != nil {
		t.Errorf("ValidateStreamID(%q) = %v", stream, err)
	}
}
