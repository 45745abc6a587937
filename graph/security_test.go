package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"vigie/graph/gatewaytest"
)

// Issue 14, points 4, 5 and 8, tried as an attacker would: over HTTP and websocket,
// with nothing but tokens.

// answer is a GraphQL answer over HTTP with what these tests look at: the status, the
// headers, the errors' paths and locations.
type answer struct {
	status int
	header http.Header
	raw    []byte
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message   string `json:"message"`
		Path      []any  `json:"path"`
		Locations []struct {
			Line   int `json:"line"`
			Column int `json:"column"`
		} `json:"locations"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (a answer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

func (a answer) String() string { return fmt.Sprintf("HTTP %d %.600s", a.status, a.raw) }

// send sends req with token and reads the answer; an error is returned, not fatal, so
// that goroutines may call it.
func send(hc *http.Client, req *http.Request, token string) (answer, error) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") {
		if err := json.Unmarshal(raw, &a); err != nil {
			return a, fmt.Errorf("HTTP %d, not JSON: %v: %.300s", resp.StatusCode, err, raw)
		}
	}
	return a, nil
}

// postQuery posts a GraphQL operation as JSON.
func postQuery(hc *http.Client, base, token, query string, vars map[string]any) (answer, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return send(hc, req, token)
}

// Point 4: the FORBIDDEN and NOT_FOUND errors were shared values that gqlgen wrote the
// path and locations of the first caller into; every later caller got them (another
// user's aliases), and the writes raced. A thousand callers at once, each with fields
// of its own aliases at a column of its own: every error must name its own field. Run
// with -race: the race detector fails the test on any shared write.
func TestEveryRefusalCarriesItsOwnPathAndLocations(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	fx := newFixtures(t, env)
	alesIncident := fx.get("incident.base", ales) // Nîmes may not see it: NOT_FOUND, as an unknown id
	mayor := env.Token("race-mayor", "mayor", nimes)
	// Many connections at once, but bounded: file descriptors are not.
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 128, MaxIdleConnsPerHost: 128}}
	defer hc.CloseIdleConnections()

	type want struct {
		alias, code, message string
		column               int
	}
	const n = 1000
	var wg sync.WaitGroup
	var bad atomic.Int64
	report := func(format string, args ...any) {
		if bad.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	for i := range n {
		wg.Go(func() {
			pad := strings.Repeat(" ", i%37)
			var query string
			var vars map[string]any
			var wants []want
			if i%2 == 0 {
				// Two refusals in one answer, of two places Nîmes may not read.
				a, b := fmt.Sprintf("board%d", i), fmt.Sprintf("stock%d", i)
				query = "query {" + pad + a + `: incidents(domain: "` + ales + `") { id } ` + b + `: resources(domain: "` + istres + `") { id } }`
				colA := len("query {"+pad) + 1
				colB := colA + len(a+`: incidents(domain: "`+ales+`") { id } `)
				wants = []want{{a, "FORBIDDEN", "action non autorisée pour votre rôle sur ce territoire", colA}, {b, "FORBIDDEN", "action non autorisée pour votre rôle sur ce territoire", colB}}
			} else {
				a := fmt.Sprintf("qualify%d", i)
				query = "mutation($id: ID!) {" + pad + a + ": qualifyIncident(id: $id, kind: FLOOD, severity: SEVERE) { id } }"
				vars = map[string]any{"id": alesIncident}
				wants = []want{{a, "NOT_FOUND", "introuvable (ou hors de votre territoire)", len("mutation($id: ID!) {"+pad) + 1}}
			}
			ans, err := postQuery(hc, env.URL, mayor, query, vars)
			if err != nil {
				report("request %d: %v", i, err)
				return
			}
			if len(ans.Errors) != len(wants) {
				report("request %d: want %d errors, got %s", i, len(wants), ans)
				return
			}
			for _, w := range wants {
				found := false
				for _, e := range ans.Errors {
					if !reflect.DeepEqual(e.Path, []any{w.alias}) {
						continue
					}
					found = true
					if e.Extensions["code"] != w.code || e.Message != w.message {
						report("request %d, %s: want %s %q, got %v %q", i, w.alias, w.code, w.message, e.Extensions["code"], e.Message)
					}
					if len(e.Locations) != 1 || e.Locations[0].Line != 1 || e.Locations[0].Column != w.column {
						report("request %d, %s: want the location 1:%d, got %+v", i, w.alias, w.column, e.Locations)
					}
				}
				if !found {
					report("request %d: no error has the path [%s]: another caller's path leaked: %s", i, w.alias, ans)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 10 {
		t.Errorf("… %d failures in all", bad.Load())
	}
}

// replayAliases is one query of n replays, each at an instant of its own (no cache
// could serve one for another).
func replayAliases(n int) string {
	var b strings.Builder
	b.WriteString("query($d: String!) {")
	base := time.Now().Add(-time.Hour).UTC()
	for i := range n {
		fmt.Fprintf(&b, " r%d: replay(domain: $d, at: %q) { events }", i, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	b.WriteString(" }")
	return b.String()
}

// Point 5: a replay reads the whole log, and cost 2 of the complexity budget: one
// request of 450 aliased replays ran 450 reads of the log. It is refused whole, before
// any runs, with INVALID_INPUT (reason TOO_COSTLY) and words saying why.
func TestManyReplaysInOneRequestAreRefusedBeforeRunning(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	mayor := env.Token("replay-mayor", "mayor", nimes)
	hc := env.HTTP
	vars := map[string]any{"d": nimes}

	start := time.Now()
	ans, err := postQuery(hc, env.URL, mayor, replayAliases(450), vars)
	if err != nil {
		t.Fatal(err)
	}
	if ans.code() != "INVALID_INPUT" || ans.Errors[0].Extensions["reason"] != "TOO_COSTLY" {
		t.Fatalf("450 replays in one request: want INVALID_INPUT (TOO_COSTLY), got %s (after %v)", ans, time.Since(start))
	}
	if len(ans.Errors) != 1 || (len(ans.Data) != 0 && string(ans.Data) != "null") {
		t.Errorf("refused before running: one error and no data, got %s", ans)
	}
	if msg := ans.Errors[0].Message; !strings.Contains(msg, "journal") || !strings.Contains(msg, "450") || !strings.Contains(msg, "3") {
		t.Errorf("the message should say, in French, how many reads of the log and how many are allowed: %q", msg)
	}

	// The bound: three reads of the log, whatever their kind; a fragment does not
	// hide them, and one field asked twice under one name runs once.
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		name, query string
		refused     bool
	}{
		{"three replays", replayAliases(3), false},
		{"four replays", replayAliases(4), true},
		{"a replay, the delays and a causal chain", `query($d: String!) { replay(domain: $d, at: "` + at + `") { events } decisionDelays(domain: $d) { summary { delay } } causalChain(domain: $d, eventId: "x") { type } }`, false},
		{"two replays, the delays and a causal chain", `query($d: String!) { a: replay(domain: $d, at: "` + at + `") { events } b: replay(domain: $d, at: "` + at + `") { at } decisionDelays(domain: $d) { summary { delay } } causalChain(domain: $d, eventId: "x") { type } }`, true},
		{"four replays in fragments", `query($d: String!) { ...A ...B } fragment A on Query { a: replay(domain: $d, at: "` + at + `") { events } b: replay(domain: $d, at: "` + at + `") { events } } fragment B on Query { c: replay(domain: $d, at: "` + at + `") { events } ... on Query { d: replay(domain: $d, at: "` + at + `") { events } } }`, true},
		{"one replay spread many times", `query($d: String!) { ...A ...A ...B } fragment A on Query { a: replay(domain: $d, at: "` + at + `") { events } } fragment B on Query { ...A a: replay(domain: $d, at: "` + at + `") { at } }`, false},
	} {
		ans, err := postQuery(hc, env.URL, mayor, c.query, vars)
		if err != nil {
			t.Fatal(err)
		}
		refused := ans.code() == "INVALID_INPUT" && ans.Errors[0].Extensions["reason"] == "TOO_COSTLY"
		if refused != c.refused || !refused && len(ans.Errors) > 0 {
			t.Errorf("%s: want refused=%v, got %s", c.name, c.refused, ans)
		}
	}
}

// Point 5: reads of the log are charged to their caller by what they cost (five
// tokens each by default), not as one more operation.
func TestAReplayCostsItsCallerMoreThanAQuery(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(0.01, 12))
	mayor := env.Token("costly-mayor", "mayor", nimes)
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	two := `query($d: String!) { a: replay(domain: $d, at: "` + at + `") { events } b: replay(domain: $d, at: "` + at + `") { at } }`
	// 1 for the operation and 2 × 5 for its reads of the log: 11 of the 12.
	if ans, err := postQuery(env.HTTP, env.URL, mayor, two, map[string]any{"d": nimes}); err != nil || len(ans.Errors) != 0 {
		t.Fatalf("two replays within the burst: %s %v", ans, err)
	}
	if ans, err := postQuery(env.HTTP, env.URL, mayor, `{ me { subject } }`, nil); err != nil || len(ans.Errors) != 0 {
		t.Fatalf("the 12th token: %s %v", ans, err)
	}
	ans, err := postQuery(env.HTTP, env.URL, mayor, `{ me { subject } }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ans.code() != "RATE_LIMITED" {
		t.Errorf("after two replays and a query the burst of 12 is spent: want RATE_LIMITED, got %s", ans)
	}
}

