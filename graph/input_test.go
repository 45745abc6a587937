package graph_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"vigie/graph/gatewaytest"
	"vigie/policies"
)

// A report whose input the cases below spoil one way or another.
const reportMutation = `mutation($in: ReportIncidentInput!){ reportIncident(input:$in){ id } }`

func reportInput(changes map[string]any) map[string]any {
	in := map[string]any{"domain": nimes, "kind": "FLASH_FLOOD", "title": "Le Vidourle déborde à Sommières"}
	for k, v := range changes {
		if v == nil {
			delete(in, k)
		} else {
			in[k] = v
		}
	}
	return map[string]any{"in": in}
}

// aliased repeats a selection n times under distinct aliases.
func aliased(n int, selection string) string {
	var b strings.Builder
	b.WriteString("query {")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, selection)
	}
	b.WriteString(" }")
	return b.String()
}

// fragmentBomb is a few lines whose fragments each spread the previous one twice:
// 2^n fields once spread out.
func fragmentBomb(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query { ...F%d }\nfragment F0 on Query { me { subject } }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

// nested is a __type query whose ofType selections nest n deep.
func nested(n int) string {
	return `{ __type(name:"Incident") { name ` + strings.Repeat("ofType { name ", n) + strings.Repeat("} ", n) + "} }"
}

func TestBadInputGetsAClearCodedErrorAndAppendsNothing(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	token := env.Token("input-mayor", "mayor", nimes)
	post := func(contentType, body string) func() gatewaytest.Response {
		return func() gatewaytest.Response { return env.Post(t, token, contentType, []byte(body)) }
	}
	do := func(query string, vars map[string]any) func() gatewaytest.Response {
		return func() gatewaytest.Response { return env.Do(t, token, query, vars) }
	}
	big := `{"query":"mutation { reportIncident(input:{domain:\"dep:30/com:30189\", kind:FLOOD, title:\"` + strings.Repeat("x", 300<<10) + `\"}){ id } }"}`

	cases := []struct {
		name   string
		send   func() gatewaytest.Response
		status int    // the HTTP status, when it says something
		code   string // extensions.code
		reason string // extensions.reason, for the refusals of GraphQL itself
		says   string // in the message
	}{
		{name: "a body that is not JSON", send: post("application/json", `{"query": "mutation { reportIncident(input:{domain:`),
			status: 400, code: "INVALID_INPUT", says: "json"},
		{name: "a JSON body that is not an object", send: post("application/json", `["{ me { subject } }"]`), status: 400, code: "INVALID_INPUT"},
		{name: "an empty body", send: post("application/json", ``), status: 400, code: "INVALID_INPUT"},
		{name: "variables that are not an object", send: post("application/json", `{"query":"{ me { subject } }","variables":[1]}`), status: 400, code: "INVALID_INPUT"},
		{name: "no Content-Type", send: post("", `{"query":"{ me { subject } }"}`), status: 415, code: "INVALID_INPUT", says: "application/json"},
		{name: "a Content-Type other than JSON", send: post("text/plain", `{"query":"{ me { subject } }"}`), status: 415, code: "INVALID_INPUT", says: "application/json"},
		{name: "a form", send: post("application/x-www-form-urlencoded", `query=%7B+me+%7B+subject+%7D+%7D`), status: 415, code: "INVALID_INPUT"},
		{name: "a method GraphQL does not use", send: func() gatewaytest.Response {
			req, _ := http.NewRequest(http.MethodPut, env.URL+"/graphql", strings.NewReader(`{"query":"{ me { subject } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			return env.Send(t, req)
		}, status: 405, code: "INVALID_INPUT"},
		{name: "a body over 256 KiB", send: post("application/json", big), status: 413, code: "INVALID_INPUT", says: "too large"},
		{name: "a body over 256 KiB sent without a length", send: func() gatewaytest.Response {
			// io.MultiReader hides the length: the request goes chunked, and only the
			// reader's limit can stop it.
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/graphql", io.MultiReader(strings.NewReader(big)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			return env.Send(t, req)
		}, code: "INVALID_INPUT", says: "too large"},
		{name: "a syntax error", send: do(`mutation { reportIncident(input:{domain:"dep:30/com:30189" kind:FLOOD title:"x"}) { id }`, nil),
			code: "INVALID_INPUT", reason: "GRAPHQL_PARSE_FAILED"},
		{name: "an unknown field in an input object", send: do(`mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:FLOOD, title:"x", color:"red"}){ id } }`, nil),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "color"},
		{name: "an unknown field in an input variable", send: do(reportMutation, reportInput(map[string]any{"color": "red"})),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "unknown field"},
		{name: "an unknown enum value", send: do(`mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:VOLCANO, title:"x"}){ id } }`, nil),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "VOLCANO"},
		{name: "an unknown enum value in a variable", send: do(reportMutation, reportInput(map[string]any{"kind": "VOLCANO"})),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "VOLCANO"},
		// The validator compares enum values of variables regardless of case; gqlgen
		// then fails to read them, which once answered UNAVAILABLE ("retry later").
		{name: "an enum value spelled as the events spell it", send: do(reportMutation, reportInput(map[string]any{"kind": "flash_flood"})),
			code: "INVALID_INPUT", says: "not a valid IncidentKind"},
		{name: "a time that is not RFC 3339", send: do(`{ timeline(domain:"dep:30/com:30189", from:"hier soir"){ type } }`, nil),
			code: "INVALID_INPUT", says: "RFC3339"},
		{name: "a time variable that is not RFC 3339", send: do(`query($f:Time){ timeline(domain:"dep:30/com:30189", from:$f){ type } }`, map[string]any{"f": "27/11/2026"}),
			code: "INVALID_INPUT", says: "RFC3339"},
		{name: "a missing required argument", send: do(`{ incidents { id } }`, nil),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "domain"},
		{name: "a missing required input field", send: do(reportMutation, reportInput(map[string]any{"title": nil})),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED", says: "must be defined"},
		{name: "null for a required variable", send: do(`query($d:String!){ incidents(domain:$d){ id } }`, map[string]any{"d": nil}),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED"},
		{name: "a variable of the wrong type", send: do(`mutation($n:Int!){ setShelterOccupancy(resourceId:"r", occupancy:$n){ id } }`, map[string]any{"n": "five"}),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED"},
		{name: "an Int beyond 32 bits", send: do(`mutation { setShelterOccupancy(resourceId:"r", occupancy:99999999999){ id } }`, nil),
			code: "INVALID_INPUT"},
		{name: "an unknown operation name", send: post("application/json", `{"query":"query A { me { subject } }","operationName":"B"}`),
			code: "INVALID_INPUT", reason: "GRAPHQL_VALIDATION_FAILED"},
		{name: "a domain that is none", send: do(`{ incidents(domain:"Nîmes"){ id } }`, nil), code: "INVALID_INPUT", says: "dep:30"},
		{name: "a commune put under another département", send: do(`{ incidents(domain:"dep:30/com:13047"){ id } }`, nil), code: "INVALID_INPUT"},
		{name: "a report on a département", send: do(reportMutation, reportInput(map[string]any{"domain": "dep:30/*"})), code: "FORBIDDEN"},
		{name: "a title far over its bound", send: do(reportMutation, reportInput(map[string]any{"title": strings.Repeat("é", 100_000)})),
			code: "INVALID_INPUT", says: "title"},
		{name: "a negative quantity", send: do(`mutation { requestReinforcement(input:{domain:"dep:30/com:30189", incidentId:"i", kind:TEAM, quantity:-1}){ id } }`, nil),
			code: "INVALID_INPUT", says: "quantité"},
		{name: "a query nested too deeply", send: do(nested(20), nil), code: "INVALID_INPUT", says: "trop imbriquée"},
		{name: "a very expensive query",
			send: do(aliased(200, `incidents(domain:"dep:30"){ id log { at author text } resources { id name status } }`), nil),
			code: "INVALID_INPUT", reason: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "thousands of aliases", send: do(aliased(3000, `me { subject }`), nil), code: "INVALID_INPUT", reason: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "fragments that spread each other twice, forty deep", send: do(fragmentBomb(40), nil),
			code: "INVALID_INPUT", reason: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "a parser bomb of nested fragments", send: do("{"+strings.Repeat("...on Query{", 15000)+"me{subject}"+strings.Repeat("}", 15001), nil),
			code: "INVALID_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := env.Head()
			r := c.send()
			if r.Code() != c.code {
				t.Fatalf("want %s, got %s", c.code, r)
			}
			if len(r.Errors) == 0 || r.Message() == "" {
				t.Fatalf("want an error that says why, got %s", r)
			}
			if c.status != 0 && r.Status != c.status {
				t.Errorf("HTTP status %d, want %d", r.Status, c.status)
			}
			if c.reason != "" && r.Errors[0].Extensions.Reason != c.reason {
				t.Errorf("reason %q, want %q: %s", r.Errors[0].Extensions.Reason, c.reason, r)
			}
			if !strings.Contains(strings.ToLower(r.Message()), strings.ToLower(c.says)) {
				t.Errorf("the message should say %q: %q", c.says, r.Message())
			}
			if len(r.Raw) > 4096 {
				t.Errorf("the answer is %d bytes: a refusal must not quote the request back", len(r.Raw))
			}
			if after := env.Head(); after != head {
				t.Errorf("the log moved from %d to %d", head, after)
			}
		})
	}
}

func TestAHugeListIsAnsweredAtTheCostOfAShortOne(t *testing.T) {
	env := gatewaytest.Start(t)
	token := env.Token("list-mayor", "mayor", nimes)
	fx := newFixtures(t, env)
	id := fx.get("incident.fresh", nimes)
	// ~225 KiB: 25 000 times one status. The gateway reads each status's index once.
	statuses := strings.Repeat("REPORTED, ", 25_000)
	r := must(t, env.Do(t, token, `{ incidents(domain:"dep:30/com:30189", status:[`+statuses+`]){ id } }`, nil))
	var got []struct{ ID string }
	if err := json.Unmarshal(field(t, r, "incidents"), &got); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("want the one reported incident once, got %s", r)
	}
}

func TestCallersWithoutAValidTokenAreUnauthenticated(t *testing.T) {
	env := gatewaytest.Start(t)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	grant := policies.Grant{Role: "mayor", Domain: nimes}
	valid := env.Token("m", "mayor", nimes)
	parts := strings.Split(valid, ".")
	// Claims a caller would like to have, under the signature of their real ones.
	forged, _ := json.Marshal(map[string]any{"iss": "vigie", "aud": []string{"vigie"}, "sub": "m", "jti": "j",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "grants": []policies.Grant{{Role: "prefecture", Domain: gard}}})
	claims := base64.RawURLEncoding.EncodeToString(forged)
	cases := map[string]string{ // how the request authenticates → Authorization header
		"no token":                          "",
		"another scheme":                    "Basic bWFpcmU6bmltZXM=",
		"a bearer with nothing":             "Bearer ",
		"a token that is no JWT":            "Bearer not-a-token",
		"an expired token":                  "Bearer " + env.ExpiredToken("m", "mayor", nimes),
		"a token signed by another key":     "Bearer " + gatewaytest.SignedToken(otherKey, "m", time.Now(), time.Now().Add(time.Hour), grant),
		"a token signed with none":          "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + claims + ".",
		"a valid signature on other claims": "Bearer " + parts[0] + "." + claims + "." + parts[2],
	}
	queries := map[string]string{
		"a mutation":       `mutation { reportIncident(input:{domain:"dep:30/com:30189", kind:FLOOD, title:"x"}){ id } }`,
		"a query":          `{ me { subject } }`,
		"an invalid query": `{ incidentz }`, // refused before validation: nothing learnt of the schema
	}
	for how, authz := range cases {
		for what, q := range queries {
			head := env.Head()
			body, _ := json.Marshal(map[string]string{"query": q})
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			r := env.Send(t, req)
			if r.Code() != "UNAUTHENTICATED" || string(r.Data) != "null" || len(r.Errors) != 1 {
				t.Errorf("%s with %s: want UNAUTHENTICATED and nothing else, got %s", what, how, r)
			}
			if strings.Contains(r.Message(), "incidents") {
				t.Errorf("%s with %s: the refusal tells of the schema: %s", what, how, r.Message())
			}
			if env.Head() != head {
				t.Errorf("%s with %s appended to the log", what, how)
			}
		}
	}
	// GET is refused the same way.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/graphql?"+url.Values{"query": {"{ me { subject } }"}}.Encode(), nil)
	if r := env.Send(t, req); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("GET without a token: %s", r)
	}
	req.Header.Set("Authorization", "Bearer "+valid)
	if r := env.Send(t, req); len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"m"`) {
		t.Errorf("GET with a token: %s", r)
	}
}

