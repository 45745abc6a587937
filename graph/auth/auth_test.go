package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"vigie/identity"
	"vigie/policies"
)

func TestADevCallerExpiresWhenItsTokenIsNoLongerAccepted(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Second)
	tok, err := identity.Issue(key, identity.Claims{Subject: "u-1"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewDev(key).Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := before.Add(time.Minute+identity.Leeway), time.Now().Add(time.Minute+identity.Leeway); c.Expires.Before(lo) || c.Expires.After(hi) {
		t.Errorf("Expires %v, want the token's expiry plus the leeway (%v to %v)", c.Expires, lo, hi)
	}
	if !c.ForwardExpires.Equal(c.Expires) || c.Forward != tok {
		t.Errorf("the forwarded token is the caller's own: %q until %v", c.Forward, c.ForwardExpires)
	}
}

// An operation is answered only while its caller's right holds: a caller whose token
// expired since it was authenticated is refused, as is a session's once it ended.
func TestFromContextRefusesACallerPastItsExpiry(t *testing.T) {
	p := policies.Principal{Subject: "u-1"}
	live := WithCaller(context.Background(), Caller{Principal: p, Expires: time.Now().Add(time.Minute)}, nil)
	if c, err := FromContext(live); err != nil || c.Principal.Subject != "u-1" {
		t.Fatalf("a live caller: %+v %v", c, err)
	}
	unbounded := WithCaller(context.Background(), Caller{Principal: p}, nil)
	if _, err := FromContext(unbounded); err != nil {
		t.Fatalf("a caller without a known expiry: %v", err)
	}
	expired := WithCaller(context.Background(), Caller{Principal: p, Expires: time.Now().Add(-time.Millisecond)}, nil)
	if _, err := FromContext(expired); !errors.Is(err, ErrExpired) || !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an expired caller: %v", err)
	}
	revoked := WithSession(context.Background(), sessionFunc(func() (Caller, error) { return Caller{}, ErrRevoked }))
	if _, err := FromContext(revoked); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an ended session: %v", err)
	}
	lapsed := WithSession(context.Background(), sessionFunc(func() (Caller, error) {
		return Caller{Principal: p, Expires: time.Now().Add(-time.Millisecond)}, nil
	}))
	if _, err := FromContext(lapsed); !errors.Is(err, ErrExpired) {
		t.Fatalf("a session past its expiry: %v", err)
	}
}

type sessionFunc func() (Caller, error)

func (f sessionFunc) Caller() (Caller, error) { return f() }
