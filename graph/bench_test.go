package graph_test

// Benchmarks of the gateway as a client sees it: the whole stack of gatewaytest.Start
// (a real Redis, the embedded event store with its log on the real disk, the services
// on loopback gRPC, every projector, the notice hub, the gateway behind an httptest
// server), all in this process, with the clients in it too: they share the machine's
// cores with what they measure. Each benchmark has a reference measured in the same
// run, on the same machine, with the same clients. docs/BENCHMARKS.md has the figures;
// the documented run is, on a Redis of its own (pub/sub is server-wide: on a Redis
// that other test suites use, their notices of Nîmes reach the 1,000 subscribers too,
// which changes/sub/round shows):
//
//	redis-server --bind 127.0.0.1 --port 6391 --save "" --appendonly no &
//	REDIS_URL=redis://127.0.0.1:6391/0 VIGIE_BENCH_CPUPROFILE=/tmp/mutation.cpu \
//	  go test -run '^$' -bench . -benchtime 5s -timeout 30m
//
// Every case also reports the CPU used while it ran: go-cpu-% and go-cpu-us/op (this
// process: clients, gateway, services, store and projectors; in % of one core, and
// per operation), redis-cpu-% and redis-cpu-us/op (redis-server, from INFO cpu), and
// other-cpu-% (the rest of the machine, from /proc/stat: other jobs on a shared
// machine take the same cores).
//
// BenchmarkBoardQuery: 200 incidents in two communes (100 each, reported through the
// gateway with two main-courante entries each), then 64 concurrent clients, each with
// its own subject (observer of Nîmes; the per-caller rate limit is raised out of the
// way), send b.N requests in total, closed loop (each client sends its next request
// when the previous one answered), over HTTP/1.1 keep-alive connections. Cases:
//
//	gateway-board               incidents(domain:"dep:30/com:30189") { id title status
//	                            severity }: the board of Nîmes, 100 incidents
//	gateway-me                  { me { subject roles { role domain } } } on the same
//	                            gateway: authentication, admission, gqlgen, no Redis
//	reference-gqlgen-constant   a bare gqlgen handler (handler.New, transport.POST,
//	                            the same query cache) over a small schema of its own,
//	                            sent the board's query text, answering a constant: the
//	                            very bytes the gateway answered it. The floor of HTTP +
//	                            gqlgen + the same payload on this machine
//
// Metrics: queries/s, p50-ms, p99-ms (each request's latency, from just before the
// client sends it to the end of the body).
//
// BenchmarkMutationLatency: an open-loop load paced at 200 mutations/s: b.N is the
// number of mutations, the i-th sent at start + i × 5 ms from a goroutine of its own
// whatever the earlier ones are doing (so -benchtime 10s is a load of ten seconds,
// and ns/op is the pace, 5 ms). Each is addLogEntry on one of 64 incidents of Nîmes
// in turn, by one of 16 mayors in turn, with a distinct commandId; its latency runs
// from just before the request is sent to the end of the answer, which the gateway
// sends once the incident board shows the change (read-your-writes) or its wait hit
// the bound (2 s, extensions.consistency = STALE). Cases:
//
//	gateway-addLogEntry     the mutation through the gateway
//	reference-service-grpc  the same command sent straight to the incidents service
//	                        over gRPC at the same pace: the service and the store's
//	                        append alone, without HTTP, GraphQL or the wait for the
//	                        board
//
// Metrics: p50-ms, p99-ms, max-ms, mutations/s (answers over the time from the first
// send to the last answer), stale-% (answers saying STALE), pace-slip-ms (how late
// the pacer sent the latest of its sends: near 0 means the load was open-loop as
// intended). VIGIE_BENCH_CPUPROFILE=FILE writes a CPU profile of the gateway case's
// load alone (its last and longest run), without the assembly and seeding that
// -cpuprofile would include (go tool pprof -top FILE).
//
// BenchmarkSubscribersReceiveAChange: 1,000 websocket connections (graphql-transport-ws,
// gatewaytest's DialWS), each subscribed to boardChanged(domain:"dep:30/com:30189")
// under its own subject, made live first (a change is made until every one of them
// has heard of one). Then b.N rounds, 100 ms apart: a mayor reports an incident in
// Nîmes, and for each subscriber the time from just before the mutation is sent to
// the arrival of the change of that incident's stream is taken. A round in which
// fewer than all of them hear of it within 10 s fails the benchmark. Cases:
//
//	gateway                     the above
//	reference-websocket-fanout  1,000 bare coder/websocket connections to a server
//	                            of this process that hands a message of the same
//	                            shape and size to each connection's writer goroutine
//	                            (as each subscription of the gateway has its own):
//	                            the floor of delivering one message to 1,000
//	                            websocket clients on this machine
//
// Metrics: p50-ms, p99-ms, max-ms over every delivery of every round, first-ms (the
// median over rounds of the earliest delivery: the way from the mutation to the
// first subscriber, before the fan-out), trigger-ms (median over rounds of the
// mutation's answer time; for the reference, of handing the message to the writers),
// received/round (the fewest deliveries of a round: 1,000), changes/sub/round (changes
// each subscriber received per round, of any stream: 1 unless something else changes
// the board of Nîmes), and the CPU per round. The arrival is stamped by a goroutine of
// the client reading the connection: the clients' scheduling on the shared cores is
// in the figures.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/time/rate"

	"vigie/graph/gatewaytest"
	incidentspb "vigie/services/incidents/incidentspb"
)

