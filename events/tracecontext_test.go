package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"vigie/events"
)

func TestEncodeWritesTheTraceContextItsContextCarries(t *testing.T) {
	r := newRegistry(t)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	md := validMetadata()
	md.TraceParent, md.TraceState = "", ""

	env, err := r.Encode(events.WithTraceContext(context.Background(), parent, "vigie=1"), incidentReported{IncidentID: "i-1"}, md)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	_, got, err := r.Decode(env.Type, env.Data, env.Metadata)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.TraceParent != parent || got.TraceState != "vigie=1" {
		t.Errorf("trace context = %q, %q, want %q, %q", got.TraceParent, got.TraceState, parent, "vigie=1")
	}

	t.Run("none in the context clears the metadata's", func(t *testing.T) {
		env, err := r.Encode(context.Background(), incidentReported{IncidentID: "i-1"}, validMetadata())
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		raw := jsonKeys(t, json.RawMessage(env.Metadata))
		if got := string(raw["traceparent"]); got != `""` {
			t.Errorf("traceparent = %s, want empty", got)
		}
		if _, ok := raw["tracestate"]; ok {
			t.Errorf("tracestate = %s, want absent", raw["tracestate"])
		}
	})
}
