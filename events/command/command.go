// Package command runs commands against event-sourced aggregates: load the stream,
// decide with pure domain code, append with the expected revision, and on a concurrent
// change reload and decide again, a bounded number of times.
//
// Commands are idempotent by their command id: event ids are derived from it, and a
// command whose events are already in the stream is answered from the stream without
// deciding again — whether the first attempt's acknowledgement was lost or a client
// resent it after a timeout.
package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"vigie/events"
	"vigie/events/store"
)

// Aggregate is the state an aggregate's events evolve.
type Aggregate interface {
	Apply(events.Event)
}

// ErrTooManyConflicts: the stream kept changing under the command; the caller may retry.
var ErrTooManyConflicts = errors.New("command: too many concurrent changes, retry")

// RefusedError is the domain's answer to a command it refuses (a rule, invalid input
// or a missing aggregate): the wrapped error names it. Anything else a handler returns
// is a failure of the machinery (store unavailable, conflicts, encoding).
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Handler runs commands for one kind of aggregate.
type Handler[S Aggregate] struct {
	Store    *store.Client
	Registry *events.Registry
	New      func() S         // a fresh aggregate, before any event
	Now      func() time.Time // the clock; time.Now when nil
	Retries  int              // attempts after a conflict; 8 when zero
	Tracer   trace.Tracer     // otel.Tracer("vigie/command") when nil
	// History, when set, remembers each stream's decoded events and serialises this
	// process's commands on one stream (see History). Nil: every command replays its
	// whole stream and concurrent commands on a stream retry on conflict.
	History *History
}

// Counters of every handler, on the global meter provider: how many commands ran,
// how many appends met a concurrent change and were decided again, how many were
// refused by a rule. A hot aggregate shows as a high conflict rate.
var (
	meter             = otel.Meter("vigie/command")
	commandsCount, _  = meter.Int64Counter("vigie.command.handled", metric.WithDescription("commands handled, by outcome"))
	conflictsCount, _ = meter.Int64Counter("vigie.command.conflicts", metric.WithDescription("appends refused for a concurrent change, then retried or given up"))
)

// Command is one request to an aggregate.
type Command[S Aggregate] struct {
	Name      string // for traces, e.g. "QualifyIncident"
	Stream    string
	CommandID string
	// Cause, when set, makes the events part of the cause's correlation chain.
	Cause *events.Metadata
	// Authorize runs on the loaded state before anything else: it says who acts, in
	// which role, over which domain (often known only from the state), or refuses.
	// It runs before the command id is looked up, so a refused caller learns nothing
	// of what others did.
	Authorize func(state S) (by events.Actor, domain string, err error)
	// Decide returns the events the command produces from the current state, or the
	// domain rule that refuses it. It must not mutate the state.
	Decide func(state S, by events.Actor, now time.Time) ([]events.Event, error)
}

// Result is the aggregate after the command.
type Result[S Aggregate] struct {
	State     S
	Revision  int64 // -1: the stream still does not exist (a command that produced nothing)
	Position  store.Position
	Events    []events.Event
	Duplicate bool // the command had already been applied: nothing was appended
}

// Clock is the handler's time: Now, or the wall clock. What a service records beside
// a command (e.g. a key issued for it) takes its time from here, so a log recorded
// under another clock (the demo's night) stays in one order.
func (h *Handler[S]) Clock() func() time.Time {
	if h.Now != nil {
		return h.Now
	}
	return time.Now
}

// Handle runs one command.
func (h *Handler[S]) Handle(ctx context.Context, cmd Command[S]) (Result[S], error) {
	tracer := h.Tracer
	if tracer == nil {
		tracer = otel.Tracer("vigie/command")
	}
	ctx, span := tracer.Start(ctx, "command "+cmd.Name, trace.WithAttributes(
		attribute.String("vigie.stream.category", events.Category(cmd.Stream)),
	))
	defer span.End()
	res, attempts, err := h.handle(ctx, tracer, cmd)
	span.SetAttributes(attribute.Int("vigie.command.attempts", attempts), attribute.Bool("vigie.command.duplicate", res.Duplicate))
	outcome := "ok"
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		outcome = "refused"
	case err != nil:
		outcome = "failed"
	case res.Duplicate:
		outcome = "duplicate"
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	category := attribute.String("category", events.Category(cmd.Stream))
	commandsCount.Add(ctx, 1, metric.WithAttributes(category, attribute.String("outcome", outcome)))
	if attempts > 1 {
		conflictsCount.Add(ctx, int64(attempts-1), metric.WithAttributes(category))
	}
	return res, err
}

// Load returns the aggregate of a stream as it is now (h.New() for a stream
// that does not exist), for a query about one aggregate.
func (h *Handler[S]) Load(ctx context.Context, stream string) (S, error) {
	res, _, err := h.load(ctx, stream, "", nil)
	return res.State, err
}

