package projections_test

// Benchmarks of the read side, against a real Redis (projectiontest: 127.0.0.1:6379 or
// REDIS_URL, in a database of their own) and the embedded event store, served in this
// process over loopback gRPC with its log on the real disk. docs/BENCHMARKS.md has the
// figures; scripts/bench-projections runs them as documented:
//
//	go test -run '^$' -bench 'ProjectionLag|Rebuild' -benchtime 1x -timeout 30m
//
// BenchmarkProjectionLag runs every read model of boards.All(), one Projector each,
// on a log already holding VIGIE_BENCH_LAG_BACKLOG events (default 20,000), while 16
// writers append incident events (reports of new incidents, qualifications, and
// mostly main-courante entries, decided by the domain and encoded with metadata as
// command.Handler does) at a paced VIGIE_BENCH_LAG_RATE events/s (default 1,000),
// one event per append, for VIGIE_BENCH_LAG_SECONDS (default 10) after a one-second
// warm-up that is not counted. b.N is ignored: a run lasts that long whatever it is.
// The lag of an event is the first time its read model's checkpoint covers its
// position minus the time its append was acknowledged to the writer (0 when the
// model committed it before the writer heard back). Coverage is observed two ways,
// the earliest wins: the notices the projector publishes after each commit (Redis
// pub/sub, carrying the event's position) and a poll of projections.Current every
// millisecond. Metrics:
//
//	p50-ms, p99-ms, max-ms   lag of the incident board
//	prefecture-p99-ms        the same for the prefecture's overview
//	timeline-p99-ms          the same for the timeline
//	delivery-p99-ms          the same for a bare live subscription to incident
//	                         streams that applies nothing: the store's share
//	events/s                 appends acknowledged per second over the measured period
//	append-p99-ms            the writers' append latency (group-committed fsync)
//	go-cpu-%, redis-cpu-%    CPU of this process (store, projectors, load) and of
//	                         redis-server over the period, in % of one core
//
// The log adds the incident board's worst lag in each second of the period, which
// tells a few stalls from a tail spread all along.
//
// BenchmarkRebuild fills the log with VIGIE_BENCH_REBUILD_EVENTS events (default
// 200,000; the documented run uses 1,000,000): incidents of ten events each (a report,
// a qualification, main-courante entries, one in five escalated, one in two closed),
// written by 32 concurrent writers that each keep 8 incidents open and append five
// events at a time to each in turn, so that the log interleaves many incidents as a
// crisis does. Then, each timed on its own:
//
//	incidents             Projector.Rebuild of the incident board, b.N times (the
//	                      first finds no previous version; later ones delete the one
//	                      they replace, as a rebuild in production does)
//	all                   Rebuild of every read model of boards.All(), one after the
//	                      other; <name>-ev/s is the log's events per second of each
//	                      (resources reads none of these events: its figure is the
//	                      speed of scanning the log past them)
//	store-read            the same log read through a catch-up subscription alone
//	                      (incident-/resource- filter, no decoding, no Redis): the
//	                      store's side of the bound
//	redis-benchmark-set   `redis-benchmark -P 16 -t set -n 500000 -q` on the same
//	                      server in the same run, the physical reference (skipped
//	                      only when the binary is absent)
//
// Rebuild metrics: events/s (log events per second of rebuild, switch included),
// redis-cmds/event and redis-cmds/s (from the server's total_commands_processed, so
// other clients of a shared server inflate them), go-cpu-% and redis-cpu-%; the log
// of incidents adds how the log was filled and the commands per event by name.
// VIGIE_BENCH_CPUPROFILE=FILE writes a CPU profile of the incidents rebuild alone,
// without the filling of the log that -cpuprofile would include (go tool pprof -top).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/boards"
	"vigie/projections/incidentboard"
	"vigie/projections/prefecture"
	"vigie/projections/projectiontest"
	"vigie/projections/timeline"
	"vigie/services/incidents/incident"
)

