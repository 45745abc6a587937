package command

import (
	"context"

	"go.opentelemetry.io/otel/propagation"

	"vigie/events"
)

// The trace context of an event is written where spans are made: the core (package
// events) depends on no telemetry library and only copies what WithTraceContext gives it.
//
// The W3C propagator is built explicitly rather than taken from the global
// one: what goes into the log must not depend on how a process configured
// otel, and the log's format is W3C trace context whatever the exporters are.
var traceContext = propagation.TraceContext{}

// Encode is r.Encode with the trace context of the span in ctx written into the
// event's metadata (traceparent, tracestate), so that the after-action trace leads from
// a projection back to the command. Without a valid span in ctx the metadata carries
// none, even when md was copied from an event that had one.
func Encode(ctx context.Context, r *events.Registry, e events.Event, md events.Metadata) (events.Envelope, error) {
	carrier := propagation.MapCarrier{}
	traceContext.Inject(ctx, carrier) // injects nothing unless ctx holds a valid span
	return r.Encode(events.WithTraceContext(ctx, carrier["traceparent"], carrier["tracestate"]), e, md)
}

// ContextWithRemoteSpan returns ctx carrying the span that encoded the event
// as a remote span context, so a projection or reactor can start its own span
// as a child of, or linked to (trace.LinkFromContext), the command that caused
// the event. Without a valid traceparent ctx comes back unchanged.
func ContextWithRemoteSpan(ctx context.Context, md events.Metadata) context.Context {
	carrier := propagation.MapCarrier{"traceparent": md.TraceParent}
	if md.TraceState != "" {
		carrier["tracestate"] = md.TraceState
	}
	return traceContext.Extract(ctx, carrier)
}
