package main

import (
	"context"
	"crypto/ed25519"

	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"vigie/events/store"
	"vigie/graph"
	"vigie/graph/auth"
	dash "vigie/graph/dashboard"
	"vigie/graph/notices"
	"vigie/graph/resolver"
	"vigie/policies"
	"vigie/projections"
	"vigie/projections/boards"
	"vigie/projections/replay"
	alertspb "vigie/services/alerts/alertspb"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
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
	metrics       http.Handler
	log           *slog.Logger
	oidcIssuer    string // production: identities from this OpenID Connect issuer
	oidcClientID  string
}

// buildGateway connects to the services and returns the gateway's handler; run starts
// what must run beside it (the notice hub) until ctx ends.
func buildGateway(ctx context.Context, d gatewayDeps) (http.Handler, []*grpc.ClientConn, error) {
	dial := func(addr string) (*grpc.ClientConn, error) {
		// The services are on loopback or a private network; the identity token, not
		// the channel, carries the trust.
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	}
	inc, err := dial(d.incidentsAddr)
	if err != nil {
		return nil, nil, err
	}
	res, err := dial(d.resourcesAddr)
	if err != nil {
		inc.Close()
		return nil, nil, err
	}
	alr, err := dial(d.alertsAddr)
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
	h := graph.New(graph.Config{
		Resolver: &resolver.Resolver{
			Redis: d.redis, Authz: d.authz, Notices: hub,
			Incidents: incidentspb.NewIncidentsClient(inc), Roles: incidentspb.NewRolesClient(inc),
			Resources: resourcespb.NewResourcesClient(res), Reinforcements: resourcespb.NewReinforcementsClient(res),
			Alerts: alertspb.NewAlertsClient(alr), Residents: alertspb.NewResidentsClient(alr),
			Replay: &replay.Replayer{Store: d.store, Redis: d.redis},
		},
		Auth:    authn,
		Dev:     dev,
		Ready:   readiness(d.store, d.redis),
		Metrics: d.metrics,
		Static:  dashboard(),
		Log:     d.log,
	})
	return h, []*grpc.ClientConn{inc, res, alr}, nil
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
			_, applied, err := projections.Current(ctx, rdb, n)
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
