package events

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Metadata is what every event carries beside its data; the JSON keys are the
// public contract (docs/ARCHITECTURE.md, "Events") and must not be renamed.
//
// No personal data ever goes in metadata: residents' data is encrypted per
// resident inside event data so that erasing their key erases them
// (crypto-shredding), while metadata stays readable forever. Actor is therefore
// the pseudonymous subject of the token (e.g. the OIDC "sub"), never a phone
// number or e-mail address; ActorName is the one exception, explained there.
type Metadata struct {
	// EventID is a UUID and also the event id in the store, so that a retried
	// append with the same ids is recognised as the same event.
	EventID string `json:"eventId"`
	// CommandID is the idempotency key of the command that produced the event.
	CommandID string `json:"commandId"`
	// CorrelationID and CausationID use EventStoreDB's own keys so its system
	// projections ($by_correlation_id) follow the causal chain too.
	CorrelationID string `json:"$correlationId"`
	CausationID   string `json:"$causationId"`
	Actor         string `json:"actor"`
	// ActorName is the display name of the staff member who decided, as their
	// token or identity provider gives it; empty when none was given, and in
	// events recorded before names were (readers then show Actor). A crisis log
	// must say who decided, by a name the after-action review can read, and the
	// name is that of an agent acting in their office, given by their own
	// identity provider: never a resident's (residents never get tokens, so no
	// command carries their name here). It is bounded and checked like any shown
	// text when the token is verified (role.ValidName).
	ActorName  string    `json:"actorName,omitempty"`
	Role       string    `json:"role"`
	Domain     string    `json:"domain"`
	OccurredAt time.Time `json:"occurredAt"`
	// Schema is the version of the event type's data; Registry.Encode stamps it.
	Schema int `json:"schema"`
	// TraceParent and TraceState are the W3C trace context of the span that
	// encoded the event; empty when there was none (see WithTraceContext).
	TraceParent string `json:"traceparent"`
	TraceState  string `json:"tracestate,omitempty"`
}

// Each missing-field error wraps ErrInvalidMetadata, so callers can test for
// the family or for one field with errors.Is.
var (
	ErrInvalidMetadata   = errors.New("events: invalid metadata")
	ErrMissingEventID    = fmt.Errorf("%w: missing eventId", ErrInvalidMetadata)
	ErrInvalidEventID    = fmt.Errorf("%w: eventId is not a non-nil UUID", ErrInvalidMetadata)
	ErrMissingCommandID  = fmt.Errorf("%w: missing commandId", ErrInvalidMetadata)
	ErrMissingActor      = fmt.Errorf("%w: missing actor", ErrInvalidMetadata)
	ErrMissingRole       = fmt.Errorf("%w: missing role", ErrInvalidMetadata)
	ErrMissingDomain     = fmt.Errorf("%w: missing domain", ErrInvalidMetadata)
	ErrMissingOccurredAt = fmt.Errorf("%w: missing occurredAt", ErrInvalidMetadata)
)

// NewMetadata starts the metadata of one event decided by a command. The
// command is both the cause and the start of the correlation chain; a reactor
// continuing someone else's chain adds Caused.
func NewMetadata(commandID string, by Actor, domain string, occurredAt time.Time) Metadata {
	return Metadata{
		EventID:       newUUID(),
		CommandID:     commandID,
		CorrelationID: commandID,
		CausationID:   commandID,
		Actor:         by.Subject,
		ActorName:     by.Name,
		Role:          by.Role,
		Domain:        domain,
		OccurredAt:    occurredAt,
	}
}

// Caused returns m as caused by the event whose metadata is by: it joins by's
// correlation chain (starting one at by when by has none) and names by as the
// direct cause, so the after-action timeline can walk from an alert back to
// the reading that triggered it.
func (m Metadata) Caused(by Metadata) Metadata {
	m.CorrelationID = by.CorrelationID
	if m.CorrelationID == "" {
		m.CorrelationID = by.EventID
	}
	m.CausationID = by.EventID
	return m
}

// Validate reports every missing field at once, so a caller fixes them in one go.
func (m Metadata) Validate() error {
	var errs []error
	if m.EventID == "" {
		errs = append(errs, ErrMissingEventID)
	} else if id, ok := parseUUID(m.EventID); !ok || id == [16]byte{} {
		// The store client replaces a nil id with a random one, which would
		// break idempotent retries and the eventId/store-id identity.
		errs = append(errs, ErrInvalidEventID)
	}
	if m.CommandID == "" {
		errs = append(errs, ErrMissingCommandID)
	}
	if m.Actor == "" {
		errs = append(errs, ErrMissingActor)
	}
	if m.Role == "" {
		errs = append(errs, ErrMissingRole)
	}
	if m.Domain == "" {
		errs = append(errs, ErrMissingDomain)
	}
	if m.OccurredAt.IsZero() {
		errs = append(errs, ErrMissingOccurredAt)
	}
	return errors.Join(errs...)
}

// Envelope is an encoded event, ready for the store: ID is also the store's
// event id (the UUID's 16 bytes: a store.EventData takes it as its uuid.UUID), Data
// and Metadata are JSON.
type Envelope struct {
	ID       [16]byte
	Type     string
	Data     []byte
	Metadata []byte
}

// traceKey is the context key of the trace context WithTraceContext gives Encode.
type traceKey struct{}

type traceContext struct{ parent, state string }

// WithTraceContext returns ctx carrying a W3C trace context, the values of the
// traceparent and tracestate headers, for Registry.Encode to write into the metadata
// of the events it encodes under ctx. The core reads no span itself (it depends on no
// telemetry library): command.Encode puts the context of the span in ctx here just
// before encoding, and command.ContextWithRemoteSpan turns an event's back into a span
// context.
// Set it just before encoding: a span started under ctx later would not be the one
// named.
func WithTraceContext(ctx context.Context, traceparent, tracestate string) context.Context {
	return context.WithValue(ctx, traceKey{}, traceContext{parent: traceparent, state: tracestate})
}

// stampTrace sets md's trace context from the one ctx carries, clearing any it
// had: a traceparent copied from another event would lie about causality.
func stampTrace(ctx context.Context, md *Metadata) {
	var tc traceContext
	if ctx != nil { // as otel's propagator did, a nil ctx carries no trace context
		tc, _ = ctx.Value(traceKey{}).(traceContext)
	}
	md.TraceParent, md.TraceState = tc.parent, tc.state
}
