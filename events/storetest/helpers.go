package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/store"
)

// testTimeout bounds each contract test; waits on the server end with a failure, never
// with a pass.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// unique is a name part no other test run uses (a real server keeps everything).
func unique() string {
	return strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
}

// newEvents makes n events of type typ with fresh ids, numbered from `from` in their
// data and metadata.
func newEvents(typ string, from, n int) []store.EventData {
	out := make([]store.EventData, n)
	for i := range out {
		data, _ := json.Marshal(map[string]int{"n": from + i})
		meta, _ := json.Marshal(map[string]string{"test": typ, "seq": fmt.Sprint(from + i)})
		out[i] = store.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: meta}
	}
	return out
}

func ids(evs []store.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func recordedIDs(recs []store.Recorded) []uuid.UUID {
	out := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func revisions(recs []store.Recorded) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Revision
	}
	return out
}

func seq(from, to uint64) []uint64 { // inclusive; descending when from > to
	var out []uint64
	if from <= to {
		for r := from; r <= to; r++ {
			out = append(out, r)
		}
		return out
	}
	for r := from; ; r-- {
		out = append(out, r)
		if r == to {
			return out
		}
	}
}

func equal[T comparable](a, b []T) bool {
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

func mustAppend(t *testing.T, ctx context.Context, c *store.Client, stream string, exp store.Expected, evs ...store.EventData) store.AppendResult {
	t.Helper()
	res, err := c.Append(ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s expecting %v: %v", len(evs), stream, exp, err)
	}
	return res
}

func mustRead(t *testing.T, ctx context.Context, c *store.Client, stream string, from store.StreamFrom, dir store.Direction, max uint64) []store.Recorded {
	t.Helper()
	recs, err := c.ReadStream(ctx, stream, from, dir, max)
	if err != nil {
		t.Fatalf("read %s from %v %v max %d: %v", stream, from, dir, max, err)
	}
	return recs
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one matching %q", what, err, target)
	}
}

// positionsIncrease checks that recs are in strictly increasing (or, backwards,
// decreasing) $all order.
func positionsIncrease(t *testing.T, what string, recs []store.Recorded, backwards bool) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		a, b := recs[i-1].Position, recs[i].Position
		if backwards {
			a, b = b, a
		}
		if !a.Less(b) {
			t.Fatalf("%s: position %v (%s@%d) then %v (%s@%d): not strictly in $all order",
				what, recs[i-1].Position, recs[i-1].StreamID, recs[i-1].Revision, recs[i].Position, recs[i].StreamID, recs[i].Revision)
		}
	}
}

// collector is a subscription handler that keeps what it receives and lets a test wait
// for a condition on it.
type collector struct {
	mu          sync.Mutex
	events      []store.Recorded
	checkpoints []store.Position
	caughtUp    int
	changed     chan struct{}
	failAt      int   // return failErr from the failAt-th event (1-based); 0: never
	failErr     error // what to return
}

func newCollector() *collector { return &collector{changed: make(chan struct{})} }

func (c *collector) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *collector) Event(_ context.Context, e store.Recorded) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
	c.notify()
	if c.failAt > 0 && len(c.events) == c.failAt {
		return c.failErr
	}
	return nil
}

func (c *collector) Checkpoint(_ context.Context, p store.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkpoints = append(c.checkpoints, p)
	c.notify()
	return nil
}

func (c *collector) CaughtUp(context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caughtUp++
	c.notify()
}

// snapshot returns copies of what was received so far.
func (c *collector) snapshot() (events []store.Recorded, checkpoints []store.Position, caughtUp int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]store.Recorded(nil), c.events...), append([]store.Position(nil), c.checkpoints...), c.caughtUp
}

// waitUntil blocks until cond holds on the collector or ctx ends (a test failure).
func (c *collector) waitUntil(t *testing.T, ctx context.Context, what string, cond func(events []store.Recorded, checkpoints []store.Position, caughtUp int) bool) {
	t.Helper()
	for {
		c.mu.Lock()
		ok := cond(c.events, c.checkpoints, c.caughtUp)
		ch := c.changed
		n := len(c.events)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (%d events received)", what, ctx.Err(), n)
		}
	}
}

// hasEvent is a waitUntil condition: an event with this id was received.
func hasEvent(id uuid.UUID) func([]store.Recorded, []store.Position, int) bool {
	return func(evs []store.Recorded, _ []store.Position, _ int) bool {
		for _, e := range evs {
			if e.ID == id {
				return true
			}
		}
		return false
	}
}

// running is a Subscribe call on its own goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// subscribe starts c.Subscribe; the test's cleanup stops it.
func subscribe(t *testing.T, ctx context.Context, c *store.Client, from *store.Position, f store.Filter, h store.Handler) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = c.Subscribe(ctx, from, f, h)
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels the subscription and returns what Subscribe returned.
func (r *running) stop() error {
	r.cancel()
	<-r.done
	return r.err
}

// lastPosition is the $all position of the last event of stream.
func lastPosition(t *testing.T, ctx context.Context, c *store.Client, stream string) store.Position {
	t.Helper()
	recs := mustRead(t, ctx, c, stream, store.End, store.Backwards, 1)
	if len(recs) != 1 {
		t.Fatalf("read the last event of %s: got %d events", stream, len(recs))
	}
	return recs[0].Position
}
