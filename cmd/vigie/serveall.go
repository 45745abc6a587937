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
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/identity"
	"vigie/policies"
	"vigie/policies/grantlog"
	"vigie/services/alerts/channel"
	"vigie/services/guard"
	"vigie/services/resources"
)

// followGrants starts following role grants and waits until the ones already in the
// log are loaded.
func followGrants(ctx context.Context, c *store.Client) (*policies.Authorizer, <-chan error, error) {
	authz, err := policies.New()
	if err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- policies.Follow(ctx, grantlog.Source{Client: c}, authz) }()
	select {
	case <-authz.Ready():
		return authz, done, nil
	case err := <-done:
		return nil, nil, fmt.Errorf("following role grants: %w", err)
	case <-time.After(30 * time.Second):
		return nil, nil, errors.New("role grants not loaded within 30 s: is the event store reachable?")
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// serveGateway runs the gateway alone against REDIS_URL, EVENTSTORE_URL and the
// services at VIGIE_INCIDENTS_ADDR and VIGIE_RESOURCES_ADDR.
func serveGateway(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory holding the identity key (env VIGIE_DATA)")
	httpAddr := fs.String("http", envOr("VIGIE_HTTP_ADDR", "127.0.0.1:8080"), "host:port of the gateway; port 0 takes a free one")
	metricsAt := metricsFlag(fs)
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	env := map[string]string{}
	for _, k := range []string{"EVENTSTORE_URL", "REDIS_URL", "VIGIE_INCIDENTS_ADDR", "VIGIE_RESOURCES_ADDR", "VIGIE_ALERTS_ADDR"} {
		if env[k] = os.Getenv(k); env[k] == "" {
			fmt.Fprintf(stderr, "vigie %s: %s is not set\n", name, k)
			return exitUsage
		}
	}
	// Behind a balancer, the gateway keeps serving this long after SIGTERM with /readyz
	// answering 503, so that the balancer stops sending before the listener closes.
	drain, err := time.ParseDuration(envOr("VIGIE_DRAIN_DELAY", defaultDrainDelay.String()))
	if err != nil || drain < 0 {
		fmt.Fprintf(stderr, "vigie %s: VIGIE_DRAIN_DELAY=%q is not a duration such as 5s\n", name, os.Getenv("VIGIE_DRAIN_DELAY"))
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		return fail(err)
	}
	stopTelemetry, err := startTelemetry(ctx, "gateway", metricsAt, stderr)
	if err != nil {
		return fail(err)
	}
	defer stopTelemetry()
	rdb, err := openRedis(env["REDIS_URL"])
	if err != nil {
		return fail(err)
	}
	defer rdb.Close()
	client, err := store.Open(env["EVENTSTORE_URL"])
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	authz, _, err := followGrants(ctx, client)
	if err != nil {
		return fail(err)
	}
	h, conns, err := buildGateway(ctx, gatewayDeps{
		key: key, redis: rdb, store: client, authz: authz, log: log,
		incidentsAddr: env["VIGIE_INCIDENTS_ADDR"], resourcesAddr: env["VIGIE_RESOURCES_ADDR"], alertsAddr: env["VIGIE_ALERTS_ADDR"],
		oidcIssuer: os.Getenv("VIGIE_OIDC_ISSUER"), oidcClientID: os.Getenv("VIGIE_OIDC_CLIENT_ID"),
	})
	if err != nil {
		return fail(err)
	}
	defer closeAll(conns)
	return serveHTTP(ctx, stop, *httpAddr, h, stdout, log, fail, nil, drain)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		c.Close()
	}
}

// defaultDrainDelay is how long `vigie serve gateway` goes on serving, not ready, after
// SIGTERM (VIGIE_DRAIN_DELAY); a balancer probing /readyz every second sees it.
const defaultDrainDelay = 2 * time.Second

// drainBound is how long in-flight requests may take to finish once the listener closed.
const drainBound = 10 * time.Second

// serveHTTP serves h until ctx ends, then shuts down in order: /readyz answers 503 at
// once, requests are still served for drainDelay (so that a balancer stops sending),
// then the listener closes and in-flight requests finish, within drainBound. ready,
// when given, runs once the server answers and before it is announced (the demo seeds
// through the gateway itself).
func serveHTTP(ctx context.Context, stop func(), addr string, h http.Handler, stdout io.Writer, log *slog.Logger, fail func(error) int, ready func(url string) error, drainDelay time.Duration) int {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(err)
	}
	var draining atomic.Bool
	next := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && draining.Load() {
			http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(lis) }()
	url := "http://" + lis.Addr().String()
	if ready != nil {
		if err := ready(url); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	select {
	case <-ctx.Done():
	case err := <-served:
		return fail(err)
	}
	// Restore default signal handling: a second SIGTERM or Ctrl-C ends a drain at once.
	stop()
	draining.Store(true)
	log.Info("shutting down: not ready, still serving", "for", drainDelay)
	time.Sleep(drainDelay)
	sctx, cancel := context.WithTimeout(context.Background(), drainBound)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests cut short", "bound", drainBound, "err", err)
		_ = hs.Close()
	}
	log.Info("stopped")
	return exitOK
}

