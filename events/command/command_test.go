package command_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/storetest"
)

// A counter is the smallest aggregate with a rule: it never goes above its limit.
type Incremented struct {
	By int `json:"by"`
}

func (Incremented) EventType() string { return "CounterIncremented" }

type counter struct{ n int }

func (c *counter) Apply(e events.Event) {
	if inc, ok := e.(Incremented); ok {
		c.n += inc.By
	}
}

var errLimit = errors.New("limit reached")

func increment(limit int) func(*counter, events.Actor, time.Time) ([]events.Event, error) {
	return func(c *counter, _ events.Actor, _ time.Time) ([]events.Event, error) {
		if c.n >= limit {
			return nil, errLimit
		}
		return []events.Event{Incremented{By: 1}}, nil
	}
}

func setup(t *testing.T) (*store.Client, *command.Handler[*counter]) {
	t.Helper()
	c, _ := storetest.Embedded(t)
	reg := events.NewRegistry()
	events.MustRegister[Incremented](reg, 1)
	return c, &command.Handler[*counter]{Store: c, Registry: reg, New: func() *counter { return &counter{} }}
}

func cmd(id string, limit int) command.Command[*counter] {
	return cmdBy("u1", id, limit)
}

func cmdBy(subject, id string, limit int) command.Command[*counter] {
	return command.Command[*counter]{
		Name: "Increment", Stream: "counter-1", CommandID: id,
		Authorize: func(*counter) (events.Actor, string, error) {
			return events.Actor{Subject: subject, Role: events.RoleRAC}, "dep:30/com:30189", nil
		},
		Decide: increment(limit),
	}
}

func streamLength(t *testing.T, c *store.Client) int {
	t.Helper()
	recs, err := c.ReadStream(context.Background(), "counter-1", store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestResentCommandChangesNothingAndAnswersTheSame(t *testing.T) {
	c, h := setup(t)
	ctx := context.Background()
	first, err := h.Handle(ctx, cmd("cmd-1", 10))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Handle(ctx, cmd("cmd-1", 10))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.State.n != 1 || again.Position != first.Position {
		t.Fatalf("resent command: %+v, first %+v", again, first)
	}
	if n := streamLength(t, c); n != 1 {
		t.Fatalf("stream has %d events after a resent command", n)
	}
	// Metadata carries who, where and which command.
	recs, _ := c.ReadStream(ctx, "counter-1", store.Start, store.Forwards, 1)
	_, md, err := h.Registry.Decode(recs[0].Type, recs[0].Data, recs[0].Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if md.CommandID != "cmd-1" || md.Actor != "u1" || md.Role != events.RoleRAC || md.Domain != "dep:30/com:30189" || md.EventID != recs[0].ID.String() {
		t.Fatalf("metadata %+v", md)
	}
}

func TestRefusedCommandAppendsNothing(t *testing.T) {
	c, h := setup(t)
	if _, err := h.Handle(context.Background(), cmd("a", 1)); err != nil {
		t.Fatal(err)
	}
	_, err := h.Handle(context.Background(), cmd("b", 1))
	var refused *command.RefusedError
	if !errors.Is(err, errLimit) || !errors.As(err, &refused) {
		t.Fatalf("want the domain's refusal, got %v", err)
	}
	if n := streamLength(t, c); n != 1 {
		t.Fatalf("stream has %d events", n)
	}
}

func TestConcurrentCommandsRetryOnConflictAndKeepTheRule(t *testing.T) {
	c, h := setup(t)
	h.Retries = 100
	const callers, limit = 30, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Handle(context.Background(), cmd(fmt.Sprint("c", i), limit))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errLimit):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != limit || refused != callers-limit {
		t.Fatalf("%d accepted, %d refused; want %d and %d", ok, refused, limit, callers-limit)
	}
	if n := streamLength(t, c); n != limit {
		t.Fatalf("stream has %d events, want %d", n, limit)
	}
}

func TestGivesUpAfterBoundedRetries(t *testing.T) {
	c, h := setup(t)
	h.Retries = 2
	decisions := 0
	hot := cmd("x", 1000)
	hot.Decide = func(s *counter, by events.Actor, now time.Time) ([]events.Event, error) {
		decisions++
		// Someone else always writes between our load and our append.
		if _, err := c.Append(context.Background(), "counter-1", store.Any(), store.EventData{ID: uuid.New(), Type: "CounterIncremented", Data: []byte(`{"by":1}`), Metadata: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		return increment(1000)(s, by, now)
	}
	_, err := h.Handle(context.Background(), hot)
	if !errors.Is(err, command.ErrTooManyConflicts) || decisions != 3 {
		t.Fatalf("err %v after %d decisions", err, decisions)
	}
}

func TestEventIDsDeriveFromTheCommand(t *testing.T) {
	if command.EventID("s-1", "u1", "c", 0) != command.EventID("s-1", "u1", "c", 0) {
		t.Fatal("not deterministic")
	}
	for _, other := range []uuid.UUID{command.EventID("s-1", "u1", "c", 1), command.EventID("s-2", "u1", "c", 0), command.EventID("s-1", "u2", "c", 0)} {
		if other == command.EventID("s-1", "u1", "c", 0) {
			t.Fatal("ids collide")
		}
	}
}

func TestACommandIDIsScopedToItsSubject(t *testing.T) {
	c, h := setup(t)
	if _, err := h.Handle(context.Background(), cmdBy("u1", "same-id", 10)); err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(context.Background(), cmdBy("u2", "same-id", 10))
	if err != nil || res.Duplicate {
		t.Fatalf("another subject's command was taken for a resend: %+v %v", res, err)
	}
	if n := streamLength(t, c); n != 2 {
		t.Fatalf("stream has %d events, want 2", n)
	}
}

func TestRefusedCallerLearnsNothing(t *testing.T) {
	_, h := setup(t)
	if _, err := h.Handle(context.Background(), cmd("c1", 10)); err != nil {
		t.Fatal(err)
	}
	errNo := errors.New("forbidden")
	denied := cmd("c1", 10)
	denied.Authorize = func(*counter) (events.Actor, string, error) { return events.Actor{}, "", errNo }
	res, err := h.Handle(context.Background(), denied)
	if !errors.Is(err, errNo) || res.Duplicate || res.State != nil {
		t.Fatalf("refused caller got %+v, %v", res, err)
	}
}

func TestHistorySerialisesAStreamsCommandsAndReadsOnlyWhatIsNew(t *testing.T) {
	c, h := setup(t)
	h.History = command.NewHistory(16)
	h.Retries = 1 // within one process, the history queues commands: no conflict
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Handle(context.Background(), cmd(fmt.Sprint("h", i), 1000)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Another process (no history here) appends in between: the history must read
	// its events, not trust what it remembers.
	other := &command.Handler[*counter]{Store: c, Registry: h.Registry, New: h.New}
	for i := range 3 {
		if _, err := other.Handle(context.Background(), cmd(fmt.Sprint("o", i), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := h.Handle(context.Background(), cmd("last", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if res.State.n != 44 || res.Revision != 43 {
		t.Fatalf("state %d at revision %d, want 44 at 43", res.State.n, res.Revision)
	}
	if n := streamLength(t, c); n != 44 {
		t.Fatalf("stream has %d events", n)
	}
	// A resend is still recognised from what the history remembers.
	again, err := h.Handle(context.Background(), cmd("h3", 1000))
	if err != nil || !again.Duplicate || again.State.n != 44 {
		t.Fatalf("resend through the history: %+v %v", again, err)
	}
}
