// Package graph is the GraphQL gateway (gqlgen, schema-first: schema/*.graphqls)
// that serves the crisis-cell dashboard and the prefecture: authenticated callers,
// every operation authorized through the policies, queries on the Redis read models,
// mutations through the services, subscriptions over websocket fed by the projector's
// notices, and the limits that keep one client from hurting the others.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strings"
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
	"vigie/graph/model"
	"vigie/graph/resolver"
	"vigie/policies"
	"vigie/policies/journal"
)

// Config assembles a gateway.
type Config struct {
	Resolver *resolver.Resolver
	Auth     auth.Authenticator
	// Dev turns on introspection (development mode: `vigie serve` without OIDC).
	Dev bool
	// Ready says whether the gateway can serve (event store reachable, read models
	// within their lag bound); nil means always.
	Ready func(context.Context) error
	// The gateway serves no /metrics: the metrics say who calls what and how often,
	// and go on an address of their own (cmd/vigie: VIGIE_METRICS_ADDR, loopback).
	Static http.Handler // the dashboard at /; nil: not served
	Log    *slog.Logger
	// DemoInbox is what the demonstration's local providers received, served at GET
	// /demo/messages.json for the dashboard's « Messages reçus (démonstration) » page;
	// nil (anything but `vigie demo`): not served, 404.
	DemoInbox DemoInbox

	MaxBodyBytes int64      // per request, and per websocket message; 256 KiB when zero
	RateLimit    rate.Limit // tokens per second per caller (an operation takes one); 20 when zero
	RateBurst    int        // 40 when zero
	MaxDepth     int        // how deep a query's fields nest; 15 when zero (introspection needs 13)
	// MaxCost bounds gqlgen's complexity (listCosts: a board counts 20 incidents, an
	// incident 20 entries of main courante and 20 resources); 5500 when zero: one whole
	// board of a département with every field of its incidents, their main courante and
	// their resources costs 5440, the README's example 1680, the dashboard's largest
	// query 387. Two whole boards in one request, or ten of the README's, are refused.
	MaxCost int
	// MaxLogReads bounds the reads of the whole log one request makes (replay,
	// decisionDelays, causalChain, a report and each of its instants); 3 when zero.
	MaxLogReads int
	// LogReadWeight is what one read of the log costs its caller, in tokens of the
	// rate limit (an operation costs one); 5 when zero. A person at the dashboard
	// (a replay per move of the slider, a report in two formats) stays well within the
	// burst; a script in a loop is held to about four reads a second, on top of the
	// replays' own bound (replay.Replayer.Parallel) and their sharing.
	LogReadWeight int
}

// journal is the gateway's security journal (the resolver's); nil: none.
func (c *Config) journal() *journal.Journal {
	if c.Resolver == nil {
		return nil
	}
	return c.Resolver.Journal
}

// authFailed notes a failed authentication on route (the caller is unknown: a token
// that does not verify names no one the gateway can trust).
func (c *Config) authFailed(ctx context.Context, route, reason string) {
	c.journal().Record(ctx, journal.Entry{Kind: journal.AuthFailed, Action: route, Code: resolver.CodeUnauthenticated, Reason: reason})
}

// setDefaults fills the zero fields with the defaults their comments give, and
// only those: a negative limit is Validate's to refuse.
func (c *Config) setDefaults() {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 256 << 10
	}
	if c.RateLimit == 0 {
		c.RateLimit = 20
	}
	if c.RateBurst == 0 {
		c.RateBurst = 40
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = 15
	}
	if c.MaxCost == 0 {
		c.MaxCost = 5500
	}
	if c.MaxLogReads == 0 {
		c.MaxLogReads = 3
	}
	if c.LogReadWeight == 0 {
		c.LogReadWeight = 5
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Validate reports every problem of c at once, each naming its field. Zero limits
// are valid (they mean the defaults); negative ones are not.
func (c Config) Validate() error {
	var errs []error
	if c.Auth == nil {
		errs = append(errs, errors.New("graph: Config.Auth is required: every caller is authenticated"))
	}
	if c.RateLimit < 0 || math.IsNaN(float64(c.RateLimit)) {
		errs = append(errs, fmt.Errorf("graph: Config.RateLimit: %v is not a rate (0 means the default)", float64(c.RateLimit)))
	}
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"MaxBodyBytes", c.MaxBodyBytes}, {"RateBurst", int64(c.RateBurst)}, {"MaxDepth", int64(c.MaxDepth)},
		{"MaxCost", int64(c.MaxCost)}, {"MaxLogReads", int64(c.MaxLogReads)}, {"LogReadWeight", int64(c.LogReadWeight)},
	} {
		if f.value < 0 {
			errs = append(errs, fmt.Errorf("graph: Config.%s: %d is negative (0 means the default)", f.name, f.value))
		}
	}
	return errors.Join(errs...)
}

