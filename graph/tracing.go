package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracing opens the span every trace of a request starts from: the GraphQL operation.
// The gRPC calls, the command, the append (and, through the event's metadata, the
// projection that applies it) all descend from it. Only the operation's name and type
// are recorded: variables may carry personal data.
type tracing struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = tracing{}

func (tracing) ExtensionName() string                   { return "Tracing" }
func (tracing) Validate(graphql.ExecutableSchema) error { return nil }

func (tracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	// A request refused before it became an operation (a body that is not JSON, or
	// too large to read) has no operation context: GetOperationContext would panic.
	name, kind := "", "query"
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name = oc.OperationName
		if oc.Operation != nil {
			kind = string(oc.Operation.Operation)
			if name == "" {
				name = oc.Operation.Name
			}
		}
	}
	ctx, span := otel.Tracer("vigie/graph").Start(ctx, strings.TrimSpace("graphql "+kind+" "+name), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("graphql.operation.type", kind), attribute.String("graphql.operation.name", name)))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, statusOf(resp.Errors[0]))
	}
	return resp
}

// statusOf describes a failed operation by its error's code, never its message:
// messages may quote the operation's input (gqlgen's "X is not a valid IncidentKind"
// repeats a variable's value).
func statusOf(e *gqlerror.Error) string {
	code, _ := e.Extensions["code"].(string)
	if code == "" {
		code = "error"
	}
	if reason, _ := e.Extensions["reason"].(string); reason != "" {
		code += " (" + reason + ")"
	}
	return code
}