// Point 8: a caller past its rate gets HTTP 429 and Retry-After (GraphQL over HTTP),
// still with extensions.code RATE_LIMITED, over POST and GET alike.
func TestRateLimitedIs429WithRetryAfter(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(0.5, 3))
	busy := env.Token("busy-observer", "observer", nimes)
	for i := range 3 {
		if ans, err := postQuery(env.HTTP, env.URL, busy, `{ me { subject } }`, nil); err != nil || ans.status != 200 || len(ans.Errors) != 0 {
			t.Fatalf("request %d of the burst: %s %v", i+1, ans, err)
		}
	}
	check := func(how string, ans answer, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if ans.status != http.StatusTooManyRequests || ans.code() != "RATE_LIMITED" {
			t.Errorf("%s past the burst: want HTTP 429 RATE_LIMITED, got %s", how, ans)
			return
		}
		secs, err := strconv.Atoi(ans.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3 {
			t.Errorf("%s: Retry-After %q, want whole seconds until a token is back (2 at 0.5/s)", how, ans.header.Get("Retry-After"))
		}
		if got, _ := ans.Errors[0].Extensions["retryAfter"].(float64); int(got) != secs {
			t.Errorf("%s: extensions.retryAfter %v, want the header's %d", how, ans.Errors[0].Extensions["retryAfter"], secs)
		}
		if !strings.HasPrefix(ans.header.Get("Content-Type"), "application/") || len(ans.Errors) != 1 {
			t.Errorf("%s: the answer must stay a GraphQL answer: %s", how, ans)
		}
	}
	ans, err := postQuery(env.HTTP, env.URL, busy, `{ me { subject } }`, nil)
	check("POST", ans, err)
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/graphql?"+url.Values{"query": {"{ me { subject } }"}}.Encode(), nil)
	ans, err = send(env.HTTP, req, busy)
	check("GET", ans, err)
}