const (
	benchNimes = "dep:30/com:30189"
	benchAles  = "dep:30/com:30007"

	benchClients     = 64   // concurrent clients of BenchmarkBoardQuery
	benchBoardSize   = 100  // incidents per commune
	benchRate        = 200  // mutations/s of BenchmarkMutationLatency
	benchIncidents   = 64   // incidents the mutations go to
	benchMayors      = 16   // subjects the mutations come from
	benchSubscribers = 1000 // websocket subscribers of BenchmarkSubscribersReceiveAChange
)

const (
	benchBoardQuery = `{ incidents(domain:"dep:30/com:30189") { id title status severity } }`
	benchMeQuery    = `{ me { subject roles { role domain } } }`
	benchReport     = `mutation($d:String!,$k:IncidentKind!,$t:String!,$s:Severity,$c:ID){ reportIncident(input:{domain:$d, kind:$k, title:$t, description:"Signalé par le banc d'essai", severity:$s}, commandId:$c){ id } }`
	benchAddLog     = `mutation($id:ID!,$t:String!,$c:ID){ addLogEntry(incidentId:$id, text:$t, commandId:$c){ id status } }`
	benchSubscribe  = `subscription($d: String!) { boardChanged(domain: $d) { domain streamId type at } }`
)

// benchUnlimited takes the per-caller rate limit out of what is measured.
var benchUnlimited = gatewaytest.WithRateLimit(rate.Inf, 1<<30)

func BenchmarkBoardQuery(b *testing.B) {
	env := gatewaytest.Start(b, benchUnlimited)
	c := benchHTTPClient(2 * benchClients)
	url := env.URL + "/graphql"
	for _, dom := range []string{benchNimes, benchAles} {
		if _, err := benchSeedIncidents(c, url, env.Token("bench-mayor-"+dom[len(dom)-5:], "mayor", dom), dom, benchBoardSize, 2); err != nil {
			b.Fatal(err)
		}
	}
	tokens := make([]string, benchClients)
	for i := range tokens {
		tokens[i] = env.Token(fmt.Sprintf("bench-reader-%02d", i), "observer", benchNimes)
	}

	board := benchBody(benchBoardQuery, nil)
	raw, err := benchPost(c, url, tokens[0], board)
	if err != nil {
		b.Fatal(err)
	}
	var answer struct {
		Data struct {
			Incidents []struct{ ID string }
		}
	}
	if err := json.Unmarshal(raw, &answer); err != nil || len(answer.Data.Incidents) != benchBoardSize {
		b.Fatalf("the board of Nîmes must hold the %d incidents seeded there: %v %.300s", benchBoardSize, err, raw)
	}
	var data struct{ Data json.RawMessage }
	_ = json.Unmarshal(raw, &data)
	b.Logf("board answer: %d incidents, %d bytes", len(answer.Data.Incidents), len(raw))

	ref := httptest.NewServer(benchConstantHandler(b, data.Data))
	b.Cleanup(ref.Close)
	refRaw, err := benchPost(c, ref.URL, tokens[0], board)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(refRaw, raw) {
		b.Fatalf("the reference must answer the gateway's bytes:\n%.200s\n%.200s", refRaw, raw)
	}

	b.Run("gateway-board", func(b *testing.B) {
		benchClosedLoop(b, c, url, tokens, board, len(raw), env.Redis)
	})
	b.Run("gateway-me", func(b *testing.B) {
		benchClosedLoop(b, c, url, tokens, benchBody(benchMeQuery, nil), 0, env.Redis)
	})
	b.Run("reference-gqlgen-constant", func(b *testing.B) {
		benchClosedLoop(b, c, ref.URL, tokens, board, len(raw), env.Redis)
	})
}

