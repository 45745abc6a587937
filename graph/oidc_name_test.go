package graph_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"vigie/graph/auth"
	"vigie/identity"
)

// The provider's "name" claim is the caller's display name, for the services too
// (in the token the gateway mints for them); a name the provider was wrong to give
// costs the caller their name, not their login.
func TestOIDCNameClaimIsTheCallersDisplayName(t *testing.T) {
	ctx := context.Background()
	provider := startOIDCProvider(t)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.NewOIDC(ctx, provider.URL, oidcClientID, key)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Marie Durand":           "Marie Durand",
		"":                       "",
		strings.Repeat("é", 200): "",
		"Marie\u202eDurand":      "",
		"Marie\x00Durand":        "",
	} {
		c, err := a.Authenticate(ctx, provider.idToken(t, provider.key, provider.claims("oidc-sub-1", func(c map[string]any) { c["name"] = name })))
		if err != nil {
			t.Errorf("name %q: %v", name, err)
			continue
		}
		if c.Principal.Subject != "oidc-sub-1" || c.Principal.Name != want {
			t.Errorf("name %q: caller %+v, want name %q", name, c.Principal, want)
		}
		fwd, err := identity.Verify(pub, c.Forward)
		if err != nil || fwd.Name != want {
			t.Errorf("name %q: the services see %+v, %v", name, fwd, err)
		}
	}
}
