package store

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const (
	opAppend     = "append"
	opReadStream = "read stream"
	opReadAll    = "read $all"
	opDelete     = "delete"
	opTombstone  = "tombstone"
	opSubscribe  = "subscribe"
)

// Span attributes name the stream's category (the aggregate type), never the stream's
// id, event data or metadata: those can carry residents' personal data.
var (
	attrSystem    = attribute.String("db.system.name", "eventstoredb")
	keyOperation  = attribute.Key("db.operation.name")
	keyCategory   = attribute.Key("eventstore.stream.category")
	keyExpected   = attribute.Key("eventstore.expected_revision")
	keyEvents     = attribute.Key("eventstore.event.count")
	keyDirection  = attribute.Key("eventstore.read.direction")
	keyMax        = attribute.Key("eventstore.read.max")
	keyErrorKind  = attribute.Key("eventstore.error")
	keyNextRev    = attribute.Key("eventstore.next_revision")
	keyAllStream  = attribute.Bool("eventstore.all", true)
	keyEventsRead = attribute.Key("eventstore.read.count")
)

// Category is the part of a stream name before its first '-' (the aggregate type in
// Vigie's `<category>-<id>` names), or the whole name when it has none.
func Category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		return stream[:i]
	}
	return stream
}

func (c *Client) start(ctx context.Context, name, op string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	attrs = append(attrs, attrSystem, keyOperation.String(op))
	return c.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// end records err (if any) on span and ends it.
func end(span trace.Span, err error) {
	if err != nil {
		// The kind only: the error's text names the stream, whose id is an aggregate's.
		span.RecordError(errors.New(errorKindName(err)))
		span.SetStatus(codes.Error, errorKindName(err))
		span.SetAttributes(keyErrorKind.String(errorKindName(err)))
	}
	span.End()
}

func errorKindName(err error) string {
	switch {
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrStreamNotFound):
		return "stream_not_found"
	case errors.Is(err, ErrStreamDeleted):
		return "stream_deleted"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	}
	return "error"
}
