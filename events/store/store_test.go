package store_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"vigie/events/embedded"
	"vigie/events/store"
)

func TestPositionOrder(t *testing.T) {
	ps := []store.Position{{1, 1}, {2, 0}, {2, 1}, {3, 3}}
	for i := range ps {
		for j := range ps {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ps[i].Compare(ps[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", ps[i], ps[j], got, want)
			}
			if got := ps[i].Less(ps[j]); got != (want < 0) {
				t.Errorf("%v.Less(%v) = %v", ps[i], ps[j], got)
			}
		}
	}
}

func TestCategoryIsTheAggregateType(t *testing.T) {
	for stream, want := range map[string]string{"incident-42": "incident", "role-dep:30-x": "role", "plain": "plain"} {
		if got := store.Category(stream); got != want {
			t.Errorf("Category(%q) = %q, want %q", stream, got, want)
		}
	}
}

func TestOpenKeepsPasswordsOutOfErrors(t *testing.T) {
	for _, url := range []string{"esdb://admin:s3cret@host:notaport", "http://admin:s3cret@host:2113", "esdb://admin:s3cret@%zz"} {
		_, err := store.Open(url)
		if err == nil {
			t.Fatalf("Open(%q) accepted an invalid connection string", url)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("Open's error repeats the password: %v", err)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func serveOn(t *testing.T, addr string) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: addr})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); st.Close() })
}

func startServer(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	serveOn(t, addr)
	return "esdb://" + addr + "?tls=false"
}

func open(t *testing.T, url string, opts ...store.Option) *store.Client {
	t.Helper()
	c, err := store.Open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func event(typ string) store.EventData {
	return store.EventData{ID: uuid.New(), Type: typ, Data: []byte(`{}`)}
}

// The official client closes itself for good once its discovery attempts fail: the
// wrapper must replace it, so the first call after the server comes up succeeds.
func TestClientRecoversAfterDiscoveryGaveUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := freeAddr(t)
	c := open(t, "esdb://"+addr+"?tls=false&maxDiscoverAttempts=2&discoveryInterval=10")
	stream := "recover-" + uuid.NewString()
	for i := range 3 {
		_, err := c.Append(ctx, stream, store.Any(), event("E"))
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("append #%d with no server: %v, want ErrUnavailable", i, err)
		}
		var se *store.Error
		var ee *esdb.Error
		if !errors.As(err, &se) || se.Kind != store.ErrUnavailable || !errors.As(err, &ee) {
			t.Fatalf("append #%d with no server: %#v, want a *store.Error of kind ErrUnavailable wrapping the client's *esdb.Error", i, err)
		}
	}
	serveOn(t, addr)
	if _, err := c.Append(ctx, stream, store.NoStream(), event("E")); err != nil {
		t.Fatalf("first append once the server is up: %v", err)
	}
}

// With maxDiscoverAttempts set, the official client still closes itself when they
// fail, leaving the callers queued behind the discovery blocked for good: through the
// wrapper they return with their context, and the client works again once the server
// is up.
func TestCallersStrandedByTheOfficialClientReturn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := freeAddr(t)
	c := open(t, "esdb://"+addr+"?tls=false&maxDiscoverAttempts=3&discoveryInterval=20")
	const callers = 16
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, errs[i] = c.Append(cctx, "queued-"+uuid.NewString(), store.Any(), event("E"))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("caller %d with no server: %v, want ErrUnavailable", i, err)
		}
	}
	serveOn(t, addr)
	appendConcurrently(t, ctx, c, callers)
}

func appendConcurrently(t *testing.T, ctx context.Context, c *store.Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Append(ctx, "after-"+uuid.NewString(), store.NoStream(), event("E"))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d once the server is up: %v", i, err)
		}
	}
}

// By default the official client's discovery goes on until the server is back: calls
// wait for it until their deadline, then report the store unavailable.
func TestCallsWaitForTheServerUntilTheirDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := freeAddr(t)
	c := open(t, "esdb://"+addr+"?tls=false")
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, errs[i] = c.Append(cctx, "waiting-"+uuid.NewString(), store.Any(), event("E"))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("caller %d with no server: %v, want ErrUnavailable and context.DeadlineExceeded", i, err)
		}
	}
	// A patient caller gets through once the server comes up.
	patient := make(chan error, 1)
	go func() {
		_, err := c.Append(ctx, "patient-"+uuid.NewString(), store.NoStream(), event("E"))
		patient <- err
	}()
	serveOn(t, addr)
	if err := <-patient; err != nil {
		t.Fatalf("a caller waiting through the outage: %v", err)
	}
	appendConcurrently(t, ctx, c, 16)
}

