package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/store"
)

// Run runs the contract. connect returns a client of the backend under test and
// arranges its closing (t.Cleanup); it is called once per test, and the tests run in
// parallel.
func Run(t *testing.T, connect func(t *testing.T) *store.Client) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c *store.Client)
	}{
		{"AppendNoStreamAcceptedOnNewStreamRefusedOnExisting", testAppendNoStream},
		{"AppendStreamExistsRefusedOnMissingAcceptedOnExisting", testAppendStreamExists},
		{"AppendExactAcceptedOnlyAtCurrentRevision", testAppendExact},
		{"AppendAnyAlwaysAccepted", testAppendAny},
		{"RetryWithSameEventIDsIsNotWrittenTwice", testIdempotentRetry},
		{"ReadStreamForwardsAndBackwards", testReadStream},
		{"ReadStreamFuncStreamsLongStreamsAndStopsOnHandlerError", testReadStreamFunc},
		{"ReadMissingStreamIsNotFound", testMissingStream},
		{"ReadAllInCommitOrder", testReadAll},
		{"SubscribeSeesEveryEventOnceInOrderWithConcurrentWriters", testSubscribeConcurrentWriters},
		{"SubscribeFromStartCatchesUpThenGoesLive", testSubscribeFromStart},
		{"SubscribeFiltersOnEventTypePrefix", testSubscribeEventTypeFilter},
		{"SubscribeFiltersOnStreamRegex", testSubscribeStreamRegex},
		{"SubscribeCheckpointsPastFilteredOutEvents", testSubscribeCheckpoints},
		{"SubscribeNeverDeliversServerEventTypes", testSubscribeSkipsServerEvents},
		{"SubscribeEndsWithHandlerError", testSubscribeHandlerError},
		{"SubscribeEndsWithContext", testSubscribeContext},
		{"SubscribeRefusesFilterWithTwoCriteria", testSubscribeFilterValidation},
		{"SoftDeletedStreamIsNotFoundThenContinues", testSoftDelete},
		{"TombstonedStreamIsDeletedForGood", testTombstone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, connect(t))
		})
	}
}

func testAppendNoStream(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctnostream-" + unique()
	res := mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("Created", 0, 3)...)
	if res.NextRevision != 2 {
		t.Errorf("NoStream append of 3 events: NextRevision %d, want 2", res.NextRevision)
	}
	_, err := c.Append(ctx, stream, store.NoStream(), newEvents("Again", 0, 1)...)
	wantErr(t, "NoStream append to an existing stream", err, store.ErrConflict)
	if got := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit); len(got) != 3 {
		t.Fatalf("after a refused append the stream has %d events, want 3", len(got))
	}
}

func testAppendStreamExists(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctexists-" + unique()
	_, err := c.Append(ctx, stream, store.StreamExists(), newEvents("E", 0, 1)...)
	wantErr(t, "StreamExists append to a missing stream", err, store.ErrConflict)
	_, err = c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit)
	wantErr(t, "read after the refused StreamExists append", err, store.ErrStreamNotFound)

	mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 1)...)
	res := mustAppend(t, ctx, c, stream, store.StreamExists(), newEvents("E", 1, 2)...)
	if res.NextRevision != 2 {
		t.Errorf("StreamExists append of 2 events after 1: NextRevision %d, want 2", res.NextRevision)
	}
}

func testAppendExact(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctexact-" + unique()
	_, err := c.Append(ctx, stream, store.Exact(0), newEvents("E", 0, 1)...)
	wantErr(t, "Exact(0) append to a missing stream", err, store.ErrConflict)

	res := mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 2)...)
	res = mustAppend(t, ctx, c, stream, store.Exact(res.NextRevision), newEvents("E", 2, 1)...)
	if res.NextRevision != 2 {
		t.Fatalf("Exact(1) append of 1 event: NextRevision %d, want 2", res.NextRevision)
	}
	for _, stale := range []uint64{0, 1, 3, 100} {
		_, err := c.Append(ctx, stream, store.Exact(stale), newEvents("Stale", 0, 1)...)
		wantErr(t, fmt.Sprintf("Exact(%d) append to a stream at revision 2", stale), err, store.ErrConflict)
		var se *store.Error
		if !errors.As(err, &se) || se.Stream != stream || se.Op != "append" {
			t.Fatalf("conflict error %v: want a *store.Error naming the append and the stream", err)
		}
	}
	got := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit)
	if !equal(revisions(got), seq(0, 2)) {
		t.Fatalf("after refused appends: revisions %v, want [0 1 2]", revisions(got))
	}
}

