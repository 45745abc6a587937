package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/incidentboard"
	"vigie/projections/projectiontest"
	"vigie/services/incidents/incident"
)

const leaseKey = "vigie:{incidents}:lease"

// safeBuffer collects a child's output while it runs.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestCrashAtAnyPointNeitherSkipsNorDoublesEvents kills a projector process 20 times
// at random moments of a sustained load; the model it leaves, once caught up, is a
// clean build from the log, key by key.
func TestCrashAtAnyPointNeitherSkipsNorDoublesEvents(t *testing.T) {
	ctx := context.Background()
	st, storeURL := projectiontest.Store(t)
	live := projectiontest.Redis(t)
	opts := live.Options()
	redisURL := fmt.Sprintf("redis://%s/%d", opts.Addr, opts.DB)
	if opts.Password != "" {
		redisURL = fmt.Sprintf("redis://:%s@%s/%d", opts.Password, opts.Addr, opts.DB)
	}

	l := newLoader(t, st, 50, 6)
	stopLoad := l.start(400)
	defer stopLoad()

	var active, progressed int
	var before store.Position
	for run := range 20 {
		out := &safeBuffer{}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=1", "VIGIE_TEST_REDIS_URL="+redisURL, "VIGIE_TEST_EVENTSTORE_URL="+storeURL, "VIGIE_TEST_BATCH=32")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point of its work, once it has taken the lease: a child
		// still starting (a race-enabled binary on a loaded machine takes a while)
		// would prove nothing about crashes mid-batch.
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), "projection active"); {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(20+rand.IntN(331)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("run %d: projector process ended by itself (%v) before the kill:\n%s", run, err, out)
		}
		// The dead holder's lease would expire within its TTL; the test does not wait.
		if err := live.Del(ctx, leaseKey).Err(); err != nil {
			t.Fatal(err)
		}
		_, pos, err := projections.Current(ctx, live, "", name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case pos.Less(before):
			t.Fatalf("run %d: the checkpoint went back from %v to %v", run, before, pos)
		case before.Less(pos):
			progressed++
			before = pos
		}
		if strings.Contains(out.String(), "projection active") {
			active++
		}
	}
	stopLoad()
	t.Logf("%d commands appended, %d resends answered as duplicates; %d of 20 projector processes became active, %d moved the checkpoint",
		l.handled.Load(), l.dups.Load(), active, progressed)
	if l.failed.Load() > 0 {
		t.Errorf("%d commands failed", l.failed.Load())
	}
	if progressed < 5 {
		t.Errorf("only %d of 20 killed processes applied anything: the test proves little", progressed)
	}

	// Run to completion, then compare with a build from the log into another database.
	p := newProjector(t, live, st)
	stop := projectiontest.Run(t, p)
	projectiontest.WaitCheckpoint(t, live, name, projectiontest.LastPosition(t, st), time.Now().Add(30*time.Second))
	stop()
	clean := cleanBuild(t, st)
	projectiontest.SameModel(t, name, live, 1, clean)
	n := logsOnce(t, live, 1, st, l)
	noDeadLetters(t, live)
	t.Logf("%d events of the board's streams", n)
}

// redisServer is a redis-server of the test's own, to stop and restart.
type redisServer struct {
	t    testing.TB
	port int
	args []string
	cmd  *exec.Cmd
	out  *safeBuffer
}

