package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/boards"
)

// projectorsFor builds one projector per read model.
func projectorsFor(rdb redis.UniversalClient, c *store.Client, log *slog.Logger) ([]*projections.Projector, error) {
	all, err := boards.All()
	if err != nil {
		return nil, err
	}
	out := make([]*projections.Projector, len(all))
	for i, p := range all {
		out[i] = &projections.Projector{Redis: rdb, Store: c, Projection: p, Log: log, Namespace: noticeNamespace(rdb)}
	}
	return out, nil
}

// noticeNamespace keeps the notices of a deployment apart from those of another on the
// same Redis server: pub/sub ignores database numbers, so without it the boards of one
// would hear the other's changes (and, deduplicating by log position, lose their own).
// The projector and the gateway derive it alike from REDIS_URL's database; database 0
// keeps the plain channel names.
func noticeNamespace(rdb redis.UniversalClient) string {
	if c, ok := rdb.(*redis.Client); ok && c.Options().DB != 0 {
		return fmt.Sprintf("db%d:", c.Options().DB)
	}
	return ""
}

// runProjectors runs every projector until ctx ends.
func runProjectors(ctx context.Context, ps []*projections.Projector) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Run(ctx) }()
	}
	return &wg
}

// projectorStatus answers /readyz for a set of projectors: ready when each one is
// either a standby or an active instance that has caught up with the log.
func projectorStatus(ps []*projections.Projector) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ready := true
		sts := make([]projections.Status, len(ps))
		for i, p := range ps {
			sts[i] = p.Status()
			if sts[i].Active && !sts[i].CaughtUp {
				ready = false
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "projections": sts})
	}
}

func openRedis(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(opts), nil
}

// serveProjector runs every projection against EVENTSTORE_URL and REDIS_URL, with
// /healthz, /readyz and /metrics on --listen.
func serveProjector(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("data", dataDefault(), "data directory (unused by the projector; accepted for symmetry)")
	listen := fs.String("listen", "127.0.0.1:7110", "host:port of /healthz, /readyz and /metrics; port 0 takes a free one")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	esURL, redisURL := os.Getenv("EVENTSTORE_URL"), os.Getenv("REDIS_URL")
	if esURL == "" || redisURL == "" {
		fmt.Fprintf(stderr, "vigie %s: EVENTSTORE_URL and REDIS_URL must be set\n", name)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }

	metricsHandler, shutdownMetrics, err := telemetry(ctx, "projector")
	if err != nil {
		return fail(err)
	}
	defer shutdownMetrics(context.Background())
	rdb, err := openRedis(redisURL)
	if err != nil {
		return fail(err)
	}
	defer rdb.Close()
	client, err := store.Open(esURL)
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	ps, err := projectorsFor(rdb, client, log)
	if err != nil {
		return fail(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", projectorStatus(ps))
	mux.Handle("GET /metrics", metricsHandler)
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	wg := runProjectors(ctx, ps)
	fmt.Fprintf(stdout, "listening on %s\n", lis.Addr())
	<-ctx.Done()
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	wg.Wait() // each projector hands its lease back on the way out
	return exitOK
}

// rebuildProjection is `vigie projections rebuild NAME`.
func rebuildProjection(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "vigie %s: name the read model to rebuild\n", name)
		return exitUsage
	}
	esURL, redisURL := os.Getenv("EVENTSTORE_URL"), os.Getenv("REDIS_URL")
	if esURL == "" || redisURL == "" {
		fmt.Fprintf(stderr, "vigie %s: EVENTSTORE_URL and REDIS_URL must be set\n", name)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rdb, err := openRedis(redisURL)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	defer rdb.Close()
	client, err := store.Open(esURL)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	defer client.Close()
	ps, err := projectorsFor(rdb, client, log)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	var names []string
	for _, p := range ps {
		if p.Projection.Name() != fs.Arg(0) {
			names = append(names, p.Projection.Name())
			continue
		}
		start := time.Now()
		v, err := p.Rebuild(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
			return exitError
		}
		fmt.Fprintf(stdout, "rebuilt %s as version %d in %s\n", fs.Arg(0), v, time.Since(start).Round(time.Millisecond))
		return exitOK
	}
	fmt.Fprintf(stderr, "vigie %s: no read model %q (there are: %v)\n", name, fs.Arg(0), names)
	return exitUsage
}
