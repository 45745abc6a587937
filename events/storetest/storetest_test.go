package storetest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/events/storetest"
)

// Environment of the test binary re-executed as a stand-alone embedded server.
const (
	envServeDir  = "VIGIE_STORETEST_SERVE_DIR"
	envServeAddr = "VIGIE_STORETEST_SERVE_ADDR"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envServeDir); dir != "" {
		os.Exit(serve(dir, os.Getenv(envServeAddr)))
	}
	os.Exit(m.Run())
}

// serve runs the embedded server until SIGTERM/SIGINT (the crash test kills it).
func serve(dir, addr string) int {
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 2
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: addr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 2
	}
	fmt.Printf("listening on %s\n", srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	srv.Close()
	if err := st.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

func startEmbedded(t *testing.T) (*embedded.Store, *embedded.Server) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		st.Close()
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close embedded store: %v", err)
		}
	})
	return st, srv
}

func connect(t *testing.T, url string, opts ...store.Option) *store.Client {
	t.Helper()
	c, err := store.Open(url, opts...)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEmbeddedServerPassesContract(t *testing.T) {
	_, srv := startEmbedded(t)
	storetest.Run(t, func(t *testing.T) *store.Client { return connect(t, srv.URL()) })
	storetest.RunMetadata(t, srv.URL())
}

func TestEventStoreDBPassesContract(t *testing.T) {
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Skip("EVENTSTORE_URL not set: no real EventStoreDB server here")
	}
	storetest.Run(t, func(t *testing.T) *store.Client { return connect(t, url) })
	storetest.RunMetadata(t, url)
	t.Run("Auth", func(t *testing.T) { storetest.RunAuth(t, url, true) }) // skipped on an insecure node
	t.Run("ACL", func(t *testing.T) {
		alice, bob := os.Getenv("EVENTSTORE_ALICE_URL"), os.Getenv("EVENTSTORE_BOB_URL")
		if alice == "" || bob == "" {
			t.Skip("EVENTSTORE_ALICE_URL and EVENTSTORE_BOB_URL (two users of the real node outside $admins) not set")
		}
		storetest.RunACL(t, storetest.ACLUsers{Admin: url, Alice: alice, Bob: bob})
	})
}

