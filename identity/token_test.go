package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"vigie/policies"
)

var now = time.Date(2026, 9, 14, 4, 30, 0, 0, time.UTC)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

var mayorOfNimes = Claims{Subject: "maire-1", Grants: []policies.Grant{{Role: "mayor", Domain: "dep:30/com:30189"}}}

func TestIssuedTokensVerify(t *testing.T) {
	pub, key := newKey(t)
	for _, c := range []Claims{
		mayorOfNimes,
		{Subject: "cod-1", Grants: []policies.Grant{{Role: "prefecture", Domain: "dep:30"}, {Role: "observer", Domain: "dep:13"}}},
		{Subject: "oidc|1234"}, // grants from the event log only
	} {
		tok, err := issue(key, c, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		p, err := verify(pub, tok, now.Add(59*time.Minute))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		want := policies.Principal{Subject: c.Subject, Grants: c.Grants}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("verified %+v, want %+v", p, want)
		}
	}
	// And with the real clock.
	tok, err := Issue(key, mayorOfNimes, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(pub, tok); err != nil {
		t.Fatal(err)
	}
}

func TestTheTokenSaysWhoIssuedItForWhomAndUntilWhen(t *testing.T) {
	pub, key := newKey(t)
	tok, err := issue(key, mayorOfNimes, 8*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	parsed, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if alg := parsed.Header["alg"]; alg != "EdDSA" {
		t.Errorf("alg = %v", alg)
	}
	if c.Issuer != "vigie" || !reflect.DeepEqual([]string(c.Audience), []string{"vigie"}) {
		t.Errorf("iss %q aud %v", c.Issuer, c.Audience)
	}
	if !c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(8*time.Hour)) {
		t.Errorf("iat %v exp %v", c.IssuedAt, c.ExpiresAt)
	}
	if c.ID == "" {
		t.Error("no jti")
	}
	other, _ := issue(key, mayorOfNimes, 8*time.Hour, now)
	var c2 tokenClaims
	if _, err := jwt.ParseWithClaims(other, &c2, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
		t.Fatal(err)
	}
	if c.ID == c2.ID {
		t.Error("two tokens share a jti")
	}
}

// sign makes a token with arbitrary claims and method, as an attacker or a
// foreign issuer would.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func registered(mod func(*jwt.RegisteredClaims)) tokenClaims {
	c := tokenClaims{
		Grants: mayorOfNimes.Grants,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: "maire-1", Audience: jwt.ClaimStrings{Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now), ID: "j-1",
		},
	}
	if mod != nil {
		mod(&c.RegisteredClaims)
	}
	return c
}

func named(name string) tokenClaims {
	c := registered(nil)
	c.Name = name
	return c
}