// benchClosedLoop has len(tokens) clients send body b.N times in all, each its next
// request once the previous one answered, and reports the rate and latencies.
func benchClosedLoop(b *testing.B, c *http.Client, url string, tokens []string, body []byte, wantLen int, rdb *redis.Client) {
	lat := make([][]time.Duration, len(tokens))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	cpu := benchCPUNow(rdb)
	b.ResetTimer()
	start := time.Now()
	for i, tok := range tokens {
		lat[i] = make([]time.Duration, 0, b.N/len(tokens)+1)
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				raw, err := benchPost(c, url, tok, body)
				d := time.Since(t)
				if err == nil && wantLen > 0 && len(raw) != wantLen {
					err = fmt.Errorf("answer of %d bytes, want %d: %.200s", len(raw), wantLen, raw)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(b.N)) // stop everyone
					return
				}
				lat[i] = append(lat[i], d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "queries/s")
	b.ReportMetric(benchMS(benchQuantile(all, 0.50)), "p50-ms")
	b.ReportMetric(benchMS(benchQuantile(all, 0.99)), "p99-ms")
	benchReportCPU(b, cpu, rdb, b.N)
}

// benchConstantHandler is a bare gqlgen handler: POST only, the gateway's query cache,
// no extension, over a schema that accepts the board's query, answering data to any
// operation.
func benchConstantHandler(b *testing.B, data json.RawMessage) http.Handler {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "reference.graphqls", Input: `
		type Query { incidents(domain: String!): [Incident!]! }
		type Incident { id: ID!, title: String!, status: String!, severity: String }`})
	if err != nil {
		b.Fatal(err)
	}
	srv := handler.New(benchConstantSchema{schema: schema, data: data})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	return srv
}

type benchConstantSchema struct {
	schema *ast.Schema
	data   json.RawMessage
}

func (s benchConstantSchema) Schema() *ast.Schema { return s.schema }

func (benchConstantSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (s benchConstantSchema) Exec(context.Context) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Data: s.data})
}

func BenchmarkMutationLatency(b *testing.B) {
	env := gatewaytest.Start(b, benchUnlimited)
	c := benchHTTPClient(512)
	url := env.URL + "/graphql"
	mayors := make([]string, benchMayors)
	for i := range mayors {
		mayors[i] = env.Token(fmt.Sprintf("bench-mayor-%02d", i), "mayor", benchNimes)
	}
	ids, err := benchSeedIncidents(c, url, mayors[0], benchNimes, benchIncidents, 1)
	if err != nil {
		b.Fatal(err)
	}
	run := 0

	b.Run("gateway-addLogEntry", func(b *testing.B) {
		run++
		var stale atomic.Int64
		stop := func() {}
		if f := os.Getenv("VIGIE_BENCH_CPUPROFILE"); f != "" && b.N > 1 {
			stop = benchStartProfile(b, f)
		}
		benchPaced(b, env.Redis, func(i int) error {
			body := benchBody(benchAddLog, map[string]any{
				"id": ids[i%len(ids)], "t": fmt.Sprintf("Relevé %d à l'échelle du Vistre", i), "c": fmt.Sprintf("bench-gw-%d-%d", run, i),
			})
			raw, err := benchPost(c, url, mayors[i%len(mayors)], body)
			if bytes.Contains(raw, []byte(`"consistency":"STALE"`)) {
				stale.Add(1)
			}
			return err
		}, stop)
		b.ReportMetric(100*float64(stale.Load())/float64(b.N), "stale-%")
	})

	b.Run("reference-service-grpc", func(b *testing.B) {
		run++
		benchPaced(b, env.Redis, func(i int) error {
			ctx, cancel := context.WithTimeout(gatewaytest.As(context.Background(), mayors[i%len(mayors)]), 30*time.Second)
			defer cancel()
			_, err := env.Incidents.AddLogEntry(ctx, &incidentspb.AddLogEntryRequest{
				CommandId: fmt.Sprintf("bench-grpc-%d-%d", run, i), IncidentId: ids[i%len(ids)], Text: fmt.Sprintf("Relevé %d à l'échelle du Vistre", i),
			})
			return err
		}, func() {})
	})
}