// New returns the gateway's HTTP handler: /graphql (POST, GET and websocket),
// /healthz, /readyz, the public CAP documents, the after-action reports, the
// demonstration's received messages (with a DemoInbox) and the dashboard at /.
// It refuses a configuration Validate refuses.
func New(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: cfg.Resolver, Complexity: listCosts()}))
	// Each websocket is a session whose right is re-checked while it lives (session.go).
	srv.AddTransport(sessions(cfg, transport.Websocket{
		// graphql-ws clients get a keep-alive message every 10 s; graphql-transport-ws
		// ones (the dashboard) a ping to answer, which gqlgen sends only when asked
		// with PingPongInterval: without it the dashboard, which drops a socket silent
		// for 25 s, reconnected every 25 s of a quiet board. A client that stops
		// answering is dropped after 20 s, and its session with it.
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token, ok := auth.Bearer(p.Authorization())
			if !ok {
				cfg.authFailed(ctx, "websocket", auth.Failure(auth.ErrNoToken))
				return refuseInit(ctx, "authentification requise : connection_init doit porter {\"Authorization\":\"Bearer …\"}")
			}
			c, err := cfg.Auth.Authenticate(ctx, token)
			if err != nil {
				cfg.authFailed(ctx, "websocket", auth.Failure(err))
				return refuseInit(ctx, "authentification refusée : le jeton ne se vérifie pas")
			}
			return openSession(ctx, token, c), nil, nil
		},
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{}},
		// A message may be as large as an HTTP body, no larger (gqlgen's default is
		// 1 MiB): the socket closes with 1009 on one over the limit.
		PayloadReadLimit: &cfg.MaxBodyBytes,
	}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Extensions run in the order they are used. Admission comes before anything reads
	// the query, so that an anonymous caller costs no parsing and learns nothing of the
	// schema from validation messages, and every request counts against its caller's
	// rate, the invalid ones included.
	limits := &limiters{limit: cfg.RateLimit, burst: cfg.RateBurst, byCaller: map[string]*rate.Limiter{}, journal: cfg.journal()}
	srv.Use(admission{limits: limits, cfg: &cfg})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// Before the complexity limit, which walks fragments without memory: a document
	// of a few lines whose fragments each spread the previous one twice would keep it
	// busy for minutes.
	srv.Use(expansionLimit{max: cfg.MaxCost})
	if cfg.Dev {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	srv.Use(extension.FixedComplexityLimit(cfg.MaxCost))
	srv.Use(depthLimit{max: cfg.MaxDepth})
	// Last of the limits: an operation another limit refuses is not charged for the
	// log it would have read.
	srv.Use(logReads{max: cfg.MaxLogReads, weight: cfg.LogReadWeight, limits: limits})
	srv.Use(tracing{})
	// A resolver's error is copied before gqlgen writes the field's path and locations
	// into it: a *gqlerror.Error shared between requests would carry the first
	// caller's path and aliases to every other (resolver.Fresh).
	srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		res, err := next(ctx)
		return res, resolver.Fresh(err)
	})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		e := graphql.DefaultErrorPresenter(ctx, err)
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		if e.Extensions["code"] == nil {
			// A refusal of the resolvers (FORBIDDEN, NOT_FOUND…), which gqlgen wrapped
			// into an error of this field's own.
			if code := resolver.CodeOf(err); code != "" {
				e.Extensions["code"] = code
			}
		}
		if e.Extensions["code"] == resolver.CodeForbidden {
			cfg.Resolver.Refused(ctx, resolver.CodeForbidden, "")
		}
		switch e.Extensions["code"] {
		case nil:
			if !resolving(ctx, e) {
				// Not a resolver's error (those carry their code) nor one of the
				// answer's: the request itself is wrong. Before it became an operation:
				// a body that is not JSON, or could not be read (over the size limit);
				// or an argument gqlgen could not read once validated (an enum value
				// in the wrong case in variables, which the validator lets through; a
				// Time that is not RFC 3339).
				if rest, ok := strings.CutPrefix(e.Message, "json request body could not be decoded: "); ok {
					// gqlgen's message quotes the whole body back; say why without it.
					rest, _, _ = strings.Cut(rest, " body:")
					e.Message = "le corps de la requête n'est pas une requête GraphQL en JSON : " + rest
				}
				e.Extensions["code"] = resolver.CodeInvalidInput
				break
			}
			e.Extensions["code"] = resolver.CodeUnavailable
		case "COMPLEXITY_LIMIT_EXCEEDED":
			e.Message = tooComplex(e.Message)
			fallthrough
		case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "PERSISTED_QUERY_NOT_FOUND":
			e.Extensions["reason"] = e.Extensions["code"]
			e.Extensions["code"] = resolver.CodeInvalidInput
		}
		return e
	})
	srv.SetRecoverFunc(func(ctx context.Context, err any) error {
		cfg.Log.Error("resolver panic", "panic", err)
		return resolver.Error(resolver.CodeUnavailable, "erreur interne")
	})

	mux := http.NewServeMux()
	mux.Handle("/graphql", auth.Middleware(cfg.Auth, bounded(cfg.MaxBodyBytes, transports(httpStatus(srv)))))
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
	// Every route that reads data but the public CAP feed goes through the same
	// authentication and per-caller bucket as /graphql; a report pays for the log it
	// reads.
	reading := func(reads func(*http.Request) int, h http.Handler) http.Handler {
		return auth.Middleware(cfg.Auth, readingRoute(&cfg, limits, reads, h))
	}
	if cfg.Resolver != nil && cfg.Resolver.Redis != nil {
		mux.Handle("GET /cap/", capHandlerLogged(cfg.Resolver.Redis, cfg.Log))
		mux.Handle("GET /report/", reading(resolver.ReportLogReads, cfg.Resolver.ReportHandler()))
	}
	if cfg.DemoInbox != nil {
		var authz *policies.Authorizer
		if cfg.Resolver != nil {
			authz = cfg.Resolver.Authz
		}
		mux.Handle("GET /demo/messages.json", reading(nil, demoHandler(cfg.DemoInbox, authz)))
	}
	if cfg.Static != nil {
		mux.Handle("/", cfg.Static)
	}
	return mux, nil
}

