package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"vigie/events/store"
	"vigie/identity"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/incidents"
	"vigie/services/resources"
	"vigie/services/roles"
)

// service is what `vigie serve incidents|resources` needs of a service package.
type service interface {
	Register(grpc.ServiceRegistrar)
}

// services serves several APIs from one process.
type services []service

func (ss services) Register(g grpc.ServiceRegistrar) {
	for _, s := range ss {
		s.Register(g)
	}
}

// newIncidentsAndRoles: the incidents process also serves the Roles API (a small API
// the gateway reaches at the same address), writing the role streams with the
// incidents service's store account. now is their clock (nil: the wall clock).
func newIncidentsAndRoles(c *store.Client, a *policies.Authorizer, now func() time.Time) (service, error) {
	inc, err := incidents.New(c, a, now)
	if err != nil {
		return nil, err
	}
	rol, err := roles.New(c, a, now)
	if err != nil {
		return nil, err
	}
	return services{inc, rol}, nil
}

func serveIncidents(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	return serveService(ctx, name, "127.0.0.1:7101", args, stdout, stderr, func(c *store.Client, a *policies.Authorizer) (service, error) {
		return newIncidentsAndRoles(c, a, nil)
	})
}

func serveResources(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	return serveService(ctx, name, "127.0.0.1:7102", args, stdout, stderr, func(c *store.Client, a *policies.Authorizer) (service, error) {
		return resources.New(c, a, nil)
	})
}

// serveService runs one command service against EVENTSTORE_URL until SIGINT/SIGTERM:
// it follows role grants from the log, verifies every caller's token with the key of
// the data directory, and serves gRPC with the standard health service; traces, logs
// and /metrics (--metrics) as every serving command.
func serveService(ctx context.Context, name, defaultListen string, args []string, stdout, stderr io.Writer, build func(*store.Client, *policies.Authorizer) (service, error)) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory holding the identity key (env VIGIE_DATA)")
	listen := fs.String("listen", defaultListen, "host:port of the gRPC API; port 0 takes a free one")
	metricsAt := metricsFlag(fs)
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		fmt.Fprintf(stderr, "vigie %s: EVENTSTORE_URL is not set (e.g. esdb://127.0.0.1:2113?tls=false)\n", name)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fail := func(err error) int {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		return fail(err)
	}
	stopTelemetry, err := startTelemetry(ctx, strings.TrimPrefix(name, "serve "), metricsAt, stderr)
	if err != nil {
		return fail(err)
	}
	defer stopTelemetry()
	client, err := store.Open(url)
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	// Grants change while the service runs; an unreadable grant stops the service
	// rather than leave it deciding with stale rights.
	authz, followErr, err := followGrants(ctx, client)
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		return fail(err)
	}
	svc, err := build(client, authz)
	if err != nil {
		return fail(err)
	}
	g, health := guard.NewServer(key.Public().(ed25519.PublicKey))
	svc.Register(g)
	// A service with background work (the alerts' dispatcher) runs it beside its API.
	if bg, ok := svc.(interface{ Run(context.Context) }); ok {
		bgDone := make(chan struct{})
		go func() { bg.Run(ctx); close(bgDone) }()
		defer func() { stop(); <-bgDone }()
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	log.Info("service ready", "service", name, "addr", lis.Addr().String())
	fmt.Fprintf(stdout, "listening on %s\n", lis.Addr())

	select {
	case <-ctx.Done():
	case err := <-followErr:
		log.Error("following role grants stopped", "err", err)
	case err := <-served:
		return fail(err)
	}
	stop()
	// Readiness goes first, so balancers stop sending; then in-flight calls finish.
	health.Shutdown()
	health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.Stop()
	}
	log.Info("stopped", "service", name)
	return exitOK
}

// parseFlags parses and refuses positional arguments; ok is false when the command
// must end with code.
func parseFlags(fs *flag.FlagSet, name string, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie %s: unexpected argument %q\n", name, fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}