func newRedisServer(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	lis.Close()
	s := &redisServer{t: t, port: port, args: append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--dir", t.TempDir()}, extra...)}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func (s *redisServer) start() {
	s.t.Helper()
	s.out = &safeBuffer{}
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server %v does not answer:\n%s", s.args, s.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server the hard way: no chance to save anything it has not yet.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// TestRedisRestartDuringLoad stops Redis under load and starts it again, empty or with
// its data (append-only file, fsync always): the projector reconnects and catches up,
// rebuilding from the start when Redis lost everything, and the model is a clean build.
func TestRedisRestartDuringLoad(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		keeps bool
	}{
		{"empty after the restart", []string{"--appendonly", "no"}, false},
		{"data kept by the append-only file", []string{"--appendonly", "yes", "--appendfsync", "always"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st, _ := projectiontest.Store(t)
			srv := newRedisServer(t, tt.args...)
			rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
			t.Cleanup(func() { rdb.Close() })
			l := newLoader(t, st, 30, 4)
			stopLoad := l.start(300)
			defer stopLoad()
			p := newProjector(t, rdb, st)
			p.BatchSize = 16
			stop := projectiontest.Run(t, p)

			time.Sleep(time.Second)
			_, before, err := projections.Current(ctx, rdb, "", name)
			if err != nil || before == (store.Position{}) {
				t.Fatalf("nothing applied before the restart: %v, %v", before, err)
			}
			srv.kill()
			time.Sleep(500 * time.Millisecond) // the load goes on, Redis down
			srv.start()
			if tt.keeps {
				if _, after, err := projections.Current(ctx, rdb, "", name); err != nil || after.Less(before) {
					t.Fatalf("checkpoint after the restart = %v, %v (before: %v)", after, err, before)
				}
			}
			time.Sleep(time.Second) // and up again
			stopLoad()
			if l.failed.Load() > 0 {
				t.Errorf("%d commands failed", l.failed.Load())
			}

			projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(20*time.Second))
			stop()
			total := logsOnce(t, rdb, 1, st, l)
			projectiontest.SameModel(t, name, rdb, 1, cleanBuild(t, st))
			noDeadLetters(t, rdb)
			applied := p.Status().Applied
			t.Logf("%d events in the log, %d applied by the projector", total, applied)
			if tt.keeps && applied > uint64(total+p.BatchSize) {
				t.Errorf("applied %d events of %d: more than one batch was applied again", applied, total)
			}
			if !tt.keeps && applied <= uint64(total) {
				t.Errorf("applied %d events of %d: the projector did not start over on the empty Redis", applied, total)
			}
		})
	}
}

// crashable is a Redis client that can be made to fail every command from now on, as
// if its process had died: in particular it cannot release its lease.
type crashable struct{ crashed atomic.Bool }

var errCrashed = errors.New("crashed")

func (c *crashable) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *crashable) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if c.crashed.Load() {
			cmd.SetErr(errCrashed)
			return errCrashed
		}
		return next(ctx, cmd)
	}
}

func (c *crashable) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if c.crashed.Load() {
			for _, cmd := range cmds {
				cmd.SetErr(errCrashed)
			}
			return errCrashed
		}
		return next(ctx, cmds)
	}
}

// clientOf is another client on rdb's database.
func clientOf(t testing.TB, rdb *redis.Client) *redis.Client {
	c := redis.NewClient(rdb.Options())
	t.Cleanup(func() { c.Close() })
	return c
}

func waitFor(t testing.TB, what string, deadline time.Time, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchActive samples the projectors' statuses until stop: it reports how often none
// and how often more than one was active.
func watchActive(ps ...*projections.Projector) (stop func() (samples, none, several int)) {
	done := make(chan struct{})
	var samples, none, several int
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			n := 0
			for _, p := range ps {
				if p.Status().Active {
					n++
				}
			}
			samples++
			switch {
			case n == 0:
				none++
			case n > 1:
				several++
			}
		}
	})
	return func() (int, int, int) {
		close(done)
		wg.Wait()
		return samples, none, several
	}
}

