package gatewaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Message is one message of the graphql-transport-ws protocol.
type Message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a client connection to the gateway's websocket, speaking graphql-transport-ws.
type WS struct {
	c    *websocket.Conn
	msgs chan Message

	mu     sync.Mutex
	closed error // why the connection ended, once it has
	done   chan struct{}
}

// DialWS opens /graphql as a websocket with the graphql-transport-ws subprotocol and
// sends connection_init with payload (nil: no payload). It returns once the server
// acknowledged; otherwise the error says how the server closed the connection (a
// websocket.CloseError carries the close code).
func (e *Env) DialWS(t testing.TB, payload map[string]any) (*WS, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if c.Subprotocol() != "graphql-transport-ws" {
		c.CloseNow()
		return nil, fmt.Errorf("server chose subprotocol %q", c.Subprotocol())
	}
	w := &WS{c: c, msgs: make(chan Message, 256), done: make(chan struct{})}
	go w.read()
	t.Cleanup(func() { w.Close() })
	init := Message{Type: "connection_init"}
	if payload != nil {
		b, _ := json.Marshal(payload)
		init.Payload = b
	}
	if err := w.send(init); err != nil {
		return nil, err
	}
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				return nil, w.Err()
			}
			if m.Type == "connection_ack" {
				return w, nil
			}
		case <-time.After(10 * time.Second):
			w.Close()
			return nil, errors.New("no connection_ack within 10 s")
		}
	}
}

// read hands the server's messages to msgs, answering pings, until the connection ends.
func (w *WS) read() {
	defer close(w.msgs)
	defer close(w.done)
	for {
		_, b, err := w.c.Read(context.Background())
		if err != nil {
			w.mu.Lock()
			w.closed = err
			w.mu.Unlock()
			return
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		if m.Type == "ping" {
			_ = w.send(Message{Type: "pong"})
			continue
		}
		select {
		case w.msgs <- m:
		default: // a test that stopped reading loses messages rather than blocking
		}
	}
}

func (w *WS) send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.c.Write(ctx, websocket.MessageText, b)
}

// Subscribe starts an operation under id.
func (w *WS) Subscribe(t testing.TB, id, query string, vars map[string]any) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := w.send(Message{Type: "subscribe", ID: id, Payload: p}); err != nil {
		t.Fatalf("subscribe %s: %v", id, err)
	}
}

// Next returns the next message within d; ok is false when none came or the
// connection ended.
func (w *WS) Next(d time.Duration) (Message, bool) {
	select {
	case m, ok := <-w.msgs:
		return m, ok
	case <-time.After(d):
		return Message{}, false
	}
}

// Err is why the connection ended (nil while it is open).
func (w *WS) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// Closed waits up to d for the server to end the connection and returns its close
// status (-1 if it did not end or ended without a close frame).
func (w *WS) Closed(d time.Duration) websocket.StatusCode {
	select {
	case <-w.done:
	case <-time.After(d):
		return -1
	}
	return websocket.CloseStatus(w.Err())
}

// Close ends the connection.
func (w *WS) Close() { _ = w.c.Close(websocket.StatusNormalClosure, "") }
