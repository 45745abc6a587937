package embedded_test

// Benchmarks of the embedded event store, through the official Go client over gRPC on
// loopback, against an in-process server whose log lives on the real disk (a temporary
// directory under os.TempDir). docs/BENCHMARKS.md has the figures and how they were run.
//
//	go test -run '^$' -bench 'Append|CatchUp|Reference' -benchtime 5s -count 1
//	go test -run '^$' -bench LogOfOneMillion -benchtime 1x -count 1 -timeout 30m

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"vigie/events/embedded"
)

// Shape of the append workload.
const (
	benchEventSize  = 512    // bytes of JSON data per event
	benchStreams    = 10_000 // streams written by BenchmarkAppend
	benchHotStreams = 10     // the first streams, which take benchHotShare of the appends
	benchHotShare   = 0.20
)

// benchNode is a store served over loopback with one official client connected to it.
type benchNode struct {
	dir    string
	store  *embedded.Store
	server *embedded.Server
	client *esdb.Client
}

func startNode(tb testing.TB, dir string) *benchNode {
	tb.Helper()
	n := &benchNode{dir: dir}
	var err error
	if n.store, err = embedded.Open(embedded.Config{Dir: dir}); err != nil {
		tb.Fatal(err)
	}
	if n.server, err = n.store.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"}); err != nil {
		tb.Fatal(err)
	}
	cfg, err := esdb.ParseConnectionString(n.server.URL())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	if n.client, err = esdb.NewClient(cfg); err != nil {
		tb.Fatal(err)
	}
	return n
}

func (n *benchNode) close() error {
	if n.client != nil {
		n.client.Close()
		n.server.Close()
		err := n.store.Close()
		n.client = nil
		return err
	}
	return nil
}

// benchPayloads are distinct 512-byte JSON documents, half of their bytes random hex,
// so that the engine's block compression sees data about as compressible as real events.
var benchPayloads = sync.OnceValue(func() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, 1024)
	for i := range out {
		raw := make([]byte, 128)
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		doc := fmt.Sprintf(`{"incidentId":"inc-%06d","kind":"ResourceAssigned","severity":%d,"sector":"S%02d","token":"%s","note":"`,
			i, r.IntN(5), r.IntN(40), hex.EncodeToString(raw))
		doc += strings.Repeat("x", benchEventSize-len(doc)-2) + `"}`
		if len(doc) != benchEventSize {
			panic(len(doc))
		}
		out[i] = []byte(doc)
	}
	return out
})

func benchEvents(n int, r *rand.Rand) []esdb.EventData {
	payloads := benchPayloads()
	evs := make([]esdb.EventData, n)
	for i := range evs {
		evs[i] = esdb.EventData{
			EventID:     uuid.New(),
			EventType:   "ResourceAssigned",
			ContentType: esdb.ContentTypeJson,
			Data:        payloads[r.IntN(len(payloads))],
		}
	}
	return evs
}

// pickStream: benchHotShare of the appends go to the benchHotStreams hot streams, the
// rest uniformly to the other streams.
func pickStream(r *rand.Rand) string {
	if r.Float64() < benchHotShare {
		return "incident-" + strconv.Itoa(r.IntN(benchHotStreams))
	}
	return "incident-" + strconv.Itoa(benchHotStreams+r.IntN(benchStreams-benchHotStreams))
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkAppend: b.N appends in all, shared by the writers, each append one call of
// AppendToStream with ExpectedRevision Any; every call's latency is recorded.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		for _, perAppend := range []int{1, 10} {
			b.Run(fmt.Sprintf("writers=%d/events=%d", writers, perAppend), func(b *testing.B) {
				benchAppend(b, writers, perAppend)
			})
		}
	}
}

func benchAppend(b *testing.B, writers, perAppend int) {
	n := startNode(b, b.TempDir())
	b.Cleanup(func() { _ = n.close() })
	benchAppendOn(b, n, writers, perAppend)
}

