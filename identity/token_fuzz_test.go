package identity_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events/role"
	"vigie/identity"
	"vigie/policies"
)

// The fuzz targets below hold identity tokens to what the gateway and every service
// rely on: whatever arrives as a bearer token, verification never panics, refuses
// with ErrUnauthenticated, and accepts only what the key signed, with claims that
// say who, for whom and until when. A fuzzer cannot forge an Ed25519 signature; what
// it can find is a token the parser reads otherwise than it was signed (a segment
// decoded leniently, an algorithm taken from the wrong header, claims decoded twice).

// maxLeeway bounds the clock skew verification may forgive. The verifier's own is a
// few seconds; the checks allow more so that they do not depend on its exact value.
const maxLeeway = time.Minute

var (
	fuzzKey   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))
	fuzzPub   = fuzzKey.Public().(ed25519.PublicKey)
	otherKey  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0xa5}, ed25519.SeedSize))
	seedClaim = identity.Claims{Subject: "maire-30189", Grants: []policies.Grant{{Role: "mayor", Domain: "dep:30/com:30189"}}}
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signed is header.payload signed with key, as a token.
func signed(key ed25519.PrivateKey, header, payload string) string {
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	return input + "." + b64(ed25519.Sign(key, []byte(input)))
}

// claimsNow is a valid payload at the current time, with changes.
func claimsNow(change func(map[string]any)) string {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": identity.Issuer, "aud": []string{identity.Audience}, "sub": "maire-30189",
		"exp": now + 3600, "iat": now, "jti": "j1",
		"grants": []map[string]string{{"role": "mayor", "domain": "dep:30/com:30189"}},
	}
	if change != nil {
		change(c)
	}
	b, _ := json.Marshal(c)
	return string(b)
}

const edHeader = `{"alg":"EdDSA","typ":"JWT"}`

func issued(f *testing.F, key ed25519.PrivateKey, c identity.Claims) string {
	tok, err := identity.Issue(key, c, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	return tok
}

// signedByKey fails t unless token is three segments whose signature verifies under
// pub over the first two, with EdDSA as the header's algorithm: checked here with
// crypto/ed25519 and encoding/base64 alone, not through the JWT library.
func signedByKey(t *testing.T, token string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token of %d segments: %q", len(parts), token)
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("accepted a token whose header is not base64url: %q", token)
	}
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil || h["alg"] != "EdDSA" {
		t.Fatalf("accepted a token whose header says %s", header)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("accepted a token whose signature is not base64url: %q", token)
	}
	if !ed25519.Verify(fuzzPub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatalf("accepted a token the key did not sign: %q", token)
	}
}