// benchPaced sends b.N operations at benchRate a second, each from a goroutine of its
// own at its time whatever the others are doing, and reports their latencies. stop
// is called once the last one answered.
func benchPaced(b *testing.B, rdb *redis.Client, send func(i int) error, stop func()) {
	interval := time.Second / benchRate
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	var slip time.Duration
	cpu := benchCPUNow(rdb)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		slip = max(slip, time.Since(at))
		wg.Go(func() {
			t := time.Now()
			err := send(i)
			lat[i] = time.Since(t)
			if err != nil {
				failed.Add(1)
				errOnce.Do(func() { firstErr = err })
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	if firstErr != nil {
		b.Fatalf("%d of %d failed, the first: %v", failed.Load(), b.N, firstErr)
	}
	slices.Sort(lat)
	b.ReportMetric(benchMS(benchQuantile(lat, 0.50)), "p50-ms")
	b.ReportMetric(benchMS(benchQuantile(lat, 0.99)), "p99-ms")
	b.ReportMetric(benchMS(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mutations/s")
	b.ReportMetric(benchMS(slip), "pace-slip-ms")
	benchReportCPU(b, cpu, rdb, b.N)
}

func benchStartProfile(b *testing.B, file string) (stop func()) {
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Logf("no CPU profile: %v", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func BenchmarkSubscribersReceiveAChange(b *testing.B) {
	benchRaiseFileLimit(b, 4*benchSubscribers+1024)
	env := gatewaytest.Start(b, benchUnlimited)
	c := benchHTTPClient(16)
	url := env.URL + "/graphql"
	mayor := env.Token("bench-mayor", "mayor", benchNimes)
	warm, err := benchSeedIncidents(c, url, mayor, benchNimes, 1, 0)
	if err != nil {
		b.Fatal(err)
	}

	// Connect in parallel (each connection's init verifies a token), subscribe from
	// here (Subscribe fails the benchmark on error, which only its goroutine may do).
	conns := make([]*gatewaytest.WS, benchSubscribers)
	if err := benchParallel(32, len(conns), func(i int) error {
		tok := env.Token(fmt.Sprintf("bench-watch-%04d", i), "observer", benchNimes)
		ws, err := env.DialWS(b, map[string]any{"Authorization": "Bearer " + tok})
		conns[i] = ws
		return err
	}); err != nil {
		b.Fatal(err)
	}
	subs := make([]*benchSub, len(conns))
	for i, ws := range conns {
		ws.Subscribe(b, "board", benchSubscribe, map[string]any{"d": benchNimes})
		subs[i] = benchNewSub()
		go subs[i].pumpWS(ws)
	}
	// gqlgen does not acknowledge a subscription: change the board until every
	// subscriber has heard of a change.
	deadline := time.Now().Add(60 * time.Second)
	for n := 0; ; n++ {
		if _, err := benchDo(c, url, mayor, benchAddLog, map[string]any{"id": warm[0], "t": "Veille", "c": fmt.Sprintf("bench-warm-%d", n)}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		deaf := 0
		for _, s := range subs {
			if s.heard.Load() == 0 {
				deaf++
			}
		}
		if deaf == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscribers never heard of a change", deaf, len(subs))
		}
	}

	b.Run("gateway", func(b *testing.B) {
		run := time.Now().UnixNano()
		benchRounds(b, subs, env.Redis, func(round int) (string, error) {
			data, err := benchDo(c, url, mayor, benchReport, map[string]any{
				"d": benchNimes, "k": "STORM", "t": fmt.Sprintf("Arbre tombé sur la chaussée (%d)", round), "s": "MINOR", "c": fmt.Sprintf("bench-sub-%d-%d", run, round),
			})
			if err != nil {
				return "", err
			}
			id, err := benchID(data, "reportIncident")
			return "incident-" + id, err
		})
	})

	b.Run("reference-websocket-fanout", func(b *testing.B) {
		fan := benchNewFanout(b, benchSubscribers)
		benchRounds(b, fan.subs, env.Redis, func(round int) (string, error) {
			stream := fmt.Sprintf("incident-reference-%d-%d", time.Now().UnixNano(), round)
			fan.broadcast(stream)
			return stream, nil
		})
	})
}

// benchArrival is a change a subscriber received: its stream, and when.
type benchArrival struct {
	stream string
	at     time.Time
}

// benchSub is one subscriber's changes, stamped as they arrive.
type benchSub struct {
	in    chan benchArrival
	heard atomic.Int64
	err   atomic.Pointer[string]
}

func benchNewSub() *benchSub { return &benchSub{in: make(chan benchArrival, 256)} }

// arrived stamps a graphql-transport-ws message as it comes, then reads it.
func (s *benchSub) arrived(m gatewaytest.Message) {
	at := time.Now()
	if m.Type != "next" {
		e := fmt.Sprintf("subscription ended: %s %s", m.Type, m.Payload)
		s.err.Store(&e)
		return
	}
	var p struct {
		Data struct {
			BoardChanged struct{ StreamID string }
		}
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data.BoardChanged.StreamID == "" {
		e := fmt.Sprintf("not a board change: %s", m.Payload)
		s.err.Store(&e)
		return
	}
	s.heard.Add(1)
	select {
	case s.in <- benchArrival{p.Data.BoardChanged.StreamID, at}:
	default: // not read: a round will miss it and say so
	}
}

func (s *benchSub) pumpWS(ws *gatewaytest.WS) {
	for {
		m, ok := ws.Next(time.Hour)
		if !ok {
			if ws.Err() != nil {
				return
			}
			continue
		}
		s.arrived(m)
	}
}

// benchRounds runs b.N rounds: trigger makes a change and says its stream; every
// subscriber must receive it within 10 s of the trigger's start.
func benchRounds(b *testing.B, subs []*benchSub, rdb *redis.Client, trigger func(round int) (string, error)) {
	var all, firsts, triggers []time.Duration
	fewest := len(subs)
	var cpu benchSpan
	heard := func() (n int64) {
		for _, s := range subs {
			n += s.heard.Load()
		}
		return n
	}
	heard0 := heard()
	b.ResetTimer()
	for round := range b.N {
		before := benchCPUNow(rdb)
		for _, s := range subs {
			for len(s.in) > 0 {
				<-s.in
			}
		}
		t0 := time.Now()
		stream, err := trigger(round)
		triggers = append(triggers, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		timeout := make(chan struct{})
		timer := time.AfterFunc(time.Until(t0.Add(10*time.Second)), func() { close(timeout) })
		got, first := 0, time.Duration(math.MaxInt64)
	subscribers:
		for _, s := range subs {
			for {
				select {
				case a := <-s.in:
					if a.stream != stream {
						continue
					}
					d := a.at.Sub(t0)
					all = append(all, d)
					first = min(first, d)
					got++
				case <-timeout:
					break subscribers
				}
				break
			}
		}
		timer.Stop()
		fewest = min(fewest, got)
		if got < len(subs) {
			why := ""
			for _, s := range subs {
				if e := s.err.Load(); e != nil {
					why = ": " + *e
					break
				}
			}
			b.Fatalf("round %d: %d of %d subscribers received the change within 10 s%s", round, got, len(subs), why)
		}
		firsts = append(firsts, first)
		cpu.add(before, benchCPUNow(rdb))
		// Let the round's other notices (every read model announces the change) come
		// and go before the next one.
		b.StopTimer()
		time.Sleep(100 * time.Millisecond)
		b.StartTimer()
	}
	b.StopTimer()
	changes := float64(heard()-heard0) / float64(b.N*len(subs))
	slices.Sort(all)
	slices.Sort(firsts)
	slices.Sort(triggers)
	b.ReportMetric(benchMS(benchQuantile(all, 0.50)), "p50-ms")
	b.ReportMetric(benchMS(benchQuantile(all, 0.99)), "p99-ms")
	b.ReportMetric(benchMS(all[len(all)-1]), "max-ms")
	b.ReportMetric(benchMS(benchQuantile(firsts, 0.50)), "first-ms")
	b.ReportMetric(benchMS(benchQuantile(triggers, 0.50)), "trigger-ms")
	b.ReportMetric(float64(fewest), "received/round")
	b.ReportMetric(changes, "changes/sub/round")
	cpu.report(b, b.N)
}

// benchFanout is the reference of the subscribers: a websocket server that writes a
// message to each of its connections from that connection's own goroutine (as each
// subscription of the gateway has its own), and as many bare clients.
type benchFanout struct {
	mu      sync.Mutex
	writers []chan []byte
	subs    []*benchSub
}

func benchNewFanout(b *testing.B, n int) *benchFanout {
	f := &benchFanout{}
	// Reads and writes with a context that cannot end, as gqlgen's websocket
	// transport and gatewaytest's client do: coder/websocket registers a cancellable
	// one with its parent at every read and write, and a thousand connections under
	// one parent then contend for its lock.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		out := make(chan []byte, 16)
		f.mu.Lock()
		f.writers = append(f.writers, out)
		f.mu.Unlock()
		closed := c.CloseRead(context.Background())
		for {
			select {
			case m := <-out:
				if err := c.Write(context.Background(), websocket.MessageText, m); err != nil {
					return
				}
			case <-closed.Done():
				return
			}
		}
	}))
	clients := make([]*websocket.Conn, n)
	b.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				c.CloseNow()
			}
		}
		srv.Close()
	})
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")
	f.subs = make([]*benchSub, n)
	err := benchParallel(32, n, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, wsURL, nil)
		if err != nil {
			return err
		}
		clients[i] = c
		s := benchNewSub()
		f.subs[i] = s
		go func() {
			for {
				_, raw, err := c.Read(context.Background())
				if err != nil {
					return
				}
				var m gatewaytest.Message
				if json.Unmarshal(raw, &m) == nil {
					s.arrived(m)
				}
			}
		}()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		k := len(f.writers)
		f.mu.Unlock()
		if k == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("reference: %d of %d connections accepted", k, n)
		}
	}
	return f
}