func testAppendAny(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctany-" + unique()
	var prev store.Position
	for i := range 3 {
		res := mustAppend(t, ctx, c, stream, store.Any(), newEvents("E", i, 1)...)
		if res.NextRevision != uint64(i) {
			t.Fatalf("Any append #%d: NextRevision %d, want %d", i, res.NextRevision, i)
		}
		if i > 0 && !prev.Less(res.Position) {
			t.Fatalf("Any append #%d: position %v not after the previous append's %v", i, res.Position, prev)
		}
		prev = res.Position
	}
}

func testIdempotentRetry(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctidem-" + unique()
	first := newEvents("E", 0, 3)
	r1 := mustAppend(t, ctx, c, stream, store.NoStream(), first...)
	r2 := mustAppend(t, ctx, c, stream, store.NoStream(), first...) // a retry after a lost ack
	if r1.NextRevision != 2 || r2.NextRevision != r1.NextRevision {
		t.Fatalf("NoStream append then retry: NextRevision %d then %d, want 2 both times", r1.NextRevision, r2.NextRevision)
	}
	second := newEvents("E", 3, 2)
	r3 := mustAppend(t, ctx, c, stream, store.Exact(2), second...)
	r4 := mustAppend(t, ctx, c, stream, store.Exact(2), second...)
	if r3.NextRevision != 4 || r4.NextRevision != 4 {
		t.Fatalf("Exact(2) append then retry: NextRevision %d then %d, want 4 both times", r3.NextRevision, r4.NextRevision)
	}
	// Other events at the same expected revision are a real conflict.
	_, err := c.Append(ctx, stream, store.Exact(2), newEvents("E", 3, 2)...)
	wantErr(t, "other events at an already used expected revision", err, store.ErrConflict)

	got := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit)
	want := append(ids(first), ids(second)...)
	if !equal(recordedIDs(got), want) {
		t.Fatalf("stream after retries holds %d events %v, want exactly %v", len(got), recordedIDs(got), want)
	}
}

func testReadStream(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctread-" + unique()
	evs := make([]store.EventData, 0, 10)
	for i := range 10 {
		evs = append(evs, newEvents(fmt.Sprintf("Type%d", i), i, 1)...)
	}
	before := time.Now()
	mustAppend(t, ctx, c, stream, store.NoStream(), evs...)

	all := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit)
	if !equal(revisions(all), seq(0, 9)) {
		t.Fatalf("forwards from start: revisions %v, want 0..9", revisions(all))
	}
	for i, r := range all {
		e := evs[i]
		if r.StreamID != stream || r.ID != e.ID || r.Type != e.Type || string(r.Data) != string(e.Data) || string(r.Metadata) != string(e.Metadata) {
			t.Fatalf("event %d read back as {%s %v %s %s %s}, want {%s %v %s %s %s}", i,
				r.StreamID, r.ID, r.Type, r.Data, r.Metadata, stream, e.ID, e.Type, e.Data, e.Metadata)
		}
		// Generous: a real server's clock may be a little off the test's.
		if d := r.Created.Sub(before); d < -5*time.Minute || d > 5*time.Minute {
			t.Fatalf("event %d created %v, not close to the append at %v", i, r.Created, before)
		}
	}
	positionsIncrease(t, "stream read forwards", all, false)

	cases := []struct {
		from store.StreamFrom
		dir  store.Direction
		max  uint64
		want []uint64
	}{
		{store.Start, store.Forwards, 4, seq(0, 3)},
		{store.Revision(3), store.Forwards, 4, seq(3, 6)},
		{store.Revision(8), store.Forwards, store.NoLimit, seq(8, 9)},
		{store.Revision(10), store.Forwards, store.NoLimit, nil},
		{store.End, store.Forwards, store.NoLimit, nil},
		{store.End, store.Backwards, 3, seq(9, 7)},
		{store.End, store.Backwards, store.NoLimit, seq(9, 0)},
		{store.Revision(5), store.Backwards, store.NoLimit, seq(5, 0)},
		{store.Revision(5), store.Backwards, 2, seq(5, 4)},
	}
	for _, tc := range cases {
		got := mustRead(t, ctx, c, stream, tc.from, tc.dir, tc.max)
		if !equal(revisions(got), tc.want) {
			t.Errorf("read from %v %v max %d: revisions %v, want %v", tc.from, tc.dir, tc.max, revisions(got), tc.want)
		}
	}
}