// bounded refuses bodies over max bytes, 413, before gqlgen reads them. A body of
// unknown length (chunked) is read here, through http.MaxBytesReader: gqlgen answers a
// body it could not read with 200 and its own words, so a chunked body over the limit
// got 200.
func bounded(max int64, next http.Handler) http.Handler {
	tooLarge := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_ = json.NewEncoder(w).Encode(errorResponse(fmt.Sprintf("corps de requête trop volumineux (request body too large) : au plus %d octets", max), resolver.CodeInvalidInput))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w)
			return
		}
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
			if errors.As(err, new(*http.MaxBytesError)) {
				tooLarge(w)
				return
			}
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(errorResponse("le corps de la requête n'a pas pu être lu", resolver.CodeInvalidInput))
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// resolving says whether err arose while resolving or writing the field it names:
// gqlgen reports it with that field's context. An argument it could not read is
// reported before the field has a context, and an error of the request as a whole
// names no field.
func resolving(ctx context.Context, err *gqlerror.Error) bool {
	if len(err.Path) == 0 {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && fc.Path().String() == err.Path.String()
}

// transports answers, with a coded GraphQL error, the requests none of gqlgen's
// transports takes (gqlgen's own answer, "transport not supported", has no code).
func transports(next http.Handler) http.Handler {
	refuse := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(errorResponse(msg, resolver.CodeInvalidInput))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions: // queries, websocket, CORS
		case http.MethodPost:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				refuse(w, http.StatusUnsupportedMediaType, "envoyez l'opération en JSON avec Content-Type: application/json")
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			refuse(w, http.StatusMethodNotAllowed, "utilisez POST (ou GET, ou un websocket) sur /graphql")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseInit refuses a websocket's connection_init: graphql-transport-ws closes the
// socket with 4403 Forbidden (gqlgen would close it with 1000, a normal closure, which
// tells a client nothing went wrong).
func refuseInit(ctx context.Context, reason string) (context.Context, *transport.InitPayload, error) {
	ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, 4403), reason)
	return ctx, nil, errors.New(reason)
}