// TestOnlyTheLeaseHolderApplies runs two projectors on one Redis: exactly one is
// active and applies, the standby applies nothing; a holder whose lease is taken
// (fencing) has its next commit refused and writes nothing more; in all, every event
// is applied exactly once.
func TestOnlyTheLeaseHolderApplies(t *testing.T) {
	ctx := context.Background()
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	l := newLoader(t, st, 40, 4)
	stopLoad := l.start(300)
	defer stopLoad()

	a, b := newProjector(t, clientOf(t, rdb), st), newProjector(t, clientOf(t, rdb), st)
	projectiontest.Run(t, a)
	projectiontest.Run(t, b)
	waitFor(t, "one projector is active", time.Now().Add(5*time.Second), func() bool { return a.Status().Active || b.Status().Active })
	stopWatch := watchActive(a, b)
	time.Sleep(2 * time.Second)
	samples, none, several := stopWatch()
	if none > 0 || several > 0 {
		t.Errorf("of %d samples, %d had no active projector and %d more than one", samples, none, several)
	}
	holder, standby := a, b
	if b.Status().Active {
		holder, standby = b, a
	}
	if s := standby.Status(); s.Applied != 0 || s.Active {
		t.Errorf("standby: %+v", s)
	}
	if s := holder.Status(); s.Applied == 0 {
		t.Errorf("holder applied nothing: %+v", s)
	}

	t.Run("a fenced holder writes nothing", func(t *testing.T) {
		// Take the lease as a newer holder would: a larger fencing token.
		token, err := rdb.Incr(ctx, "vigie:{incidents}:fence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, leaseKey, token, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		stolen := projectiontest.Model(t, rdb, name, 1)
		waitFor(t, "the fenced holder stands by", time.Now().Add(5*time.Second), func() bool { return !holder.Status().Active })
		applied := holder.Status().Applied
		time.Sleep(1500 * time.Millisecond) // the load goes on
		if s := standby.Status(); s.Active || s.Applied != 0 {
			t.Errorf("the standby took a lease it does not hold: %+v", s)
		}
		if got := projectiontest.Model(t, rdb, name, 1); fmt.Sprint(got) != fmt.Sprint(stolen) {
			t.Errorf("the model changed after the lease was taken (%d keys then, %d now)", len(stolen), len(got))
		}
		if got := holder.Status().Applied; got != applied {
			t.Errorf("the fenced holder counted %d more events applied", got-applied)
		}
		// The thief goes away: one of the two takes over and catches up.
		if err := rdb.Del(ctx, leaseKey).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a projector takes the lease again", time.Now().Add(5*time.Second), func() bool { return a.Status().Active || b.Status().Active })
	})

	time.Sleep(500 * time.Millisecond)
	stopLoad()
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(10*time.Second))
	total := logsOnce(t, rdb, 1, st, l)
	projectiontest.SameModel(t, name, rdb, 1, cleanBuild(t, st))
	noDeadLetters(t, rdb)
	if got := a.Status().Applied + b.Status().Applied; got != uint64(total) {
		t.Errorf("the two projectors applied %d events in all, the log has %d", got, total)
	}
}

// TestStandbyTakesOverWithinFiveSeconds: the active projector dies without releasing
// its lease; the standby is active and the model caught up within 5 s.
func TestStandbyTakesOverWithinFiveSeconds(t *testing.T) {
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	l := newLoader(t, st, 40, 4)
	stopLoad := l.start(300)
	defer stopLoad()

	crash := &crashable{}
	ac := clientOf(t, rdb)
	ac.AddHook(crash)
	a, b := newProjector(t, ac, st), newProjector(t, clientOf(t, rdb), st)
	stopA := projectiontest.Run(t, a)
	waitFor(t, "the first projector is active", time.Now().Add(5*time.Second), func() bool { return a.Status().Active })
	projectiontest.Run(t, b)
	time.Sleep(1500 * time.Millisecond)
	if s := b.Status(); s.Active || s.Applied != 0 {
		t.Fatalf("standby before the crash: %+v", s)
	}

	crash.crashed.Store(true)
	died := time.Now()
	stopA() // Run's release of the lease fails: the lease stays until it expires
	if s := a.Status(); s.Active {
		t.Errorf("crashed projector: %+v", s)
	}
	if ttl, err := rdb.PTTL(context.Background(), leaseKey).Result(); err != nil || ttl <= 0 {
		t.Fatalf("the dead holder's lease: ttl %v, %v", ttl, err)
	}
	time.Sleep(time.Second) // commands go on while nobody applies them
	stopLoad()
	deadline := died.Add(5 * time.Second)
	waitFor(t, "the standby is active", deadline, func() bool { return b.Status().Active })
	active := time.Since(died)
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), deadline)
	t.Logf("standby active %v after the crash, caught up after %v", active.Round(time.Millisecond), time.Since(died).Round(time.Millisecond))

	total := logsOnce(t, rdb, 1, st, l)
	projectiontest.SameModel(t, name, rdb, 1, cleanBuild(t, st))
	noDeadLetters(t, rdb)
	if got := a.Status().Applied + b.Status().Applied; got != uint64(total) {
		t.Errorf("the two projectors applied %d events in all, the log has %d", got, total)
	}
}

