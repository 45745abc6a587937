package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"vigie/graph"
	"vigie/graph/auth"
	"vigie/graph/gatewaytest"
	"vigie/services/roles/rolespb"
)

// oidcClientID is the audience the gateway's ID tokens must carry.
const oidcClientID = "vigie-dashboard"

// oidcProvider is the smallest OpenID Connect provider the gateway can use: discovery
// and a JWKS of one RSA key, whose ID tokens the test signs itself (RS256).
type oidcProvider struct {
	URL string
	key *rsa.PrivateKey
	kid string
}

func startOIDCProvider(t *testing.T) *oidcProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{key: key, kid: "vigie-test-key-1"}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.URL,
			"authorization_endpoint":                p.URL + "/authorize",
			"token_endpoint":                        p.URL + "/token",
			"jwks_uri":                              p.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.RS256), Use: "sig",
		}}})
	})
	return p
}

// idToken is an ID token with the given claims, signed RS256 with key under the
// provider's key id (a token signed by another key claims to be the provider's).
func (p *oidcProvider) idToken(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claims are the claims of a valid ID token for sub, changed by edit.
func (p *oidcProvider) claims(sub string, edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": p.URL, "aud": oidcClientID, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// lateAuth is the gateway's authenticator, set once the stack runs: the OIDC
// authenticator needs the identity key gatewaytest creates in Start, and
// gatewaytest.WithConfig changes the configuration before Start returns it. Until
// it is set, nobody is authenticated.
type lateAuth struct{ a atomic.Pointer[auth.OIDC] }

func (l *lateAuth) Authenticate(ctx context.Context, token string) (auth.Caller, error) {
	a := l.a.Load()
	if a == nil {
		return auth.Caller{}, auth.ErrUnauthenticated
	}
	return a.Authenticate(ctx, token)
}

// In production the gateway takes identities from an OpenID Connect provider, and
// nothing else: the provider's ID tokens say who the caller is, never what they may
// do. Roles are the grants recorded in the log, and the services, which cannot verify
// the provider's tokens, receive one the gateway mints with the identity key.
func TestOIDCIdentitiesComeFromTheProviderAndRolesFromTheLog(t *testing.T) {
	provider := startOIDCProvider(t)
	late := &lateAuth{}
	env := gatewaytest.Start(t, gatewaytest.WithDev(false), gatewaytest.WithConfig(func(c *graph.Config) { c.Auth = late }))
	oidcAuth, err := auth.NewOIDC(t.Context(), provider.URL, oidcClientID, env.Key)
	if err != nil {
		t.Fatal(err)
	}
	late.a.Store(oidcAuth)

	const subject = "oidc-user-1"
	user := provider.idToken(t, provider.key, provider.claims(subject, nil))
	// The same user's token claiming grants of Vigie's own format: a provider's
	// claims are identity only, whatever they say.
	claiming := provider.idToken(t, provider.key, provider.claims(subject, func(c map[string]any) {
		c["grants"] = []map[string]string{{"role": "mayor", "domain": nimes}}
	}))

	const incidentsQuery = `query($d:String!){ incidents(domain:$d){ id } }`
	const meQuery = `{ me { subject roles { role domain } } }`
	const report = `mutation($d:String!, $t:String!){ reportIncident(input:{domain:$d, kind:FLOOD, title:$t, severity:MODERATE}){ id domain title } }`
	type actor struct {
		Me struct {
			Subject string
			Roles   []struct{ Role, Domain string }
		}
	}

	// Authenticated, but granted nothing.
	for name, tok := range map[string]string{"an ID token": user, "an ID token claiming grants": claiming} {
		if r := env.Do(t, tok, incidentsQuery, map[string]any{"d": nimes}); r.Code() != "FORBIDDEN" {
			t.Errorf("incidents with %s and no grant in the log: want FORBIDDEN, got %s", name, r)
		}
		var me actor
		must(t, env.Do(t, tok, meQuery, nil)).Decode(t, &me)
		if me.Me.Subject != subject || len(me.Me.Roles) != 0 {
			t.Errorf("me with %s and no grant in the log: want %s without roles, got %+v", name, subject, me.Me)
		}
		head := env.Head()
		if r := env.Do(t, tok, report, map[string]any{"d": nimes, "t": "Crue du Vistre"}); r.Code() != "FORBIDDEN" {
			t.Errorf("reportIncident with %s and no grant in the log: want FORBIDDEN, got %s", name, r)
		}
		if env.Head() != head {
			t.Errorf("a refused reportIncident with %s appended to the log", name)
		}
	}

	// An admin grants the subject rac on Nîmes. The gateway now takes OIDC tokens only
	// (the admin's development token is refused there, as below), so the grant goes
	// straight to the roles service, as grantRole would send it: the same command,
	// authorized by the service from the admin's identity token, recorded in the log
	// as any grant is.
	admin := env.Token("oidc-test-admin", "admin", nimes)
	if r := env.Do(t, admin, meQuery, nil); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("a development token at a gateway of OIDC identities: want UNAUTHENTICATED, got %s", r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := env.Roles.Grant(gatewaytest.As(ctx, admin), &rolespb.RoleRequest{
		CommandId: uniq("oidc-grant"), Subject: subject, Role: "rac", Domain: nimes,
	}); err != nil {
		t.Fatalf("granting rac on %s to %s: %v", nimes, subject, err)
	}
	// The policies follow the log: the grant shows once they have read it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var me actor
		must(t, env.Do(t, user, meQuery, nil)).Decode(t, &me)
		if slices.Contains(me.Me.Roles, struct{ Role, Domain string }{"rac", nimes}) && len(me.Me.Roles) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("me after the grant: want rac on %s only, got %+v", nimes, me.Me)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The same ID token now acts: the services got the gateway's internal token for
	// the subject and authorized it with the log's grant.
	title := uniq("Crue du Vistre")
	var reported struct {
		ReportIncident struct{ ID, Domain, Title string }
	}
	must(t, env.Do(t, user, report, map[string]any{"d": nimes, "t": title})).Decode(t, &reported)
	if reported.ReportIncident.ID == "" || reported.ReportIncident.Domain != nimes || reported.ReportIncident.Title != title {
		t.Errorf("reportIncident after the grant: %+v", reported.ReportIncident)
	}
	var listed struct{ Incidents []struct{ ID string } }
	must(t, env.Do(t, user, incidentsQuery, map[string]any{"d": nimes})).Decode(t, &listed)
	if !slices.Contains(listed.Incidents, struct{ ID string }{reported.ReportIncident.ID}) {
		t.Errorf("incidents of %s after the report: %+v lacks %s", nimes, listed.Incidents, reported.ReportIncident.ID)
	}
	// The log records the provider's subject as the actor, and the grant outside
	// Nîmes is still no grant.
	var tl struct {
		Timeline []struct{ Actor, Type, StreamID string }
	}
	must(t, env.Do(t, user, `query($d:String!){ timeline(domain:$d){ actor type streamId } }`, map[string]any{"d": nimes})).Decode(t, &tl)
	found := false
	for _, e := range tl.Timeline {
		if e.Actor == subject && e.Type == "IncidentReported" {
			found = true
		}
	}
	if !found {
		t.Errorf("timeline of %s: no IncidentReported by %s in %+v", nimes, subject, tl.Timeline)
	}
	if r := env.Do(t, user, report, map[string]any{"d": ales, "t": "Crue du Gardon"}); r.Code() != "FORBIDDEN" {
		t.Errorf("reportIncident in %s with rac on %s only: want FORBIDDEN, got %s", ales, nimes, r)
	}

	// Tokens the provider did not issue as they stand: none authenticates, whatever
	// the caller was granted.
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	noneHeader, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	noneClaims, _ := json.Marshal(provider.claims(subject, nil))
	refused := map[string]string{
		"a token for another audience": provider.idToken(t, provider.key, provider.claims(subject, func(c map[string]any) { c["aud"] = "another-client" })),
		"an expired token": provider.idToken(t, provider.key, provider.claims(subject, func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		})),
		"a token signed by another key":             provider.idToken(t, otherKey, provider.claims(subject, nil)),
		"a token with alg none":                     enc.EncodeToString(noneHeader) + "." + enc.EncodeToString(noneClaims) + ".",
		"a token of another issuer":                 provider.idToken(t, provider.key, provider.claims(subject, func(c map[string]any) { c["iss"] = "https://issuer.invalid" })),
		"the identity key's own token":              env.Token(subject, "rac", nimes),
		"a token without subject":                   provider.idToken(t, provider.key, provider.claims("", nil)),
		"a token whose signature was tampered with": user[:len(user)-8] + "AAAAAAAA",
	}
	for how, tok := range refused {
		head := env.Head()
		for what, q := range map[string]struct {
			query string
			vars  map[string]any
		}{
			"me":             {meQuery, nil},
			"incidents":      {incidentsQuery, map[string]any{"d": nimes}},
			"reportIncident": {report, map[string]any{"d": nimes, "t": "Crue du Vistre"}},
		} {
			if r := env.Do(t, tok, q.query, q.vars); r.Code() != "UNAUTHENTICATED" || string(r.Data) != "null" {
				t.Errorf("%s with %s: want UNAUTHENTICATED, got %s", what, how, r)
			}
		}
		if env.Head() != head {
			t.Errorf("%s appended to the log", how)
		}
	}
}