// inMemoryServices names the services of the all-in-one process, which the
// gateway reaches through serviceDial: passthrough hands the name to the dialer.
const inMemoryServices = "passthrough:///vigie-services"

// serveAll is `vigie serve`: everything in one process on the embedded defaults.
func serveAll(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	return runAll(ctx, name, args, stdout, stderr, nil, nil, nil)
}

// runAll starts the embedded event store, the read-model store (REDIS_URL, or an
// in-process Redis-protocol server whose models are rebuilt from the log), both
// services, the projector and the gateway; seed, when given, runs once all is up. The
// alerts go out through demo's providers when given, else through the environment's
// (allInOneSenders). now, when given, is the services' and the dispatcher's clock (the
// demo's, which its seed sets to the night it records); nil: the wall clock.
func runAll(ctx context.Context, name string, args []string, stdout, stderr io.Writer, seed func(ctx context.Context, key ed25519.PrivateKey, gatewayURL string, stdout io.Writer) error, demo *demoProviders, now func() time.Time) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory: the event log and the signing key (env VIGIE_DATA)")
	httpAddr := fs.String("http", envOr("VIGIE_HTTP_ADDR", "127.0.0.1:8080"), "host:port of the gateway; port 0 takes a free one")
	metricsAt := metricsFlag(fs)
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	// Before anything starts: a refused provider configuration is the first line on
	// stderr, and the command post does not come up without the channels it was told of.
	// The demo reads no provider from the environment (allInOneSenders).
	if demo == nil {
		if err := channel.FromEnv(os.Getenv).Validate(); err != nil {
			fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
			return exitUsage
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }

	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		return fail(err)
	}
	stopTelemetry, err := startTelemetry(ctx, name, metricsAt, stderr)
	if err != nil {
		return fail(err)
	}
	defer stopTelemetry()

	es, err := embedded.Open(embedded.Config{Dir: filepath.Join(*data, "eventstore")})
	if err != nil {
		return fail(err)
	}
	defer es.Close()
	// The store is served to this process only, on a Unix socket in the data
	// directory, with TLS and passwords made at this start (listenPrivately); each
	// service connects as its own user and may write only its own streams
	// (storeaccess.go).
	esrv, esOpts, err := listenPrivately(es, *data)
	if err != nil {
		return fail(err)
	}
	defer esrv.Close()
	clients, err := esrv.serviceClients(ctx, esOpts)
	if err != nil {
		return fail(err)
	}
	defer clients.Close()
	client := clients[accountGateway]

	var rdb *redis.Client
	if url := os.Getenv("REDIS_URL"); url != "" {
		if rdb, err = openRedis(url); err != nil {
			return fail(err)
		}
	} else {
		// Read models are derived data: an in-process server, rebuilt from the log at
		// every start, spares a one-machine install any Redis.
		// It is reached in memory only: no port, so no other process reads the
		// boards or writes a forged alert into them.
		mr := miniredis.NewMiniRedis()
		defer mr.Close()
		// miniredis's own Dial is an unbuffered net.Pipe, which deadlocks under the
		// projector's pipelines (both ends writing); bufconn's buffered pipes do not.
		// Dial once to start the server without a listener.
		first, err := mr.Dial()
		if err != nil {
			return fail(err)
		}
		first.Close()
		rsrv := mr.Server() // read once: miniredis's Close writes the field unlocked
		rlis := bufconn.Listen(4 << 20)
		accepting := make(chan struct{})
		// Runs before mr.Close (deferred earlier): no ServeConn may race miniredis's
		// Close (its WaitGroup's Add against its Wait).
		defer func() { rlis.Close(); <-accepting }()
		go func() {
			defer close(accepting)
			for {
				c, err := rlis.Accept()
				if err != nil {
					return
				}
				rsrv.ServeConn(c)
			}
		}()
		rdb = redis.NewClient(&redis.Options{Addr: "in-memory", Dialer: func(ctx context.Context, _, _ string) (net.Conn, error) { return rlis.DialContext(ctx) }})
	}
	defer rdb.Close()

	authz, _, err := followGrants(ctx, client)
	if err != nil {
		return fail(err)
	}
	g, health := guard.NewServer(key.Public().(ed25519.PublicKey))
	inc, err := newIncidentsAndRoles(clients[accountIncidents], authz, now)
	if err != nil {
		return fail(err)
	}
	res, err := resources.New(clients[accountResources], authz, now)
	if err != nil {
		return fail(err)
	}
	// newAlerts offers the senders' channels and shows the mayor the dispatcher's
	// count of residents.
	alr, dispatcher, err := newAlerts(clients[accountAlerts], authz, *data, allInOneSenders(os.Getenv, demo), true, log, now)
	if err != nil {
		return fail(err)
	}
	inc.Register(g)
	res.Register(g)
	alr.Register(g)
	dispatched := runDispatcher(ctx, dispatcher, log)
	defer func() { <-dispatched }()
	// The gateway reaches the services in memory: no port to knock on.
	glis := bufconn.Listen(1 << 20)
	go func() { _ = g.Serve(glis) }()
	serviceDial := []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return glis.DialContext(ctx) })}
	defer func() { health.Shutdown(); g.GracefulStop() }()

	ps, err := projectorsFor(rdb, clients[accountProjector], log)
	if err != nil {
		return fail(err)
	}
	wg := runProjectors(ctx, ps)
	defer wg.Wait()

	h, conns, err := buildGateway(ctx, gatewayDeps{
		key: key, redis: rdb, store: client, authz: authz, log: log,
		incidentsAddr: inMemoryServices, resourcesAddr: inMemoryServices, alertsAddr: inMemoryServices, serviceDial: serviceDial,
		oidcIssuer: os.Getenv("VIGIE_OIDC_ISSUER"), oidcClientID: os.Getenv("VIGIE_OIDC_CLIENT_ID"),
		demoInbox: demoInboxOf(demo),
		// What vigie backup, restore and keys rotate leave for the security journal.
		journalInbox: journalInbox(*data),
	})
	if err != nil {
		return fail(err)
	}
	defer closeAll(conns)
	return serveHTTP(ctx, stop, *httpAddr, h, stdout, log, fail, func(url string) error {
		if seed != nil {
			if err := seed(ctx, key, url, stdout); err != nil {
				return fmt.Errorf("seeding the demo: %w", err)
			}
		}
		log.Info("vigie ready", "data", *data, "http", url)
		return nil
	}, 0)
}