// broadcast hands each connection's writer a message the size and shape of a board
// change.
func (f *benchFanout) broadcast(stream string) {
	payload, _ := json.Marshal(map[string]any{"data": map[string]any{"boardChanged": map[string]any{
		"domain": benchNimes, "streamId": stream, "type": "IncidentReported", "at": time.Now().Format(time.RFC3339Nano),
	}}})
	msg, _ := json.Marshal(gatewaytest.Message{Type: "next", ID: "board", Payload: payload})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.writers {
		select {
		case w <- msg:
		default:
		}
	}
}

// benchSeedIncidents reports n incidents in domain through the gateway, 8 at a time,
// each with logs main-courante entries, and returns their ids.
func benchSeedIncidents(c *http.Client, url, token, domain string, n, logs int) ([]string, error) {
	kinds := []string{"FLOOD", "FLASH_FLOOD", "STORM", "WILDFIRE", "LANDSLIDE"}
	severities := []string{"MINOR", "MODERATE", "SEVERE", "EXTREME"}
	seed := time.Now().UnixNano()
	ids := make([]string, n)
	err := benchParallel(8, n, func(i int) error {
		data, err := benchDo(c, url, token, benchReport, map[string]any{
			"d": domain, "k": kinds[i%len(kinds)], "t": fmt.Sprintf("Incident %d de %s", i, domain),
			"s": severities[i%len(severities)], "c": fmt.Sprintf("bench-seed-%d-%s-%d", seed, domain, i),
		})
		if err != nil {
			return err
		}
		if ids[i], err = benchID(data, "reportIncident"); err != nil {
			return err
		}
		for j := range logs {
			if _, err := benchDo(c, url, token, benchAddLog, map[string]any{
				"id": ids[i], "t": fmt.Sprintf("Point de situation n° %d", j+1), "c": fmt.Sprintf("bench-seed-%d-%s-%d-%d", seed, domain, i, j),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// benchParallel runs f(0..n-1) on workers goroutines and returns the first error.
func benchParallel(workers, n int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// benchHTTPClient keeps up to conns idle connections to the gateway (the default
// transport keeps 2 a host: concurrent clients would open a connection per request).
func benchHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute},
	}
}

func benchBody(query string, vars map[string]any) []byte {
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

// benchPost sends a GraphQL request and returns the answer, an error unless it is a
// clean one (HTTP 200 without errors).
func benchPost(c *http.Client, url, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return raw, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, raw)
	}
	if bytes.Contains(raw, []byte(`"errors"`)) {
		return raw, fmt.Errorf("GraphQL errors: %.300s", raw)
	}
	return raw, nil
}

// benchDo sends an operation and returns its data.
func benchDo(c *http.Client, url, token, query string, vars map[string]any) (json.RawMessage, error) {
	raw, err := benchPost(c, url, token, benchBody(query, vars))
	if err != nil {
		return nil, err
	}
	var r struct{ Data json.RawMessage }
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%v: %.300s", err, raw)
	}
	return r.Data, nil
}

// benchID is the id of the object a mutation answered under field.
func benchID(data json.RawMessage, field string) (string, error) {
	var d map[string]struct{ ID string }
	if err := json.Unmarshal(data, &d); err != nil || d[field].ID == "" {
		return "", fmt.Errorf("no %s.id in %s", field, data)
	}
	return d[field].ID, nil
}

func benchQuantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchCPU is the CPU time used so far by this process, by redis-server and by the
// whole machine.
type benchCPU struct {
	at      time.Time
	self    time.Duration
	redis   float64       // seconds; NaN when INFO did not say
	machine time.Duration // busy time of all CPUs (/proc/stat); -1 when unknown
}

// benchMachineBusy is the busy time of all CPUs since boot: /proc/stat's first line,
// in USER_HZ (100 a second), less idle and iowait.
func benchMachineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return -1
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / 100
}

func benchCPUNow(rdb *redis.Client) benchCPU {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := benchCPU{at: time.Now(), self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), redis: math.NaN(), machine: benchMachineBusy()}
	if rdb == nil {
		return c
	}
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return c
	}
	var sum float64
	n := 0
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				sum += f
				n++
			}
		}
	}
	if n == 2 {
		c.redis = sum
	}
	return c
}

