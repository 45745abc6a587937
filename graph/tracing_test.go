package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"vigie/graph/gatewaytest"
)

// testTracerProvider is the one SDK tracer provider of the test binary. OpenTelemetry
// points the tracers taken before any provider was installed (package-level ones, such
// as the projector's) at the first provider installed, once and for all: a provider per
// test would leave those tracers on the first test's. Each test records through a span
// processor of its own instead.
var testTracerProvider = sync.OnceValue(func() *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
})

// recordSpans installs the test tracer provider and the W3C trace-context propagator
// as the global ones (as `vigie serve` does when it exports traces) and returns what
// records the spans ended from now on. Everything is restored at the end of the test,
// which must not run in parallel with others: the globals are the process's.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	prevProvider, prevPropagator := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	tp := testTracerProvider()
	rec := tracetest.NewSpanRecorder()
	tp.RegisterSpanProcessor(rec)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		tp.UnregisterSpanProcessor(rec)
		otel.SetTracerProvider(prevProvider)
		otel.SetTextMapPropagator(prevPropagator)
	})
	return rec
}

// A GraphQL operation is one trace: the gateway's span, its gRPC call (client and
// server side), the command and its append all descend from it, and the projection
// that applies the event links to it through the traceparent in the event's metadata.
// Spans name the operation, never its data.
func TestOneTraceFromTheOperationToTheProjection(t *testing.T) {
	rec := recordSpans(t) // before Start: otelgrpc and the store take the provider when built
	env := gatewaytest.Start(t)

	title := uniq("Crue du Vistre au pont de la Servie")
	description := uniq("Eau sur la chaussée, rue des Tilleuls")
	commandID := uniq("trace-command")
	lat, lon := 43.8367123, 4.3600987
	vars := map[string]any{"input": map[string]any{
		"domain": nimes, "kind": "FLOOD", "title": title, "description": description,
		"severity": "SEVERE", "location": map[string]any{"lat": lat, "lon": lon},
	}, "cmd": commandID}
	mayor := env.Token("trace-mayor", "mayor", nimes)
	r := must(t, env.Do(t, mayor,
		`mutation ReportForTrace($input: ReportIncidentInput!, $cmd: ID){ reportIncident(input: $input, commandId: $cmd){ id } }`, vars))
	incidentID := str(t, field(t, r, "reportIncident"), "id")

	// Operations refused with errors that quote their input (an enum value gqlgen does
	// not know, in variables and in the document): their spans say why by code only.
	badKind := strings.ReplaceAll(uniq("CRUE_SECRETE_VARIABLE"), "-", "_")
	badLiteral := strings.ReplaceAll(uniq("CRUE_SECRETE_LITERALE"), "-", "_")
	if r := env.Do(t, mayor, `mutation RefusedForTrace($input: ReportIncidentInput!){ reportIncident(input: $input){ id } }`,
		map[string]any{"input": map[string]any{"domain": nimes, "kind": badKind, "title": title}}); r.Code() != "INVALID_INPUT" || !strings.Contains(r.Message(), badKind) {
		t.Fatalf("an unknown kind in variables: want INVALID_INPUT naming it, got %s", r)
	}
	if r := env.Do(t, mayor, `mutation { reportIncident(input:{domain:"`+nimes+`", kind:`+badLiteral+`, title:"`+title+`"}){ id } }`, nil); r.Code() != "INVALID_INPUT" || !strings.Contains(r.Message(), badLiteral) {
		t.Fatalf("an unknown kind in the document: want INVALID_INPUT naming it, got %s", r)
	}

	// The projector applies the event after the answer at the latest (its span ends
	// after its transaction): wait for the incident board's span linked to the
	// operation's trace.
	var (
		root   sdktrace.ReadOnlySpan
		spans  []sdktrace.ReadOnlySpan
		linked map[string][]trace.SpanContext // projection span → its links into root's trace
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans = rec.Ended()
		root = nil
		for _, s := range spans {
			if s.Name() == "graphql mutation ReportForTrace" {
				root = s
			}
		}
		linked = map[string][]trace.SpanContext{}
		for _, s := range spans {
			if root == nil || !strings.HasPrefix(s.Name(), "project ") {
				continue
			}
			for _, l := range s.Links() {
				if l.SpanContext.TraceID() == root.SpanContext().TraceID() {
					linked[s.Name()] = append(linked[s.Name()], l.SpanContext)
				}
			}
		}
		if len(linked["project incidents"]) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if root == nil {
		t.Fatalf("no span graphql mutation ReportForTrace among %v", names(spans))
	}
	if root.SpanKind() != trace.SpanKindServer || root.Parent().IsValid() {
		t.Errorf("the operation's span: kind %v, parent %v; want a server span at the root of its trace", root.SpanKind(), root.Parent())
	}
	if len(linked["project incidents"]) == 0 {
		t.Errorf("no project incidents span links to the operation's trace %s; spans: %v", root.SpanContext().TraceID(), names(spans))
	}

	// Every span of the operation's chain descends from the GraphQL span.
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	descends := func(s sdktrace.ReadOnlySpan) bool {
		for range len(spans) + 1 {
			if s.SpanContext().SpanID() == root.SpanContext().SpanID() {
				return true
			}
			p, ok := byID[s.Parent().SpanID()]
			if !ok || !s.Parent().IsValid() {
				return false
			}
			s = p
		}
		return false
	}
	// The events were encoded within the command: each link is to its span.
	for name, links := range linked {
		for _, l := range links {
			if s, ok := byID[l.SpanID()]; !ok || s.Name() != "command ReportIncident" || !descends(s) {
				t.Errorf("span %s links to span %s of the operation's trace (%v), want the command's", name, l.SpanID(), ok)
			}
		}
	}
	type want struct {
		what string
		is   func(sdktrace.ReadOnlySpan) bool
	}
	for _, w := range []want{
		{"the gRPC client span of Incidents/Report", func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindClient && strings.HasSuffix(s.Name(), "Incidents/Report")
		}},
		{"the gRPC server span of Incidents/Report", func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindServer && strings.HasSuffix(s.Name(), "Incidents/Report")
		}},
		{"command ReportIncident", func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "command ReportIncident" }},
		{"decide", func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "decide" }},
		{"eventstore.append", func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "eventstore.append" }},
	} {
		var found []sdktrace.ReadOnlySpan
		for _, s := range spans {
			if w.is(s) && s.SpanContext().TraceID() == root.SpanContext().TraceID() {
				found = append(found, s)
			}
		}
		if len(found) == 0 {
			t.Errorf("no span %s in the operation's trace; spans: %v", w.what, names(spans))
			continue
		}
		for _, s := range found {
			if !descends(s) {
				t.Errorf("span %s (%s) does not descend from the operation's span", w.what, s.Name())
			}
		}
	}
	// The chain is in order: GraphQL → gRPC client → gRPC server → command → append.
	for _, pair := range [][2]string{{"command ReportIncident", "eventstore.append"}, {"command ReportIncident", "decide"}} {
		for _, s := range spans {
			if s.Name() != pair[1] || s.SpanContext().TraceID() != root.SpanContext().TraceID() {
				continue
			}
			if p, ok := byID[s.Parent().SpanID()]; !ok || p.Name() != pair[0] {
				t.Errorf("span %s's parent: want %s, got %v", pair[1], pair[0], parentName(byID, s))
			}
		}
	}
	for _, s := range spans {
		if s.Name() == "command ReportIncident" && s.SpanContext().TraceID() == root.SpanContext().TraceID() {
			if p, ok := byID[s.Parent().SpanID()]; !ok || p.SpanKind() != trace.SpanKindServer || !strings.HasSuffix(p.Name(), "Incidents/Report") {
				t.Errorf("command ReportIncident's parent: want the gRPC server span, got %v", parentName(byID, s))
			}
		}
		if s.SpanKind() == trace.SpanKindServer && strings.HasSuffix(s.Name(), "Incidents/Report") {
			if p, ok := byID[s.Parent().SpanID()]; !ok || p.SpanKind() != trace.SpanKindClient {
				t.Errorf("the gRPC server span's parent: want the gRPC client span, got %v", parentName(byID, s))
			}
		}
	}

	// No data in traces: none of the input's values shows in any span's name,
	// attributes, events or status; nor does the incident's id in a name or an
	// attribute (spans name a stream's category, never the stream). The events of a
	// recorded error are not held to the second rule: the store's errors name their
	// stream, and a command's first read of a new stream is one (stream not found).
	inputs := []string{title, description, commandID, nimes, fmt.Sprint(lat), fmt.Sprint(lon), badKind, badLiteral}
	refused := 0
	for _, s := range spans {
		if strings.HasPrefix(s.Name(), "graphql ") && s.Status().Code == codes.Error {
			refused++
			if d := s.Status().Description; !strings.HasPrefix(d, "INVALID_INPUT") {
				t.Errorf("span %s of a refused operation: status %q, want its code", s.Name(), d)
			}
		}
	}
	if refused != 2 {
		t.Errorf("%d graphql spans with an error status, want the 2 refused operations'", refused)
	}
	ids := []string{incidentID, strings.TrimPrefix(incidentID, "incident-")}
	for _, s := range spans {
		texts := []string{s.Name()}
		for _, a := range s.Attributes() {
			texts = append(texts, string(a.Key)+"="+a.Value.Emit())
		}
		for _, text := range texts {
			for _, secret := range slices.Concat(inputs, ids) {
				if secret != "" && strings.Contains(text, secret) {
					t.Errorf("span %s carries %q: %s", s.Name(), secret, text)
				}
			}
		}
		texts = []string{s.Status().Description}
		for _, e := range s.Events() {
			texts = append(texts, e.Name)
			for _, a := range e.Attributes {
				texts = append(texts, string(a.Key)+"="+a.Value.Emit())
			}
		}
		for _, text := range texts {
			for _, secret := range inputs {
				if strings.Contains(text, secret) {
					t.Errorf("span %s carries %q in its status or events: %s", s.Name(), secret, text)
				}
			}
		}
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

func parentName(byID map[trace.SpanID]sdktrace.ReadOnlySpan, s sdktrace.ReadOnlySpan) string {
	if !s.Parent().IsValid() {
		return "none (a root span)"
	}
	if p, ok := byID[s.Parent().SpanID()]; ok {
		return p.Name()
	}
	return "a span not recorded (" + s.Parent().SpanID().String() + ")"
}