// During an outage, calls must not pile up inside the official client (where they
// would stay blocked, deaf to their context, until the server is back).
func TestOutageDoesNotPileUpBlockedCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := freeAddr(t)
	c := open(t, "esdb://"+addr+"?tls=false")
	call := func() error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := c.Append(cctx, "outage-"+uuid.NewString(), store.Any(), event("E"))
		return err
	}
	if err := call(); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("call with no server: %v, want ErrUnavailable", err)
	}
	before := runtime.NumGoroutine()
	const calls = 200
	for i := range calls {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("call %d with no server: %v, want ErrUnavailable", i, err)
		}
	}
	if grown := runtime.NumGoroutine() - before; grown > calls/4 {
		t.Fatalf("%d calls during an outage left %d more goroutines behind", calls, grown)
	}
	serveOn(t, addr)
	appendConcurrently(t, ctx, c, 8)
}

func TestCallsAfterCloseFailWithErrClosed(t *testing.T) {
	c, err := store.Open(startServer(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Append(ctx, "closed-"+uuid.NewString(), store.Any(), event("E")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = c.Append(ctx, "closed-"+uuid.NewString(), store.Any(), event("E"))
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("append after Close: %v, want ErrClosed", err)
	}
	err = c.Subscribe(ctx, nil, store.Filter{}, store.HandlerFuncs{OnEvent: func(context.Context, store.Recorded) error { return nil }})
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
}

func TestConflictKeepsTheClientsError(t *testing.T) {
	c := open(t, startServer(t))
	ctx := context.Background()
	stream := "conflict-" + uuid.NewString()
	if _, err := c.Append(ctx, stream, store.NoStream(), event("E")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Append(ctx, stream, store.NoStream(), event("E"))
	var ee *esdb.Error
	if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ee) || ee.Code() != esdb.ErrorCodeWrongExpectedVersion {
		t.Fatalf("conflicting append: %v, want ErrConflict wrapping the client's wrong-expected-version error", err)
	}
}

// Spans name the operation and the stream's category, never the stream's id, the
// event data or the metadata (residents' personal data travels there).
func TestSpansCarryCategoryNotData(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := open(t, startServer(t), store.WithTracerProvider(tp))
	ctx := context.Background()
	id := uuid.NewString()
	stream := "incident-" + id
	personal := store.EventData{ID: uuid.New(), Type: "IncidentReported", Data: []byte(`{"caller":"Jeanne Dupont"}`), Metadata: []byte(`{"actor":"j.dupont"}`)}
	if _, err := c.Append(ctx, stream, store.NoStream(), personal); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, stream, store.NoStream(), event("E")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if _, err := c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadStream(ctx, "incident-missing-"+id, store.Start, store.Forwards, 1); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("want not found, got %v", err)
	}
	if _, err := c.ReadAll(ctx, store.End, store.Backwards, 1); err != nil {
		t.Fatal(err)
	}

	spans := rec.Ended()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name())
		if s.SpanKind().String() != "client" {
			t.Errorf("span %s kind %v, want client", s.Name(), s.SpanKind())
		}
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			if strings.Contains(v, id) || strings.Contains(v, "Jeanne") || strings.Contains(v, "dupont") {
				t.Errorf("span %s attribute %s = %q leaks the stream id or event content", s.Name(), a.Key, v)
			}
		}
		for _, ev := range s.Events() {
			for _, a := range ev.Attributes {
				if v := a.Value.Emit(); strings.Contains(v, "Jeanne") || strings.Contains(v, "dupont") {
					t.Errorf("span %s event %s leaks event content: %q", s.Name(), ev.Name, v)
				}
			}
		}
	}
	want := []string{"eventstore.append", "eventstore.append", "eventstore.read_stream", "eventstore.read_stream", "eventstore.read_all"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("spans %v, want %v", names, want)
	}
	if got := attr(spans[0], "eventstore.stream.category"); got != "incident" {
		t.Errorf("append span category %q, want incident", got)
	}
	if spans[0].Status().Code == codes.Error {
		t.Errorf("successful append span has status %v", spans[0].Status())
	}
	for _, i := range []int{1, 3} {
		if spans[i].Status().Code != codes.Error || len(spans[i].Events()) == 0 {
			t.Errorf("failed %s span: status %v, %d events; want an error status and the error recorded", spans[i].Name(), spans[i].Status(), len(spans[i].Events()))
		}
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

func TestRefusesWhatCannotWork(t *testing.T) {
	c := open(t, "esdb://"+freeAddr(t)+"?tls=false")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Append(ctx, "empty-1", store.NoStream()); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("append of no events: %v, want an immediate refusal", err)
	}
	handler := store.HandlerFuncs{OnEvent: func(context.Context, store.Recorded) error { return nil }}
	for _, f := range []store.Filter{
		{StreamPrefixes: []string{"a-"}, EventTypePrefixes: []string{"A"}},
		{EventTypePrefixes: []string{"A"}, StreamRegex: "^a"},
	} {
		if err := c.Subscribe(ctx, nil, f, handler); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Subscribe with filter %+v: %v, want an immediate refusal", f, err)
		}
	}
	if err := c.Subscribe(ctx, nil, store.Filter{}, store.HandlerFuncs{}); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Subscribe without an event handler: %v, want an immediate refusal", err)
	}
}
