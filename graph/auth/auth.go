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
	"github.com/golang-jwt/jwt/v5"

	"vigie/events/role"
	"vigie/identity"
	"vigie/policies"
)

// ErrUnauthenticated: no token, or a token that does not verify.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrNoToken: the request carried no token at all (wraps ErrUnauthenticated).
var ErrNoToken = fmt.Errorf("%w: no token", ErrUnauthenticated)

// The ends of a right that was once authenticated: both wrap ErrUnauthenticated, so
// that whatever refused an unknown caller refuses these too.
var (
	// ErrExpired: the caller's token is no longer accepted (its expiry has passed).
	ErrExpired = fmt.Errorf("%w: the token has expired", ErrUnauthenticated)
	// ErrRevoked: a role the caller's session relied on was revoked since it opened.
	ErrRevoked = fmt.Errorf("%w: a role of this session was revoked", ErrUnauthenticated)
)

// Caller is an authenticated caller.
type Caller struct {
	Principal policies.Principal
	// Forward is the token the gateway sends the services on the caller's behalf.
	Forward string
	// Expires is when the gateway stops accepting the caller's token (its expiry, plus
	// the leeway for Vigie's own tokens): from then on FromContext refuses the caller,
	// and a websocket opened with the token ends. Zero: no limit known.
	Expires time.Time
	// ForwardExpires is when the services stop accepting Forward. When it comes
	// before Expires (the gateway minted Forward, short-lived, for an OIDC identity),
	// a websocket session authenticates its token again to get a fresh one.
	ForwardExpires time.Time
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
	p, until, err := d.verifier.VerifyUntil(token)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	// The services verify the forwarded token as the gateway did: both end together.
	return Caller{Principal: p, Forward: token, Expires: until, ForwardExpires: until}, nil
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
	p := policies.Principal{Subject: id.Subject, Name: displayName(id)}
	// The internal token is short-lived (a session renews it) and never outlives the
	// ID token it stands for: an identity that expired must not act through the
	// services a few minutes longer. It is at least a second long (tokens count whole
	// seconds); the services' leeway covers the difference.
	ttl := min(identity.ForwardTTL, max(time.Until(id.Expiry), time.Second))
	fwd, err := identity.Issue(o.Key, identity.Claims{Subject: id.Subject, Name: p.Name}, ttl)
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	// go-oidc allows no leeway on the expiry: the ID token is refused from id.Expiry on.
	return Caller{Principal: p, Forward: fwd, Expires: id.Expiry, ForwardExpires: time.Now().Add(ttl)}, nil
}

// displayName is the ID token's "name" claim when it passes role.ValidName, else
// none: the provider signed it, so a name it was wrong to give (too long, an
// invisible character) costs the caller their name on the timeline, not their
// login; the events then show their subject.
func displayName(id *oidc.IDToken) string {
	var c struct {
		Name string `json:"name"`
	}
	if id.Claims(&c) != nil {
		return ""
	}
	name, err := role.ValidName(c.Name)
	if err != nil {
		return ""
	}
	return name
}

type ctxKey struct{}

// outcome is what the middleware found: a caller, or why there is none; or the
// session that answers for the caller of a websocket.
type outcome struct {
	caller  Caller
	err     error
	session Session
}

// Session is the caller of a connection that outlives a request (a websocket), whose
// right may end while it is open: its token expires, a role it relied on is revoked.
type Session interface {
	// Caller is the caller as it stands now, or why it may no longer act (an error
	// wrapping ErrUnauthenticated: ErrExpired, ErrRevoked).
	Caller() (Caller, error)
}

// WithCaller records the authentication outcome on the context.
func WithCaller(ctx context.Context, c Caller, err error) context.Context {
	return context.WithValue(ctx, ctxKey{}, outcome{caller: c, err: err})
}

// WithSession records that s answers, at each use, for the caller of every operation
// under ctx.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, outcome{session: s})
}

// FromContext returns the authenticated caller, or ErrUnauthenticated. A caller whose
// token has expired since it was authenticated is refused (ErrExpired): an operation
// is answered only while its caller's right holds, not as long as a connection lasts.
func FromContext(ctx context.Context) (Caller, error) {
	o, ok := ctx.Value(ctxKey{}).(outcome)
	if !ok {
		return Caller{}, ErrNoToken
	}
	c, err := o.caller, o.err
	if o.session != nil {
		c, err = o.session.Caller()
	}
	if err != nil {
		return Caller{}, err
	}
	if !c.Expires.IsZero() && !time.Now().Before(c.Expires) {
		return Caller{}, ErrExpired
	}
	return c, nil
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

// Failure says in French why authentication failed, for the security journal: never
// the token, nor the verifier's words (which may quote claims).
func Failure(err error) string {
	switch {
	case errors.Is(err, ErrRevoked):
		return "rôle retiré pendant la session"
	case errors.Is(err, ErrExpired), errors.Is(err, jwt.ErrTokenExpired), errors.As(err, new(*oidc.TokenExpiredError)):
		return "jeton expiré"
	case errors.Is(err, ErrNoToken):
		return "aucun jeton"
	default:
		return "jeton invalide (signature, émetteur ou format)"
	}
}
