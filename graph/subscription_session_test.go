package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"vigie/graph"
	"vigie/graph/auth"
	"vigie/graph/gatewaytest"
	"vigie/identity"
	"vigie/policies"
)

// Issue 14, point 3, from the attacker's side: a websocket authenticated once must not
// outlive its right. Before, the same socket went on answering queries and feeding
// boardChanged after its token had expired and after the role it relied on was revoked.

const meQuery = `{ me { subject } }`

// rawSocket is a graphql-transport-ws client that keeps what a test of a session's end
// needs: when each message arrived, and how and when the socket closed. Unlike
// gatewaytest.WS, a send on a socket the server closed is an answer (the query was not
// served), not a failure of the test. It answers pings, as the dashboard does.
type rawSocket struct {
	c    *websocket.Conn
	done chan struct{}

	mu       sync.Mutex
	got      []arrival
	closedAt time.Time
	closeErr error
}

type arrival struct {
	at time.Time
	m  gatewaytest.Message
}

func dialSession(t *testing.T, env *gatewaytest.Env, token string) *rawSocket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	s := &rawSocket{c: c, done: make(chan struct{})}
	go s.read()
	t.Cleanup(func() { _ = c.Close(websocket.StatusNormalClosure, "") })
	init, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + token})
	if err := s.write(gatewaytest.Message{Type: "connection_init", Payload: init}); err != nil {
		t.Fatalf("connection_init: %v", err)
	}
	if _, ok := s.await(10*time.Second, func(a arrival) bool { return a.m.Type == "connection_ack" }); !ok {
		t.Fatalf("no connection_ack: %v", s.err())
	}
	return s
}

func (s *rawSocket) read() {
	defer close(s.done)
	for {
		_, b, err := s.c.Read(context.Background())
		if err != nil {
			s.mu.Lock()
			s.closedAt, s.closeErr = time.Now(), err
			s.mu.Unlock()
			return
		}
		var m gatewaytest.Message
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Type == "ping" {
			_ = s.write(gatewaytest.Message{Type: "pong"})
		}
		s.mu.Lock()
		s.got = append(s.got, arrival{at: time.Now(), m: m})
		s.mu.Unlock()
	}
}

func (s *rawSocket) write(m gatewaytest.Message) error {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.c.Write(ctx, websocket.MessageText, b)
}

// send starts an operation; the error says the socket would not take it.
func (s *rawSocket) send(id, query string, vars map[string]any) error {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return s.write(gatewaytest.Message{Type: "subscribe", ID: id, Payload: p})
}

// await waits up to d for a message that match accepts.
func (s *rawSocket) await(d time.Duration, match func(arrival) bool) (arrival, bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		for _, a := range s.arrivals() {
			if match(a) {
				return a, true
			}
		}
		if time.Now().After(deadline) {
			return arrival{}, false
		}
	}
}

func (s *rawSocket) arrivals() []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]arrival(nil), s.got...)
}

func (s *rawSocket) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

