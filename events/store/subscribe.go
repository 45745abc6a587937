package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Filter selects the events of a subscription, on one criterion at a time: stream name
// prefixes, event type prefixes, or a regular expression on the stream name (evaluated
// by the server). The zero Filter selects every event. Events of a $-prefixed type (the
// server's own) are never delivered.
type Filter struct {
	StreamPrefixes    []string
	EventTypePrefixes []string
	StreamRegex       string
}

func (f Filter) esdb() (*esdb.SubscriptionFilter, error) {
	n := 0
	for _, set := range []bool{len(f.StreamPrefixes) > 0, len(f.EventTypePrefixes) > 0, f.StreamRegex != ""} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, errors.New("a filter takes one criterion: stream prefixes, event type prefixes or a stream regex")
	case len(f.StreamPrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: f.StreamPrefixes}, nil
	case len(f.EventTypePrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: f.EventTypePrefixes}, nil
	case f.StreamRegex != "":
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: f.StreamRegex}, nil
	}
	return esdb.ExcludeSystemEventsFilter(), nil
}

// Handler receives a subscription's events, one at a time, in $all order. An error
// ends Subscribe, which returns it. A Handler may also implement CheckpointHandler and
// CaughtUpHandler.
type Handler interface {
	Event(ctx context.Context, e Recorded) error
}

// CheckpointHandler is told how far the server has searched $all past events the
// filter left out, so that a projector can move its checkpoint without waiting for a
// matching event. Positions only increase and come after every event delivered so far.
type CheckpointHandler interface {
	Checkpoint(ctx context.Context, p Position) error
}

// CaughtUpHandler is told when the subscription has delivered everything stored and
// goes live; again after each resubscription.
type CaughtUpHandler interface {
	CaughtUp(ctx context.Context)
}

// HandlerFuncs is a Handler made of functions; OnCheckpoint and OnCaughtUp may be nil.
type HandlerFuncs struct {
	OnEvent      func(ctx context.Context, e Recorded) error
	OnCheckpoint func(ctx context.Context, p Position) error
	OnCaughtUp   func(ctx context.Context)
}

func (h HandlerFuncs) Event(ctx context.Context, e Recorded) error { return h.OnEvent(ctx, e) }

func (h HandlerFuncs) Checkpoint(ctx context.Context, p Position) error {
	if h.OnCheckpoint == nil {
		return nil
	}
	return h.OnCheckpoint(ctx, p)
}

func (h HandlerFuncs) CaughtUp(ctx context.Context) {
	if h.OnCaughtUp != nil {
		h.OnCaughtUp(ctx)
	}
}

// Subscribe delivers the events of $all after from (exclusive; nil: from the start)
// that filter selects: first those stored, then live ones. It blocks until ctx ends
// (returning ctx.Err()) or the handler fails (returning its error).
//
// When the subscription drops or the store cannot be reached, Subscribe resubscribes
// after the last event it received, waiting between attempts (50 ms doubling up to 5 s
// by default, with jitter; see WithResubscribeBackoff). The handler never sees an event
// twice nor out of order: anything at or before the last event received is dropped.
// Errors that no retry can cure (a filter the server refuses, missing rights) end
// Subscribe.
func (c *Client) Subscribe(ctx context.Context, from *Position, filter Filter, h Handler) error {
	sf, err := filter.esdb()
	if err != nil {
		return &Error{Op: opSubscribe, Err: err}
	}
	if hf, ok := h.(HandlerFuncs); h == nil || ok && hf.OnEvent == nil {
		return &Error{Op: opSubscribe, Err: errors.New("no event handler")}
	}
	s := &subscription{c: c, filter: sf, h: h}
	s.cp, _ = h.(CheckpointHandler)
	s.cu, _ = h.(CaughtUpHandler)
	if from != nil {
		s.last, s.hasLast = *from, true
	}
	backoff := c.opts.backoffMin
	for {
		progressed, err := s.once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he handlerError
		if errors.As(err, &he) {
			return he.err
		}
		if permanent(err) {
			return wrap(ctx, opSubscribe, "", err)
		}
		if progressed {
			backoff = c.opts.backoffMin
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, c.opts.backoffMax)
	}
}

type subscription struct {
	c      *Client
	filter *esdb.SubscriptionFilter
	h      Handler
	cp     CheckpointHandler
	cu     CaughtUpHandler

	// last is the position of the last event received (delivered, or skipped as a
	// server event). Resubscriptions start after it, not after the last checkpoint:
	// real servers have sent checkpoints at the position of an event not yet sent
	// (KurrentDB #4035, #4975), and resuming from one would skip that event.
	last    Position
	hasLast bool
	// lastCP is the last checkpoint handed to the handler.
	lastCP    Position
	hasLastCP bool
}

type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

var errDropped = errors.New("subscription dropped")

// once subscribes and delivers until the subscription drops or the handler fails. It
// reports whether the server sent anything, which resets the backoff.
func (s *subscription) once(ctx context.Context) (progressed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: s.filter}
	if s.hasLast {
		opts.From = s.last.esdb()
	}
	var sub *esdb.Subscription
	err = s.c.call(ctx, opSubscribe, func(es *esdb.Client) error {
		var err error
		sub, err = es.SubscribeToAll(ctx, opts)
		return err
	})
	if err != nil {
		return false, err
	}
	defer sub.Close()
	for {
		msg := sub.Recv()
		if msg.SubscriptionDropped != nil {
			err := msg.SubscriptionDropped.Error
			if err == nil {
				err = errDropped
			}
			s.c.health.observe(opSubscribe, err)
			return progressed, err
		}
		progressed = true
		if err := s.handle(ctx, msg); err != nil {
			return progressed, err
		}
	}
}

// handle passes one message of the server on to the handler, dropping what was
// already received.
func (s *subscription) handle(ctx context.Context, msg *esdb.SubscriptionEvent) error {
	switch {
	case msg.EventAppeared != nil:
		rec, err := recordedFrom(msg.EventAppeared)
		if err != nil {
			return err
		}
		if s.hasLast && !s.last.Less(rec.Position) {
			return nil // received before a resubscription
		}
		s.last, s.hasLast = rec.Position, true
		if rec.System() {
			return nil
		}
		if err := s.h.Event(ctx, rec); err != nil {
			return handlerError{err}
		}
	case msg.CheckPointReached != nil:
		p := Position{Commit: msg.CheckPointReached.Commit, Prepare: msg.CheckPointReached.Prepare}
		if s.cp == nil || (s.hasLast && !s.last.Less(p)) || (s.hasLastCP && !s.lastCP.Less(p)) {
			return nil
		}
		s.lastCP, s.hasLastCP = p, true
		if err := s.cp.Checkpoint(ctx, p); err != nil {
			return handlerError{err}
		}
	case msg.CaughtUp != nil:
		if s.cu != nil {
			s.cu.CaughtUp(ctx)
		}
	}
	return nil
}

// permanent reports whether resubscribing cannot cure err.
func permanent(err error) bool {
	if errors.Is(err, ErrClosed) {
		return true
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature:
			return true
		}
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.Unimplemented, codes.PermissionDenied, codes.Unauthenticated:
		return true
	}
	return false
}