// do runs one command on incident i of the loader and fails the test if it fails.
func (l *loader) do(t testing.TB, i int, decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) command.Result[*incident.Incident] {
	t.Helper()
	res, err := l.inc.Handle(context.Background(), command.Command[*incident.Incident]{
		Name: "Test", Stream: "incident-" + l.incidents[i], CommandID: l.commandID(),
		Authorize: func(*incident.Incident) (events.Actor, string, error) { return asMayor, l.domainOf(i), nil },
		Decide:    decide,
	})
	if err != nil {
		t.Fatalf("command on %s: %v", l.incidents[i], err)
	}
	return res
}

func (l *loader) report(t testing.TB, i int) {
	t.Helper()
	l.do(t, i, func(s *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return s.Report(incident.Report{IncidentID: l.incidents[i], Domain: l.domainOf(i), Kind: incident.KindFlood, Title: "Crue", Severity: incident.SeverityModerate}, by, at)
	})
}

func (l *loader) logEntry(t testing.TB, i int, entry, text string) store.Position {
	t.Helper()
	return l.do(t, i, func(s *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return s.AddLogEntry(incident.AddLogEntry{EntryID: entry, Text: text}, by, at)
	}).Position
}

// rawEvent is an event to append as is, with good metadata.
func rawEvent(l *loader, stream, typ string, data []byte) store.EventData {
	md := events.NewMetadata(l.commandID(), asMayor, communes[0], time.Now().UTC())
	id := command.EventID(stream, asMayor.Subject, md.CommandID, 0)
	md.EventID = id.String()
	md.Schema = 1
	meta, _ := json.Marshal(md)
	return store.EventData{ID: id, Type: typ, Data: data, Metadata: meta}
}

type parked struct {
	Position store.Position `json:"position"`
	StreamID string         `json:"streamId"`
	Type     string         `json:"type"`
	Reason   string         `json:"reason"`
	At       time.Time      `json:"at"`
}

func deadLetters(t testing.TB, rdb redis.Cmdable) []parked {
	t.Helper()
	raw, err := projections.DeadLetters(context.Background(), rdb, name, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]parked, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("dead letter %s: %v", r, err)
		}
	}
	return out
}

