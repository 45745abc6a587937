// Package gatewaytest runs the whole of Vigie in a test, as `vigie serve` assembles it:
// an embedded event store, a real Redis database of the test's own, the authorizer
// following role grants, the incidents and resources services on a loopback gRPC
// server that verifies identities, every projector of boards.All(), the notice hub,
// and the gateway behind an httptest server. Tests talk to it over HTTP and websocket
// as a client would; the services' own gRPC clients are there for fixtures only.
package gatewaytest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"vigie/events/alert"
	"vigie/events/store"
	"vigie/graph"
	"vigie/graph/auth"
	"vigie/graph/notices"
	"vigie/graph/resolver"
	"vigie/identity"
	"vigie/policies"
	"vigie/policies/grantlog"
	"vigie/policies/journal"
	"vigie/projections"
	"vigie/projections/boards"
	"vigie/projections/projectiontest"
	"vigie/projections/replay"
	"vigie/services/alerts"
	alertspb "vigie/services/alerts/alertspb"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/dispatch"
	"vigie/services/guard"
	"vigie/services/incidents"
	incidentspb "vigie/services/incidents/incidentspb"
	"vigie/services/resources"
	resourcespb "vigie/services/resources/resourcespb"
	"vigie/services/roles"
	"vigie/services/roles/rolespb"
)

// Option changes how Start assembles the stack.
type Option func(*options)

type options struct {
	consistencyWait time.Duration
	rateLimit       rate.Limit
	rateBurst       int
	dev             bool
	config          func(*graph.Config)
	senders         map[string]channel.Sender
	audience        alerts.AudienceCounter
}

// WithConsistencyWait bounds the read-your-writes wait of mutations (2 s by default,
// as in production).
func WithConsistencyWait(d time.Duration) Option {
	return func(o *options) { o.consistencyWait = d }
}

// WithRateLimit sets the per-caller rate limit (20/s, burst 40 by default).
func WithRateLimit(limit rate.Limit, burst int) Option {
	return func(o *options) { o.rateLimit, o.rateBurst = limit, burst }
}

// WithDispatcher runs the alerts' dispatcher with these senders (channel name →
// sender, e.g. channeltest sinks); without it approved alerts stay undispatched.
func WithDispatcher(senders map[string]channel.Sender) Option {
	return func(o *options) { o.senders = senders }
}

// WithAudience makes the alerts service count audiences (alertAudience, and the
// approvals that carry none) with counter; by default it counts them in the
// dispatcher's directory when there is a dispatcher (WithDispatcher), and answers
// UNAVAILABLE otherwise.
func WithAudience(counter alerts.AudienceCounter) Option {
	return func(o *options) { o.audience = counter }
}

// WithDev says whether the gateway runs in development mode (introspection on). The
// default is true, like `vigie serve` without an OIDC issuer.
func WithDev(dev bool) Option {
	return func(o *options) { o.dev = dev }
}

// WithConfig changes the gateway's configuration last, before graph.New.
func WithConfig(f func(*graph.Config)) Option {
	return func(o *options) { o.config = f }
}

// Env is a running Vigie under test.
type Env struct {
	// URL is the gateway's base URL (http://127.0.0.1:port); GraphQL is at URL+"/graphql".
	URL   string
	HTTP  *http.Client
	Key   ed25519.PrivateKey
	Store *store.Client
	Redis *redis.Client
	Authz *policies.Authorizer
	// Direct gRPC clients of the services, for fixtures a test does not want to go
	// through the gateway (calls need identity.WithToken).
	Incidents      incidentspb.IncidentsClient
	Roles          rolespb.RolesClient
	Resources      resourcespb.ResourcesClient
	Reinforcements resourcespb.ReinforcementsClient
	Projectors     []*projections.Projector
	// Journal is the gateway's security journal.
	Journal *journal.Journal

	stopOnce       sync.Once
	stopProjectors func()
}

