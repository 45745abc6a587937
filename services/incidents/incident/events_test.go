package incident

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
	withSeverity := reported()
	withSeverity.Severity = SeverityModerate
	return []events.Event{
		withSeverity, qualified(), entry("e2", "Correction", "e1"), escalated(),
		stabilized(cod), closed(cod), IncidentReopened{Reason: "Reprise", By: cod.Subject, At: at(500)},
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
	tests := []struct {
		event events.Event
		keys  []string
	}{
		{reported(), []string{"incidentId", "domain", "kind", "title", "description", "location", "reportedBy", "at"}},
		{qualified(), []string{"kind", "severity", "location", "zone", "by", "at"}},
		{entry("e2", "Correction", "e1"), []string{"entryId", "text", "corrects", "author", "at"}},
		{escalated(), []string{"reason", "by", "at"}},
		{stabilized(cod), []string{"by", "at"}},
		{closed(cod), []string{"summary", "by", "at"}},
		{IncidentReopened{Reason: "Reprise", By: cod.Subject, At: at(500)}, []string{"reason", "by", "at"}},
	}
	for _, tt := range tests {
		e, want := tt.event, tt.keys
		t.Run(e.EventType(), func(t *testing.T) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("keys = %v, want %v", got, want)
			}
		})
	}
}
