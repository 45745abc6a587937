package main

import (
	"context"
	"crypto/ed25519"

	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/health" // client-side health checking (healthCheckConfig)
	grpcresolver "google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"vigie/events/store"
	"vigie/graph"
	"vigie/graph/auth"
	dash "vigie/graph/dashboard"
	"vigie/graph/notices"
	"vigie/graph/resolver"
	"vigie/policies"
	"vigie/policies/journal"
	"vigie/projections"
	"vigie/projections/boards"
	"vigie/projections/replay"
	alertspb "vigie/services/alerts/alertspb"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
	"vigie/services/roles/rolespb"
)

// gatewayDeps is what a gateway is built from, in one process or alone.
type gatewayDeps struct {
	key           ed25519.PrivateKey
	redis         redis.UniversalClient
	store         *store.Client
	authz         *policies.Authorizer
	incidentsAddr string
	resourcesAddr string
	alertsAddr    string
	log           *slog.Logger
	oidcIssuer    string // production: identities from this OpenID Connect issuer
	oidcClientID  string
	demoInbox     graph.DemoInbox // `vigie demo` only: what its local providers received
	// journalInbox is the data dir's inbox of the security journal (journal.Drop),
	// taken in by the process that holds the data dir (the all-in-one); empty: none.
	journalInbox string
	// serviceDial, in the all-in-one process, reaches the services in memory
	// (no port: the addresses are then passthrough:///… names).
	serviceDial []grpc.DialOption
}

// buildGateway connects to the services and returns the gateway's handler; run starts
// what must run beside it (the notice hub) until ctx ends.
func buildGateway(ctx context.Context, d gatewayDeps) (http.Handler, []*grpc.ClientConn, error) {
	inc, err := dialService(d.incidentsAddr, d.serviceDial...)
	if err != nil {
		return nil, nil, err
	}
	res, err := dialService(d.resourcesAddr, d.serviceDial...)
	if err != nil {
		inc.Close()
		return nil, nil, err
	}
	alr, err := dialService(d.alertsAddr, d.serviceDial...)
	if err != nil {
		inc.Close()
		res.Close()
		return nil, nil, err
	}
	hub := notices.New(d.redis, d.log)
	hub.Namespace = noticeNamespace(d.redis)
	go hub.Run(ctx)
	var authn auth.Authenticator = auth.NewDev(d.key)
	dev := d.oidcIssuer == ""
	if !dev {
		o, err := auth.NewOIDC(ctx, d.oidcIssuer, d.oidcClientID, d.key)
		if err != nil {
			closeAll([]*grpc.ClientConn{inc, res, alr})
			return nil, nil, err
		}
		authn = o
	}
	// The security journal: log records and counters at once, the log every second.
	jr := journal.New(d.store)
	jr.DomainsOf = d.authz.DomainsOf
	jr.Inbox = d.journalInbox
	go jr.Run(ctx, time.Second)
	h, err := graph.New(graph.Config{
		Resolver: &resolver.Resolver{
			Journal: jr,
			Redis:   d.redis, Authz: d.authz, Notices: hub,
			Incidents: incidentspb.NewIncidentsClient(inc), Roles: rolespb.NewRolesClient(inc),
			Resources: resourcespb.NewResourcesClient(res), Reinforcements: resourcespb.NewReinforcementsClient(res),
			Alerts: alertspb.NewAlertsClient(alr), Residents: alertspb.NewResidentsClient(alr),
			Replay: &replay.Replayer{Store: d.store, Redis: d.redis},
		},
		Auth:   authn,
		Dev:    dev,
		Ready:  readiness(d.store, d.redis),
		Static: dashboard(),
		Log:    d.log,

		DemoInbox: d.demoInbox,
	})
	if err != nil {
		closeAll([]*grpc.ClientConn{inc, res, alr})
		return nil, nil, err
	}
	return h, []*grpc.ClientConn{inc, res, alr}, nil
}

// serviceConfig spreads a gateway's calls over every instance of a service that is
// up: round robin over the READY connections; a connection whose instance says
// NOT_SERVING on the standard health service (it is draining) is left out before its
// listener closes; a call that fails UNAVAILABLE (its instance died under it) is tried
// again on another. That retry is safe: every command carries a command id (the
// client's, or one the resolver drew before the call), and a resent command id is
// recognised by the service and by the store.
const serviceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "healthCheckConfig": {"serviceName": ""},
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.05s", "maxBackoff": "0.5s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}
  }]
}`

// dialService connects to a service at addrs: one host:port (a DNS name resolving to several
// instances is balanced over all of them), or several separated by commas, e.g.
// VIGIE_INCIDENTS_ADDR=10.0.0.5:7101,10.0.0.6:7101.
func dialService(addrs string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	var list []grpcresolver.Address
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, grpcresolver.Address{Addr: a})
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no service address in %q", addrs)
	}
	// The services are on loopback or a private network; the identity token, not
	// the channel, carries the trust.
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithDefaultServiceConfig(serviceConfig),
	}
	opts = append(opts, extra...)
	if len(list) == 1 {
		return grpc.NewClient(list[0].Addr, opts...)
	}
	// A resolver of this connection's own (WithResolvers registers it nowhere else).
	r := manual.NewBuilderWithScheme("vigie")
	r.InitialState(grpcresolver.State{Addresses: list})
	return grpc.NewClient(r.Scheme()+":///"+list[0].Addr, append(opts, grpc.WithResolvers(r))...)
}

// readiness: the event store answers, and no read model is behind an event older than
// lagBound (a projector that stopped would otherwise hide the river rising).
func readiness(c *store.Client, rdb redis.UniversalClient) func(context.Context) error {
	const lagBound = 10 * time.Second
	names := []string{}
	if all, err := boards.All(); err == nil {
		for _, p := range all {
			names = append(names, p.Name())
		}
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		head, err := c.ReadAll(ctx, store.End, store.Backwards, 1)
		if err != nil {
			return fmt.Errorf("event store: %w", err)
		}
		if len(head) == 0 || time.Since(head[0].Created) < lagBound {
			return nil
		}
		for _, n := range names {
			_, applied, err := projections.Current(ctx, rdb, "", n)
			if err != nil {
				return fmt.Errorf("read model %s: %w", n, err)
			}
			if applied.Less(head[0].Position) {
				return fmt.Errorf("read model %s is behind the log by more than %s", n, lagBound)
			}
		}
		return nil
	}
}

// dashboard is the crisis-cell dashboard served at /.
func dashboard() http.Handler { return dash.Handler() }

// journalInbox is where, in data dir, commands that run apart from serve leave their
// security journal entries (journal.Drop); serve takes them in.
func journalInbox(data string) string {
	if data == "" {
		return ""
	}
	return filepath.Join(data, "journal")
}