// benchSpan adds up the CPU used over periods of a benchmark.
type benchSpan struct {
	wall, self, machine time.Duration
	redis               float64
}

func (s *benchSpan) add(from, to benchCPU) {
	s.wall += to.at.Sub(from.at)
	s.self += to.self - from.self
	s.redis += to.redis - from.redis
	if from.machine < 0 || to.machine < 0 {
		s.machine = -1 << 62
	}
	s.machine += to.machine - from.machine
}

// report reports the CPU used, in % of one core over the periods and in µs per
// operation.
func (s benchSpan) report(b *testing.B, ops int) {
	b.ReportMetric(100*s.self.Seconds()/s.wall.Seconds(), "go-cpu-%")
	b.ReportMetric(float64(s.self.Microseconds())/float64(ops), "go-cpu-us/op")
	if !math.IsNaN(s.redis) {
		b.ReportMetric(100*s.redis/s.wall.Seconds(), "redis-cpu-%")
		b.ReportMetric(1e6*s.redis/float64(ops), "redis-cpu-us/op")
		// What the rest of the machine used meanwhile: other jobs of a shared machine
		// compete for the same cores (/proc/stat counts in hundredths of a second, so
		// short periods are rough).
		if s.machine >= 0 {
			other := s.machine.Seconds() - s.self.Seconds() - s.redis
			b.ReportMetric(max(0, 100*other/s.wall.Seconds()), "other-cpu-%")
		}
	}
}

// benchReportCPU reports the CPU used since from, over ops operations.
func benchReportCPU(b *testing.B, from benchCPU, rdb *redis.Client, ops int) {
	var s benchSpan
	s.add(from, benchCPUNow(rdb))
	s.report(b, ops)
}

// benchRaiseFileLimit raises the soft limit of open files to want (within the hard
// limit): each websocket is two descriptors of this process.
func benchRaiseFileLimit(b *testing.B, want uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Fatal(err)
	}
	if l.Cur >= want {
		return
	}
	l.Cur = min(want, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Fatal(err)
	}
	if l.Cur < want {
		b.Fatalf("open files limited to %d (hard limit), %d needed", l.Cur, want)
	}
}