// benchAppendOn runs the append benchmark against a running node.
func benchAppendOn(b *testing.B, n *benchNode, writers, perAppend int) {
	benchPayloads()
	ctx := context.Background()
	// One append outside the timer, so that the connection is up.
	if _, err := n.client.AppendToStream(ctx, "warm-up", esdb.AppendToStreamOptions{}, benchEvents(1, rand.New(rand.NewPCG(0, 0)))...); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	var failed atomic.Bool
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			mine := make([]time.Duration, 0, b.N/writers+1)
			for next.Add(1) <= int64(b.N) && !failed.Load() {
				stream := pickStream(r)
				evs := benchEvents(perAppend, r)
				t0 := time.Now()
				_, err := n.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, evs...)
				mine = append(mine, time.Since(t0))
				if err != nil {
					failed.Store(true)
					b.Error(err)
					return
				}
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(b.N*perAppend)/elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
}

// fill appends total events, perAppend at a time, over streams named prefix+i for i in
// [0, streams), from the given number of concurrent writers: append k goes to stream
// k % streams.
func fill(tb testing.TB, c *esdb.Client, prefix string, streams, total, perAppend, writers int) {
	tb.Helper()
	appends := total / perAppend
	var next atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				k := int(next.Add(1) - 1)
				if k >= appends {
					return
				}
				stream := prefix + strconv.Itoa(k%streams)
				if _, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, benchEvents(perAppend, r)...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkCatchUpReadAll: one operation reads the whole pre-filled log of catchUpEvents
// events from the start, through a catch-up subscription or a forwards ReadAll.
func BenchmarkCatchUpReadAll(b *testing.B) {
	const catchUpEvents = 200_000
	n := startNode(b, b.TempDir())
	b.Cleanup(func() { _ = n.close() })
	t0 := time.Now()
	fill(b, n.client, "catchup-", 1000, catchUpEvents, 200, 8)
	b.Logf("pre-filled %d events in %v", catchUpEvents, time.Since(t0).Round(time.Millisecond))
	if h := n.store.Head(); h != catchUpEvents {
		b.Fatalf("head %d after pre-fill, want %d", h, catchUpEvents)
	}
	ctx := context.Background()

	b.Run("SubscribeToAll", func(b *testing.B) {
		b.SetBytes(catchUpEvents * benchEventSize)
		for range b.N {
			sub, err := n.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for got < catchUpEvents {
				ev := sub.Recv()
				switch {
				case ev.SubscriptionDropped != nil:
					b.Fatal(ev.SubscriptionDropped.Error)
				case ev.CaughtUp != nil:
					b.Fatalf("caught up after %d events", got)
				case ev.EventAppeared != nil:
					got++
				}
			}
			_ = sub.Close()
		}
		b.ReportMetric(float64(b.N*catchUpEvents)/b.Elapsed().Seconds(), "events/s")
	})

	b.Run("ReadAll", func(b *testing.B) {
		b.SetBytes(catchUpEvents * benchEventSize)
		for range b.N {
			rs, err := n.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: esdb.Start{}}, catchUpEvents)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for {
				_, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			rs.Close()
			if got != catchUpEvents {
				b.Fatalf("read %d events, want %d", got, catchUpEvents)
			}
		}
		b.ReportMetric(float64(b.N*catchUpEvents)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkReferenceFsync: the disk's rate of durable small writes, one 512-byte
// append and one fsync per operation, on the file system the stores above use.
func BenchmarkReferenceFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := benchPayloads()[0]
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkReferenceEngineBatch: the storage engine alone, with the store's options, one
// goroutine committing synced batches shaped like 64 events: 64 records of ~600 bytes
// under sequential log keys plus 64 small index keys, as the store writes them.
func BenchmarkReferenceEngineBatch(b *testing.B) {
	const perBatch = 64
	cache := pebble.NewCache(64 << 20)
	db, err := pebble.Open(b.TempDir(), &pebble.Options{Cache: cache, MemTableSize: 32 << 20, Logger: quietEngine{}})
	cache.Unref()
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	payloads := benchPayloads()
	r := rand.New(rand.NewPCG(3, 4))
	value := make([]byte, 600)
	var pos uint64
	b.ResetTimer()
	for range b.N {
		batch := db.NewBatch()
		for range perBatch {
			pos++
			copy(value, payloads[pos%uint64(len(payloads))])
			logKey := binary.BigEndian.AppendUint64([]byte{'L'}, pos)
			idxKey := append([]byte("Iincident-"), strconv.Itoa(r.IntN(benchStreams))...)
			idxKey = binary.BigEndian.AppendUint64(append(idxKey, 0), pos)
			if err := batch.Set(logKey, value, nil); err != nil {
				b.Fatal(err)
			}
			if err := batch.Set(idxKey, logKey[1:], nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(pebble.Sync); err != nil {
			b.Fatal(err)
		}
		_ = batch.Close()
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "commits/s")
	b.ReportMetric(float64(b.N*perBatch)/secs, "records/s")
	b.ReportMetric(float64(b.N*perBatch*2)/secs, "keys/s")
}

type quietEngine struct{}

func (quietEngine) Infof(string, ...any)  {}
func (quietEngine) Errorf(string, ...any) {}
func (quietEngine) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// BenchmarkLogOfOneMillion loads 1,000,000 events over 100,000 streams through the
// client, then measures memory, disk and restart. It is long, so it runs only when
// named in -bench or with VIGIE_BENCH_1M=1:
//
//	go test -run '^$' -bench LogOfOneMillion -benchtime 1x -timeout 30m
func BenchmarkLogOfOneMillion(b *testing.B) {
	if f := flag.Lookup("test.bench"); os.Getenv("VIGIE_BENCH_1M") != "1" && (f == nil || !strings.Contains(f.Value.String(), "Million")) {
		b.Skip("run with -bench LogOfOneMillion or VIGIE_BENCH_1M=1")
	}
	const (
		total     = 1_000_000
		streams   = 100_000
		perAppend = 10
		writers   = 64
	)
	dir := b.TempDir()
	n := startNode(b, dir)
	b.Cleanup(func() { _ = n.close() })
	benchPayloads()
	b.ResetTimer()

	t0 := time.Now()
	fill(b, n.client, "load-", streams, total, perAppend, writers)
	write := time.Since(t0)
	if h := n.store.Head(); h != total {
		b.Fatalf("head %d, want %d", h, total)
	}
	status := procStatus(b)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	diskLoaded := dirSize(b, dir)

	t1 := time.Now()
	if err := n.close(); err != nil {
		b.Fatal(err)
	}
	closing := time.Since(t1)
	diskClosed := dirSize(b, dir)
	// Open replays the part of the write-ahead log not yet flushed to tables; the WAL
	// files left at close (recycled ones included) bound it.
	wal := dirSize(b, dir, ".log")

	t2 := time.Now()
	n = startNode(b, dir)
	reopen := time.Since(t2)
	ctx := context.Background()
	rs, err := n.client.ReadStream(ctx, "load-77777", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := rs.Recv()
	if err != nil {
		b.Fatal(err)
	}
	rs.Close()
	firstRead := time.Since(t2)
	if ev.Event.EventNumber != total/streams-1 || n.store.Head() != total {
		b.Fatalf("after restart: last revision %d, head %d", ev.Event.EventNumber, n.store.Head())
	}
	b.StopTimer()

	b.ReportMetric(write.Seconds(), "write-s")
	b.ReportMetric(total/write.Seconds(), "events/s")
	b.ReportMetric(float64(status["VmRSS"])/1024, "VmRSS-MiB")
	b.ReportMetric(float64(status["VmHWM"])/1024, "VmHWM-MiB")
	b.ReportMetric(float64(ms0.HeapInuse)/(1<<20), "go-heap-inuse-MiB")
	b.ReportMetric(float64(diskLoaded)/(1<<20), "disk-loaded-MiB")
	b.ReportMetric(float64(diskClosed)/(1<<20), "disk-closed-MiB")
	b.ReportMetric(float64(wal)/(1<<20), "wal-files-MiB")
	b.ReportMetric(ms(closing), "close-ms")
	b.ReportMetric(ms(reopen), "reopen-ms")
	b.ReportMetric(ms(firstRead), "reopen+first-read-ms")
	b.ReportMetric(0, "ns/op")
}

// procStatus returns the kB figures of /proc/self/status (VmRSS, VmHWM, ...).
func procStatus(tb testing.TB) map[string]int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}

// dirSize is the space allocated to the files under dir (whose names end with one of
// suffixes, if any are given).
func dirSize(tb testing.TB, dir string, suffixes ...string) int64 {
	var size int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if len(suffixes) > 0 && !slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(path, s) }) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			size += st.Blocks * 512 // allocated, as du counts
		} else {
			size += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return size
}