// closed waits up to d for the server to close the socket, and says with which code
// and when; ok is false if it stayed open.
func (s *rawSocket) closed(d time.Duration) (code websocket.StatusCode, at time.Time, ok bool) {
	select {
	case <-s.done:
	case <-time.After(d):
		return -1, time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return websocket.CloseStatus(s.closeErr), s.closedAt, true
}

// change is a boardChanged event of the operation id.
func change(id string) func(arrival) bool {
	return func(a arrival) bool {
		return a.m.ID == id && a.m.Type == "next" && bytes.Contains(a.m.Payload, []byte(`"boardChanged"`))
	}
}

// answered says whether an arrival carries data for its operation (not only errors).
func answered(a arrival) bool {
	var p struct{ Data json.RawMessage }
	_ = json.Unmarshal(a.m.Payload, &p)
	return a.m.Type == "next" && len(p.Data) > 0 && string(p.Data) != "null"
}

// churn keeps changing an incident of the mayor's commune, every 100 ms until the
// test ends, so that a subscription to it has something to deliver at any moment.
// Failures are ignored: the changes only feed the subscriptions under test.
func churn(t *testing.T, env *gatewaytest.Env, token, incidentID string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($id:ID!){ addLogEntry(incidentId:$id, text:"Veille"){ id } }`,
		"variables": map[string]any{"id": incidentID},
	})
	wg.Go(func() {
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := env.HTTP.Do(req); err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func TestASocketEndsWithItsToken(t *testing.T) {
	t.Parallel()
	env := gatewaytest.Start(t)
	fx := newFixtures(t, env)
	churn(t, env, fx.mayor(nimes), fx.get("incident.base", nimes))

	// A token that expires in two or three seconds (tokens count whole seconds).
	exp := time.Unix(time.Now().Add(3*time.Second).Unix(), 0)
	token := gatewaytest.SignedToken(env.Key, "observer-expiring", time.Now(), exp, policies.Grant{Role: "observer", Domain: nimes})
	s := dialSession(t, env, token)

	// While the token holds, the socket serves: the subscription hears Nîmes' changes,
	// a query is answered.
	if err := s.send("board", boardChanged, map[string]any{"d": nimes}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.await(time.Until(exp), change("board")); !ok {
		t.Fatalf("the subscription heard nothing before the expiry (%v)", s.err())
	}
	if err := s.send("before", meQuery, nil); err != nil {
		t.Fatal(err)
	}
	if a, ok := s.await(time.Until(exp), func(a arrival) bool { return a.m.ID == "before" && a.m.Type != "complete" }); !ok || !answered(a) {
		t.Fatalf("a query before the expiry: %v %s %s", ok, a.m.Type, a.m.Payload)
	}

	// Once the token is no longer accepted, the same socket is asked again.
	time.Sleep(time.Until(exp.Add(identity.Leeway)))
	late := time.Now()
	sendErr := s.send("late", meQuery, nil)

	code, closedAt, ok := s.closed(time.Until(exp.Add(5 * time.Second)))
	switch {
	case !ok:
		t.Errorf("the socket was still open 5 s after its token expired at %v", exp.Format(time.TimeOnly))
	case code != 4401:
		t.Errorf("closed with %v (%v), want 4401: the token expired", code, s.err())
	case closedAt.Sub(exp) > 5*time.Second:
		t.Errorf("closed %v after the expiry, want within 5 s", closedAt.Sub(exp))
	}
	for _, a := range s.arrivals() {
		switch {
		case a.m.ID == "late" && answered(a):
			t.Errorf("a query sent %v after the expiry was served: %s %s", late.Sub(exp), a.m.Type, a.m.Payload)
		case a.m.ID == "late" && a.m.Type == "next" && !bytes.Contains(a.m.Payload, []byte(`"UNAUTHENTICATED"`)):
			// Taken before the socket closed, it is refused as from a caller
			// without a token (then completed).
			t.Errorf("a query sent after the expiry: %s, want UNAUTHENTICATED", a.m.Payload)
		case a.m.ID == "board" && a.m.Type == "next" && a.at.After(exp.Add(identity.Leeway+500*time.Millisecond)):
			t.Errorf("a change was delivered %v after the expiry: %s", a.at.Sub(exp), a.m.Payload)
		case a.m.ID == "board" && a.m.Type != "next":
			// Ended by the close: a "complete" would tell the client it ended normally.
			t.Errorf("the subscription got %s %s", a.m.Type, a.m.Payload)
		}
	}
	t.Logf("expired at %s, late query sent %v after (%v), socket closed %v after the expiry", exp.Format(time.TimeOnly), late.Sub(exp), sendErr, closedAt.Sub(exp))
}

func TestASocketEndsWhenTheRoleItReliedOnIsRevoked(t *testing.T) {
	t.Parallel()
	env := gatewaytest.Start(t)
	fx := newFixtures(t, env)
	churn(t, env, fx.mayor(nimes), fx.get("incident.base", nimes))
	churn(t, env, fx.mayor(ales), fx.get("incident.base", ales))

	// Its token says who it is, nothing more: the rights are the log's, granted and
	// revoked through the Roles API as an admin does it.
	subject := uniq("observer-revoked")
	const grant = `mutation($s:String!,$d:String!){ grantRole(subject:$s, role:"observer", domain:$d){ subject } }`
	const revoke = `mutation($s:String!,$d:String!){ revokeRole(subject:$s, role:"observer", domain:$d){ subject } }`
	fx.do(fx.admin(nimes), grant, map[string]any{"s": subject, "d": nimes}, "grantRole")
	token := env.TokenFor(subject, time.Hour)
	s := dialSession(t, env, token)
	if err := s.send("nimes", boardChanged, map[string]any{"d": nimes}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.await(10*time.Second, change("nimes")); !ok {
		t.Fatalf("the subscription to Nîmes heard nothing (%v)", s.err())
	}

	// A role given while the socket is open does not end it, and serves at once.
	fx.do(fx.admin(ales), grant, map[string]any{"s": subject, "d": ales}, "grantRole")
	if err := s.send("ales", boardChanged, map[string]any{"d": ales}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.await(10*time.Second, change("ales")); !ok {
		t.Fatalf("the subscription to Alès after its grant heard nothing (%v)", s.err())
	}

	// The role on Nîmes is revoked: the socket that relied on it ends.
	revoked := time.Now()
	fx.do(fx.admin(nimes), revoke, map[string]any{"s": subject, "d": nimes}, "revokeRole")
	code, closedAt, ok := s.closed(time.Until(revoked.Add(5 * time.Second)))
	switch {
	case !ok:
		t.Errorf("the socket was still open 5 s after the revocation of the role it relied on")
	case code != 4403:
		t.Errorf("closed with %v (%v), want 4403: a role was revoked", code, s.err())
	case closedAt.Sub(revoked) > 5*time.Second:
		t.Errorf("closed %v after the revocation, want within 5 s", closedAt.Sub(revoked))
	}
	if err := s.send("late", meQuery, nil); err == nil {
		if a, ok := s.await(time.Second, func(a arrival) bool { return a.m.ID == "late" }); ok && answered(a) {
			t.Errorf("a query after the revocation was served: %s", a.m.Payload)
		}
	}
	for _, a := range s.arrivals() {
		switch {
		case (a.m.ID == "nimes" || a.m.ID == "ales") && a.m.Type != "next":
			t.Errorf("the subscription %s got %s %s", a.m.ID, a.m.Type, a.m.Payload)
		case a.m.ID == "nimes" && a.at.After(revoked.Add(5*time.Second)):
			t.Errorf("a change of Nîmes was delivered %v after the revocation", a.at.Sub(revoked))
		}
	}

	// The same token opens a new socket, which serves only what the caller still
	// holds.
	ws, err := env.DialWS(t, map[string]any{"Authorization": "Bearer " + token})
	if err != nil {
		t.Fatalf("reconnecting: %v", err)
	}
	ws.Subscribe(t, "nimes", boardChanged, map[string]any{"d": nimes})
	m, ok := ws.Next(5 * time.Second)
	var p struct{ Errors []gatewaytest.Error }
	if ok {
		_ = json.Unmarshal(m.Payload, &p)
	}
	if !ok || len(p.Errors) != 1 || p.Errors[0].Extensions.Code != "FORBIDDEN" {
		t.Errorf("subscribing to Nîmes after the revocation: want FORBIDDEN, got %v %s %s", ok, m.Type, m.Payload)
	}
}

// In production the gateway takes OIDC identities: the socket lives as long as the
// provider's ID token, which go-oidc accepts with no leeway.
func TestAnOIDCSocketEndsWithItsIDToken(t *testing.T) {
	t.Parallel()
	provider := startOIDCProvider(t)
	late := &lateAuth{}
	env := gatewaytest.Start(t, gatewaytest.WithDev(false), gatewaytest.WithConfig(func(c *graph.Config) { c.Auth = late }))
	oidcAuth, err := auth.NewOIDC(t.Context(), provider.URL, oidcClientID, env.Key)
	if err != nil {
		t.Fatal(err)
	}
	late.a.Store(oidcAuth)

	exp := time.Unix(time.Now().Add(3*time.Second).Unix(), 0)
	token := provider.idToken(t, provider.key, provider.claims("oidc-expiring", func(c map[string]any) { c["exp"] = exp.Unix() }))
	s := dialSession(t, env, token)
	if err := s.send("me", meQuery, nil); err != nil {
		t.Fatal(err)
	}
	if a, ok := s.await(time.Until(exp), func(a arrival) bool { return a.m.ID == "me" && a.m.Type != "complete" }); !ok || !answered(a) {
		t.Fatalf("a query before the expiry: %v %s %s", ok, a.m.Type, a.m.Payload)
	}
	code, closedAt, ok := s.closed(time.Until(exp.Add(5 * time.Second)))
	if !ok {
		t.Fatal("the socket was still open 5 s after its ID token expired")
	}
	if code != 4401 || closedAt.Sub(exp) > 5*time.Second {
		t.Errorf("closed with %v %v after the expiry, want 4401 within 5 s", code, closedAt.Sub(exp))
	}
}

// A graphql-transport-ws client is pinged (the dashboard drops a socket silent for
// 25 s; gqlgen pings only when asked to) and a ping answered keeps the socket open.
func TestASocketIsPingedWhileQuiet(t *testing.T) {
	t.Parallel()
	env := gatewaytest.Start(t)
	s := dialSession(t, env, env.Token("observer-quiet", "observer", nimes))
	if err := s.send("board", boardChanged, map[string]any{"d": nimes}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.await(12*time.Second, func(a arrival) bool { return a.m.Type == "ping" }); !ok {
		t.Fatalf("no ping within 12 s on a quiet socket (%v)", s.err())
	}
	if code, _, closed := s.closed(0); closed {
		t.Fatalf("the socket closed (%v) though it answered the pings", code)
	}
}
