package replay_test

// BenchmarkReplay: a log of VIGIE_BENCH_REPLAY_EVENTS events (200,000 unless set;
// 1,000,000 for docs/BENCHMARKS.md) over incidents in 40 communes of four
// départements — per incident: report, qualification, five main-courante entries,
// stabilization or closing, and a resource of its own registered, engaged on it and
// released (11 events) — appended by 16 writers; then a replay to the instant of the
// last event (the whole log), and to the instant in the middle. Reported: events of
// the log replayed per second (the build: the incident and resource boards' own
// projections, every event) and the peak Go heap during the replay (sampled every
// 5 ms), beside the same for a log a tenth as long, to show memory does not grow with
// the log. Reading back one commune's boards is timed apart.
//
//	cd projections && VIGIE_BENCH_REPLAY_EVENTS=1000000 go test -run '^$' -bench Replay -benchtime 1x ./replay

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/projectiontest"
	"vigie/projections/replay"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

const benchPerIncident = 11

func benchEvents(b *testing.B) int {
	if s := os.Getenv("VIGIE_BENCH_REPLAY_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("VIGIE_BENCH_REPLAY_EVENTS=%q", s)
		}
		return n
	}
	return 200_000
}

// benchFill appends n events (rounded up to whole incidents); event i of incident k
// happens at t0 + (k×11+i)×10 ms. It returns the instant of the last event.
func benchFill(b *testing.B, st *store.Client, n int, t0 time.Time) time.Time {
	b.Helper()
	ctx := context.Background()
	reg, err := projections.Registry(incident.Register, resource.Register)
	if err != nil {
		b.Fatal(err)
	}
	incidents := int64((n + benchPerIncident - 1) / benchPerIncident)
	run := fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	fail := func(err error) { failed.CompareAndSwap(nil, &err) }
	mayor := events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	for range 16 {
		wg.Go(func() {
			for failed.Load() == nil {
				k := next.Add(1)
				if k > incidents {
					return
				}
				commune := fmt.Sprintf("dep:%d/com:%d%03d", 30+k%4, 30+k%4, k%10+1)
				id := fmt.Sprintf("b%s-%d", run, k)
				at := func(i int) time.Time {
					return t0.Add(time.Duration(k*benchPerIncident+int64(i)) * 10 * time.Millisecond)
				}
				inc := &incident.Incident{}
				var evs []events.Event
				step := func(i int, decide func(time.Time) ([]events.Event, error)) {
					e, err := decide(at(i))
					if err != nil {
						fail(err)
						return
					}
					for _, x := range e {
						inc.Apply(x)
					}
					evs = append(evs, e...)
				}
				step(0, func(t time.Time) ([]events.Event, error) {
					return inc.Report(incident.Report{IncidentID: id, Domain: commune, Kind: incident.KindFlood, Title: "Incident " + id,
						Description: "Signalé par le standard de la mairie"}, mayor, t)
				})
				step(1, func(t time.Time) ([]events.Event, error) {
					return inc.Qualify(incident.Qualify{Kind: incident.KindFlashFlood, Severity: incident.SeveritySevere}, mayor, t)
				})
				for i := 2; i < 7; i++ {
					step(i, func(t time.Time) ([]events.Event, error) {
						return inc.AddLogEntry(incident.AddLogEntry{EntryID: fmt.Sprint("e", i), Text: "Point de situation : reconnaissance en cours, deux VSAV sur place"}, mayor, t)
					})
				}
				step(7, func(t time.Time) ([]events.Event, error) {
					if k%2 == 0 {
						return inc.Close("Fin d'intervention", mayor, t)
					}
					return inc.Stabilize(mayor, t)
				})
				res := &resource.Resource{}
				var revs []events.Event
				for i, decide := range []func(time.Time) ([]events.Event, error){
					func(t time.Time) ([]events.Event, error) {
						return res.Register(resource.Registration{ResourceID: id, Domain: commune, Kind: resource.KindTeam, Name: "Équipe " + id}, mayor, t)
					},
					func(t time.Time) ([]events.Event, error) { return res.Engage(id, mayor, t) },
					func(t time.Time) ([]events.Event, error) { return res.Release(mayor, t) },
				} {
					e, err := decide(at(8 + i))
					if err != nil {
						fail(err)
						return
					}
					for _, x := range e {
						res.Apply(x)
					}
					revs = append(revs, e...)
				}
				for _, s := range []struct {
					stream string
					evs    []events.Event
					first  int
				}{{"incident-" + id, evs, 0}, {"resource-" + id, revs, 8}} {
					data := make([]store.EventData, len(s.evs))
					for i, e := range s.evs {
						cmd := fmt.Sprintf("c-%s-%d", id, s.first+i)
						md := events.NewMetadata(cmd, mayor, commune, at(s.first+i))
						md.EventID = command.EventID(s.stream, mayor.Subject, cmd, 0).String()
						env, err := reg.Encode(ctx, e, md)
						if err != nil {
							fail(err)
							return
						}
						data[i] = store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
					}
					if _, err := st.Append(ctx, s.stream, store.NoStream(), data...); err != nil {
						fail(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return t0.Add(time.Duration((incidents+1)*benchPerIncident) * 10 * time.Millisecond)
}

// peakHeap samples the Go heap until stop is called and returns its peak.
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

func BenchmarkReplay(b *testing.B) {
	n := benchEvents(b)
	ctx := context.Background()
	rdb := projectiontest.Redis(b)
	b.Cleanup(func() { rdb.FlushDB(context.Background()) })
	t0 := time.Date(2026, 10, 17, 0, 0, 0, 0, time.UTC)

	measure := func(b *testing.B, st *store.Client, events int, at time.Time) {
		r := &replay.Replayer{Store: st, Redis: rdb}
		if n, err := strconv.Atoi(os.Getenv("VIGIE_BENCH_REPLAY_BATCH")); err == nil {
			r.BatchSize = n // to compare batch sizes; the default otherwise
		}
		var applied int
		var build, read time.Duration
		var incidents int
		stop := peakHeap()
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			err := r.Run(ctx, replay.Options{At: at}, func(ctx context.Context, res replay.Result) error {
				build += time.Since(start)
				applied += res.Events
				t := time.Now()
				bs, err := replay.Read(ctx, rdb, res.Space, "dep:30/com:30001")
				read += time.Since(t)
				incidents = len(bs.Incidents)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		peak := stop()
		b.ReportMetric(float64(applied)/build.Seconds(), "events/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.Logf("log of %d events: replayed %d per run, build %.1f s (%.0f events/s); one commune's boards read in %s (%d incidents with their main courante); peak Go heap %.1f MiB",
			events, applied/b.N, build.Seconds()/float64(b.N), float64(applied)/build.Seconds(), (read / time.Duration(b.N)).Round(time.Millisecond), incidents, float64(peak)/(1<<20))
	}

	for _, size := range []int{n / 10, n} {
		st, _ := projectiontest.Store(b)
		start := time.Now()
		last := benchFill(b, st, size, t0)
		b.Logf("log of %d events filled in %s", size, time.Since(start).Round(time.Millisecond))
		b.Run(fmt.Sprintf("%d/read-alone", size), func(b *testing.B) {
			// The reference: the event store's bare read of the same log.
			read := 0
			for range b.N {
				if err := st.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(store.Recorded) error { read++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(fmt.Sprintf("%d/end", size), func(b *testing.B) { measure(b, st, size, last) })
		if size == n {
			b.Run(fmt.Sprintf("%d/middle", size), func(b *testing.B) { measure(b, st, size, t0.Add(last.Sub(t0)/2)) })
		}
	}
}
