package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vigie/graph"
	"vigie/graph/gatewaytest"
	"vigie/projections/replay"
)

// heldReplayer stands for projections/replay: it counts the replays the gateway asks
// for and holds each until released (or until its context ends, as the store's read of
// the log does), so a test sees how many ran and whether their caller's departure
// reached them.
type heldReplayer struct {
	started  atomic.Int64
	release  chan struct{}
	mu       sync.Mutex
	canceled []time.Time // the instants of replays whose context ended
	entered  chan time.Time
}

func newHeldReplayer() *heldReplayer {
	return &heldReplayer{release: make(chan struct{}), entered: make(chan time.Time, 1024)}
}

func (h *heldReplayer) Boards(ctx context.Context, domain string, at time.Time) (*replay.Boards, error) {
	h.started.Add(1)
	h.entered <- at
	select {
	case <-h.release:
		return &replay.Boards{At: at, Events: 42}, nil
	case <-ctx.Done():
		h.mu.Lock()
		h.canceled = append(h.canceled, at)
		h.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (h *heldReplayer) Delays(ctx context.Context, domain string, from, to time.Time) (replay.Delays, error) {
	h.started.Add(1)
	return replay.Delays{}, nil
}

func (h *heldReplayer) Report(ctx context.Context, o replay.ReportOptions) (*replay.Report, error) {
	h.started.Add(1)
	return &replay.Report{Domain: o.Domain}, nil
}

func (h *heldReplayer) wasCanceled(at time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.canceled {
		if c.Equal(at) {
			return true
		}
	}
	return false
}

func startHeld(t *testing.T) (*gatewaytest.Env, *heldReplayer) {
	t.Helper()
	h := newHeldReplayer()
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6), gatewaytest.WithConfig(func(c *graph.Config) { c.Resolver.Replay = h }))
	return env, h
}

const replayOne = `query($d: String!, $at: Time!) { replay(domain: $d, at: $at) { at events } }`

// Point 5: the request of 450 aliased replays is refused before a single replay
// starts.
func TestRefusedReplaysNeverStart(t *testing.T) {
	env, h := startHeld(t)
	close(h.release)
	mayor := env.Token("held-mayor", "mayor", nimes)
	ans, err := postQuery(env.HTTP, env.URL, mayor, replayAliases(450), map[string]any{"d": nimes})
	if err != nil {
		t.Fatal(err)
	}
	if ans.code() != "INVALID_INPUT" {
		t.Fatalf("450 replays: want INVALID_INPUT, got %s", ans)
	}
	if n := h.started.Load(); n != 0 {
		t.Errorf("%d replays started for a request refused as too costly", n)
	}
	// Reports too: refused before reading anything.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/report/"+nimes+".json?at=2026-11-27T01:00:00Z,2026-11-27T02:00:00Z,2026-11-27T03:00:00Z", nil)
	if ans, err := send(env.HTTP, req, mayor); err != nil || ans.status != http.StatusBadRequest {
		t.Errorf("a report of three instants: want 400, got %s %v", ans, err)
	}
	if n := h.started.Load(); n != 0 {
		t.Errorf("%d reads of the log started for requests refused as too costly", n)
	}
}

// Point 5: callers who ask for the same boards (domain, instant) at the same time
// share one replay; each is authorized on its own (a caller who may not read the
// domain gets FORBIDDEN and no boards).
func TestIdenticalReplaysRunOnceAndAreAuthorizedPerCaller(t *testing.T) {
	env, h := startHeld(t)
	at := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	vars := map[string]any{"d": nimes, "at": at.Format(time.RFC3339)}
	const callers = 20
	answers := make(chan answer, callers)
	var wg sync.WaitGroup
	for i := range callers {
		tok := env.Token(fmt.Sprintf("shared-observer-%d", i), "observer", nimes)
		wg.Go(func() {
			ans, err := postQuery(env.HTTP, env.URL, tok, replayOne, vars)
			if err != nil {
				t.Error(err)
			}
			answers <- ans
		})
	}
	<-h.entered
	// Let every caller reach the replay under way, then let it finish.
	time.Sleep(time.Second)
	outsider, err := postQuery(env.HTTP, env.URL, env.Token("shared-istres", "mayor", istres), replayOne, vars)
	if err != nil {
		t.Fatal(err)
	}
	close(h.release)
	wg.Wait()
	close(answers)
	for ans := range answers {
		var data struct{ Replay struct{ Events int } }
		if len(ans.Errors) > 0 || json.Unmarshal(ans.Data, &data) != nil || data.Replay.Events != 42 {
			t.Errorf("a caller of the shared replay: %s", ans)
		}
	}
	if n := h.started.Load(); n != 1 {
		t.Errorf("%d callers asking for the same boards at once started %d replays, want 1", callers, n)
	}
	if outsider.code() != "FORBIDDEN" || string(outsider.Data) != "null" {
		t.Errorf("a caller who may not read Nîmes, asking for the replay under way: want FORBIDDEN, got %s", outsider)
	}
}

// Point 5: a replay stops when its caller goes away (the context reaches the read of
// the log), but not while another caller still waits for it.
func TestAReplayStopsWhenItsLastCallerGoesAway(t *testing.T) {
	env, h := startHeld(t)
	ask := func(ctx context.Context, sub string, at time.Time) (answer, error) {
		body, _ := json.Marshal(map[string]any{"query": replayOne, "variables": map[string]any{"d": nimes, "at": at.Format(time.RFC3339)}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return send(env.HTTP, req, env.Token(sub, "observer", nimes))
	}
	waitCanceled := func(at time.Time, want bool) {
		t.Helper()
		within := 3 * time.Second // for the cancellation to arrive
		if !want {
			within = time.Second // for none to arrive
		}
		deadline := time.Now().Add(within)
		for !h.wasCanceled(at) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := h.wasCanceled(at); got != want {
			t.Errorf("replay at %s: canceled %v, want %v", at.Format(time.RFC3339), got, want)
		}
	}

	// Alone: the caller hangs up, the replay stops.
	alone := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _, _ = ask(ctx, "leaving-observer", alone) }()
	<-h.entered
	cancel()
	<-done
	waitCanceled(alone, true)

	// Shared: the first caller hangs up, the second still gets its boards.
	shared := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = ask(ctx, "impatient-observer", shared) }()
	<-h.entered
	patient := make(chan answer, 1)
	go func() {
		ans, err := ask(context.Background(), "patient-observer", shared)
		if err != nil {
			t.Error(err)
		}
		patient <- ans
	}()
	time.Sleep(500 * time.Millisecond) // the patient caller joins the replay under way
	cancel()
	waitCanceled(shared, false)
	close(h.release)
	select {
	case ans := <-patient:
		if len(ans.Errors) > 0 || !json.Valid(ans.Data) || string(ans.Data) == "null" {
			t.Errorf("the caller still waiting for a shared replay: %s", ans)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the caller still waiting for a shared replay got no answer")
	}
	if n := h.started.Load(); n != 2 {
		t.Errorf("%d replays started, want 2 (one alone, one shared)", n)
	}
}