// The territory of the benchmarks: ten communes of four départements.
var benchCommunes = []string{
	"dep:30/com:30189", "dep:30/com:30007", "dep:30/com:30028", "dep:30/com:30032",
	"dep:13/com:13055", "dep:13/com:13001", "dep:13/com:13004",
	"dep:84/com:84007", "dep:84/com:84031",
	"dep:34/com:34172",
}

var (
	benchMayor      = events.Actor{Subject: "sub-bench-mayor", Role: events.RoleMayor}
	benchPrefecture = events.Actor{Subject: "sub-bench-prefecture", Role: events.RolePrefecture}
)

// Shape of the log BenchmarkRebuild fills.
const (
	benchPerIncident = 10 // events per incident
	benchChunk       = 5  // events per append
	benchWriters     = 32 // concurrent writers
	benchWindow      = 8  // incidents each writer keeps open
)

// benchEnvInt reads a positive integer from the environment, def when unset.
func benchEnvInt(b *testing.B, key string, def int) int {
	b.Helper()
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", key, s)
	}
	return n
}

// benchGen decides incident events with the domain and encodes them as
// command.Handler does: metadata from events.NewMetadata, event ids derived from
// the command id, the registry's schema stamp and validation.
type benchGen struct {
	reg       *events.Registry
	run       string
	commands  atomic.Int64
	incidents atomic.Int64
}

func newBenchGen(b *testing.B) *benchGen {
	b.Helper()
	reg, err := projections.Registry(incident.Register)
	if err != nil {
		b.Fatal(err)
	}
	return &benchGen{reg: reg, run: fmt.Sprintf("%06x", rand.Uint32()>>8)}
}

// benchIncident is one incident of the load, its aggregate as a handler would load it.
type benchIncident struct {
	n                  int64
	id, stream, domain string
	state              *incident.Incident
	written            uint64 // events in its stream
}

func (g *benchGen) newIncident() *benchIncident {
	n := g.incidents.Add(1)
	id := fmt.Sprintf("b%s-%d", g.run, n)
	return &benchIncident{n: n, id: id, stream: "incident-" + id, domain: benchCommunes[n%int64(len(benchCommunes))], state: &incident.Incident{}}
}

// expected is the revision condition of the next append to inc.
func (inc *benchIncident) expected() store.Expected {
	if inc.written == 0 {
		return store.NoStream()
	}
	return store.Exact(inc.written - 1)
}

type benchAction int

const (
	benchLogEntry benchAction = iota
	benchQualify
	benchEscalate
	benchClose
)

// next decides the next event of inc (a report when it does not exist yet, else
// what), encodes it and applies it to the aggregate: an append that then fails ends
// the benchmark, so the aggregate never runs ahead of its stream for long.
func (g *benchGen) next(inc *benchIncident, what benchAction, at time.Time) (store.EventData, error) {
	s := inc.state
	by := benchMayor
	if s.DirectedByPrefecture() {
		by = benchPrefecture
	}
	c := g.commands.Add(1)
	cmdID := fmt.Sprintf("c-%s-%d", g.run, c)
	kinds, sevs := incident.Kinds(), incident.Severities()
	var evs []events.Event
	var err error
	switch {
	case !s.Exists():
		r := incident.Report{
			IncidentID: inc.id, Domain: inc.domain, Kind: kinds[inc.n%int64(len(kinds))],
			Title:       "Incident " + inc.id,
			Description: "Signalé par le standard de la mairie, équipes en route",
		}
		if inc.n%3 != 0 {
			r.Severity = sevs[inc.n%int64(len(sevs))]
		}
		if inc.n%2 == 0 {
			r.Location = &incident.Point{Lat: 43.8 + float64(inc.n%1000)/10000, Lon: 4.3 + float64(inc.n%777)/10000}
		}
		evs, err = s.Report(r, by, at)
	case what == benchQualify:
		evs, err = s.Qualify(incident.Qualify{Kind: kinds[c%int64(len(kinds))], Severity: sevs[c%int64(len(sevs))]}, by, at)
	case what == benchEscalate && !s.DirectedByPrefecture():
		evs, err = s.Escalate("Moyens communaux dépassés", by, at)
	case what == benchClose:
		evs, err = s.Close("Fin d'intervention", by, at)
	default:
		evs, err = s.AddLogEntry(incident.AddLogEntry{EntryID: cmdID, Text: "Point de situation " + cmdID + " : reconnaissance en cours, deux VSAV sur place"}, by, at)
	}
	if err != nil {
		return store.EventData{}, fmt.Errorf("%s: %w", inc.id, err)
	}
	if len(evs) != 1 {
		return store.EventData{}, fmt.Errorf("%s: %d events decided, want 1", inc.id, len(evs))
	}
	md := events.NewMetadata(cmdID, by, inc.domain, at)
	md.EventID = command.EventID(inc.stream, by.Subject, cmdID, 0).String()
	env, err := g.reg.Encode(context.Background(), evs[0], md)
	if err != nil {
		return store.EventData{}, err
	}
	s.Apply(evs[0])
	return store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}, nil
}