func entryIDs(t testing.TB, rdb redis.Cmdable, id string) []string {
	t.Helper()
	log, err := incidentboard.Reader{Redis: rdb}.Log(context.Background(), id, incidentboard.Page{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range log {
		out = append(out, e.ID)
	}
	return out
}

// TestPoisonEventIsParkedAndTheBoardStaysLive appends to an incident's stream an event
// of a type nobody knows and one whose data is not JSON: both are parked, with their
// position and reason, and the events after them are on the board.
func TestPoisonEventIsParkedAndTheBoardStaysLive(t *testing.T) {
	ctx := context.Background()
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	p := newProjector(t, rdb, st)
	projectiontest.Run(t, p)
	l := newLoader(t, st, 2, 0)
	l.report(t, 0)
	l.report(t, 1)
	pStream := "incident-" + l.incidents[0]

	unknown, err := st.Append(ctx, pStream, store.Exact(0), rawEvent(l, pStream, "IncidentTeleported", []byte(`{"to":"Mars"}`)))
	if err != nil {
		t.Fatal(err)
	}
	malformed, err := st.Append(ctx, pStream, store.Exact(1), rawEvent(l, pStream, "LogEntryAdded", []byte(`{"entryId": "x", "text": `)))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.Registry(incident.Register)
	if err != nil {
		t.Fatal(err)
	}
	md := events.NewMetadata(l.commandID(), asMayor, communes[0], time.Now().UTC())
	env, err := reg.Encode(ctx, incident.LogEntryAdded{EntryID: "after", Text: "Après le poison", Author: asMayor.Subject, At: md.OccurredAt}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, pStream, store.Exact(2), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	l.logEntry(t, 1, "q1", "Sur l'autre incident")
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(10*time.Second))

	dl := deadLetters(t, rdb)
	if len(dl) != 2 {
		t.Fatalf("dead letters: %+v", dl)
	}
	for i, want := range []struct {
		pos          store.Position
		typ, because string
	}{{unknown.Position, "IncidentTeleported", "unknown event type"}, {malformed.Position, "LogEntryAdded", "malformed"}} {
		if d := dl[i]; d.Position != want.pos || d.StreamID != pStream || d.Type != want.typ || !strings.Contains(d.Reason, want.because) || d.At.IsZero() {
			t.Errorf("dead letter %d = %+v, want %s at %v because %s", i, d, want.typ, want.pos, want.because)
		}
	}
	if s := p.Status(); s.Parked != 2 || !s.Active {
		t.Errorf("Status = %+v, want 2 parked", s)
	}
	if got := entryIDs(t, rdb, l.incidents[0]); fmt.Sprint(got) != "[after]" {
		t.Errorf("log after the poison = %v", got)
	}
	if got := entryIDs(t, rdb, l.incidents[1]); fmt.Sprint(got) != "[q1]" {
		t.Errorf("log of the other incident = %v", got)
	}

	// The board stays live.
	l.logEntry(t, 1, "q2", "Toujours là")
	waitFor(t, "a new entry is on the board", time.Now().Add(5*time.Second), func() bool {
		return fmt.Sprint(entryIDs(t, rdb, l.incidents[1])) == "[q1 q2]"
	})
	if s := p.Status(); s.Parked != 2 {
		t.Errorf("Status = %+v, want 2 parked", s)
	}
}

// refusing is the incident board, failing to apply a batch that holds a log entry
// with a given text. Its first batch is slow, so that the rest queues up into one.
type refusing struct {
	projections.Projection
	text    string
	calls   atomic.Int64
	biggest atomic.Int64 // the largest batch that held the refused event
}

func (r *refusing) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	if r.calls.Add(1) == 1 {
		time.Sleep(300 * time.Millisecond)
	}
	for _, e := range batch {
		if le, ok := e.Event.(incident.LogEntryAdded); ok && le.Text == r.text {
			if n := int64(len(batch)); n > r.biggest.Load() {
				r.biggest.Store(n)
			}
			return fmt.Errorf("refusing %q", le.Text)
		}
	}
	return r.Projection.Apply(ctx, m, batch)
}

// TestEventThatFailsToApplyIsParkedAlone: when a projection cannot apply a batch, the
// event at fault is found and parked; the others of the batch, before and after it,
// are applied once each, and an undecodable event of the same batch is parked too.
func TestEventThatFailsToApplyIsParkedAlone(t *testing.T) {
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	l := newLoader(t, st, 3, 0)
	l.report(t, 0)
	var bad store.Position
	for i := 1; i <= 8; i++ {
		text := fmt.Sprintf("Entrée %d", i)
		if i == 5 {
			text = "poison"
		}
		pos := l.logEntry(t, 0, fmt.Sprintf("e%d", i), text)
		if i == 5 {
			bad = pos
		}
	}
	l.report(t, 1)
	undecodable, err := st.Append(context.Background(), "incident-"+l.incidents[2], store.NoStream(), rawEvent(l, "incident-"+l.incidents[2], "IncidentTeleported", []byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	l.logEntry(t, 1, "q1", "Après")

	inner, err := incidentboard.New()
	if err != nil {
		t.Fatal(err)
	}
	proj := &refusing{Projection: inner, text: "poison"}
	p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: quietLog(t)}
	projectiontest.Run(t, p)
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(10*time.Second))

	if n := proj.biggest.Load(); n < 3 {
		t.Logf("the refused event came in a batch of %d only", n)
	}
	if got := entryIDs(t, rdb, l.incidents[0]); fmt.Sprint(got) != "[e1 e2 e3 e4 e6 e7 e8]" {
		t.Errorf("log = %v", got)
	}
	if got := entryIDs(t, rdb, l.incidents[1]); fmt.Sprint(got) != "[q1]" {
		t.Errorf("log of the other incident = %v", got)
	}
	doc, err := incidentboard.Reader{Redis: rdb}.Get(context.Background(), l.incidents[0])
	if err != nil || doc.LogLength != 7 {
		t.Errorf("document = %+v, %v", doc, err)
	}
	dl := deadLetters(t, rdb)
	var got []string
	for _, d := range dl {
		got = append(got, fmt.Sprintf("%s@%s", d.Type, d.Position))
		switch d.Position {
		case bad:
			if !strings.Contains(d.Reason, `refusing "poison"`) {
				t.Errorf("reason = %q", d.Reason)
			}
		case undecodable.Position:
		default:
			t.Errorf("parked: %+v", d)
		}
	}
	if len(dl) != 2 {
		t.Errorf("dead letters = %v, want LogEntryAdded@%s and IncidentTeleported@%s", got, bad, undecodable.Position)
	}
	if s := p.Status(); s.Parked != 2 {
		t.Errorf("Status = %+v", s)
	}
}

// TestRebuildSwitchesWithoutDowntime rebuilds the board into version 2 while the live
// projector and the load go on: a reader never sees an error nor an empty board, the
// old keys go, the live projector follows version 2, which is a clean build.
func TestRebuildSwitchesWithoutDowntime(t *testing.T) {
	ctx := context.Background()
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	l := newLoader(t, st, 40, 4)
	stopLoad := l.start(300)
	defer stopLoad()
	live := newProjector(t, clientOf(t, rdb), st)
	projectiontest.Run(t, live)

	r := incidentboard.Reader{Redis: clientOf(t, rdb)}
	waitFor(t, "the board shows incidents", time.Now().Add(10*time.Second), func() bool {
		docs, err := r.List(ctx, "dep:30", nil, incidentboard.Page{})
		return err == nil && len(docs) > 0
	})
	readerDone := make(chan struct{})
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-readerDone:
					return
				default:
				}
				docs, err := r.List(ctx, "dep:30", nil, incidentboard.Page{})
				reads.Add(1)
				if err != nil || len(docs) == 0 {
					if failures.Add(1) <= 5 {
						t.Errorf("List during the rebuild: %d incidents, %v", len(docs), err)
					}
				}
			}
		})
	}
	defer func() {
		select {
		case <-readerDone:
		default:
			close(readerDone)
		}
		wg.Wait()
	}()

	time.Sleep(500 * time.Millisecond)
	rebuilder := newProjector(t, clientOf(t, rdb), st)
	started := time.Now()
	v, err := rebuilder.Rebuild(ctx)
	if err != nil || v != 2 {
		t.Fatalf("Rebuild = %d, %v", v, err)
	}
	t.Logf("rebuilt in %v", time.Since(started).Round(time.Millisecond))
	if k, _, err := projections.Current(ctx, rdb, "", name); err != nil || k != projections.KeysOf(name, 2) {
		t.Errorf("current keys %v, %v; want version 2", k, err)
	}
	if old := projectiontest.Model(t, rdb, name, 1); len(old) != 0 {
		t.Errorf("%d keys of version 1 remain", len(old))
	}
	if s := rebuilder.Status(); s.Active {
		t.Errorf("the rebuilder stays active: %+v", s)
	}

	// The live instance takes the lease back and applies new commands into version 2.
	waitFor(t, "the live projector is active again", time.Now().Add(5*time.Second), func() bool { return live.Status().Active })
	fresh := newLoader(t, st, 1, 0)
	fresh.report(t, 0)
	added := fresh.logEntry(t, 0, "after-rebuild", "Après la reconstruction")
	projectiontest.WaitCheckpoint(t, rdb, name, added, time.Now().Add(5*time.Second))
	if got := entryIDs(t, rdb, fresh.incidents[0]); !slices.Contains(got, "after-rebuild") {
		t.Errorf("the entry made after the rebuild is not on the board: %v", got)
	}
	time.Sleep(300 * time.Millisecond)
	close(readerDone)
	wg.Wait()
	t.Logf("%d reads during and after the rebuild, %d failed or empty", reads.Load(), failures.Load())

	stopLoad()
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(10*time.Second))
	logsOnce(t, rdb, 2, st, l)
	projectiontest.SameModel(t, name, rdb, 2, cleanBuild(t, st))
	noDeadLetters(t, rdb)
	if old := projectiontest.Model(t, rdb, name, 1); len(old) != 0 {
		t.Errorf("%d keys of version 1 after the rebuild: %v", len(old), old)
	}
}

