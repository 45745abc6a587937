package identity

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A token stops being accepted a few seconds after its expiry, not half a minute:
// a websocket lives as long as its token is accepted, and issue 14 asks that it end
// within 5 s of the expiry.
func TestAnExpiredTokenIsRefusedAFewSecondsAfterItsExpiry(t *testing.T) {
	if Leeway <= 0 || Leeway > 5*time.Second {
		t.Fatalf("Leeway = %v: want a few seconds, at most 5", Leeway)
	}
	pub, key := newKey(t)
	tok, err := issue(key, mayorOfNimes, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Minute)
	if _, err := verify(pub, tok, exp.Add(Leeway-time.Second)); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
	for _, late := range []time.Duration{Leeway + time.Second, 30 * time.Second} {
		if _, err := verify(pub, tok, exp.Add(late)); !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, jwt.ErrTokenExpired) {
			t.Errorf("%v after the expiry: err = %v, want an expired token refused", late, err)
		}
	}
}

func TestVerifyUntilSaysUntilWhenTheTokenIsAccepted(t *testing.T) {
	pub, key := newKey(t)
	v := NewVerifier(pub)
	before := time.Now().Truncate(time.Second)
	tok, err := Issue(key, mayorOfNimes, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	// Twice: verified, then from the cache.
	for range 2 {
		p, until, err := v.VerifyUntil(tok)
		if err != nil || p.Subject != mayorOfNimes.Subject {
			t.Fatalf("VerifyUntil = %+v, %v", p, err)
		}
		if lo, hi := before.Add(10*time.Minute+Leeway), after.Add(10*time.Minute+Leeway); until.Before(lo) || until.After(hi) {
			t.Errorf("until %v, want the expiry plus the leeway, between %v and %v", until, lo, hi)
		}
	}
	_, other := newKey(t)
	foreign, _ := Issue(other, mayorOfNimes, time.Minute)
	if _, until, err := v.VerifyUntil(foreign); !errors.Is(err, ErrUnauthenticated) || !until.IsZero() {
		t.Errorf("another key's token: until %v, err %v", until, err)
	}
}

func TestTokenLifetimes(t *testing.T) {
	// The development default is `vigie token`'s `--ttl 8h`; what the gateway mints in
	// production is short.
	if DevTTL != 8*time.Hour || ForwardTTL > 15*time.Minute || MaxTTL < DevTTL {
		t.Fatalf("DevTTL %v, ForwardTTL %v, MaxTTL %v", DevTTL, ForwardTTL, MaxTTL)
	}
	_, key := newKey(t)
	if _, err := Issue(key, mayorOfNimes, MaxTTL); err != nil {
		t.Errorf("MaxTTL refused: %v", err)
	}
	if _, err := Issue(key, mayorOfNimes, MaxTTL+time.Second); err == nil {
		t.Error("a token beyond MaxTTL was issued")
	}
}
