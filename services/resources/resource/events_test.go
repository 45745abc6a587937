package resource_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"vigie/events"
	"vigie/services/resources/resource"
)

func TestEventsRoundTripWithCamelCaseKeys(t *testing.T) {
	r := events.NewRegistry()
	if err := resource.Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	tests := []struct {
		event events.Event
		keys  []string
	}{
		{pumpRegistered(), []string{"resourceId", "domain", "kind", "name", "by", "at"}},
		{shelterRegistered(), []string{"resourceId", "domain", "kind", "name", "capacity", "by", "at"}},
		{engaged("inc-7"), []string{"incidentId", "by", "at"}},
		{resource.ResourceReleased{IncidentID: "inc-7", By: rac, At: at}, []string{"incidentId", "by", "at"}},
		{statusChanged(resource.StatusUnavailable), []string{"status", "by", "at"}},
		{occupancy(40, 12), []string{"occupancy", "previous", "by", "at"}},
	}
	for _, tt := range tests {
		t.Run(tt.event.EventType(), func(t *testing.T) {
			env, err := r.Encode(context.Background(), tt.event, events.NewMetadata("cmd-1", rac, nimes, at))
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
		if err := resource.Register(r); !errors.Is(err, events.ErrDuplicateEventType) {
			t.Errorf("Register again = %v, want ErrDuplicateEventType", err)
		}
	})
}
