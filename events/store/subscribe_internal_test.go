package store

import (
	"context"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

func appeared(stream string, rev, pos uint64, typ string) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: uuid.New(), EventType: typ, StreamID: stream, EventNumber: rev,
		Position: esdb.Position{Commit: pos, Prepare: pos},
	}}}
}

func checkpoint(pos uint64) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{CheckPointReached: &esdb.Position{Commit: pos, Prepare: pos}}
}

// A resubscription may be answered with events already received (a server resending
// from an earlier point): the handler must see each event once, in order.
func TestSubscriptionDropsWhatWasAlreadyReceived(t *testing.T) {
	var got []uint64
	var cps []Position
	h := HandlerFuncs{
		OnEvent:      func(_ context.Context, e Recorded) error { got = append(got, e.Position.Commit); return nil },
		OnCheckpoint: func(_ context.Context, p Position) error { cps = append(cps, p); return nil },
	}
	s := &subscription{h: h, cp: h, cu: h}
	msgs := []*esdb.SubscriptionEvent{
		appeared("a-1", 0, 10, "E"),
		appeared("a-1", 1, 20, "E"),
		checkpoint(15), // behind the last event: useless
		checkpoint(25),
		// resubscribed from an earlier point
		appeared("a-1", 0, 10, "E"),
		appeared("a-1", 1, 20, "E"),
		checkpoint(25), // already given
		checkpoint(22), // going back
		appeared("$$a-1", 0, 30, "$metadata"),
		appeared("a-1", 2, 40, "E"),
		appeared("a-1", 2, 40, "E"),
		{CaughtUp: &esdb.Subscription{}},
		appeared("a-1", 3, 50, "E"),
	}
	for _, m := range msgs {
		if err := s.handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint64{10, 20, 40, 50}; !equalSlices(got, want) {
		t.Fatalf("handler saw positions %v, want %v", got, want)
	}
	if len(cps) != 1 || cps[0].Commit != 25 {
		t.Fatalf("handler saw checkpoints %v, want only 25", cps)
	}
	// Resubscriptions start after the last event, not after a checkpoint.
	if s.last.Commit != 50 {
		t.Fatalf("resume point %v, want the last event's position 50", s.last)
	}
}

// A checkpoint must not become the resume point: real servers have sent checkpoints
// at the position of an event not yet sent.
func TestSubscriptionResumesAfterLastEventNotLastCheckpoint(t *testing.T) {
	var got []uint64
	h := HandlerFuncs{OnEvent: func(_ context.Context, e Recorded) error { got = append(got, e.Position.Commit); return nil }}
	s := &subscription{h: h, cp: h, cu: h}
	for _, m := range []*esdb.SubscriptionEvent{appeared("a-1", 0, 10, "E"), checkpoint(30), appeared("a-1", 1, 30, "E")} {
		if err := s.handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint64{10, 30}; !equalSlices(got, want) {
		t.Fatalf("handler saw positions %v, want %v: the event at the checkpoint's position was lost", got, want)
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
