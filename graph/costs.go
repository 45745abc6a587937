package graph

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"vigie/graph/auth"
	"vigie/graph/resolver"
)

// What a request costs its caller. Every request takes one token from the caller's
// bucket (limiters); a request that reads the whole log (a replay, the decision delays,
// a causal chain, a report) costs what that read costs, not the one or two points the
// complexity limit gives a field: each log read weighs LogReadWeight tokens, paid
// before anything runs, and one request makes at most MaxLogReads of them. Without it,
// one request of 450 aliased replays ran 450 full reads of the log.

// CodeRateLimited is the code of a request refused for its caller's rate: HTTP 429
// with Retry-After over HTTP, extensions.retryAfter (seconds) everywhere.
const CodeRateLimited = "RATE_LIMITED"

// ReasonTooCostly is extensions.reason of an operation refused (INVALID_INPUT) for
// reading the log more often than one request may.
const ReasonTooCostly = "TOO_COSTLY"

// logReaders are the root fields that read the whole log (or the whole timeline of a
// domain) at every call: replay and decisionDelays replay the log from its start,
// causalChain walks the domain's timeline up to the event.
var logReaders = map[string]bool{"replay": true, "decisionDelays": true, "causalChain": true}

// logReads refuses an operation that reads the log more than max times, and charges
// its caller weight tokens per read, before anything runs.
type logReads struct {
	max, weight int
	limits      *limiters
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = logReads{}

func (logReads) ExtensionName() string                   { return "LogReads" }
func (logReads) Validate(graphql.ExecutableSchema) error { return nil }
func (l logReads) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil
	}
	keys := map[string]bool{}
	countLogReads(oc.Operation.SelectionSet, keys, map[*ast.FragmentDefinition]bool{})
	n := len(keys)
	if n == 0 {
		return nil
	}
	if n > l.max {
		return tooCostly(n, l.max)
	}
	c, err := auth.FromContext(ctx)
	if err != nil { // admission let no anonymous request this far; refuse rather than charge no one
		return resolver.Error(resolver.CodeUnauthenticated, resolver.MsgUnauthenticated)
	}
	// The operation itself paid its token at admission.
	if ok, retry := l.limits.take(c, n*l.weight); !ok {
		return rateLimited(ctx, retry)
	}
	return nil
}

// countLogReads gathers the response keys of the root fields that read the log: fields
// of one key are merged into one execution (GraphQL requires them to be the same
// field with the same arguments), so each key is one read. Fragments are walked once.
func countLogReads(set ast.SelectionSet, keys map[string]bool, seen map[*ast.FragmentDefinition]bool) {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if logReaders[s.Name] {
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				keys[key] = true
			}
		case *ast.InlineFragment:
			countLogReads(s.SelectionSet, keys, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Definition] {
				seen[s.Definition] = true
				countLogReads(s.Definition.SelectionSet, keys, seen)
			}
		}
	}
}

func tooCostly(n, max int) *gqlerror.Error {
	e := resolver.Error(resolver.CodeInvalidInput, fmt.Sprintf(
		"opération trop coûteuse : elle lit le journal %d fois (replay, decisionDelays, causalChain, rapport), une requête peut le lire au plus %d fois ; répartissez-la en plusieurs requêtes", n, max))
	e.Extensions["reason"] = ReasonTooCostly
	e.Extensions["logReads"] = n
	e.Extensions["maxLogReads"] = max
	return e
}

// rateLimited is the refusal of a caller past its rate: RATE_LIMITED with the seconds
// to wait, and, over HTTP, status 429 with Retry-After (through the request's verdict).
func rateLimited(ctx context.Context, retry time.Duration) *gqlerror.Error {
	secs := retrySeconds(retry)
	if v, ok := ctx.Value(verdictKey{}).(*verdict); ok {
		v.status, v.retryAfter = http.StatusTooManyRequests, secs
	}
	e := resolver.Error(CodeRateLimited, fmt.Sprintf("trop de requêtes : réessayez dans %d s", secs))
	e.Extensions["retryAfter"] = secs
	return e
}

// retrySeconds is a wait as Retry-After says it: whole seconds, at least one.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// verdict is what the HTTP status of a GraphQL answer must say when an extension
// refused the operation for a reason HTTP has a status for. gqlgen answers a refused
// operation with 200 (or 422 for a document it cannot validate) and no extension can
// reach the response: the request's context carries the verdict to httpStatus.
type verdict struct {
	status     int
	retryAfter int // seconds; with 429
}

type verdictKey struct{}

// httpStatus gives the GraphQL answers of HTTP requests the status of their verdict
// (429 and Retry-After for RATE_LIMITED, as GraphQL over HTTP expects). Websocket
// upgrades are passed through untouched: the socket's refusals are messages, and the
// upgrade needs the connection's own ResponseWriter.
func httpStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		v := &verdict{}
		next.ServeHTTP(&statusWriter{ResponseWriter: w, v: v}, r.WithContext(context.WithValue(r.Context(), verdictKey{}, v)))
	})
}

// statusWriter writes the verdict's status, when there is one, in place of the status
// gqlgen chose (or of the implicit 200 of a first Write).
type statusWriter struct {
	http.ResponseWriter
	v     *verdict
	wrote bool
}

func (w *statusWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.v.status != 0 {
		status = w.v.status
		if w.v.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(w.v.retryAfter))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readingRoute guards an HTTP route that reads data outside GraphQL (the after-action
// reports, the demonstration's inbox) as /graphql is guarded: an authenticated caller
// (401 otherwise), paying from the same bucket as its GraphQL requests one token plus
// weight per log read the request will make (reads; nil: none), at most max reads (400
// beyond), 429 with Retry-After past its rate. The route authorizes on its own, after.
func readingRoute(cfg *Config, limits *limiters, reads func(*http.Request) int, next http.Handler) http.Handler {
	max, weight := cfg.MaxLogReads, cfg.LogReadWeight
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := auth.FromContext(r.Context())
		if err != nil {
			cfg.authFailed(r.Context(), "GET "+routeOf(r.URL.Path), auth.Failure(err))
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			http.Error(w, "authentification requise : envoyez Authorization: Bearer <jeton>", http.StatusUnauthorized)
			return
		}
		n := 0
		if reads != nil {
			n = reads(r)
		}
		if n > max {
			http.Error(w, fmt.Sprintf("requête trop coûteuse (%s) : elle lit le journal %d fois, une requête peut le lire au plus %d fois ; demandez moins d'instants", ReasonTooCostly, n, max), http.StatusBadRequest)
			return
		}
		if ok, retry := limits.take(c, 1+n*weight); !ok {
			secs := retrySeconds(retry)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, fmt.Sprintf("trop de requêtes (%s) : réessayez dans %d s", CodeRateLimited, secs), http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routeOf is a path without what follows its first segment (/report/dep:30….html is
// /report): the journal names the route, not the domain a caller made up.
func routeOf(path string) string {
	if i := strings.IndexByte(strings.TrimPrefix(path, "/"), '/'); i >= 0 {
		return path[:i+1]
	}
	return path
}