// Start assembles the stack; everything stops at the end of the test.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{dev: true}
	for _, f := range opts {
		f(&o)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("VIGIE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	rdb := projectiontest.Redis(t)
	client, _ := projectiontest.Store(t)
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	// Cleanups run last registered first: this one stops what runs in the background
	// after the HTTP server (registered below) is closed, and before the store and
	// Redis (registered above) go.
	t.Cleanup(func() { cancel(); running.Wait() })

	authz := followGrants(t, ctx, client, &running)

	key, err := identity.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g, _ := guard.NewServer(key.Public().(ed25519.PublicKey))
	inc, err := incidents.New(client, authz, nil)
	if err != nil {
		t.Fatal(err)
	}
	rol, err := roles.New(client, authz, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := resources.New(client, authz, nil)
	if err != nil {
		t.Fatal(err)
	}
	alr, err := alerts.New(client, authz, nil)
	if err != nil {
		t.Fatal(err)
	}
	alr.Audience = o.audience
	inc.Register(g)
	rol.Register(g)
	res.Register(g)
	alr.Register(g)
	if o.senders != nil {
		reg, err := alerts.Registry()
		if err != nil {
			t.Fatal(err)
		}
		d := &dispatch.Dispatcher{Store: client, Registry: reg, Senders: o.senders, Log: log}
		// As `vigie serve` does: the service counts audiences in the dispatcher's
		// directory of residents.
		if o.audience == nil {
			alr.Audience = dispatcherAudience{d}
		}
		running.Add(1)
		go func() { defer running.Done(); _ = d.Run(ctx) }()
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	// Traced as cmd/vigie's gateway dials the services: the call carries the trace.
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); g.Stop() })

	// Pub/sub is server-wide: test processes sharing the Redis server must not hear
	// each other's notices.
	namespace := "test-" + uuid.NewString()[:8] + ":"
	all, err := boards.All()
	if err != nil {
		t.Fatal(err)
	}
	pctx, stopProjectors := context.WithCancel(ctx)
	var projecting sync.WaitGroup
	ps := make([]*projections.Projector, len(all))
	for i, p := range all {
		ps[i] = &projections.Projector{Redis: rdb, Store: client, Projection: p, Log: log, Namespace: namespace}
		projecting.Add(1)
		running.Add(1)
		go func() { defer running.Done(); defer projecting.Done(); _ = ps[i].Run(pctx) }()
	}
	waitFor(t, 20*time.Second, "projectors active and caught up", func() bool {
		for _, p := range ps {
			if s := p.Status(); !s.Active || !s.CaughtUp {
				return false
			}
		}
		return true
	})

	hub := notices.New(rdb, log)
	hub.Namespace = namespace
	running.Add(1)
	go func() { defer running.Done(); hub.Run(ctx) }()
	// The hub subscribes asynchronously, and a notice published before its PSUBSCRIBE
	// is lost: probe it until it delivers. (Redis pub/sub is server-wide, not per
	// database, so the probe's domain is the test's own.)
	probe := fmt.Sprintf("gatewaytest-probe-%d", time.Now().UnixNano())
	pctxProbe, endProbe := context.WithCancel(ctx)
	got := hub.Subscribe(pctxProbe, probe)
	payload, _ := json.Marshal(projections.Notice{Domain: probe})
	waitFor(t, 10*time.Second, "notice hub subscribed", func() bool {
		rdb.Publish(ctx, projections.NoticeChannelIn(namespace, probe), payload)
		select {
		case <-got:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
	endProbe()

	// The security journal, flushed often so a test sees its entries soon (a test may
	// also call Journal.Flush).
	jr := journal.New(client)
	jr.DomainsOf = authz.DomainsOf
	running.Add(1)
	go func() { defer running.Done(); jr.Run(ctx, 100*time.Millisecond) }()

	cfg := graph.Config{
		Resolver: &resolver.Resolver{
			Journal: jr,
			Redis:   rdb, Authz: authz, Notices: hub,
			Incidents: incidentspb.NewIncidentsClient(conn), Roles: rolespb.NewRolesClient(conn),
			Resources: resourcespb.NewResourcesClient(conn), Reinforcements: resourcespb.NewReinforcementsClient(conn),
			Alerts: alertspb.NewAlertsClient(conn), Residents: alertspb.NewResidentsClient(conn),
			Replay:          &replay.Replayer{Store: client, Redis: rdb},
			ConsistencyWait: o.consistencyWait,
		},
		Auth:      auth.NewDev(key),
		Dev:       o.dev,
		Log:       log,
		RateLimit: o.rateLimit,
		RateBurst: o.rateBurst,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	h, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	return &Env{
		URL: srv.URL, HTTP: srv.Client(), Key: key, Store: client, Redis: rdb, Authz: authz,
		Incidents: incidentspb.NewIncidentsClient(conn), Roles: rolespb.NewRolesClient(conn),
		Resources: resourcespb.NewResourcesClient(conn), Reinforcements: resourcespb.NewReinforcementsClient(conn),
		Projectors: ps, Journal: jr,
		stopProjectors: func() {
			stopProjectors()
			projecting.Wait()
		},
	}
}

// dispatcherAudience counts an alert's audience in a running dispatcher's directory,
// once the dispatcher has read the log (its directory exists from then on).
type dispatcherAudience struct{ d *dispatch.Dispatcher }

func (a dispatcherAudience) Audience(domain string, polygon []alert.Point, channels []alert.Channel, exercise bool) map[alert.Channel]int {
	for deadline := time.Now().Add(10 * time.Second); !a.d.CaughtUp(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil
		}
	}
	return a.d.Directory().Audience(domain, polygon, channels, exercise)
}

// followGrants is cmd/vigie's: the authorizer follows role grants from the log, and
// Start waits until the ones already there are loaded.
func followGrants(t testing.TB, ctx context.Context, c *store.Client, running *sync.WaitGroup) *policies.Authorizer {
	t.Helper()
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	running.Add(1)
	go func() { defer running.Done(); done <- policies.Follow(ctx, grantlog.Source{Client: c}, authz) }()
	select {
	case <-authz.Ready():
	case err := <-done:
		t.Fatalf("following role grants: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("role grants not loaded within 30 s")
	}
	return authz
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gatewaytest: %s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StopProjectors stops every projector (the read models stop following the log) and
// waits until they have.
func (e *Env) StopProjectors() { e.stopOnce.Do(e.stopProjectors) }

// Token is a development token for sub holding role over domain, valid for an hour,
// signed with the gateway's key. It panics on a grant the policies refuse to carry
// (an unknown role, the prefecture on a commune): use TokenFor for those.
func (e *Env) Token(sub, roleName, domain string) string {
	return e.TokenFor(sub, time.Hour, policies.Grant{Role: roleName, Domain: domain})
}

// TokenFor is a token for sub with any grants (none: identity only), valid for ttl.
func (e *Env) TokenFor(sub string, ttl time.Duration, grants ...policies.Grant) string {
	tok, err := identity.Issue(e.Key, identity.Claims{Subject: sub, Grants: grants}, ttl)
	if err != nil {
		panic(fmt.Sprintf("gatewaytest: token for %s: %v", sub, err))
	}
	return tok
}

// ExpiredToken is a token signed with the gateway's key whose expiry passed an hour
// ago (beyond any leeway): everything else about it is valid.
func (e *Env) ExpiredToken(sub, roleName, domain string) string {
	return SignedToken(e.Key, sub, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour), policies.Grant{Role: roleName, Domain: domain})
}

// SignedToken builds a Vigie identity token by hand (EdDSA JWT, iss and aud "vigie"),
// so tests can make ones identity.Issue refuses to: expired, or signed by another key.
func SignedToken(key ed25519.PrivateKey, sub string, iat, exp time.Time, grants ...policies.Grant) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": identity.Issuer, "aud": []string{identity.Audience}, "sub": sub,
		"iat": iat.Unix(), "exp": exp.Unix(), "jti": fmt.Sprintf("t-%d", time.Now().UnixNano()),
		"grants": grants,
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	return signing + "." + enc.EncodeToString(ed25519.Sign(key, []byte(signing)))
}

// Head is the commit position of the last event of the crisis in the log (0 for an
// empty log): a refused command must leave it where it was. The security journal's
// events (streams security-…) are passed over: a refusal is journaled by design. It
// panics if the store does not answer.
func (e *Env) Head() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var head uint64
	found := errors.New("found")
	err := e.Store.ReadAllFunc(ctx, store.End, store.Backwards, 100_000, func(r store.Recorded) error {
		if strings.HasPrefix(strings.TrimPrefix(r.StreamID, "$$"), journal.StreamPrefix) {
			return nil
		}
		head = r.Position.Commit
		return found
	})
	if err != nil && !errors.Is(err, found) {
		panic(fmt.Sprintf("gatewaytest: reading the head of the log: %v", err))
	}
	return head
}

// As is a context whose gRPC calls carry token (for the direct service clients).
func As(ctx context.Context, token string) context.Context { return identity.WithToken(ctx, token) }

// Response is a GraphQL answer over HTTP.
type Response struct {
	Status     int             `json:"-"` // the HTTP status
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        []byte          `json:"-"` // the body as received
}

// Error is one GraphQL error.
type Error struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"extensions"`
}

// Code is the first error's extensions.code, "" when the answer has no error.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// Message is the first error's message, "" when the answer has no error.
func (r Response) Message() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// Decode unmarshals data into v, failing the test if it does not fit.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decoding data %s: %v", r.Data, err)
	}
}

// String shows the answer in failures.
func (r Response) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.Raw) }

// Do posts a GraphQL operation to /graphql as application/json with the token as
// bearer ("" for none).
func (e *Env) Do(t testing.TB, token, query string, vars map[string]any) Response {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return e.Post(t, token, "application/json", b)
}

// Post sends body to /graphql as is, with the given Content-Type ("" for none).
func (e *Env) Post(t testing.TB, token, contentType string, body []byte) Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.Send(t, req)
}

// Send sends any request and reads the answer as GraphQL. An answer that is not JSON
// fails the test: every answer of /graphql must be one a client can read.
func (e *Env) Send(t testing.TB, req *http.Request) Response {
	t.Helper()
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s answered HTTP %d with a body that is not GraphQL JSON: %v: %.300s", req.Method, req.URL.Path, resp.StatusCode, err, raw)
	}
	out.Status, out.Raw = resp.StatusCode, raw
	return out
}