// TestFencingHoldsAfterRedisLosesEverything: Redis restarts empty while a projector
// holds the lease and another starts; the fence counter starts over too, yet the old
// holder must not take the newcomer's lease for its own: exactly one applies, and
// every event is applied once into the new, empty model.
func TestFencingHoldsAfterRedisLosesEverything(t *testing.T) {
	st, _ := projectiontest.Store(t)
	srv := newRedisServer(t, "--appendonly", "no")
	client := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { c.Close() })
		return c
	}
	l := newLoader(t, st, 30, 4)
	stopLoad := l.start(300)
	defer stopLoad()
	a := newProjector(t, client(), st)
	projectiontest.Run(t, a)
	waitFor(t, "the first projector is active", time.Now().Add(5*time.Second), func() bool { return a.Status().Active })
	time.Sleep(time.Second)
	stopLoad()
	rdb := client()
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(10*time.Second))

	// The checkpoint is in Redis a moment before the projector counts the batch: let
	// the count settle before taking it.
	appliedBefore := a.Status().Applied
	for settled := time.Now(); time.Since(settled) < 200*time.Millisecond; time.Sleep(10 * time.Millisecond) {
		if n := a.Status().Applied; n != appliedBefore {
			appliedBefore, settled = n, time.Now()
		}
	}
	// Redis loses everything; a second projector starts at once, before the first one,
	// idle, has touched Redis again.
	srv.kill()
	srv.start()
	b := newProjector(t, client(), st)
	projectiontest.Run(t, b)
	waitFor(t, "a projector holds a lease on the new Redis", time.Now().Add(5*time.Second), func() bool {
		return rdb.Exists(context.Background(), leaseKey).Val() == 1
	})

	stopLoad = l.start(300)
	defer stopLoad()
	time.Sleep(1500 * time.Millisecond) // a renewal period and more: a stale holder has found out
	stopWatch := watchActive(a, b)
	time.Sleep(1500 * time.Millisecond)
	samples, _, several := stopWatch()
	if several > 0 {
		t.Errorf("both projectors active in %d of %d samples", several, samples)
	}
	stopLoad()
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, st), time.Now().Add(15*time.Second))
	total := logsOnce(t, rdb, 1, st, l)
	projectiontest.SameModel(t, name, rdb, 1, cleanBuild(t, st))
	noDeadLetters(t, rdb)
	if got := a.Status().Applied - appliedBefore + b.Status().Applied; got != uint64(total) {
		t.Errorf("since the restart the two projectors applied %d events in all, the log has %d", got, total)
	}
}