// Point 8: a body over the limit is refused 413 however it is sent: with a length, or
// chunked (which gqlgen once answered 200).
func TestAnOversizedChunkedBodyIs413(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	mayor := env.Token("chunky-mayor", "mayor", nimes)
	chunked := func(body string) answer {
		t.Helper()
		// io.MultiReader hides the length: the client sends the body chunked.
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/graphql", io.MultiReader(strings.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		ans, err := send(env.HTTP, req, mayor)
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	pad := strings.Repeat("#", 300<<10)
	big := `{"query":"{ me { subject } }` + pad + `"}`
	if ans := chunked(big); ans.status != http.StatusRequestEntityTooLarge || ans.code() != "INVALID_INPUT" {
		t.Errorf("a chunked body of 300 KiB: want 413 INVALID_INPUT, got %s", ans)
	}
	small := `{"query":"{ me { subject } }` + strings.Repeat(" ", 100<<10) + `"}`
	if ans := chunked(small); ans.status != http.StatusOK || len(ans.Errors) != 0 || !strings.Contains(string(ans.Data), "chunky-mayor") {
		t.Errorf("a chunked body within the limit must be served: %s", ans)
	}
}

// Point 8: a websocket message may be no larger than an HTTP body (it was 1 MiB
// against 256 KiB): one over the limit closes the connection (1009, message too big).
func TestAWebsocketMessageOverTheBodyLimitClosesTheConnection(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithRateLimit(1e6, 1e6))
	token := env.Token("ws-mayor", "mayor", nimes)
	dial := func() *websocket.Conn {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(4 << 20)
		t.Cleanup(func() { c.CloseNow() })
		write(t, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		if m := read(t, c); m["type"] != "connection_ack" {
			t.Fatalf("want connection_ack, got %v", m)
		}
		return c
	}
	subscribe := func(c *websocket.Conn, id string, padding int) {
		t.Helper()
		// A comment pads the document: the operation is the same small query.
		write(t, c, map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{"query": "{ me { subject } }\n#" + strings.Repeat("x", padding)}})
	}

	// Within the limit: answered.
	c := dial()
	subscribe(c, "small", 200<<10)
	if m := read(t, c); m["type"] != "next" || m["id"] != "small" {
		t.Fatalf("a message of 200 KiB: want its answer, got %v", m)
	}

	// Over it: the server closes the connection.
	c = dial()
	subscribe(c, "big", 300<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("a message of 300 KiB: the connection is still open after 5 s (%v)", err)
			}
			if status := websocket.CloseStatus(err); status != websocket.StatusMessageTooBig {
				t.Errorf("a message of 300 KiB: want the close status 1009 (message too big), got %v", err)
			}
			return
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		if m["id"] == "big" {
			t.Fatalf("a message of 300 KiB over a limit of 256 KiB was read and answered: %s", data)
		}
	}
}