func (h *Handler[S]) handle(ctx context.Context, tracer trace.Tracer, cmd Command[S]) (Result[S], int, error) {
	if cmd.CommandID == "" {
		return Result[S]{}, 0, errors.New("command: a command id is required")
	}
	retries := h.Retries
	if retries == 0 {
		retries = 8
	}
	now := h.Clock()
	sh := h.History.acquire(cmd.Stream)
	defer h.History.release(cmd.Stream, sh)
	for attempt := 1; ; attempt++ {
		cur, seen, err := h.load(ctx, cmd.Stream, cmd.CommandID, sh)
		if err != nil {
			return Result[S]{}, attempt, err
		}
		by, domain, err := cmd.Authorize(cur.State)
		if err != nil {
			return Result[S]{}, attempt, err
		}
		// A command id counts as seen only from the same subject: ids are chosen by
		// clients, and one client's id must not answer for another's command.
		if pos, ok := seen[by.Subject]; ok {
			cur.Duplicate, cur.Position = true, pos
			return cur, attempt, nil
		}
		at := now()
		_, dspan := tracer.Start(ctx, "decide")
		produced, err := cmd.Decide(cur.State, by, at)
		dspan.End()
		if err != nil {
			return Result[S]{}, attempt, &RefusedError{Err: err}
		}
		if len(produced) == 0 {
			return cur, attempt, nil
		}
		envs := make([]store.EventData, len(produced))
		for i, e := range produced {
			md := events.NewMetadata(cmd.CommandID, by, domain, at)
			md.EventID = EventID(cmd.Stream, by.Subject, cmd.CommandID, i).String()
			if cmd.Cause != nil {
				md = md.Caused(*cmd.Cause)
			}
			env, err := Encode(ctx, h.Registry, e, md)
			if err != nil {
				return Result[S]{}, attempt, fmt.Errorf("command: encode %s: %w", e.EventType(), err)
			}
			envs[i] = store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
		}
		expected := store.NoStream()
		if cur.Revision >= 0 {
			expected = store.Exact(uint64(cur.Revision))
		}
		ar, err := h.Store.Append(ctx, cmd.Stream, expected, envs...)
		if errors.Is(err, store.ErrConflict) {
			if attempt > retries {
				return Result[S]{}, attempt, fmt.Errorf("%w (%d attempts on %s)", ErrTooManyConflicts, attempt, events.Category(cmd.Stream))
			}
			// A little jitter spreads the retries of many callers on one hot stream.
			time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(time.Millisecond))))
			continue
		}
		if err != nil {
			return Result[S]{}, attempt, err
		}
		for _, e := range produced {
			cur.State.Apply(e)
		}
		sh.appended(cur.Revision, int64(ar.NextRevision), produced, cmd.CommandID, by.Subject, ar.Position)
		return Result[S]{State: cur.State, Revision: int64(ar.NextRevision), Position: ar.Position, Events: produced}, attempt, nil
	}
}

// load replays the stream — from what the history already holds, when there is one —
// noting the position of the last event each subject wrote under this command id. It
// replays to the end, so the state is the aggregate as it is now even when the command
// turns out to be a resend.
func (h *Handler[S]) load(ctx context.Context, stream, commandID string, sh *streamHistory) (Result[S], map[string]store.Position, error) {
	known, from := sh.known()
	fresh := make([]past, 0, 8)
	next := int64(len(known)) // the revision expected next, when known is the whole stream
	if len(known) > 0 {
		next = sh.revision + 1
	}
	err := h.Store.ReadStreamFunc(ctx, stream, from, store.Forwards, store.NoLimit, func(rec store.Recorded) error {
		if int64(rec.Revision) != next && len(known) > 0 {
			return errGap
		}
		next = int64(rec.Revision) + 1
		e, md, err := h.Registry.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			return fmt.Errorf("command: %s@%d: %w", stream, rec.Revision, err)
		}
		fresh = append(fresh, past{event: e, commandID: md.CommandID, actor: md.Actor, position: rec.Position, revision: int64(rec.Revision)})
		return nil
	})
	switch {
	case errors.Is(err, errGap), errors.Is(err, store.ErrStreamNotFound) && len(known) > 0:
		// The stream is not what the history remembers (deleted, or rewritten by
		// another store): forget it and read it whole.
		sh.forget()
		return h.load(ctx, stream, commandID, sh)
	case errors.Is(err, store.ErrStreamNotFound):
		err = nil
	}
	if err != nil {
		return Result[S]{}, nil, err
	}
	res := Result[S]{State: h.New(), Revision: -1}
	var seen map[string]store.Position
	for _, list := range [][]past{known, fresh} {
		for _, p := range list {
			res.State.Apply(p.event)
			res.Revision = p.revision
			if p.commandID == commandID {
				if seen == nil {
					seen = map[string]store.Position{}
				}
				seen[p.actor] = p.position
			}
		}
	}
	sh.remember(known, fresh)
	return res, seen, nil
}

var errGap = errors.New("command: stream differs from its history")

// namespace makes event ids that no other system derives the same way.
var namespace = uuid.MustParse("6f1c3b8e-6d2a-4f53-9a9e-2b7f0d6c4e11")

// EventID is the id of the i-th event a subject's command produces on a stream: the
// same command always yields the same ids, so a retried append is recognised by the
// store. The subject is part of it because command ids are chosen by clients: two
// callers who happen to pick the same id must not be taken for one retrying.
func EventID(stream, subject, commandID string, i int) uuid.UUID {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", stream, subject, commandID, i))
}