func testReadStreamFunc(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctlong-" + unique()
	const n = 1500
	res := store.AppendResult{}
	var want []uuid.UUID
	for i := 0; i < n; i += 250 {
		exp := store.NoStream()
		if i > 0 {
			exp = store.Exact(res.NextRevision)
		}
		evs := newEvents("E", i, 250)
		res = mustAppend(t, ctx, c, stream, exp, evs...)
		want = append(want, ids(evs)...)
	}
	var got []uuid.UUID
	next := uint64(0)
	err := c.ReadStreamFunc(ctx, stream, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		if r.Revision != next {
			return fmt.Errorf("revision %d, want %d", r.Revision, next)
		}
		next++
		got = append(got, r.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("read a %d-event stream: %v", n, err)
	}
	if !equal(got, want) {
		t.Fatalf("read %d events of %d, or not the ones appended in order", len(got), n)
	}

	errStop := errors.New("stop here")
	calls := 0
	err = c.ReadStreamFunc(ctx, stream, store.End, store.Backwards, store.NoLimit, func(r store.Recorded) error {
		calls++
		if calls == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 10 {
		t.Fatalf("a handler failing at the 10th event: read returned %v after %d calls, want the handler's error after 10", err, calls)
	}
	// The client stays usable after a read stopped early.
	if got := mustRead(t, ctx, c, stream, store.End, store.Backwards, 1); len(got) != 1 || got[0].Revision != n-1 {
		t.Fatalf("read after an early stop: got %v, want the last event", revisions(got))
	}
}

func testMissingStream(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctmissing-" + unique()
	for _, dir := range []store.Direction{store.Forwards, store.Backwards} {
		recs, err := c.ReadStream(ctx, stream, store.Start, dir, store.NoLimit)
		wantErr(t, fmt.Sprintf("read %v of a missing stream", dir), err, store.ErrStreamNotFound)
		if len(recs) != 0 {
			t.Fatalf("read of a missing stream returned %d events", len(recs))
		}
	}
	called := false
	err := c.ReadStreamFunc(ctx, stream, store.End, store.Backwards, 10, func(store.Recorded) error { called = true; return nil })
	wantErr(t, "ReadStreamFunc of a missing stream", err, store.ErrStreamNotFound)
	if called {
		t.Fatal("ReadStreamFunc of a missing stream called its handler")
	}
}

func testReadAll(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	cat := "ctall" + unique()
	streams := []string{cat + "-a", cat + "-b", cat + "-c"}
	ours := func(r store.Recorded) bool { return strings.HasPrefix(r.StreamID, cat+"-") }

	// Where $all ends now: what this test writes comes after.
	var from store.AllFrom = store.Start
	if last, err := c.ReadAll(ctx, store.End, store.Backwards, 1); err != nil {
		t.Fatalf("read the end of $all: %v", err)
	} else if len(last) == 1 {
		from = last[0].Position
	}

	// Appends one after the other, each acknowledged before the next starts: $all must
	// hold them in that order.
	var want []uuid.UUID
	next := map[string]store.Expected{}
	for _, s := range streams {
		next[s] = store.NoStream()
	}
	for i := range 12 {
		s := streams[(i*7)%3]
		evs := newEvents("E", i, 1+i%2)
		res := mustAppend(t, ctx, c, s, next[s], evs...)
		next[s] = store.Exact(res.NextRevision)
		want = append(want, ids(evs)...)
	}

	var all, mine []store.Recorded
	err := c.ReadAllFunc(ctx, from, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		all = append(all, r)
		if ours(r) {
			mine = append(mine, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read $all forwards: %v", err)
	}
	positionsIncrease(t, "$all forwards", all, false)
	if !equal(recordedIDs(mine), want) {
		t.Fatalf("$all forwards holds this test's events as %v, want them once each in acknowledgement order %v", recordedIDs(mine), want)
	}
	perStream := map[string]uint64{}
	for _, r := range mine {
		if r.Revision != perStream[r.StreamID] {
			t.Fatalf("$all: %s revision %d, want %d", r.StreamID, r.Revision, perStream[r.StreamID])
		}
		perStream[r.StreamID]++
	}

	// Backwards from the end, until every one of ours was seen.
	errDone := errors.New("all seen")
	var back []store.Recorded
	var backAll []store.Recorded
	err = c.ReadAllFunc(ctx, store.End, store.Backwards, store.NoLimit, func(r store.Recorded) error {
		backAll = append(backAll, r)
		if ours(r) {
			back = append(back, r)
			if len(back) == len(want) {
				return errDone
			}
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("read $all backwards: %v (found %d of %d events)", err, len(back), len(want))
	}
	positionsIncrease(t, "$all backwards", backAll, true)
	for i, r := range back {
		if r.ID != want[len(want)-1-i] {
			t.Fatalf("$all backwards: event %d is %v, want %v", i, r.ID, want[len(want)-1-i])
		}
	}

	// From a position: forwards includes the event there; backwards holds nothing after.
	mid := mine[4]
	got, err := c.ReadAll(ctx, mid.Position, store.Forwards, 3)
	if err != nil {
		t.Fatalf("read $all from %v: %v", mid.Position, err)
	}
	if len(got) != 3 || got[0].ID != mid.ID {
		t.Fatalf("read $all forwards from an event's position, max 3: got %d events starting with %v, want 3 starting with that event %v", len(got), recordedIDs(got), mid.ID)
	}
	var before []store.Recorded
	err = c.ReadAllFunc(ctx, mid.Position, store.Backwards, store.NoLimit, func(r store.Recorded) error {
		before = append(before, r)
		if r.ID == mine[3].ID {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("read $all backwards from %v did not reach the event before it: %v", mid.Position, err)
	}
	for _, r := range before {
		if mid.Position.Less(r.Position) {
			t.Fatalf("read $all backwards from %v returned %v, which comes after", mid.Position, r.Position)
		}
	}
}

// testSubscribeConcurrentWriters: 8 writers append 200 events each while a filtered
// subscription started from a position catches up and goes live.
func testSubscribeConcurrentWriters(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	cat := "ctsub" + unique()
	const writers, perWriter = 8, 200

	// Events before the starting position must not be delivered.
	before := cat + "-before"
	mustAppend(t, ctx, c, before, store.NoStream(), newEvents("Before", 0, 5)...)
	from := lastPosition(t, ctx, c, before)

	var (
		mu      sync.Mutex
		acked   = make([][]uuid.UUID, writers)
		total   int
		started = make(chan struct{})
		once    sync.Once
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("%s-w%d", cat, w)
			exp := store.NoStream()
			for n := 0; n < perWriter; {
				evs := newEvents("Written", n, min(1+rand.IntN(4), perWriter-n))
				res, err := c.Append(ctx, stream, exp, evs...)
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				exp = store.Exact(res.NextRevision)
				n += len(evs)
				mu.Lock()
				acked[w] = append(acked[w], ids(evs)...)
				total += len(evs)
				if total >= writers*perWriter/8 {
					once.Do(func() { close(started) })
				}
				mu.Unlock()
			}
		}()
	}
	// Subscribe once the writers are well under way: part catch-up, part live.
	select {
	case <-started:
	case err := <-errs:
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("writers made no progress")
	}
	col := newCollector()
	sub := subscribe(t, ctx, c, &from, store.Filter{StreamPrefixes: []string{cat + "-"}}, col)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A last event after all the others: once it is delivered, everything was.
	end := newEvents("End", 0, 1)
	mustAppend(t, ctx, c, cat+"-end", store.NoStream(), end...)
	col.waitUntil(t, ctx, "the last event", hasEvent(end[0].ID))
	if err := sub.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v after its context was cancelled, want context.Canceled", err)
	}

	got, _, _ := col.snapshot()
	positionsIncrease(t, "subscription", got, false)
	perStream := map[string][]uuid.UUID{}
	for _, r := range got {
		if !strings.HasPrefix(r.StreamID, cat+"-") {
			t.Fatalf("filtered subscription delivered %s", r.StreamID)
		}
		if r.StreamID == before {
			t.Fatalf("subscription from %v delivered %s@%d, which is at or before it", from, r.StreamID, r.Revision)
		}
		if want := uint64(len(perStream[r.StreamID])); r.Revision != want {
			t.Fatalf("subscription delivered %s revision %d after %d events of it: a gap or a duplicate", r.StreamID, r.Revision, want)
		}
		perStream[r.StreamID] = append(perStream[r.StreamID], r.ID)
	}
	if len(got) != writers*perWriter+1 {
		t.Fatalf("subscription delivered %d events, want %d", len(got), writers*perWriter+1)
	}
	for w := range writers {
		stream := fmt.Sprintf("%s-w%d", cat, w)
		if !equal(perStream[stream], acked[w]) {
			t.Fatalf("subscription delivered %d events of %s, not the %d acknowledged in order", len(perStream[stream]), stream, len(acked[w]))
		}
	}
}

func testSubscribeFromStart(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctstart" + unique() + "-1"
	stored := newEvents("Stored", 0, 3)
	mustAppend(t, ctx, c, stream, store.NoStream(), stored...)

	col := newCollector()
	subscribe(t, ctx, c, nil, store.Filter{StreamPrefixes: []string{stream}}, col)
	col.waitUntil(t, ctx, "caught up", func(_ []store.Recorded, _ []store.Position, caughtUp int) bool { return caughtUp > 0 })
	if got, _, _ := col.snapshot(); !equal(recordedIDs(got), ids(stored)) {
		t.Fatalf("at catch-up the subscription had %v, want the stored events %v", recordedIDs(got), ids(stored))
	}
	live := newEvents("Live", 3, 2)
	mustAppend(t, ctx, c, stream, store.Exact(2), live...)
	col.waitUntil(t, ctx, "the live events", hasEvent(live[1].ID))
	got, _, _ := col.snapshot()
	if want := append(ids(stored), ids(live)...); !equal(recordedIDs(got), want) {
		t.Fatalf("subscription delivered %v, want %v", recordedIDs(got), want)
	}
}

func testSubscribeEventTypeFilter(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	prefix := "CtType" + unique()
	cat := "cttype" + unique()
	mustAppend(t, ctx, c, cat+"-mark", store.NoStream(), newEvents("Mark", 0, 1)...)
	from := lastPosition(t, ctx, c, cat+"-mark")

	var want []uuid.UUID
	for i := range 6 {
		typ := "Other"
		if i%2 == 0 {
			typ = prefix + fmt.Sprint(i)
		}
		evs := newEvents(typ, i, 1)
		mustAppend(t, ctx, c, fmt.Sprintf("%s-%d", cat, i%3), store.Any(), evs...)
		if i%2 == 0 {
			want = append(want, evs[0].ID)
		}
	}
	col := newCollector()
	subscribe(t, ctx, c, &from, store.Filter{EventTypePrefixes: []string{prefix}}, col)
	col.waitUntil(t, ctx, "the matching events", hasEvent(want[len(want)-1]))
	// One more matching event: anything wrongly delivered would come before it.
	last := newEvents(prefix+"Last", 9, 1)
	mustAppend(t, ctx, c, cat+"-9", store.NoStream(), last...)
	col.waitUntil(t, ctx, "the last matching event", hasEvent(last[0].ID))
	got, _, _ := col.snapshot()
	if want := append(want, last[0].ID); !equal(recordedIDs(got), want) {
		t.Fatalf("event-type filter delivered %v, want %v", recordedIDs(got), want)
	}
}

func testSubscribeStreamRegex(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	cat := "ctregex" + unique()
	mustAppend(t, ctx, c, cat+"-mark", store.NoStream(), newEvents("Mark", 0, 1)...)
	from := lastPosition(t, ctx, c, cat+"-mark")
	var want []uuid.UUID
	for i, s := range []string{"a1", "b2", "c3", "a4", "bb", "b5"} {
		evs := newEvents("E", i, 1)
		mustAppend(t, ctx, c, cat+"-"+s, store.NoStream(), evs...)
		if s == "a1" || s == "b2" || s == "a4" || s == "b5" {
			want = append(want, evs[0].ID)
		}
	}
	col := newCollector()
	subscribe(t, ctx, c, &from, store.Filter{StreamRegex: "^" + cat + "-[ab][0-9]$"}, col)
	col.waitUntil(t, ctx, "the matching events", hasEvent(want[len(want)-1]))
	last := newEvents("E", 9, 1)
	mustAppend(t, ctx, c, cat+"-a9", store.NoStream(), last...)
	col.waitUntil(t, ctx, "the last matching event", hasEvent(last[0].ID))
	got, _, _ := col.snapshot()
	if want := append(want, last[0].ID); !equal(recordedIDs(got), want) {
		t.Fatalf("stream regex filter delivered %v, want %v", recordedIDs(got), want)
	}
}

func testSubscribeCheckpoints(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	cat := "ctckpt" + unique()
	matching := newEvents("Match", 0, 1)
	mustAppend(t, ctx, c, cat+"-match", store.NoStream(), matching...)
	matchPos := lastPosition(t, ctx, c, cat+"-match")
	// Many more events than a server's checkpoint interval (32), none matching.
	mustAppend(t, ctx, c, "ctckptother"+unique()+"-x", store.NoStream(), newEvents("NoMatch", 0, 200)...)

	col := newCollector()
	subscribe(t, ctx, c, nil, store.Filter{StreamPrefixes: []string{cat + "-"}}, col)
	col.waitUntil(t, ctx, "a checkpoint past the matching event", func(evs []store.Recorded, cps []store.Position, _ int) bool {
		for _, p := range cps {
			if matchPos.Less(p) {
				return true
			}
		}
		return false
	})
	evs, cps, _ := col.snapshot()
	if !equal(recordedIDs(evs), ids(matching)) {
		t.Fatalf("subscription delivered %v, want only %v", recordedIDs(evs), ids(matching))
	}
	for i := 1; i < len(cps); i++ {
		if !cps[i-1].Less(cps[i]) {
			t.Fatalf("checkpoints %v then %v: not increasing", cps[i-1], cps[i])
		}
	}
}

func testSubscribeSkipsServerEvents(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	cat := "ctsys" + unique()
	mustAppend(t, ctx, c, cat+"-mark", store.NoStream(), newEvents("Mark", 0, 1)...)
	from := lastPosition(t, ctx, c, cat+"-mark")
	stream := cat + "-1"
	evs := append(newEvents("Before", 0, 1), append(newEvents("$vigie-test-system", 1, 1), newEvents("After", 2, 1)...)...)
	mustAppend(t, ctx, c, stream, store.NoStream(), evs...)
	want := []uuid.UUID{evs[0].ID, evs[2].ID}

	for _, f := range []store.Filter{{StreamPrefixes: []string{cat + "-"}}, {}} {
		col := newCollector()
		sub := subscribe(t, ctx, c, &from, f, col)
		col.waitUntil(t, ctx, "the event after the $ one", hasEvent(evs[2].ID))
		if err := sub.stop(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe returned %v, want context.Canceled", err)
		}
		got, _, _ := col.snapshot()
		var mine []store.Recorded
		for _, r := range got {
			if strings.HasPrefix(r.Type, "$") {
				t.Fatalf("filter %+v: subscription delivered %s of type %s", f, r.StreamID, r.Type)
			}
			if r.StreamID == stream {
				mine = append(mine, r)
			}
		}
		if !equal(recordedIDs(mine), want) {
			t.Fatalf("filter %+v: delivered %v of %s, want %v", f, recordedIDs(mine), stream, want)
		}
	}
}

func testSubscribeHandlerError(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "cthandlererr" + unique() + "-1"
	mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 5)...)
	errBoom := errors.New("projection failed")
	col := newCollector()
	col.failAt, col.failErr = 2, errBoom
	err := c.Subscribe(ctx, nil, store.Filter{StreamPrefixes: []string{stream}}, col)
	if !errors.Is(err, errBoom) {
		t.Fatalf("Subscribe with a failing handler returned %v, want the handler's error", err)
	}
	if got, _, _ := col.snapshot(); len(got) != 2 {
		t.Fatalf("handler called %d times, want 2 (the subscription must stop at its error)", len(got))
	}
}

func testSubscribeContext(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctctx" + unique() + "-1"
	mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 1)...)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := c.Subscribe(subCtx, nil, store.Filter{StreamPrefixes: []string{stream}}, store.HandlerFuncs{
		OnEvent: func(context.Context, store.Recorded) error { cancel(); return nil },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v after its context was cancelled, want context.Canceled", err)
	}
}

func testSubscribeFilterValidation(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	err := c.Subscribe(ctx, nil, store.Filter{StreamPrefixes: []string{"a"}, StreamRegex: "^b"}, store.HandlerFuncs{
		OnEvent: func(context.Context, store.Recorded) error { return nil },
	})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe with two filter criteria returned %v, want an immediate error", err)
	}
}

func testSoftDelete(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "ctdelete-" + unique()
	mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 3)...)
	err := c.Delete(ctx, stream, store.Exact(7))
	wantErr(t, "delete with a wrong expected revision", err, store.ErrConflict)
	if got := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit); len(got) != 3 {
		t.Fatalf("after a refused delete the stream has %d events, want 3", len(got))
	}
	if err := c.Delete(ctx, stream, store.Exact(2)); err != nil {
		t.Fatalf("delete at the current revision: %v", err)
	}
	_, err = c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit)
	wantErr(t, "read of a soft-deleted stream", err, store.ErrStreamNotFound)

	// Appending again revives the stream where its revisions stopped.
	again := newEvents("Again", 3, 1)
	res := mustAppend(t, ctx, c, stream, store.Any(), again...)
	if res.NextRevision != 3 {
		t.Fatalf("append after a soft delete: NextRevision %d, want 3", res.NextRevision)
	}
	got := mustRead(t, ctx, c, stream, store.Start, store.Forwards, store.NoLimit)
	if len(got) != 1 || got[0].Revision != 3 || got[0].ID != again[0].ID {
		t.Fatalf("after delete and append the stream reads %v at revisions %v, want only the new event at 3", recordedIDs(got), revisions(got))
	}
}