func write(t *testing.T, c *websocket.Conn, m map[string]any) {
	t.Helper()
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// read returns the next message that is no ping or pong.
func read(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("reading the websocket: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if m["type"] != "ping" && m["type"] != "pong" {
			return m
		}
	}
}

// Point 5: the after-action report (a read of the whole log, and one more per instant)
// was outside the rate limit: one observer's hundred reports at once all ran. Now
// they pay from the caller's bucket like its GraphQL: beyond it, 429 and Retry-After.
func TestReportsAreRateLimitedPerCaller(t *testing.T) {
	env := gatewaytest.Start(t) // production's limits: 20/s, burst 40
	observer := env.Token("report-observer", "observer", nimes)
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 128, MaxIdleConnsPerHost: 128}}
	defer hc.CloseIdleConnections()
	get := func(path, token string) (answer, error) {
		req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
		if err != nil {
			return answer{}, err
		}
		return send(hc, req, token)
	}

	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			ans, err := get("/report/"+nimes+".json", observer)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			statuses[ans.status]++
			switch ans.status {
			case http.StatusOK:
			case http.StatusTooManyRequests:
				if secs, err := strconv.Atoi(ans.header.Get("Retry-After")); err != nil || secs < 1 {
					t.Errorf("429 without a Retry-After in seconds: %q", ans.header.Get("Retry-After"))
				}
			default:
				t.Errorf("a report: want 200 or 429, got %s", ans)
			}
		})
	}
	wg.Wait()
	// A report costs 1 + 2 × 5 tokens (the timeline's read and the boards' at the
	// end): 3 of the burst of 40, and a couple a second after.
	if statuses[http.StatusOK] == 0 || statuses[http.StatusOK] > 10 || statuses[http.StatusTooManyRequests] < 90 {
		t.Errorf("100 parallel reports by one observer: %v, want a few 200 and the rest 429", statuses)
	}

	// The same gate: no token, no report; one request may not ask for more reads of
	// the log than a GraphQL request.
	if ans, err := get("/report/"+nimes+".json", ""); err != nil || ans.status != http.StatusUnauthorized || ans.header.Get("WWW-Authenticate") == "" {
		t.Errorf("a report without a token: want 401 with WWW-Authenticate, got %s %v", ans, err)
	}
	other := env.Token("report-observer-2", "observer", nimes)
	at := time.Now().Add(-time.Hour).UTC()
	q := url.Values{"at": {at.Format(time.RFC3339), at.Add(time.Minute).Format(time.RFC3339), at.Add(2 * time.Minute).Format(time.RFC3339)}}
	if ans, err := get("/report/"+nimes+".json?"+q.Encode(), other); err != nil || ans.status != http.StatusBadRequest || !strings.Contains(string(ans.raw), "TOO_COSTLY") {
		t.Errorf("a report of three instants (four reads of the log): want 400 TOO_COSTLY, got %s %v", ans, err)
	}
}