// noIntrospection refuses introspection outside development mode with a coded error
// (gqlgen's own refusal has no code, which the presenter would turn into UNAVAILABLE:
// "retry later", when nothing will change).
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }
func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && introspects(oc.Operation.SelectionSet, map[*ast.FragmentDefinition]bool{}) {
		return resolver.Error(resolver.CodeForbidden, "introspection désactivée sur cette passerelle (mode développement seulement)")
	}
	return nil
}

// introspects says whether a root selection set asks for __schema or __type (the only
// introspection fields; __typename is harmless and allowed). Each fragment is looked
// at once.
func introspects(set ast.SelectionSet, seen map[*ast.FragmentDefinition]bool) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Definition] {
				seen[s.Definition] = true
				if introspects(s.Definition.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}

// admission lets in only authenticated callers within their rate, before the query
// is even parsed (an OperationParameterMutator runs first of all).
type admission struct {
	limits *limiters
	cfg    *Config
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = admission{}

func (admission) ExtensionName() string                   { return "Admission" }
func (admission) Validate(graphql.ExecutableSchema) error { return nil }
func (a admission) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	c, err := auth.FromContext(ctx)
	if err != nil {
		if !errors.Is(err, auth.ErrRevoked) { // the session's end is journaled once, as such
			a.cfg.authFailed(ctx, "graphql", auth.Failure(err))
		}
		return resolver.Error(resolver.CodeUnauthenticated, resolver.MsgUnauthenticated)
	}
	if ok, retry := a.limits.take(c, 1); !ok {
		return rateLimited(ctx, retry)
	}
	return nil
}

// tooComplex is gqlgen's refusal of an operation over the complexity limit, in
// French with its numbers.
func tooComplex(msg string) string {
	var cost, limit int
	if _, err := fmt.Sscanf(msg, "operation has complexity %d, which exceeds the limit of %d", &cost, &limit); err != nil {
		return "opération trop complexe : demandez moins de champs ou moins de listes à la fois"
	}
	return fmt.Sprintf("opération trop complexe : elle coûte %d, une requête peut coûter au plus %d ; demandez moins de champs ou moins de listes à la fois", cost, limit)
}

// expansionLimit refuses an operation whose fragments, spread out, hold more fields
// than max. Every field costs at least 1 in gqlgen's default complexity, so nothing
// the complexity limit would let through is refused; but this count remembers each
// fragment's size, where the complexity limit walks a fragment again at every spread
// (2^n walks for n fragments that each spread the previous one twice).
type expansionLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = expansionLimit{}

func (expansionLimit) ExtensionName() string                   { return "ExpansionLimit" }
func (expansionLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (l expansionLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if n := expanded(oc.Operation.SelectionSet, map[*ast.FragmentDefinition]int{}, l.max); n > l.max {
		e := resolver.Error(resolver.CodeInvalidInput, fmt.Sprintf("opération trop complexe : elle sélectionne plus de %d champs (fragments dépliés) ; répartissez-la en plusieurs requêtes", l.max))
		e.Extensions["reason"] = "COMPLEXITY_LIMIT_EXCEEDED"
		return e
	}
	return nil
}

// expanded counts the fields of set with its fragments spread out, stopping past max.
func expanded(set ast.SelectionSet, sizes map[*ast.FragmentDefinition]int, max int) int {
	n := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			n += 1 + expanded(s.SelectionSet, sizes, max)
		case *ast.InlineFragment:
			n += expanded(s.SelectionSet, sizes, max)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			size, ok := sizes[s.Definition]
			if !ok {
				size = expanded(s.Definition.SelectionSet, sizes, max)
				sizes[s.Definition] = size
			}
			n += size
		}
		if n > max {
			return max + 1
		}
	}
	return n
}