// TestAModelAheadOfARestoredLogIsRebuilt: the event store is restored from a backup
// older than the read model (here: a second store holding only the first part of the
// crisis). A projector starting on it must not keep the model's lost events nor skip
// the new ones up to the old checkpoint: it rebuilds, and the board is the restored
// log's.
func TestAModelAheadOfARestoredLogIsRebuilt(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	before, _ := projectiontest.Store(t)
	after, _ := projectiontest.Store(t)
	// The restored log: 3 incidents. The model was built from a longer one: 10.
	short := newLoader(t, after, 3, 0)
	for i := range 3 {
		short.report(t, i)
	}
	long := newLoader(t, before, 10, 0)
	for i := range 10 {
		long.report(t, i)
	}
	for range 20 {
		long.logEntry(t, 9, fmt.Sprintf("e-%d", long.seq.Add(1)), "Entrée perdue avec le log")
	}
	first := newProjector(t, clientOf(t, rdb), before)
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = first.Run(pctx) }()
	projectiontest.WaitCheckpoint(t, rdb, name, projectiontest.LastPosition(t, before), time.Now().Add(10*time.Second))
	stop()
	<-done

	restored := newProjector(t, clientOf(t, rdb), after)
	projectiontest.Run(t, restored)
	fresh := short.logEntry(t, 0, "after-restore", "Après la restauration")
	projectiontest.WaitCheckpoint(t, rdb, name, fresh, time.Now().Add(10*time.Second))
	r := incidentboard.Reader{Redis: clientOf(t, rdb)}
	var docs []incidentboard.Incident
	// Incidents 0..2 of a loader are in Nîmes, Alès and Marseille: two in the Gard.
	waitFor(t, "the board shows the restored log only", time.Now().Add(10*time.Second), func() bool {
		var err error
		docs, err = r.List(ctx, "dep:30", nil, incidentboard.Page{})
		return err == nil && len(docs) == 2 && docs[0].ID != long.incidents[0] && docs[1].ID != long.incidents[0]
	})
	if got := entryIDs(t, rdb, short.incidents[0]); !slices.Contains(got, "after-restore") {
		t.Errorf("the entry made after the restore is not on the board: %v", got)
	}
	if k, _, err := projections.Current(ctx, rdb, "", name); err != nil || k != projections.KeysOf(name, 2) {
		t.Fatalf("current keys %v, %v; want the rebuilt version 2", k, err)
	}
	projectiontest.SameModel(t, name, rdb, 2, cleanBuild(t, after))
}