// claimsHold fails t unless the payload of an accepted token says what Verify
// promises: Vigie's issuer and audience, an expiry not past, an issue time not
// ahead, an id, and the principal Verify returned.
func claimsHold(t *testing.T, token string, p policies.Principal) {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatalf("accepted a token whose payload is not base64url: %q", token)
	}
	// Decoded as the verifier decodes it (encoding/json into a struct: keys matched
	// regardless of case, the last one winning), so that the checks below are of
	// what the claims mean, not of how JSON may be spelt.
	var c struct {
		Iss    string           `json:"iss"`
		Sub    string           `json:"sub"`
		Aud    json.RawMessage  `json:"aud"`
		Exp    *float64         `json:"exp"`
		Iat    *float64         `json:"iat"`
		Nbf    *float64         `json:"nbf"`
		Jti    string           `json:"jti"`
		Grants []policies.Grant `json:"grants"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("accepted claims that do not decode: %s: %v", payload, err)
	}
	var aud []string
	if json.Unmarshal(c.Aud, &aud) != nil {
		var one string
		if json.Unmarshal(c.Aud, &one) == nil {
			aud = []string{one}
		}
	}
	now := float64(time.Now().Unix())
	skew := maxLeeway.Seconds()
	switch {
	case c.Iss != identity.Issuer:
		t.Fatalf("accepted issuer %q: %s", c.Iss, payload)
	case !slices.Contains(aud, identity.Audience):
		t.Fatalf("accepted audience %s: %s", c.Aud, payload)
	case c.Exp == nil || *c.Exp+skew < now || math.IsInf(*c.Exp, 0):
		t.Fatalf("accepted a token without expiry or expired: %s", payload)
	case c.Iat == nil || *c.Iat > now+skew:
		t.Fatalf("accepted a token without issue time or issued in the future: %s", payload)
	case c.Nbf != nil && *c.Nbf > now+skew:
		t.Fatalf("accepted a token not yet valid: %s", payload)
	case c.Jti == "":
		t.Fatalf("accepted a token without id: %s", payload)
	case p.Subject != c.Sub || role.ValidSubject(c.Sub) != nil:
		t.Fatalf("accepted subject %q as %q: %s", c.Sub, p.Subject, payload)
	case !reflect.DeepEqual(p.Grants, c.Grants) && (len(p.Grants) > 0 || len(c.Grants) > 0):
		t.Fatalf("accepted grants %v as %v: %s", c.Grants, p.Grants, payload)
	}
	for _, g := range p.Grants {
		if err := g.Validate(); err != nil {
			t.Fatalf("accepted grant %v: %v", g, err)
		}
	}
}

// FuzzVerify: any string as a bearer token.
func FuzzVerify(f *testing.F) {
	good := issued(f, fuzzKey, seedClaim)
	parts := strings.Split(good, ".")
	forged := claimsNow(func(c map[string]any) {
		c["grants"] = []map[string]string{{"role": "prefecture", "domain": "dep:30"}}
	})
	for _, s := range []string{
		good,
		issued(f, fuzzKey, identity.Claims{Subject: "oidc|1234"}),
		issued(f, otherKey, seedClaim),                        // another key's
		parts[0] + "." + b64([]byte(forged)) + "." + parts[2], // claims changed under the signature
		parts[0] + "." + parts[1] + ".",                       // signature dropped
		b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
		b64([]byte(`{"alg":"EdDSA","alg":"none"}`)) + "." + parts[1] + "." + parts[2],
		good + "=", good + ".x", strings.Replace(good, ".", "=.", 1),
		"", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "Bearer " + good,
	} {
		f.Add(s)
	}
	v := identity.NewVerifier(fuzzPub)
	f.Fuzz(func(t *testing.T, token string) {
		p, err := identity.Verify(fuzzPub, token)
		if err != nil {
			if !errors.Is(err, identity.ErrUnauthenticated) {
				t.Fatalf("refused without ErrUnauthenticated: %v", err)
			}
		} else {
			signedByKey(t, token)
			claimsHold(t, token, p)
		}
		// The caching verifier, which the gateway and the services use, accepts
		// nothing more.
		if pv, err := v.Verify(token); err == nil {
			signedByKey(t, token)
			claimsHold(t, token, pv)
		}
	})
}

// FuzzVerifyClaims: any header and claims, signed with the right key. The signature
// passes; the rest of verification must hold on its own.
func FuzzVerifyClaims(f *testing.F) {
	f.Add(edHeader, claimsNow(nil))
	f.Add(`{"alg":"EdDSA"}`, claimsNow(func(c map[string]any) { c["aud"] = identity.Audience }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["aud"] = []string{"other", identity.Audience} }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["iss"] = "keycloak" }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { delete(c, "exp") }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["exp"] = 1e300 }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["jti"] = "" }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["sub"] = "role:mayor" }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["sub"] = "maire\u202e1" }))
	f.Add(edHeader, claimsNow(func(c map[string]any) {
		c["grants"] = []map[string]string{{"role": "prefecture", "domain": "dep:30/com:30189"}}
	}))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["grants"] = []map[string]string{{"role": "king", "domain": "dep:30"}} }))
	f.Add(edHeader, claimsNow(func(c map[string]any) { c["grants"] = "mayor" }))
	f.Add(`{"alg":"none"}`, claimsNow(nil))
	f.Add(`{"alg":"EdDSA","crit":["exp"]}`, `{"iss":"vigie","ISS":"x","Sub":"a","aud":"vigie","exp":1e10,"iat":0,"jti":"j"}`)
	f.Add(`null`, `null`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		token := signed(fuzzKey, header, claims)
		p, err := identity.Verify(fuzzPub, token)
		if err != nil {
			if !errors.Is(err, identity.ErrUnauthenticated) {
				t.Fatalf("refused without ErrUnauthenticated: %v", err)
			}
			return
		}
		signedByKey(t, token)
		claimsHold(t, token, p)
		// The same claims under another key: never.
		if _, err := identity.Verify(fuzzPub, signed(otherKey, header, claims)); err == nil {
			t.Fatalf("accepted the claims signed by another key: %s", claims)
		}
	})
}