func errorResponse(msg, code string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{resolver.Error(code, msg)}}
}

// limiters is a token bucket per caller: one client in a loop must not slow the crisis
// cell's other screens. Buckets of callers idle for long are dropped.
type limiters struct {
	limit    rate.Limit
	burst    int
	journal  *journal.Journal // notes each refusal (coalesced there per caller)
	mu       sync.Mutex
	byCaller map[string]*rate.Limiter
	swept    time.Time
}

// take takes n tokens of the caller's bucket, or none and says how long to wait for
// them. A charge above the burst could never be paid whole: it takes the whole burst.
// A refusal is journaled under each domain the caller's token grants roles in (the
// journal adds those the log grants when the token names none).
func (l *limiters) take(c auth.Caller, n int) (bool, time.Duration) {
	ok, wait := l.takeN(c.Principal.Subject, n)
	if !ok && l.journal != nil {
		e := journal.Entry{Kind: journal.RateLimited, Actor: c.Principal.Subject, Code: CodeRateLimited,
			Reason: fmt.Sprintf("plus de %v requêtes par seconde (rafale de %d)", float64(l.limit), l.burst)}
		seen := map[string]bool{}
		for _, g := range c.Principal.Grants {
			if !seen[g.Domain] {
				seen[g.Domain] = true
				e.Domain = g.Domain
				l.journal.Record(context.Background(), e)
			}
		}
		if len(seen) == 0 {
			l.journal.Record(context.Background(), e)
		}
	}
	return ok, wait
}

func (l *limiters) takeN(subject string, n int) (bool, time.Duration) {
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
	now := time.Now()
	r := lim.ReserveN(now, min(n, l.burst))
	wait := time.Second
	if r.OK() {
		if wait = r.DelayFrom(now); wait <= 0 {
			return true, 0
		}
		r.CancelAt(now) // refused: the tokens go back
	}
	return false, wait
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
		return resolver.Error(resolver.CodeInvalidInput, fmt.Sprintf("requête trop imbriquée : au plus %d niveaux de champs", d.max))
	}
	return nil
}

// depth is how deep fields nest in set: fragments, inline or spread, group fields
// without nesting them, so they add no level (counting them refused the standard
// introspection query of GraphiQL in development mode).
func depth(set ast.SelectionSet, level int) int {
	deepest := level
	for _, s := range set {
		d := level
		switch s := s.(type) {
		case *ast.Field:
			d = depth(s.SelectionSet, level+1)
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, level)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = depth(s.Definition.SelectionSet, level)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// listCosts makes a list field cost what it may return, so that the complexity limit
// bounds the work of nested lists (the boards of a département, each incident's main
// courante): a field's cost is its children's times the entries it typically holds.
func listCosts() generated.ComplexityRoot {
	const board, nested = 20, 20
	var c generated.ComplexityRoot
	c.Query.Incidents = func(child int, _ string, _ []model.IncidentStatus) int { return board * child }
	c.Query.Resources = func(child int, _ string, _ *model.ResourceKind, _ *model.ResourceStatus) int { return board * child }
	c.Query.Overview = func(child int, _ string, _ *int, _ *int) int { return board * child }
	c.Query.Reinforcements = func(child int, _ string, _ []model.ReinforcementStatus) int { return board * child }
	c.Query.Timeline = func(child int, _ string, _ *time.Time, _ *time.Time) int { return board * child }
	c.Incident.Log = func(child int) int { return nested * child }
	c.Incident.Resources = func(child int) int { return nested * child }
	return c
}