func TestATokenGivesItsBearersName(t *testing.T) {
	pub, key := newKey(t)
	c := mayorOfNimes
	c.Name = " Marie Durand "
	tok, err := issue(key, c, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := verify(pub, tok, now)
	if err != nil || p.Name != "Marie Durand" || p.Subject != "maire-1" {
		t.Errorf("verified %+v, %v; want Marie Durand, trimmed", p, err)
	}
	// At the limit, accepted: 80 characters, not bytes.
	p, err = verify(pub, sign(t, jwt.SigningMethodEdDSA, key, named(strings.Repeat("é", 80))), now)
	if err != nil || p.Name != strings.Repeat("é", 80) {
		t.Errorf("a name of 80 characters: %+v, %v", p, err)
	}
	// No name: none, as before names were.
	p, err = verify(pub, sign(t, jwt.SigningMethodEdDSA, key, registered(nil)), now)
	if err != nil || p.Name != "" {
		t.Errorf("a token without a name: %+v, %v", p, err)
	}
}

func TestVerifyRefusesEveryBadToken(t *testing.T) {
	pub, key := newKey(t)
	_, otherKey := newKey(t)
	good, err := issue(key, mayorOfNimes, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	// The payload of another token spliced under good's signature: a grant
	// rewritten by the bearer.
	forged := registered(nil)
	forged.Grants = []policies.Grant{{Role: "prefecture", Domain: "dep:30"}}
	forgedPayload := strings.Split(sign(t, jwt.SigningMethodEdDSA, otherKey, forged), ".")[1]

	cases := []struct {
		name  string
		token string
		at    time.Time
		also  error // a more precise cause, when jwt names one
	}{
		{name: "missing", token: ""},
		{name: "not a JWT", token: "Bearer-or-not"},
		{name: "two segments", token: parts[0] + "." + parts[1]},
		{name: "expired", token: good, at: now.Add(time.Hour + time.Minute), also: jwt.ErrTokenExpired},
		{name: "issued in the future", token: good, at: now.Add(-time.Hour), also: jwt.ErrTokenUsedBeforeIssued},
		{name: "signed by another key", token: sign(t, jwt.SigningMethodEdDSA, otherKey, registered(nil)), also: jwt.ErrTokenSignatureInvalid},
		{name: "payload rewritten", token: parts[0] + "." + forgedPayload + "." + parts[2], also: jwt.ErrTokenSignatureInvalid},
		{name: "signature removed", token: parts[0] + "." + parts[1] + ".", also: jwt.ErrTokenSignatureInvalid},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, registered(nil)), also: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 keyed with the public key", token: sign(t, jwt.SigningMethodHS256, []byte(pub), registered(nil)), also: jwt.ErrTokenSignatureInvalid},
		{name: "wrong issuer", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.Issuer = "other" })), also: jwt.ErrTokenInvalidIssuer},
		{name: "wrong audience", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"gateway"} })), also: jwt.ErrTokenInvalidAudience},
		{name: "no expiry", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), also: jwt.ErrTokenRequiredClaimMissing},
		{name: "no jti", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.ID = "" }))},
		{name: "no iat", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.IssuedAt = nil }))},
		{name: "no subject", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.Subject = "" }))},
		{name: "a role as subject", token: sign(t, jwt.SigningMethodEdDSA, key, registered(func(c *jwt.RegisteredClaims) { c.Subject = "role:mayor" }))},
		// A forged or broken issuer's name: shown beside decisions and copied into
		// every event its bearer causes, it must be short and show what it holds.
		{name: "a name with a control character", token: sign(t, jwt.SigningMethodEdDSA, key, named("Marie\x1bDurand"))},
		{name: "a name with a right-to-left override", token: sign(t, jwt.SigningMethodEdDSA, key, named("Marie \u202eDurand"))},
		{name: "a name of 200 characters", token: sign(t, jwt.SigningMethodEdDSA, key, named(strings.Repeat("é", 200)))},
		{name: "an invalid grant", token: sign(t, jwt.SigningMethodEdDSA, key, tokenClaims{
			Grants:           []policies.Grant{{Role: "prefecture", Domain: "dep:30/com:30189"}},
			RegisteredClaims: registered(nil).RegisteredClaims,
		})},
	}
	for _, c := range cases {
		at := c.at
		if at.IsZero() {
			at = now
		}
		p, err := verify(pub, c.token, at)
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", c.name, err)
			continue
		}
		if c.also != nil && !errors.Is(err, c.also) {
			t.Errorf("%s: err = %v, want it to wrap %v", c.name, err, c.also)
		}
		if !reflect.DeepEqual(p, policies.Principal{}) {
			t.Errorf("%s: a refused token still named %+v", c.name, p)
		}
	}
	if _, err := verify(nil, good, now); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("no public key: %v", err)
	}
}

func TestTheAlgNoneTokenIsWhatItClaims(t *testing.T) {
	// Guard the test above: its "alg none" token really is unsigned.
	tok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, registered(nil))
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(header), `"alg":"none"`) || !strings.HasSuffix(tok, ".") {
		t.Fatalf("not an unsigned token: %s", header)
	}
}

func TestIssueRefusesWhatVerifyWouldRefuse(t *testing.T) {
	_, key := newKey(t)
	for name, c := range map[string]Claims{
		"no subject":              {},
		"a role as subject":       {Subject: "role:admin"},
		"a space in subject":      {Subject: "jean dupont"},
		"an unknown role":         {Subject: "u-1", Grants: []policies.Grant{{Role: "root", Domain: "dep:30"}}},
		"an invalid domain":       {Subject: "u-1", Grants: []policies.Grant{{Role: "observer", Domain: "dep:300/com:30012"}}},
		"prefecture on a commune": {Subject: "u-1", Grants: []policies.Grant{{Role: "prefecture", Domain: "dep:30/com:30189"}}},
		"a name too long":         {Subject: "u-1", Name: strings.Repeat("a", 81)},
		"a name with a newline":   {Subject: "u-1", Name: "Marie\nDurand"},
	} {
		if _, err := issue(key, c, time.Hour, now); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
	if _, err := issue(key, mayorOfNimes, 0, now); err == nil {
		t.Error("issued a token with no lifetime")
	}
	if _, err := issue(key[:10], mayorOfNimes, time.Hour, now); err == nil {
		t.Error("issued with a truncated key")
	}
}
