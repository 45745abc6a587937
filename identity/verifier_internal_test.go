package identity

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"vigie/policies"
)

func TestVerifierCachesOnlyValidTokensAndOnlyUntilTheyExpire(t *testing.T) {
	key, err := LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(key.Public().(ed25519.PublicKey))
	tok, err := Issue(key, Claims{Subject: "u1", Grants: []policies.Grant{{Role: "rac", Domain: "dep:30/com:30189"}}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		p, err := v.Verify(tok)
		if err != nil || p.Subject != "u1" || len(p.Grants) != 1 {
			t.Fatalf("valid token: %+v %v", p, err)
		}
	}
	if _, err := v.Verify(tok[:len(tok)-2] + "xx"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("tampered token accepted: %v", err)
	}
	other, _ := LoadOrCreateKey(t.TempDir())
	foreign, _ := Issue(other, Claims{Subject: "u2"}, time.Hour)
	for range 2 {
		if _, err := v.Verify(foreign); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("another key's token accepted: %v", err)
		}
	}
	// An entry past its expiry is not trusted: the token is verified again.
	v.ok[tok] = verified{p: policies.Principal{Subject: "forged"}, exp: time.Now().Add(-time.Second)}
	if p, err := v.Verify(tok); err != nil || p.Subject != "u1" {
		t.Fatalf("expired cache entry trusted: %+v %v", p, err)
	}
}
