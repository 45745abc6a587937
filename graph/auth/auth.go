// Package auth authenticates the gateway's callers: in development mode with the
// tokens `vigie token` prints (signed with the data directory's key, their role grants
// honoured), in production with an OIDC provider's ID tokens (identity only: roles
// come from the grants recorded in the log). Either way the services receive a token
// they can verify with the same key: the caller's own development token, or one the
// gateway mints for the OIDC subject.
package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"vigie/policies"
	"vigie/policies/identity"
)

// ErrUnauthenticated: no token, or a token that does not verify.
var ErrUnauthenticated = errors.New("unauthenticated")

// Caller is an authenticated caller.
type Caller struct {
	Principal policies.Principal
	// Forward is the token the gateway sends the services on the caller's behalf.
	Forward string
}

// Authenticator turns a bearer token into a caller.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Caller, error)
}

// Dev accepts Vigie's own tokens (`vigie token`), grants included.
type Dev struct {
	verifier *identity.Verifier
}

// NewDev verifies tokens signed with key, remembering valid ones until they expire.
func NewDev(key ed25519.PrivateKey) Dev {
	return Dev{verifier: identity.NewVerifier(key.Public().(ed25519.PublicKey))}
}

func (d Dev) Authenticate(_ context.Context, token string) (Caller, error) {
	p, err := d.verifier.Verify(token)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return Caller{Principal: p, Forward: token}, nil
}

// OIDC accepts the ID tokens of an OpenID Connect provider. Roles are not taken from
// the provider: they are the grants recorded in the log, which the policies follow.
type OIDC struct {
	Verifier *oidc.IDTokenVerifier
	Key      ed25519.PrivateKey // signs the internal token forwarded to the services
}

// NewOIDC discovers the issuer's keys; clientID is the audience tokens must carry.
func NewOIDC(ctx context.Context, issuer, clientID string, key ed25519.PrivateKey) (*OIDC, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: OIDC issuer %s: %w", issuer, err)
	}
	return &OIDC{Verifier: provider.Verifier(&oidc.Config{ClientID: clientID}), Key: key}, nil
}

func (o *OIDC) Authenticate(ctx context.Context, token string) (Caller, error) {
	id, err := o.Verifier.Verify(ctx, token)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	p := policies.Principal{Subject: id.Subject}
	fwd, err := identity.Issue(o.Key, identity.Claims{Subject: id.Subject}, 5*time.Minute)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return Caller{Principal: p, Forward: fwd}, nil
}

type ctxKey struct{}

// outcome is what the middleware found: a caller, or why there is none.
type outcome struct {
	caller Caller
	err    error
}

// WithCaller records the authentication outcome on the context.
func WithCaller(ctx context.Context, c Caller, err error) context.Context {
	return context.WithValue(ctx, ctxKey{}, outcome{caller: c, err: err})
}

// FromContext returns the authenticated caller, or ErrUnauthenticated.
func FromContext(ctx context.Context) (Caller, error) {
	o, ok := ctx.Value(ctxKey{}).(outcome)
	if !ok {
		return Caller{}, ErrUnauthenticated
	}
	if o.err != nil {
		return Caller{}, o.err
	}
	return o.caller, nil
}

// Bearer extracts the token of an "Authorization: Bearer …" value.
func Bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 8192 {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Middleware authenticates HTTP requests that carry a bearer token. It does not refuse
// anything itself: the GraphQL layer answers UNAUTHENTICATED in its own format.
func Middleware(a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token, ok := Bearer(r.Header.Get("Authorization")); ok {
			c, err := a.Authenticate(ctx, token)
			ctx = WithCaller(ctx, c, err)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