// listenPrivately serves the embedded store es to this process only, and opens no
// port: on a Unix socket of mode 0600, DATA/eventstore.sock (in a fresh private
// directory of the system's temporary one when dataDir is empty or the path too long
// for a socket), over TLS with a certificate and passwords made now and kept in
// memory (the official client sends credentials only over TLS): the admin's and one
// per service (storeaccess.go). It returns the options for store.Open; another local
// user cannot connect, and a process of the same user that does, not knowing a
// password, can neither read the log nor append to it.
func listenPrivately(es *embedded.Store, dataDir string) (*privateServer, []store.Option, error) {
	password, err := embedded.NewPassword()
	if err != nil {
		return nil, nil, err
	}
	accounts, err := newStoreAccounts()
	if err != nil {
		return nil, nil, err
	}
	cert, roots, err := embedded.EphemeralTLS()
	if err != nil {
		return nil, nil, err
	}
	const name = "eventstore.sock"
	srv := &privateServer{accounts: accounts}
	sock := ""
	if dataDir != "" {
		if p, err := filepath.Abs(filepath.Join(dataDir, name)); err == nil && len(p) <= embedded.MaxSocketPath {
			sock = p
		}
	}
	if sock == "" {
		if srv.dir, err = os.MkdirTemp("", "vigie"); err != nil { // 0700
			return nil, nil, err
		}
		sock = filepath.Join(srv.dir, name)
	}
	if srv.Server, err = es.Listen(embedded.ListenConfig{Socket: sock, Certificate: &cert, Password: password, Accounts: accounts}); err != nil {
		if srv.dir != "" {
			os.RemoveAll(srv.dir)
		}
		return nil, nil, err
	}
	return srv, []store.Option{store.WithUnixSocket(sock), store.WithRootCAs(roots)}, nil
}

// storeClients are the services' clients of the store, by account name.
type storeClients map[string]*store.Client

func (cs storeClients) Close() {
	for _, c := range cs {
		c.Close()
	}
}

// serviceClients applies Vigie's stream policy as the admin, then opens one client per
// service account.
func (srv *privateServer) serviceClients(ctx context.Context, opts []store.Option) (storeClients, error) {
	admin, err := store.Open(srv.ClientURL(), opts...)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := applyStorePolicy(ctx, admin); err != nil {
		return nil, fmt.Errorf("event store access policy: %w", err)
	}
	cs := storeClients{}
	for _, a := range srv.accounts {
		c, err := store.Open(srv.URLFor(a.Name, a.Password), opts...)
		if err != nil {
			cs.Close()
			return nil, err
		}
		cs[a.Name] = c
	}
	return cs, nil
}

// privateServer is listenPrivately's server, and the directory it made for the
// socket, if any: Close removes both.
type privateServer struct {
	*embedded.Server
	dir      string
	accounts []embedded.Account
}

func (srv *privateServer) Close() {
	srv.Server.Close()
	if srv.dir != "" {
		os.RemoveAll(srv.dir)
	}
}