// startSecure serves a store as `vigie serve eventstore --secure` does (users file and
// private CA made in its directory), with further users (name, password) outside
// $admins; it returns a URL for name and password.
func startSecure(t *testing.T, extra ...[2]string) (urlFor func(user, password string) string, adminPassword string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := embedded.EnsureUsers(dir); err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, embedded.AdminPasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) > 0 {
		path := filepath.Join(dir, embedded.UsersFile)
		l, err := embedded.ReadUserList(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range extra {
			if err := l.Set(u[0], u[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Write(path); err != nil {
			t.Fatal(err)
		}
	}
	files, err := embedded.EnsureTLS(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	users, err := embedded.LoadUsers(filepath.Join(dir, embedded.UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Users: users, CertFile: files.Cert, KeyFile: files.Key})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); st.Close() })
	return func(user, password string) string {
		return fmt.Sprintf("esdb://%s@%s?tls=true&tlsCAFile=%s", url.UserPassword(user, password), srv.Addr(), url.QueryEscape(files.CA))
	}, strings.TrimSpace(string(pw))
}

// The embedded server as `vigie serve eventstore --secure` serves it.
func TestEmbeddedSecureServerPassesAuthContract(t *testing.T) {
	urlFor, pw := startSecure(t)
	secureURL := urlFor(embedded.AdminUser, pw)
	// Vigie's own client, as the services open EVENTSTORE_URL.
	c := connect(t, secureURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := "secure" + strings.ReplaceAll(uuid.NewString(), "-", "") + "-1"
	if _, err := c.Append(ctx, stream, store.NoStream(), eventsFor("Secure", 0, 1)...); err != nil {
		t.Fatalf("store.Client append over TLS with credentials: %v", err)
	}
	if recs, err := c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit); err != nil || len(recs) != 1 {
		t.Fatalf("store.Client read: %d events, %v", len(recs), err)
	}
	storetest.RunAuth(t, secureURL, false)
}

func TestEmbeddedSecureServerPassesACLContract(t *testing.T) {
	urlFor, pw := startSecure(t, [2]string{"alice", "alice-secret"}, [2]string{"bob", "bob-secret"})
	storetest.RunACL(t, storetest.ACLUsers{Admin: urlFor(embedded.AdminUser, pw), Alice: urlFor("alice", "alice-secret"), Bob: urlFor("bob", "bob-secret")})
}

// appendSettled appends, retrying while the store is unavailable with the same events
// and expected revision (the server answers a retry of a stored append idempotently).
// It returns how many attempts failed.
func appendSettled(ctx context.Context, c *store.Client, stream string, exp store.Expected, evs []store.EventData) (store.AppendResult, int, error) {
	for failed := 0; ; failed++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := c.Append(actx, stream, exp, evs...)
		cancel()
		if err == nil {
			return res, failed, nil
		}
		if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			return res, failed, err
		}
		if ctx.Err() != nil {
			return res, failed, fmt.Errorf("still failing when the test's time ran out: %w", err)
		}
		select {
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

func eventsFor(typ string, from, n int) []store.EventData {
	out := make([]store.EventData, n)
	for i := range out {
		out[i] = store.EventData{ID: uuid.New(), Type: typ, Data: fmt.Appendf(nil, `{"n":%d}`, from+i)}
	}
	return out
}

// collector records a subscription's events and signals each one.
type collector struct {
	mu     sync.Mutex
	events []store.Recorded
	signal chan struct{}
}

func (c *collector) Event(_ context.Context, e store.Recorded) error {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) waitFor(t *testing.T, ctx context.Context, n int) []store.Recorded {
	t.Helper()
	for {
		c.mu.Lock()
		got := append([]store.Recorded(nil), c.events...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.signal:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("waiting for %d events: %v (got %d)", n, ctx.Err(), len(got))
		}
	}
}

// TestSubscriptionResumesAfterServerRestart: the server stops under a live
// subscription and comes back on the same address; the handler sees every event once,
// in order.
func TestSubscriptionResumesAfterServerRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, srv := startEmbedded(t)
	addr := srv.Addr()
	c := connect(t, srv.URL())
	stream := "restart" + strings.ReplaceAll(uuid.NewString(), "-", "") + "-1"

	col := &collector{signal: make(chan struct{}, 1)}
	subCtx, stopSub := context.WithCancel(ctx)
	subErr := make(chan error, 1)
	go func() { subErr <- c.Subscribe(subCtx, nil, store.Filter{StreamPrefixes: []string{stream}}, col) }()

	var want []uuid.UUID
	exp := store.NoStream()
	for i := range 10 {
		evs := eventsFor("BeforeRestart", i, 1)
		res, err := c.Append(ctx, stream, exp, evs...)
		if err != nil {
			t.Fatalf("append before the restart: %v", err)
		}
		exp = store.Exact(res.NextRevision)
		want = append(want, evs[0].ID)
	}
	col.waitFor(t, ctx, 10)

	srv.Close()
	// Several attempts while down: the official client's discovery gives up and closes
	// it for good, which the store client must survive.
	for i := range 3 {
		downCtx, downCancel := context.WithTimeout(ctx, time.Second)
		_, err := c.Append(downCtx, stream, exp, eventsFor("WhileDown", i, 1)...)
		downCancel()
		if err == nil {
			t.Fatal("an append succeeded while the server was stopped")
		}
		if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("append while the server is stopped: %v, want ErrUnavailable", err)
		}
	}

	srv2, err := st.Listen(embedded.ListenConfig{Addr: addr})
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	t.Cleanup(srv2.Close)
	for i := range 10 {
		evs := eventsFor("AfterRestart", 10+i, 1)
		res, _, err := appendSettled(ctx, c, stream, exp, evs)
		if err != nil {
			t.Fatalf("append after the restart: %v", err)
		}
		exp = store.Exact(res.NextRevision)
		want = append(want, evs[0].ID)
	}
	got := col.waitFor(t, ctx, len(want))
	// One more event, so that a duplicate delivered late would show.
	last := eventsFor("Last", 20, 1)
	if _, _, err := appendSettled(ctx, c, stream, exp, last); err != nil {
		t.Fatalf("append: %v", err)
	}
	want = append(want, last[0].ID)
	got = col.waitFor(t, ctx, len(want))
	stopSub()
	if err := <-subErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
	col.mu.Lock()
	got = append([]store.Recorded(nil), col.events...)
	col.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("handler saw %d events, want %d: gap or duplicate across the restart", len(got), len(want))
	}
	for i, r := range got {
		if r.Revision != uint64(i) || r.ID != want[i] {
			t.Fatalf("handler's event %d is revision %d id %v, want revision %d id %v", i, r.Revision, r.ID, i, want[i])
		}
	}
}

