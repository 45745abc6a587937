package graph_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"vigie/graph"
	"vigie/graph/auth"
	"vigie/graph/resolver"
	"vigie/policies"
	alertspb "vigie/services/alerts/alertspb"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
	"vigie/services/roles/rolespb"
)

// FuzzGraphQLInputConversion: what turns a GraphQL request into a service's command is
// gqlgen's reading of the variables (generated code) and the resolvers' conversion
// (graph/resolver: content, capSeverity, lower, cmdID, the optional fields). Whatever
// the variables, the gateway never panics nor answers 5xx, every answer is JSON, and a
// command that reaches a service carries exactly what the caller sent: each text
// unchanged, enums in the service's spelling, numbers and times the same. The services
// are replaced by a connection that records the request and refuses it, so no read
// model is touched; Redis is one that cannot be dialled (a read of a board fails, and
// the resolvers go on to the service, as with a board that lags).

const fuzzNimes = "dep:30/com:30189"

// The mutations fuzzed, each with its variables ($in, or the named ones, and $c the
// command id).
var fuzzOps = []struct{ name, query string }{
	{"reportIncident", `mutation($in: ReportIncidentInput!, $c: ID){ reportIncident(input:$in, commandId:$c){ id } }`},
	{"addLogEntry", `mutation($id: ID!, $t: String!, $c: ID){ addLogEntry(incidentId:$id, text:$t, commandId:$c){ id } }`},
	{"draftAlert", `mutation($in: DraftAlertInput!, $c: ID){ draftAlert(input:$in, commandId:$c){ id } }`},
	{"updateAlert", `mutation($id: ID!, $in: DraftAlertInput!, $c: ID){ updateAlert(id:$id, input:$in, commandId:$c){ id } }`},
	{"registerResource", `mutation($in: RegisterResourceInput!, $c: ID){ registerResource(input:$in, commandId:$c){ id } }`},
	{"requestReinforcement", `mutation($in: RequestReinforcementInput!, $c: ID){ requestReinforcement(input:$in, commandId:$c){ id } }`},
	{"registerResident", `mutation($in: RegisterResidentInput!, $c: ID){ registerResident(input:$in, commandId:$c){ id } }`},
	{"escalateIncident", `mutation($id: ID!, $t: String!, $c: ID){ escalateIncident(id:$id, reason:$t, commandId:$c){ id } }`},
	{"rejectAlert", `mutation($id: ID!, $t: String!, $c: ID){ rejectAlert(id:$id, reason:$t, commandId:$c){ id } }`},
}

// recorder is a gRPC connection that keeps the last request and refuses every call
// as invalid input.
type recorder struct {
	mu     sync.Mutex
	method string
	req    proto.Message
}

const refusal = "fuzz: recorded and refused"

func (r *recorder) Invoke(_ context.Context, method string, args, _ any, _ ...grpc.CallOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.req = method, proto.Clone(args.(proto.Message))
	return status.Error(codes.InvalidArgument, refusal)
}

func (r *recorder) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "fuzz: no streams")
}

func (r *recorder) take() (string, proto.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, req := r.method, r.req
	r.method, r.req = "", nil
	return m, req
}

// mayorOfNimes authenticates every bearer as Nîmes' mayor, with a development grant.
type mayorOfNimes struct{}

func (mayorOfNimes) Authenticate(context.Context, string) (auth.Caller, error) {
	return auth.Caller{
		Principal: policies.Principal{Subject: "fuzz-mayor", Grants: []policies.Grant{{Role: "mayor", Domain: fuzzNimes}}},
		Forward:   "fuzz-token",
	}, nil
}

// refusingRedis is a connection to a Redis that answers every command with an error:
// a read model that cannot be read, without a network nor a dial error logged at
// every request.
func refusingRedis(context.Context, string, string) (net.Conn, error) {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		r := bufio.NewReader(server)
		for {
			// A command is an array of bulk strings: *N, then N times $len and the bytes.
			line, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "*") {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			for range n {
				head, err := r.ReadString('\n')
				if err != nil || !strings.HasPrefix(head, "$") {
					return
				}
				size, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
				if _, err := r.Discard(size + 2); err != nil {
					return
				}
			}
			if _, err := io.WriteString(server, "-ERR fuzz: no read model\r\n"); err != nil {
				return
			}
		}
	}()
	return client, nil
}