func TestTheRateLimitIsPerCaller(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(0.1, 5))
	busy := env.Token("busy-operator", "operator", nimes)
	calm := env.Token("calm-operator", "operator", nimes)
	for i := range 5 {
		if r := env.Do(t, busy, `{ me { subject } }`, nil); len(r.Errors) != 0 {
			t.Fatalf("request %d of the burst: %s", i+1, r)
		}
	}
	head := env.Head()
	r := env.Do(t, busy, reportMutation, reportInput(nil))
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("past the burst: want RATE_LIMITED, got %s", r)
	}
	// Invalid requests count too: a client in a loop of bad queries is slowed as well.
	if r := env.Do(t, busy, `{ incidentz }`, nil); r.Code() != "RATE_LIMITED" {
		t.Errorf("an invalid query past the burst: want RATE_LIMITED, got %s", r)
	}
	if env.Head() != head {
		t.Error("a rate-limited mutation appended to the log")
	}
	if r := env.Do(t, calm, reportMutation, reportInput(nil)); len(r.Errors) != 0 {
		t.Errorf("another caller must still be served: %s", r)
	}
}

func TestIntrospectionIsOffUnlessInDevelopment(t *testing.T) {
	prod := gatewaytest.Start(t, gatewaytest.WithDev(false))
	token := prod.Token("obs", "observer", nimes)
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name:"Incident") { fields { name } } }`,
		`query { ...Peek } fragment Peek on Query { ... on Query { __schema { types { name } } } }`,
		introspectionQuery,
	} {
		if r := prod.Do(t, token, q, nil); r.Code() != "FORBIDDEN" || !strings.Contains(r.Message(), "introspection") {
			t.Errorf("production, %.40q: want FORBIDDEN (introspection), got %s", q, r)
		}
	}
	if r := prod.Do(t, token, `{ __typename me { __typename subject } }`, nil); len(r.Errors) != 0 {
		t.Errorf("__typename is no introspection: %s", r)
	}

	dev := gatewaytest.Start(t, gatewaytest.WithDev(true))
	// The query GraphiQL and graphql-js send, within every limit of the gateway.
	r := must(t, dev.Do(t, dev.Token("obs", "observer", nimes), introspectionQuery, nil))
	var schema struct {
		Schema struct {
			QueryType struct{ Name string }
			Types     []struct{ Name string }
		} `json:"__schema"`
	}
	r.Decode(t, &schema)
	if schema.Schema.QueryType.Name != "Query" || len(schema.Schema.Types) < 30 {
		t.Errorf("development: the schema should be described: %.300s", r.Raw)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	env := gatewaytest.Start(t)
	token := env.Token("apq-mayor", "mayor", nimes)
	query := `query Board($d: String!) { incidents(domain: $d) { id title } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	send := func(body map[string]any) gatewaytest.Response {
		b, _ := json.Marshal(body)
		return env.Post(t, token, "application/json", b)
	}
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	vars := map[string]any{"d": nimes}

	if r := send(map[string]any{"extensions": ext, "variables": vars}); r.Code() != "INVALID_INPUT" || r.Errors[0].Extensions.Reason != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("an unknown hash: want INVALID_INPUT (PERSISTED_QUERY_NOT_FOUND), the client's cue to send the query: got %s", r)
	}
	if r := send(map[string]any{"query": `{ me { subject } }`, "extensions": ext}); r.Code() != "INVALID_INPUT" {
		t.Fatalf("a query that is not the hash's: want INVALID_INPUT, got %s", r)
	}
	fx := newFixtures(t, env)
	id := fx.get("incident.fresh", nimes)
	full := must(t, send(map[string]any{"query": query, "extensions": ext, "variables": vars}))
	byHash := must(t, send(map[string]any{"extensions": ext, "variables": vars}))
	if string(full.Data) != string(byHash.Data) || !strings.Contains(string(byHash.Data), id) {
		t.Errorf("the hash alone must answer as the query: %s then %s", full, byHash)
	}
}

// introspectionQuery is graphql-js's getIntrospectionQuery(), what GraphiQL sends.
const introspectionQuery = `
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
`