// server is the embedded server running as a separate process.
type server struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startServer(t *testing.T, dir, addr string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServeDir+"="+dir, envServeAddr+"="+addr)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the server process: %v", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(s.kill)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case l, ok := <-line:
		a, found := strings.CutPrefix(l, "listening on ")
		if !ok || !found {
			t.Fatalf("server process said %q, want \"listening on ADDR\"", l)
		}
		s.addr = a
	case <-time.After(30 * time.Second):
		t.Fatal("server process did not start listening within 30 s")
	}
	return s
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill() // SIGKILL: no chance to flush or close anything
	<-s.done
}

// TestAcknowledgedEventsSurviveServerCrashes runs the embedded server as a separate
// process, SIGKILLs it at random moments under 8 concurrent writers and restarts it on
// the same directory, 20 times. Every acknowledged event must then be stored exactly
// once, in order; an append whose acknowledgement was lost is retried with the same
// events and expected revision, which must not write it twice.
func TestAcknowledgedEventsSurviveServerCrashes(t *testing.T) {
	const writers, rounds = 8, 20
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	srv := startServer(t, dir, "127.0.0.1:0")
	addr := srv.addr
	c := connect(t, "esdb://"+addr+"?tls=false")
	cat := "crash" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]

	var (
		stop    atomic.Bool
		retried atomic.Int64
		wg      sync.WaitGroup
		acked   = make([][]uuid.UUID, writers)
		errs    = make(chan error, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("%s-w%d", cat, w)
			exp := store.NoStream()
			for n := 0; !stop.Load(); {
				evs := eventsFor("Written", n, 1+rand.IntN(3))
				res, failed, err := appendSettled(ctx, c, stream, exp, evs)
				if err != nil {
					errs <- fmt.Errorf("writer %d, append of events %d..%d expecting %v: %w", w, n, n+len(evs)-1, exp, err)
					return
				}
				if failed > 0 {
					retried.Add(1)
				}
				n += len(evs)
				if res.NextRevision != uint64(n-1) {
					errs <- fmt.Errorf("writer %d: append acknowledged at revision %d, want %d", w, res.NextRevision, n-1)
					return
				}
				exp = store.Exact(res.NextRevision)
				acked[w] = append(acked[w], eventIDs(evs)...) // only this goroutine, read after wg.Wait
			}
		}()
	}

	for round := range rounds {
		select {
		case <-time.After(time.Duration(10+rand.IntN(191)) * time.Millisecond):
		case err := <-errs:
			t.Fatalf("round %d: %v", round, err)
		}
		srv.kill()
		srv = startServer(t, dir, addr)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	total := 0
	for w := range writers {
		total += len(acked[w])
	}
	t.Logf("%d events acknowledged by %d writers over %d crashes; %d appends needed a retry", total, writers, rounds, retried.Load())
	if total == 0 {
		t.Fatal("no append was acknowledged: the test proved nothing")
	}

	for w := range writers {
		stream := fmt.Sprintf("%s-w%d", cat, w)
		recs, err := c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit)
		if err != nil && !(errors.Is(err, store.ErrStreamNotFound) && len(acked[w]) == 0) {
			t.Fatalf("read %s: %v", stream, err)
		}
		if len(recs) != len(acked[w]) {
			t.Errorf("%s holds %d events, %d were acknowledged", stream, len(recs), len(acked[w]))
		}
		for i, r := range recs {
			if r.Revision != uint64(i) {
				t.Fatalf("%s: event %d has revision %d", stream, i, r.Revision)
			}
			if i < len(acked[w]) && r.ID != acked[w][i] {
				t.Fatalf("%s: revision %d is %v, the acknowledged event there is %v", stream, i, r.ID, acked[w][i])
			}
		}
	}

	seen := map[uuid.UUID]bool{}
	next := map[string]uint64{}
	var prev *store.Position
	err := c.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		if seen[r.ID] {
			return fmt.Errorf("$all holds event %v twice (%s@%d)", r.ID, r.StreamID, r.Revision)
		}
		seen[r.ID] = true
		if prev != nil && !prev.Less(r.Position) {
			return fmt.Errorf("$all position %v after %v", r.Position, *prev)
		}
		p := r.Position
		prev = &p
		if r.Revision != next[r.StreamID] {
			return fmt.Errorf("$all: %s revision %d, want %d", r.StreamID, r.Revision, next[r.StreamID])
		}
		next[r.StreamID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != total {
		t.Fatalf("$all holds %d events, %d were acknowledged", len(seen), total)
	}
}

func eventIDs(evs []store.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
