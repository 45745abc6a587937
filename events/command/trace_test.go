package command_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"vigie/events"
	"vigie/events/command"
)

// These tests moved from package events with the trace propagation (issue 16): the
// core no longer reads spans, command.Encode gives it the span's trace context.

type incidentReported struct {
	IncidentID string `json:"incidentId"`
}

func (incidentReported) EventType() string { return "IncidentReported" }

func newRegistry(t testing.TB) *events.Registry {
	t.Helper()
	r := events.NewRegistry()
	if err := events.Register[incidentReported](r, 1); err != nil {
		t.Fatalf("register IncidentReported: %v", err)
	}
	return r
}

func validMetadata() events.Metadata {
	return events.Metadata{
		EventID:       "6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f11",
		CommandID:     "cmd-1",
		CorrelationID: "cmd-1",
		CausationID:   "cmd-1",
		Actor:         "sub-7c2e",
		Role:          "rac",
		Domain:        "dep:30/com:30189",
		OccurredAt:    time.Date(2026, 9, 14, 4, 12, 0, 0, time.FixedZone("CEST", 2*60*60)),
		Schema:        2,
		TraceParent:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		TraceState:    "vigie=1",
	}
}

func rawJSON(b []byte) json.RawMessage { return b }

func jsonKeys(t testing.TB, v any) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return raw
}

func TestEncodeCarriesTheTraceContextOfTheActiveSpan(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	r := newRegistry(t)
	md := validMetadata()
	md.TraceParent, md.TraceState = "", ""

	// Given a command handler's span,
	ctx, span := tp.Tracer("incidents").Start(context.Background(), "ReportIncident")
	defer span.End()
	sc := span.SpanContext()

	// when it encodes an event,
	env, err := command.Encode(ctx, r, incidentReported{IncidentID: "i-1"}, md)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	// then the metadata carries that span as W3C traceparent.
	_, got, err := r.Decode(env.Type, env.Data, env.Metadata)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
	if got.TraceParent != want {
		t.Errorf("traceparent = %q, want %q", got.TraceParent, want)
	}
}

func TestEncodeCarriesTheTraceState(t *testing.T) {
	r := newRegistry(t)
	ts, err := trace.ParseTraceState("vigie=replay,congo=t61rcWkgMzE")
	if err != nil {
		t.Fatal(err)
	}
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa},
		TraceFlags: trace.FlagsSampled,
		TraceState: ts,
		Remote:     true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)

	env, err := command.Encode(ctx, r, incidentReported{IncidentID: "i-1"}, validMetadata())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	if got := string(jsonKeys(t, json.RawMessage(env.Metadata))["tracestate"]); got != `"vigie=replay,congo=t61rcWkgMzE"` {
		t.Errorf("tracestate = %s", got)
	}
}

func TestEncodeWithoutASpanLeavesNoTraceContext(t *testing.T) {
	noopCtx, noopSpan := noop.NewTracerProvider().Tracer("x").Start(context.Background(), "x")
	defer noopSpan.End()
	contexts := map[string]context.Context{
		"no span at all":            context.Background(),
		"a span from a noop tracer": noopCtx,
	}
	for name, ctx := range contexts {
		t.Run(name, func(t *testing.T) {
			r := newRegistry(t)
			// The metadata was copied from another event and carries its
			// trace context: it must not leak into this one.
			md := validMetadata()

			env, err := command.Encode(ctx, r, incidentReported{IncidentID: "i-1"}, md)
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
}

func TestContextWithRemoteSpanLetsAProjectionLinkToTheCommand(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	r := newRegistry(t)

	// Given an event encoded under a command's span,
	cmdCtx, cmdSpan := tp.Tracer("incidents").Start(context.Background(), "ReportIncident")
	env, err := command.Encode(cmdCtx, r, incidentReported{IncidentID: "i-1"}, validMetadata())
	cmdSpan.End()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	_, md, err := r.Decode(env.Type, env.Data, env.Metadata)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}

	// when the projection starts its span linked to the event's,
	remote := command.ContextWithRemoteSpan(context.Background(), md)
	_, applySpan := tp.Tracer("projections").Start(context.Background(), "apply", trace.WithLinks(trace.LinkFromContext(remote)))
	applySpan.End()

	// then the after-action trace leads from the projection back to the command.
	ended := recorder.Ended()
	apply := ended[len(ended)-1]
	if len(apply.Links()) != 1 {
		t.Fatalf("apply span has %d links, want 1", len(apply.Links()))
	}
	link := apply.Links()[0].SpanContext
	if link.TraceID() != cmdSpan.SpanContext().TraceID() || link.SpanID() != cmdSpan.SpanContext().SpanID() {
		t.Errorf("link = %s/%s, want the command span %s/%s", link.TraceID(), link.SpanID(), cmdSpan.SpanContext().TraceID(), cmdSpan.SpanContext().SpanID())
	}
	if !link.IsRemote() {
		t.Error("link is not marked remote")
	}
}

func TestContextWithRemoteSpanWithoutTraceContextAddsNothing(t *testing.T) {
	md := validMetadata()
	md.TraceParent, md.TraceState = "", ""

	ctx := command.ContextWithRemoteSpan(context.Background(), md)

	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		t.Errorf("span context = %v, want none", sc)
	}
}