// planned is the action of an incident's i-th event in a filled log: report,
// qualification, main-courante entries, then one in five escalated and one in two
// closed.
func planned(inc *benchIncident, i int) benchAction {
	switch {
	case i == 1:
		return benchQualify
	case i == benchPerIncident-2 && inc.n%5 == 0:
		return benchEscalate
	case i == benchPerIncident-1 && inc.n%2 == 0:
		return benchClose
	}
	return benchLogEntry
}

// benchFill appends n events (rounded up to whole incidents) as the comment at the
// top describes, and returns how many and how long it took.
func benchFill(b *testing.B, st *store.Client, g *benchGen, n int) (int, time.Duration) {
	b.Helper()
	ctx := context.Background()
	incidents := int64((n + benchPerIncident - 1) / benchPerIncident)
	var taken, appended atomic.Int64
	var failed atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for range benchWriters {
		wg.Go(func() {
			var open []*benchIncident
			for turn := 0; failed.Load() == nil; turn++ {
				for len(open) < benchWindow && taken.Add(1) <= incidents {
					open = append(open, g.newIncident())
				}
				if len(open) == 0 {
					return
				}
				i := turn % len(open)
				inc := open[i]
				batch := make([]store.EventData, 0, benchChunk)
				at := time.Now()
				from := int(inc.written)
				for k := from; k < min(from+benchChunk, benchPerIncident); k++ {
					e, err := g.next(inc, planned(inc, k), at)
					if err != nil {
						failed.Store(&err)
						return
					}
					batch = append(batch, e)
				}
				if _, err := st.Append(ctx, inc.stream, inc.expected(), batch...); err != nil {
					err = fmt.Errorf("append to %s: %w", inc.stream, err)
					failed.Store(&err)
					return
				}
				inc.written += uint64(len(batch))
				appended.Add(int64(len(batch)))
				if inc.written == benchPerIncident {
					open = slices.Delete(open, i, i+1)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("filling the log: %v", *err)
	}
	return int(appended.Load()), time.Since(start)
}

// benchLogger keeps the projectors' warnings for the benchmark's log, until mute
// (may be nil) is set: a projector stopped in the middle of a commit warns about it.
func benchLogger(b *testing.B, mute *atomic.Bool) *slog.Logger {
	return slog.New(slog.NewTextHandler(benchWriter{b, mute}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type benchWriter struct {
	b    *testing.B
	mute *atomic.Bool
}

func (w benchWriter) Write(p []byte) (int, error) {
	if w.mute == nil || !w.mute.Load() {
		w.b.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// benchFlushAtEnd empties the benchmark's database when it ends rather than leaving
// a million events' worth of read models to the next test that takes it.
func benchFlushAtEnd(b *testing.B, rdb *redis.Client) {
	b.Cleanup(func() { rdb.FlushDB(context.Background()) })
}

// benchProfile starts a CPU profile into the file VIGIE_BENCH_CPUPROFILE names, if
// any, and returns what stops it: unlike -cpuprofile it leaves out filling the log.
func benchProfile(b *testing.B) (stop func()) {
	b.Helper()
	file := os.Getenv("VIGIE_BENCH_CPUPROFILE")
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatalf("VIGIE_BENCH_CPUPROFILE: %v (not with -cpuprofile)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// benchUsage is CPU time so far: this process's and the Redis server's.
type benchUsage struct {
	at                time.Time
	goCPU, redisCPU   time.Duration
	commands          int64
	redisInfoComplete bool
}

func benchUsageNow(b *testing.B, rdb *redis.Client) benchUsage {
	b.Helper()
	u := benchUsage{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		u.goCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	info, err := rdb.Info(context.Background(), "cpu", "stats").Result()
	if err != nil {
		b.Logf("redis INFO: %v", err)
		return u
	}
	var sys, user float64
	var found int
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_cpu_sys":
			sys, _ = strconv.ParseFloat(v, 64)
			found++
		case "used_cpu_user":
			user, _ = strconv.ParseFloat(v, 64)
			found++
		case "total_commands_processed":
			u.commands, _ = strconv.ParseInt(v, 10, 64)
			found++
		}
	}
	u.redisCPU = time.Duration((sys + user) * float64(time.Second))
	u.redisInfoComplete = found == 3
	return u
}

// report adds the CPU metrics (and, with events > 0, Redis commands per event) of the
// period since u.
func (u benchUsage) report(b *testing.B, rdb *redis.Client, evs int) {
	b.Helper()
	now := benchUsageNow(b, rdb)
	wall := now.at.Sub(u.at).Seconds()
	b.ReportMetric(100*(now.goCPU-u.goCPU).Seconds()/wall, "go-cpu-%")
	if !u.redisInfoComplete || !now.redisInfoComplete {
		return
	}
	b.ReportMetric(100*(now.redisCPU-u.redisCPU).Seconds()/wall, "redis-cpu-%")
	if evs > 0 {
		cmds := float64(now.commands - u.commands)
		b.ReportMetric(cmds/float64(evs), "redis-cmds/event")
		b.ReportMetric(cmds/wall, "redis-cmds/s")
	}
}

// benchCommandStats is how many times the server ran each command so far.
func benchCommandStats(b *testing.B, rdb *redis.Client) map[string]int64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Logf("redis INFO commandstats: %v", err)
		return nil
	}
	out := map[string]int64{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.ParseInt(calls, 10, 64)
	}
	return out
}

// logCommands logs the commands the server ran since before, per event, the most
// frequent first.
func benchLogCommands(b *testing.B, before, after map[string]int64, evs int) {
	b.Helper()
	type count struct {
		name string
		n    int64
	}
	var counts []count
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			counts = append(counts, count{name, d})
		}
	}
	slices.SortFunc(counts, func(x, y count) int { return int(y.n - x.n) })
	var parts []string
	for _, c := range counts[:min(len(counts), 10)] {
		parts = append(parts, fmt.Sprintf("%s %.3f", c.name, float64(c.n)/float64(evs)))
	}
	b.Logf("redis commands per event (server-wide): %s", strings.Join(parts, ", "))
}

// benchTracker turns acknowledgements and observed checkpoints of one read model
// into lags.
type benchTracker struct {
	mu        sync.Mutex
	recording bool
	covered   store.Position // the furthest checkpoint observed
	pending   []benchAck
	lags      []time.Duration
	acks      []time.Time // of lags, one for one
}

type benchAck struct {
	pos store.Position
	at  time.Time
}

// acked notes an append acknowledged at at.
func (t *benchTracker) acked(pos store.Position, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.recording {
		return
	}
	if !t.covered.Less(pos) {
		t.lags = append(t.lags, 0) // committed before the writer heard back
		t.acks = append(t.acks, at)
		return
	}
	t.pending = append(t.pending, benchAck{pos, at})
}

// cover notes that the checkpoint was seen at pos at time at.
func (t *benchTracker) cover(pos store.Position, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.covered.Less(pos) {
		return
	}
	t.covered = pos
	kept := t.pending[:0]
	for _, a := range t.pending {
		if pos.Less(a.pos) {
			kept = append(kept, a)
		} else {
			t.lags = append(t.lags, max(0, at.Sub(a.at)))
			t.acks = append(t.acks, a.at)
		}
	}
	t.pending = kept
}

func (t *benchTracker) waiting() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// benchPercentile is the p-quantile of sorted durations, in ms.
func benchPercentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(p*float64(len(sorted))))
	return float64(sorted[i]) / float64(time.Millisecond)
}

// benchTracked are the read models whose lag BenchmarkProjectionLag measures: those
// that read incident streams.
var benchTracked = []string{incidentboard.Name, prefecture.Name, timeline.Name}

// benchDelivery tracks a bare subscription, as if it were a read model.
const benchDelivery = "delivery"

func BenchmarkProjectionLag(b *testing.B) {
	rate := benchEnvInt(b, "VIGIE_BENCH_LAG_RATE", 1000)
	period := time.Duration(benchEnvInt(b, "VIGIE_BENCH_LAG_SECONDS", 10)) * time.Second
	backlog := benchEnvInt(b, "VIGIE_BENCH_LAG_BACKLOG", 20_000)
	const writers, warmUp = 16, time.Second
	ctx := context.Background()
	st, _ := projectiontest.Store(b)
	rdb := projectiontest.Redis(b)
	benchFlushAtEnd(b, rdb)
	g := newBenchGen(b)
	if n, took := benchFill(b, st, g, backlog); n > 0 {
		b.Logf("backlog: %d events appended in %s", n, took.Round(time.Millisecond))
	}

	trackers := map[string]*benchTracker{benchDelivery: {}} // not written to after this
	for _, name := range benchTracked {
		trackers[name] = &benchTracker{}
	}
	// Everything in the background stops before the store and Redis clients close.
	runCtx, stopAll := context.WithCancel(ctx)
	var bg sync.WaitGroup
	var closers []func() error
	var once sync.Once
	var mute atomic.Bool
	shutdown := func() {
		once.Do(func() {
			mute.Store(true)
			stopAll()
			for _, c := range closers {
				c()
			}
			bg.Wait()
		})
	}
	defer shutdown()

	// Notices: every domain's channel, ours picked out by the run in the stream id (the
	// server's pub/sub is shared by every database and every test using it).
	ours := "incident-b" + g.run + "-"
	ps := rdb.PSubscribe(ctx, projections.NoticeChannel("*"))
	closers = append(closers, ps.Close)
	if _, err := ps.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	bg.Go(func() {
		for {
			msg, err := ps.ReceiveMessage(runCtx)
			if err != nil {
				return
			}
			at := time.Now()
			var n projections.Notice
			if json.Unmarshal([]byte(msg.Payload), &n) != nil || !strings.HasPrefix(n.StreamID, ours) {
				continue
			}
			if t := trackers[n.Projection]; t != nil {
				t.cover(n.Position, at)
			}
		}
	})
	// Checkpoints, polled every millisecond.
	for _, name := range benchTracked {
		t := trackers[name]
		bg.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
				}
				if _, pos, err := projections.Current(runCtx, rdb, "", name); err == nil {
					t.cover(pos, time.Now())
				}
			}
		})
	}

	// The floor of any read model's lag: a bare live subscription to the same streams,
	// receiving the events without applying them.
	bg.Go(func() {
		t := trackers[benchDelivery]
		st.Subscribe(runCtx, nil, store.Filter{StreamPrefixes: []string{events.CategoryIncident + "-"}}, store.HandlerFuncs{
			OnEvent: func(_ context.Context, e store.Recorded) error {
				t.cover(e.Position, time.Now())
				return nil
			},
		})
	})

	// Every read model, one projector each.
	all, err := boards.All()
	if err != nil {
		b.Fatal(err)
	}
	var projectors []*projections.Projector
	for _, proj := range all {
		p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: benchLogger(b, &mute)}
		projectors = append(projectors, p)
		bg.Go(func() {
			if err := p.Run(runCtx); err != nil {
				b.Errorf("%s: Run: %v", proj.Name(), err)
			}
		})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, p := range projectors {
		for s := p.Status(); !s.Active || !s.CaughtUp; s = p.Status() {
			if time.Now().After(deadline) {
				b.Fatalf("%s not caught up with the backlog after 2 min: %+v", s.Name, s)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// The load: a feeder paces jobs at rate; each writer owns its incidents, so appends
	// to one stream never race.
	jobs := make(chan time.Time, rate)
	quit := make(chan struct{})
	var feeder, load sync.WaitGroup
	var failed atomic.Pointer[error]
	var recording atomic.Bool
	var measuredEvents atomic.Int64
	var firstAck, lastAck atomic.Int64 // unix ns of the measured period's acks
	appendLats := make([][]time.Duration, writers)
	feeder.Go(func() {
		defer close(jobs)
		start := time.Now()
		for k := int64(0); ; k++ {
			due := start.Add(time.Duration(k) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			select {
			case jobs <- due:
			case <-quit:
				return
			}
		}
	})
	for w := range writers {
		load.Go(func() {
			var own []*benchIncident
			for range jobs {
				if failed.Load() != nil {
					continue
				}
				var inc *benchIncident
				what := benchLogEntry
				if r := rand.Float64(); len(own) < 2 || r < 0.05 {
					inc = g.newIncident()
					own = append(own, inc)
				} else {
					inc = own[rand.IntN(len(own))]
					if r < 0.15 {
						what = benchQualify
					}
				}
				e, err := g.next(inc, what, time.Now())
				if err != nil {
					failed.Store(&err)
					continue
				}
				t0 := time.Now()
				res, err := st.Append(ctx, inc.stream, inc.expected(), e)
				ack := time.Now()
				if err != nil {
					err = fmt.Errorf("append to %s: %w", inc.stream, err)
					failed.Store(&err)
					continue
				}
				inc.written++
				if recording.Load() {
					for _, t := range trackers {
						t.acked(res.Position, ack)
					}
					appendLats[w] = append(appendLats[w], ack.Sub(t0))
					measuredEvents.Add(1)
					firstAck.CompareAndSwap(0, ack.UnixNano())
					lastAck.Store(ack.UnixNano())
				}
			}
		})
	}
	time.Sleep(warmUp)
	for _, t := range trackers {
		t.mu.Lock()
		t.recording = true
		t.mu.Unlock()
	}
	recording.Store(true)
	usage := benchUsageNow(b, rdb)
	b.ResetTimer()
	time.Sleep(period)
	recording.Store(false)
	b.StopTimer()
	usage.report(b, rdb, 0)
	close(quit)
	feeder.Wait()
	load.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("load: %v", *err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for _, name := range append(benchTracked, benchDelivery) {
		for trackers[name].waiting() > 0 {
			if time.Now().After(deadline) {
				b.Fatalf("%s: %d events still not applied 30 s after the load", name, trackers[name].waiting())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	shutdown()
	for _, p := range projectors {
		if s := p.Status(); s.Parked > 0 {
			b.Errorf("%s parked %d events", s.Name, s.Parked)
		}
	}

	n := measuredEvents.Load()
	if n == 0 {
		b.Fatal("no event appended in the measured period")
	}
	// The incident board's worst lag in each second of the period shows whether the
	// tail is a few stalls or spread all along.
	var perSecond []string
	{
		t := trackers[incidentboard.Name]
		start := time.Unix(0, firstAck.Load())
		var worst []time.Duration
		for i, at := range t.acks {
			s := max(0, int(at.Sub(start)/time.Second))
			for len(worst) <= s {
				worst = append(worst, 0)
			}
			worst[s] = max(worst[s], t.lags[i])
		}
		for _, w := range worst {
			perSecond = append(perSecond, strconv.Itoa(int(w.Milliseconds())))
		}
	}
	lags := func(name string) []time.Duration {
		l := trackers[name].lags
		slices.Sort(l)
		return l
	}
	ib := lags(incidentboard.Name)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(benchPercentile(ib, 0.50), "p50-ms")
	b.ReportMetric(benchPercentile(ib, 0.99), "p99-ms")
	b.ReportMetric(benchPercentile(ib, 1), "max-ms")
	b.ReportMetric(benchPercentile(lags(prefecture.Name), 0.99), "prefecture-p99-ms")
	b.ReportMetric(benchPercentile(lags(timeline.Name), 0.99), "timeline-p99-ms")
	b.ReportMetric(benchPercentile(lags(benchDelivery), 0.99), "delivery-p99-ms")
	span := time.Duration(lastAck.Load() - firstAck.Load())
	achieved := float64(n) / span.Seconds()
	b.ReportMetric(achieved, "events/s")
	al := slices.Concat(appendLats...)
	slices.Sort(al)
	b.ReportMetric(benchPercentile(al, 0.99), "append-p99-ms")
	var zero int
	for _, l := range ib {
		if l == 0 {
			zero++
		}
	}
	b.Logf("%d events measured over %s at %d/s asked (%.0f/s achieved), %d writers; incident board: %d lags, %d committed before the writer's ack; worst lag (ms) of each second: %s",
		n, span.Round(time.Millisecond), rate, achieved, writers, len(ib), zero, strings.Join(perSecond, " "))
	if achieved < 0.95*float64(rate) {
		b.Logf("the load fell short of %d events/s: the writers could not keep up", rate)
	}
}

func BenchmarkRebuild(b *testing.B) {
	n := benchEnvInt(b, "VIGIE_BENCH_REBUILD_EVENTS", 200_000)
	ctx := context.Background()
	st, _ := projectiontest.Store(b)
	rdb := projectiontest.Redis(b)
	benchFlushAtEnd(b, rdb)
	g := newBenchGen(b)
	written, took := benchFill(b, st, g, n)
	// Logged by the first sub-benchmark: a parent benchmark's log is not printed.
	fillNote := fmt.Sprintf("log: %d events in %d incidents, appended by %d writers in %s (%.0f events/s)",
		written, g.incidents.Load(), benchWriters, took.Round(time.Millisecond), float64(written)/took.Seconds())
	last, err := st.ReadAll(ctx, store.End, store.Backwards, 1)
	if err != nil || len(last) != 1 {
		b.Fatalf("last event: %v", err)
	}
	end := last[0].Position

	rebuild := func(b *testing.B, p *projections.Projector) {
		b.Helper()
		if _, err := p.Rebuild(ctx); err != nil {
			b.Fatal(err)
		}
		if s := p.Status(); s.Parked > 0 {
			b.Errorf("%s parked %d events", s.Name, s.Parked)
		}
		if !slices.Contains(p.Projection.StreamPrefixes(), events.CategoryIncident+"-") {
			return // its checkpoint moves only as far as the store's last filtered checkpoint
		}
		if _, pos, err := projections.Current(ctx, rdb, "", p.Projection.Name()); err != nil || pos.Less(end) {
			b.Fatalf("%s rebuilt up to %s (%v), the log ends at %s", p.Projection.Name(), pos, err, end)
		}
	}

	b.Run("incidents", func(b *testing.B) {
		proj, err := incidentboard.New()
		if err != nil {
			b.Fatal(err)
		}
		p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: benchLogger(b, nil)}
		stopProfile := benchProfile(b)
		usage, cmds := benchUsageNow(b, rdb), benchCommandStats(b, rdb)
		var each []string
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			rebuild(b, p)
			each = append(each, fmt.Sprintf("%.0f", float64(written)/time.Since(t0).Seconds()))
		}
		b.StopTimer()
		stopProfile()
		b.Logf("events/s of each rebuild: %s", strings.Join(each, " "))
		b.Log(fillNote)
		benchLogCommands(b, cmds, benchCommandStats(b, rdb), written*b.N)
		b.ReportMetric(float64(written*b.N)/b.Elapsed().Seconds(), "events/s")
		usage.report(b, rdb, written*b.N)
	})

	b.Run("all", func(b *testing.B) {
		all, err := boards.All()
		if err != nil {
			b.Fatal(err)
		}
		took := map[string]time.Duration{}
		usage := benchUsageNow(b, rdb)
		b.ResetTimer()
		for range b.N {
			for _, proj := range all {
				p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: benchLogger(b, nil)}
				t0 := time.Now()
				rebuild(b, p)
				took[proj.Name()] += time.Since(t0)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(written*b.N)/b.Elapsed().Seconds(), "events/s")
		for _, proj := range all {
			b.ReportMetric(float64(written*b.N)/took[proj.Name()].Seconds(), proj.Name()+"-ev/s")
		}
		usage.report(b, rdb, 0)
	})

	b.Run("store-read", func(b *testing.B) {
		prefixes := []string{events.CategoryIncident + "-", events.CategoryResource + "-"}
		usage := benchUsageNow(b, rdb)
		b.ResetTimer()
		for range b.N {
			var got int
			errCaughtUp := errors.New("caught up")
			sctx, cancel := context.WithCancelCause(ctx)
			err := st.Subscribe(sctx, nil, store.Filter{StreamPrefixes: prefixes}, store.HandlerFuncs{
				OnEvent:    func(context.Context, store.Recorded) error { got++; return nil },
				OnCaughtUp: func(context.Context) { cancel(errCaughtUp) },
			})
			cancel(nil)
			if !errors.Is(context.Cause(sctx), errCaughtUp) {
				b.Fatalf("subscription: %v", err)
			}
			if got != written {
				b.Fatalf("read %d events, the log has %d", got, written)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(written*b.N)/b.Elapsed().Seconds(), "events/s")
		usage.report(b, rdb, 0)
	})

	b.Run("redis-benchmark-set", func(b *testing.B) {
		bin, err := exec.LookPath("redis-benchmark")
		if err != nil {
			b.Skip("redis-benchmark is not installed (it comes with redis-server, or redis-tools): no physical reference")
		}
		opts := rdb.Options()
		host, port, err := net.SplitHostPort(opts.Addr)
		if err != nil {
			b.Fatal(err)
		}
		args := []string{"-h", host, "-p", port, "--dbnum", strconv.Itoa(opts.DB), "-P", "16", "-t", "set", "-n", "500000", "-q"}
		if opts.Password != "" {
			args = append(args, "-a", opts.Password, "--no-auth-warning")
		}
		var rps float64
		b.ResetTimer()
		for range b.N {
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				b.Fatalf("redis-benchmark: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`SET: ([0-9.]+) requests per second`).FindAllSubmatch(out, -1)
			if len(m) == 0 {
				b.Fatalf("redis-benchmark said:\n%s", out)
			}
			v, _ := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
			rps += v
		}
		b.StopTimer()
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(rps/float64(b.N), "SET/s")
	})
}