func fuzzGateway(f testing.TB) (http.Handler, *recorder) {
	authz, err := policies.New()
	if err != nil {
		f.Fatal(err)
	}
	rec := &recorder{}
	noRedis := redis.NewClient(&redis.Options{Dialer: refusingRedis, MaxRetries: -1})
	f.Cleanup(func() { _ = noRedis.Close() })
	r := &resolver.Resolver{
		Redis: noRedis, Authz: authz,
		Incidents: incidentspb.NewIncidentsClient(rec), Roles: rolespb.NewRolesClient(rec),
		Resources: resourcespb.NewResourcesClient(rec), Reinforcements: resourcespb.NewReinforcementsClient(rec),
		Alerts: alertspb.NewAlertsClient(rec), Residents: alertspb.NewResidentsClient(rec),
		ConsistencyWait: time.Millisecond,
	}
	h, err := graph.New(graph.Config{Resolver: r, Auth: mayorOfNimes{}, RateLimit: 1e9, RateBurst: 1 << 30,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	return h, rec
}

// fuzzSeeds are variables for each of fuzzOps; the first of each reaches its service
// (TestFuzzSeedsReachTheServices keeps the fuzzer from starting where nothing does).
var fuzzSeeds = func() [][]string {
	report := `{"in":{"domain":"dep:30/com:30189","kind":"FLASH_FLOOD","title":"Le Vidourle déborde","description":"Pont fermé","severity":"SEVERE","location":{"lat":43.78,"lon":4.09}},"c":"cmd-1"}`
	alert := `{"in":{"domain":"dep:30/com:30189","event":"Crue","headline":"Crue du Vistre : montez","description":"Le Vistre déborde.","instruction":"Montez à l'étage.",` +
		`"severity":"SEVERE","urgency":"IMMEDIATE","certainty":"OBSERVED","category":"MET","areaDesc":"Nîmes sud","channels":["CAP_FEED","SMS"],` +
		`"polygon":[{"lat":43.8,"lon":4.3},{"lat":43.8,"lon":4.4},{"lat":43.86,"lon":4.4}],"exercise":true,"incidentId":"inc-1","language":"fr-FR",` +
		`"effective":"2026-09-14T04:30:00.25+02:00","expires":"2026-09-14 10:30:00"}}`
	return [][]string{
		{report, `{"in":{"domain":"dep:30/com:30189","kind":"FLOOD","title":"x","description":null},"c":12}`,
			`{"in":{"domain":"dep:30/com:30189","kind":"flood","title":"x"}}`, `{"in":{"domain":"dep:13/com:13047","kind":"FLOOD","title":"x"}}`},
		{`{"id":"inc-1","t":"Relevé à l'échelle : 2,10 m","c":""}`, `{"id":1e3,"t":"\u202e"}`, `{"id":null,"t":"x"}`},
		{alert, strings.Replace(alert, `"exercise":true`, `"exercise":null`, 1)},
		{`{"id":"al-1",` + alert[1:]},
		{`{"in":{"domain":"dep:30/com:30189","kind":"SHELTER","name":"Gymnase","capacity":120}}`, `{"in":{"domain":"dep:30/com:30189","kind":"TEAM","name":"É","capacity":-1}}`},
		{`{"in":{"domain":"dep:30/com:30189","incidentId":"inc-1","kind":"TEAM","quantity":2,"reason":"Digue fragilisée"}}`,
			`{"in":{"domain":"dep:30/com:30189","incidentId":7,"kind":"DRONE","quantity":2147483648}}`},
		{`{"in":{"domain":"dep:30/com:30189","phone":"+33612345678","email":"a@b.fr","language":"oc","location":{"lat":43.83,"lon":4.35},"channels":["SMS","EMAIL"]}}`},
		{`{"id":"inc-1","t":"Renforts nécessaires"}`},
		{`{"id":"al-1","t":"Précisez les rues"}`},
	}
}()

// post sends op with variables to the gateway h.
func post(h http.Handler, op int, variables string) *httptest.ResponseRecorder {
	body := `{"query":` + strconv.Quote(fuzzOps[op].query) + `,"variables":` + variables + `}`
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer fuzz")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestFuzzSeedsReachTheServices(t *testing.T) {
	h, rec := fuzzGateway(t)
	for op, seeds := range fuzzSeeds {
		w := post(h, op, seeds[0])
		if method, sent := rec.take(); sent == nil {
			t.Errorf("%s: the seed reached no service: HTTP %d %s", fuzzOps[op].name, w.Code, w.Body.String())
		} else {
			t.Logf("%s → %s", fuzzOps[op].name, method)
		}
	}
}

func FuzzGraphQLInputConversion(f *testing.F) {
	for op, seeds := range fuzzSeeds {
		for _, v := range seeds {
			f.Add(uint8(op), v)
		}
	}
	f.Add(uint8(0), `{"in":`)
	f.Add(uint8(0), `[]`)
	h, rec := fuzzGateway(f)
	f.Fuzz(func(t *testing.T, opIndex uint8, variables string) {
		i := int(opIndex) % len(fuzzOps)
		op := fuzzOps[i]
		w := post(h, i, variables)

		var answer struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string `json:"message"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("HTTP %d, the answer is not JSON: %q", w.Code, w.Body.String())
		}
		if w.Code >= 500 {
			t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
		}
		for _, e := range answer.Errors {
			if e.Extensions.Code == "" || e.Extensions.Code == resolver.CodeUnavailable {
				t.Fatalf("an error that is the gateway's own (a panic, a lost code): %s", w.Body.String())
			}
		}
		method, sent := rec.take()
		if sent == nil {
			return
		}
		if len(answer.Errors) != 1 || answer.Errors[0].Extensions.Code != resolver.CodeInvalidInput || answer.Errors[0].Message != refusal {
			t.Fatalf("the service's refusal is answered %s", w.Body.String())
		}
		if _, err := proto.Marshal(sent); err != nil {
			t.Fatalf("%s: the request would not go over the wire: %v", method, err)
		}
		var vars map[string]any
		dec := json.NewDecoder(strings.NewReader(variables))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			t.Fatalf("a request reached %s from variables that do not decode: %v", method, err)
		}
		sameAsSent(t, op.name, vars, sent)
	})
}

// sameAsSent checks the request a service received says what the variables said.
func sameAsSent(t *testing.T, op string, vars map[string]any, sent proto.Message) {
	t.Helper()
	in, _ := vars["in"].(map[string]any)
	check := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %s is %q, the caller sent %q", op, field, got, want)
		}
	}
	cmd := func(got string) {
		t.Helper()
		if want := text(vars["c"]); want != "" {
			check("commandId", got, want)
		} else if len(got) != 36 {
			t.Fatalf("%s: no command id given, and %q is no fresh one", op, got)
		}
	}
	switch r := sent.(type) {
	case *incidentspb.ReportRequest:
		cmd(r.CommandId)
		check("domain", r.Domain, text(in["domain"]))
		check("title", r.Title, text(in["title"]))
		check("description", r.Description, text(in["description"]))
		check("kind", r.Kind, strings.ToLower(text(in["kind"])))
		if s := text(in["severity"]); s != "" {
			check("severity", r.Severity, s[:1]+strings.ToLower(s[1:]))
		}
		samePoint(t, op+".location", r.Location.GetLat(), r.Location.GetLon(), r.Location != nil, in["location"])
	case *incidentspb.AddLogEntryRequest:
		cmd(r.CommandId)
		check("incidentId", r.IncidentId, text(vars["id"]))
		check("text", r.Text, text(vars["t"]))
	case *incidentspb.EscalateRequest:
		cmd(r.CommandId)
		check("id", r.IncidentId, text(vars["id"]))
		check("reason", r.Reason, text(vars["t"]))
	case *alertspb.ReasonRequest:
		cmd(r.CommandId)
		check("id", r.AlertId, text(vars["id"]))
		check("reason", r.Reason, text(vars["t"]))
	case *alertspb.DraftRequest:
		cmd(r.CommandId)
		check("domain", r.Domain, text(in["domain"]))
		check("incidentId", r.IncidentId, text(in["incidentId"]))
		if r.Exercise != (in["exercise"] == true) {
			t.Fatalf("%s: exercise %v, the caller sent %v", op, r.Exercise, in["exercise"])
		}
		sameContent(t, op, in, r.Content, r.Channels)
	case *alertspb.ReviseRequest:
		cmd(r.CommandId)
		check("id", r.AlertId, text(vars["id"]))
		sameContent(t, op, in, r.Content, r.Channels)
	case *resourcespb.RegisterRequest:
		cmd(r.CommandId)
		check("domain", r.Domain, text(in["domain"]))
		check("kind", r.Kind, strings.ToLower(text(in["kind"])))
		check("name", r.Name, text(in["name"]))
		check("capacity", strconv.Itoa(int(r.Capacity)), number(in["capacity"]))
	case *resourcespb.ReinforcementRequest:
		cmd(r.CommandId)
		check("domain", r.Domain, text(in["domain"]))
		check("incidentId", r.IncidentId, text(in["incidentId"]))
		check("kind", r.Kind, strings.ToLower(text(in["kind"])))
		check("quantity", strconv.Itoa(int(r.Quantity)), number(in["quantity"]))
		check("reason", r.Reason, text(in["reason"]))
	case *alertspb.RegisterResidentRequest:
		cmd(r.CommandId)
		check("domain", r.Domain, text(in["domain"]))
		check("phone", r.Phone, text(in["phone"]))
		check("email", r.Email, text(in["email"]))
		check("language", r.Language, text(in["language"]))
		check("channels", strings.Join(r.Channels, ","), texts(in["channels"]))
		if r.Consent != (in["consent"] == nil || in["consent"] == true) || r.Exercises != (in["exercises"] == true) {
			t.Fatalf("%s: consent %v, exercises %v; the caller sent %v, %v", op, r.Consent, r.Exercises, in["consent"], in["exercises"])
		}
		samePoint(t, op+".location", r.Location.GetLat(), r.Location.GetLon(), r.Location != nil, in["location"])
	default:
		t.Fatalf("%s: unexpected request %T", op, sent)
	}
}

func sameContent(t *testing.T, op string, in map[string]any, c *alertspb.Content, channels []string) {
	t.Helper()
	for _, f := range []struct{ name, got string }{
		{"event", c.Event}, {"headline", c.Headline}, {"description", c.Description}, {"instruction", c.Instruction},
		{"severity", c.Severity}, {"urgency", c.Urgency}, {"certainty", c.Certainty}, {"category", c.Category},
		{"areaDesc", c.AreaDesc}, {"language", c.Language},
	} {
		if want := text(in[f.name]); f.got != want {
			t.Fatalf("%s: %s is %q, the caller sent %q", op, f.name, f.got, want)
		}
	}
	if got, want := strings.Join(channels, ","), texts(in["channels"]); got != want {
		t.Fatalf("%s: channels %q, the caller sent %q", op, got, want)
	}
	for _, d := range []struct{ name, got string }{{"effective", c.Effective}, {"expires", c.Expires}} {
		want := ""
		if v, ok := in[d.name].(string); ok && v != "" {
			tm, err := graphql.UnmarshalTime(v)
			if err != nil {
				t.Fatalf("%s: %s %q reached the service though it is no time", op, d.name, v)
			}
			want = tm.Format(time.RFC3339)
		}
		if d.got != want {
			t.Fatalf("%s: %s is %q, the caller sent %v", op, d.name, d.got, in[d.name])
		}
	}
	poly, _ := in["polygon"].([]any)
	if len(c.Polygon) != len(poly) {
		t.Fatalf("%s: %d points, the caller sent %d", op, len(c.Polygon), len(poly))
	}
	for i, p := range c.Polygon {
		samePoint(t, op+".polygon["+strconv.Itoa(i)+"]", p.Lat, p.Lon, true, poly[i])
	}
}

func samePoint(t *testing.T, where string, lat, lon float64, sent bool, v any) {
	t.Helper()
	p, _ := v.(map[string]any)
	if sent != (p != nil) {
		t.Fatalf("%s: a point sent %v, the caller's %v", where, sent, v)
	}
	if p == nil {
		return
	}
	wantLat, err1 := p["lat"].(json.Number).Float64()
	wantLon, err2 := p["lon"].(json.Number).Float64()
	if err1 != nil || err2 != nil || lat != wantLat || lon != wantLon {
		t.Fatalf("%s: (%v, %v), the caller sent %v", where, lat, lon, v)
	}
}

// text is a variable's string as GraphQL reads it: a string, or for an ID a number's
// digits; "" when absent or null.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// number is an Int variable written as the service's int32 is: "0" when absent.
func number(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return "0"
	}
	if i, err := strconv.Atoi(n.String()); err == nil {
		return strconv.Itoa(i) // -0 is 0
	}
	return n.String()
}

func texts(v any) string {
	list, _ := v.([]any)
	var out []string
	for _, s := range list {
		out = append(out, text(s))
	}
	return strings.Join(out, ",")
}
