package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"vigie/events/role"
	"vigie/policies"
)

// Issuer and Audience are the iss and aud of every Vigie identity token.
const (
	Issuer   = "vigie"
	Audience = "vigie"
)

// Leeway absorbs clock differences between the machine that issued a token
// and the one that verifies it. A few seconds, no more: a token is still
// accepted that long after its expiry, and a websocket opened with it lives
// until then (the gateway ends it within 5 s of the expiry; 30 s let an
// expired session go on serving half a minute).
const Leeway = 3 * time.Second

// Token lifetimes. Production tokens are short: the gateway of an OIDC
// deployment mints, for each request or websocket session, a token of at most
// ForwardTTL for the services, never outliving the provider's ID token, and a
// session renews it while that ID token is valid. Development tokens (`vigie
// token`, which a gateway of OIDC identities refuses) keep the lifetime
// `vigie token --ttl` documents, DevTTL, and at most MaxTTL.
const (
	ForwardTTL = 5 * time.Minute
	DevTTL     = 8 * time.Hour
	MaxTTL     = 7 * 24 * time.Hour
)

// ErrUnauthenticated is every refusal of Verify: no token, a malformed one, a
// bad signature, another algorithm than EdDSA, wrong issuer or audience, an
// expired token, or claims that name no valid subject or grant.
var ErrUnauthenticated = errors.New("identity: unauthenticated")

// Claims is what a token says about its bearer.
type Claims struct {
	Subject string
	// Grants are role grants the token itself carries (development tokens);
	// honoured in addition to the grants of the event log.
	Grants []policies.Grant
	// Name is the bearer's display name (« Marie Durand »), optional: recorded
	// with the events they cause so that the timeline and the after-action report
	// say who decided by name. Checked by role.ValidName at issue and at
	// verification.
	Name string
}

type tokenClaims struct {
	Grants []policies.Grant `json:"grants,omitempty"`
	Name   string           `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// Issue signs a token for c, valid for ttl from now.
func Issue(key ed25519.PrivateKey, c Claims, ttl time.Duration) (string, error) {
	return issue(key, c, ttl, time.Now())
}

func issue(key ed25519.PrivateKey, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", errors.New("identity: not an Ed25519 private key")
	}
	if ttl <= 0 || ttl > MaxTTL {
		return "", fmt.Errorf("identity: token lifetime %v is not between 0 and %v", ttl, MaxTTL)
	}
	name, err := validClaims(c.Subject, c.Name, c.Grants)
	if err != nil {
		return "", fmt.Errorf("identity: %w", err)
	}
	now = now.Truncate(time.Second) // NumericDate has whole seconds
	claims := tokenClaims{
		Grants: c.Grants,
		Name:   name,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        rand.Text(),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("identity: sign: %w", err)
	}
	return s, nil
}

// Verify checks token's signature against pub, its algorithm (EdDSA only, so
// neither "none" nor an HMAC keyed with the public key passes), issuer,
// audience, expiry, and claims, and returns whom it names. Every refusal wraps
// ErrUnauthenticated.
func Verify(pub ed25519.PublicKey, token string) (policies.Principal, error) {
	p, _, err := verifyUntil(pub, token, time.Now())
	return p, err
}

func verify(pub ed25519.PublicKey, token string, now time.Time) (policies.Principal, error) {
	p, _, err := verifyUntil(pub, token, now)
	return p, err
}

// Verifier verifies tokens like Verify and remembers the valid ones until they
// expire: a client sends the same token with every call, and checking its Ed25519
// signature each time was an eighth of a service's CPU.
type Verifier struct {
	pub ed25519.PublicKey
	mu  sync.Mutex
	ok  map[string]verified
}

type verified struct {
	p   policies.Principal
	exp time.Time
}

// maxVerified bounds the cache; past it the cache starts again empty.
const maxVerified = 10_000

// NewVerifier returns a caching verifier for pub.
func NewVerifier(pub ed25519.PublicKey) *Verifier {
	return &Verifier{pub: pub, ok: map[string]verified{}}
}

// Verify is Verify with the cache.
func (v *Verifier) Verify(token string) (policies.Principal, error) {
	p, _, err := v.VerifyUntil(token)
	return p, err
}

// VerifyUntil is Verify, and says until when the token is accepted: its expiry
// plus the Leeway. A websocket opened with the token must end then (the gateway's
// sessions), since no new request with it would pass.
func (v *Verifier) VerifyUntil(token string) (policies.Principal, time.Time, error) {
	now := time.Now()
	v.mu.Lock()
	hit, found := v.ok[token]
	v.mu.Unlock()
	if found && now.Before(hit.exp) {
		return hit.p, hit.exp.Add(Leeway), nil
	}
	p, exp, err := verifyUntil(v.pub, token, now)
	if err != nil {
		return p, time.Time{}, err
	}
	v.mu.Lock()
	if len(v.ok) >= maxVerified {
		clear(v.ok)
	}
	v.ok[token] = verified{p: p, exp: exp}
	v.mu.Unlock()
	return p, exp.Add(Leeway), nil
}

func verifyUntil(pub ed25519.PublicKey, token string, now time.Time) (policies.Principal, time.Time, error) {
	if token == "" {
		return policies.Principal{}, time.Time{}, fmt.Errorf("%w: no token", ErrUnauthenticated)
	}
	if len(pub) != ed25519.PublicKeySize {
		return policies.Principal{}, time.Time{}, fmt.Errorf("%w: no verification key", ErrUnauthenticated)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	)
	var claims tokenClaims
	_, err := parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		return policies.Principal{}, time.Time{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if claims.ID == "" || claims.IssuedAt == nil {
		return policies.Principal{}, time.Time{}, fmt.Errorf("%w: token without jti or iat", ErrUnauthenticated)
	}
	// A name that fails the checks refuses the whole token rather than being
	// dropped: only a forged or broken issuer signs one, and every event its
	// bearer caused would carry it.
	name, err := validClaims(claims.Subject, claims.Name, claims.Grants)
	if err != nil {
		return policies.Principal{}, time.Time{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return policies.Principal{Subject: claims.Subject, Grants: claims.Grants, Name: name}, claims.ExpiresAt.Time, nil
}

// validClaims checks the claims and returns the name trimmed.
func validClaims(subject, name string, grants []policies.Grant) (string, error) {
	if err := role.ValidSubject(subject); err != nil {
		return "", err
	}
	name, err := role.ValidName(name)
	if err != nil {
		return "", err
	}
	for _, g := range grants {
		if err := g.Validate(); err != nil {
			return "", err
		}
	}
	return name, nil
}
