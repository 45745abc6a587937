package incidents_test

// The write side's throughput and latency, through gRPC against the service on the
// embedded event store (guardtest.Start: everything in this process, over loopback).
//
//	go test -run '^$' -bench Commands/independent -benchtime 3000x ./services/incidents/
//	go test -run '^$' -bench Commands/hot -benchtime 1000x ./services/incidents/
//
// (The hot case replays its whole, growing stream at every command, so its cost per
// command grows with b.N: 1000x keeps it near a minute on two cores.)
//
// b.N is the number of commands, shared out among the callers. Metrics:
//
//	cmds/s         commands answered per second of wall time (all outcomes)
//	p50-ms, p99-ms latency of one command as its caller saw it
//	conflicts/cmd  appends refused for a concurrent change (vigie.command.conflicts), per command
//	aborted-%      commands that gave up after the handler's retries (codes.Aborted)
//
// "independent": each caller works on its own incidents — a cycle of one Report of a
// new incident followed by benchCycle-1 AddLogEntry on it — so streams stay short and
// never contend. Every command is counted, the Reports as well as the log entries.
// "hot": all callers add log entries to ONE incident reported beforehand (not counted),
// which grows to b.N events: the main courante of a crisis everybody writes to.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard/guardtest"
	"vigie/services/incidents"
	pb "vigie/services/incidents/incidentspb"
)

const (
	benchDomain = "dep:30/com:30189"
	benchCycle  = 10 // commands per incident in the independent workload
)

var benchCallers = []int{1, 16, 64}

var (
	benchMeterOnce   sync.Once
	benchMeterReader *sdkmetric.ManualReader
)

// benchMeter installs a ManualReader as the global meter provider, once per process
// and before any handler runs, so that the command package's counters report to it.
func benchMeter() *sdkmetric.ManualReader {
	benchMeterOnce.Do(func() {
		benchMeterReader = sdkmetric.NewManualReader()
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(benchMeterReader)))
	})
	return benchMeterReader
}

// benchConflicts is the cumulative sum of vigie.command.conflicts so far.
func benchConflicts(b *testing.B, r *sdkmetric.ManualReader) int64 {
	b.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "vigie.command.conflicts" {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				b.Fatalf("vigie.command.conflicts is a %T, want a Sum[int64]", m.Data)
			}
			for _, dp := range sum.DataPoints {
				n += dp.Value
			}
		}
	}
	return n
}

func benchStart(b *testing.B) (pb.IncidentsClient, context.Context) {
	b.Helper()
	env := guardtest.Start(b, func(g *grpc.Server, c *store.Client, a *policies.Authorizer) {
		svc, err := incidents.New(c, a, nil)
		if err != nil {
			b.Fatal(err)
		}
		svc.Register(g)
	})
	return pb.NewIncidentsClient(env.Conn), env.As(b, "bench-mayor", "mayor", benchDomain)
}

// benchRun shares b.N commands out among callers, calls command(caller, i) for the
// caller's i-th command, and reports the metrics above.
func benchRun(b *testing.B, callers int, command func(caller, i int) error) {
	reader := benchMeter()
	conflicts0 := benchConflicts(b, reader)
	latencies := make([][]time.Duration, callers)
	aborted := make([]int, callers)
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range callers {
		n := b.N / callers
		if c < b.N%callers {
			n++
		}
		wg.Go(func() {
			lat := make([]time.Duration, 0, n)
			for i := range n {
				t0 := time.Now()
				err := command(c, i)
				lat = append(lat, time.Since(t0))
				switch status.Code(err) {
				case codes.OK:
				case codes.Aborted:
					aborted[c]++
				default:
					errs <- fmt.Errorf("caller %d, command %d: %w", c, i, err)
					return
				}
			}
			latencies[c] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	var abortedN int
	for _, a := range aborted {
		abortedN += a
	}
	n := float64(len(all))
	b.ReportMetric(n/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(benchConflicts(b, reader)-conflicts0)/n, "conflicts/cmd")
	b.ReportMetric(100*float64(abortedN)/n, "aborted-%")
}

func BenchmarkCommands(b *testing.B) {
	benchMeter()
	for _, callers := range benchCallers {
		b.Run(fmt.Sprintf("independent/callers=%d", callers), func(b *testing.B) {
			client, ctx := benchStart(b)
			// b.Run calls this more than once; a run id keeps ids unique in the log.
			run := time.Now().UnixNano()
			benchRun(b, callers, func(caller, i int) error {
				id := fmt.Sprintf("bench-%d-%d-%d", run, caller, i/benchCycle)
				cmd := fmt.Sprintf("c-%d-%d-%d", run, caller, i)
				var err error
				if i%benchCycle == 0 {
					_, err = client.Report(ctx, &pb.ReportRequest{CommandId: cmd, IncidentId: id, Domain: benchDomain, Kind: "flash_flood", Title: "Cadereau d'Uzès en crue", Severity: "Moderate"})
				} else {
					_, err = client.AddLogEntry(ctx, &pb.AddLogEntryRequest{CommandId: cmd, IncidentId: id, Text: "Niveau du Cadereau relevé au pont de la route d'Uzès."})
				}
				return err
			})
		})
	}
	for _, callers := range benchCallers {
		b.Run(fmt.Sprintf("hot/callers=%d", callers), func(b *testing.B) {
			client, ctx := benchStart(b)
			run := time.Now().UnixNano()
			hot := fmt.Sprintf("hot-%d", run)
			if _, err := client.Report(ctx, &pb.ReportRequest{CommandId: "hot-report", IncidentId: hot, Domain: benchDomain, Kind: "flood", Title: "Vidourle en crue"}); err != nil {
				b.Fatal(err)
			}
			benchRun(b, callers, func(caller, i int) error {
				_, err := client.AddLogEntry(ctx, &pb.AddLogEntryRequest{CommandId: fmt.Sprintf("c-%d-%d-%d", run, caller, i), IncidentId: hot, Text: "Point de situation du poste de commandement."})
				return err
			})
		})
	}
}
