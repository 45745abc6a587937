// Package graph is the GraphQL gateway (gqlgen, schema-first: schema/*.graphqls)
// that serves the crisis-cell dashboard and the prefecture: authenticated callers,
// every operation authorized through the policies, queries on the Redis read models,
// mutations through the services, subscriptions over websocket fed by the projector's
// notices, and the limits that keep one client from hurting the others.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"vigie/graph/auth"
	"vigie/graph/generated"
	"vigie/graph/resolver"
)

// Config assembles a gateway.
type Config struct {
	Resolver *resolver.Resolver
	Auth     auth.Authenticator
	// Dev turns on introspection (development mode: `vigie serve` without OIDC).
	Dev bool
	// Ready says whether the gateway can serve (event store reachable, read models
	// within their lag bound); nil means always.
	Ready   func(context.Context) error
	Metrics http.Handler // /metrics; nil: not served
	Static  http.Handler // the dashboard at /; nil: not served
	Log     *slog.Logger

	MaxBodyBytes int64      // per request; 256 KiB when zero
	RateLimit    rate.Limit // operations per second per caller; 20 when zero
	RateBurst    int        // 40 when zero
	MaxDepth     int        // of a query's selections; 12 when zero
	MaxCost      int        // gqlgen complexity; 1000 when zero
}

func (c *Config) setDefaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 256 << 10
	}
	if c.RateLimit <= 0 {
		c.RateLimit = 20
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 40
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 12
	}
	if c.MaxCost <= 0 {
		c.MaxCost = 1000
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// New returns the gateway's HTTP handler: /graphql (POST, GET and websocket),
// /healthz, /readyz, /metrics and the dashboard at /.
func New(cfg Config) http.Handler {
	cfg.setDefaults()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: cfg.Resolver}))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token, ok := auth.Bearer(p.Authorization())
			if !ok {
				return ctx, nil, errors.New("connection_init must carry {\"Authorization\":\"Bearer …\"}")
			}
			c, err := cfg.Auth.Authenticate(ctx, token)
			if err != nil {
				return ctx, nil, errors.New("unauthenticated")
			}
			return auth.WithCaller(ctx, c, nil), nil, nil
		},
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if cfg.Dev {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(cfg.MaxCost))
	srv.Use(depthLimit{max: cfg.MaxDepth})
	srv.Use(tracing{})
	limits := &limiters{limit: cfg.RateLimit, burst: cfg.RateBurst, byCaller: map[string]*rate.Limiter{}}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		c, err := auth.FromContext(ctx)
		if err != nil {
			return graphql.OneShot(errorResponse("authentication required: send Authorization: Bearer <token>", resolver.CodeUnauthenticated))
		}
		if !limits.allow(c.Principal.Subject) {
			return graphql.OneShot(errorResponse("too many requests: slow down", "RATE_LIMITED"))
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		e := graphql.DefaultErrorPresenter(ctx, err)
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		switch e.Extensions["code"] {
		case nil:
			e.Extensions["code"] = resolver.CodeUnavailable
		case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "PERSISTED_QUERY_NOT_FOUND":
			e.Extensions["reason"] = e.Extensions["code"]
			e.Extensions["code"] = resolver.CodeInvalidInput
		}
		return e
	})
	srv.SetRecoverFunc(func(ctx context.Context, err any) error {
		cfg.Log.Error("resolver panic", "panic", err)
		return resolver.Error(resolver.CodeUnavailable, "internal error")
	})

	mux := http.NewServeMux()
	mux.Handle("/graphql", auth.Middleware(cfg.Auth, bounded(cfg.MaxBodyBytes, srv)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(r.Context()); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Static != nil {
		mux.Handle("/", cfg.Static)
	}
	return mux
}

// bounded refuses bodies over max bytes before gqlgen reads them.
func bounded(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_ = json.NewEncoder(w).Encode(errorResponse("request body too large", resolver.CodeInvalidInput))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

func errorResponse(msg, code string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{resolver.Error(code, msg)}}
}

// limiters is a token bucket per caller: one client in a loop must not slow the crisis
// cell's other screens. Buckets of callers idle for long are dropped.
type limiters struct {
	limit    rate.Limit
	burst    int
	mu       sync.Mutex
	byCaller map[string]*rate.Limiter
	swept    time.Time
}

func (l *limiters) allow(subject string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.swept) > 10*time.Minute {
		for k, lim := range l.byCaller {
			if lim.Tokens() >= float64(l.burst) {
				delete(l.byCaller, k)
			}
		}
		l.swept = time.Now()
	}
	lim := l.byCaller[subject]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byCaller[subject] = lim
	}
	return lim.Allow()
}

// depthLimit refuses operations nested deeper than max: the complexity limit bounds
// the total, this bounds pathological nesting before anything runs.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth(oc.Operation.SelectionSet, 0) > d.max {
		return resolver.Error(resolver.CodeInvalidInput, "query nested too deeply")
	}
	return nil
}

func depth(set ast.SelectionSet, level int) int {
	deepest := level
	for _, s := range set {
		var sub ast.SelectionSet
		switch s := s.(type) {
		case *ast.Field:
			sub = s.SelectionSet
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition != nil {
				sub = s.Definition.SelectionSet
			}
		}
		if d := depth(sub, level+1); d > deepest {
			deepest = d
		}
	}
	return deepest
}