func testTombstone(t *testing.T, c *store.Client) {
	ctx := testContext(t)
	stream := "cttomb-" + unique()
	mustAppend(t, ctx, c, stream, store.NoStream(), newEvents("E", 0, 2)...)
	err := c.Tombstone(ctx, stream, store.Exact(5))
	wantErr(t, "tombstone with a wrong expected revision", err, store.ErrConflict)
	if err := c.Tombstone(ctx, stream, store.Exact(1)); err != nil {
		t.Fatalf("tombstone at the current revision: %v", err)
	}
	for _, dir := range []store.Direction{store.Forwards, store.Backwards} {
		_, err := c.ReadStream(ctx, stream, store.Start, dir, store.NoLimit)
		wantErr(t, fmt.Sprintf("read %v of a tombstoned stream", dir), err, store.ErrStreamDeleted)
	}
	for _, exp := range []store.Expected{store.Any(), store.NoStream(), store.StreamExists(), store.Exact(1)} {
		_, err := c.Append(ctx, stream, exp, newEvents("E", 2, 1)...)
		wantErr(t, fmt.Sprintf("append expecting %v to a tombstoned stream", exp), err, store.ErrStreamDeleted)
	}
	wantErr(t, "soft delete of a tombstoned stream", c.Delete(ctx, stream, store.Any()), store.ErrStreamDeleted)
}
