package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"vigie/graph/auth"
	"vigie/policies"
)

// fakeConn records what the transport asks of a websocket connection.
type fakeConn struct {
	mu       sync.Mutex
	written  []any
	closes   []closeFrame
	limit    int64
	deadline time.Time
	closed   bool
}

type closeFrame struct {
	code   int
	reason string
}

func (c *fakeConn) Close() error                        { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }
func (c *fakeConn) NextReader() (int, io.Reader, error) { return 0, nil, io.EOF }
func (c *fakeConn) Subprotocol() string                 { return "graphql-transport-ws" }
func (c *fakeConn) WriteJSON(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, v)
	return nil
}
func (c *fakeConn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closes = append(c.closes, closeFrame{code, reason})
	return nil
}
func (c *fakeConn) SetReadLimit(n int64) { c.mu.Lock(); c.limit = n; c.mu.Unlock() }
func (c *fakeConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

type fakeAccept struct{ conn *fakeConn }

func (a fakeAccept) Accept(http.ResponseWriter, *http.Request, transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	return a.conn, nil
}

// fakeAuth authenticates any token as subject, with what fresh says, counting calls.
type fakeAuth struct {
	calls atomic.Int32
	fresh func(n int32) (auth.Caller, error)
}

func (a *fakeAuth) Authenticate(context.Context, string) (auth.Caller, error) {
	return a.fresh(a.calls.Add(1))
}

// newTestSession is a session as sessionTransport.Do makes it, its connection
// accepted, and the context connection_init is called with.
func newTestSession(t *testing.T, authn auth.Authenticator, authz *policies.Authorizer) (*session, transport.WebsocketConn, *fakeConn, context.Context) {
	t.Helper()
	s := &session{authn: authn, authz: authz}
	fc := &fakeConn{}
	conn, err := sessionAccept{impl: fakeAccept{fc}, s: s}.Accept(httptest.NewRecorder(), httptest.NewRequest("GET", "/graphql", nil), transport.WebsocketAcceptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), sessionKey{}, s))
	t.Cleanup(cancel)
	return s, conn, fc, ctx
}

func TestAnEndedSessionRefusesItsCallerAndWritesNothingButItsClose(t *testing.T) {
	for _, e := range []*sessionEnd{endExpired, endRevoked} {
		s, conn, fc, ctx := newTestSession(t, nil, nil)
		caller := auth.Caller{Principal: policies.Principal{Subject: "u-1"}, Forward: "t", Expires: time.Now().Add(time.Hour)}
		ctx = openSession(ctx, "t", caller)
		if c, err := auth.FromContext(ctx); err != nil || c.Principal.Subject != "u-1" {
			t.Fatalf("a live session's caller: %+v %v", c, err)
		}
		if err := conn.WriteJSON("before"); err != nil {
			t.Fatal(err)
		}
		s.end(e)
		if _, err := auth.FromContext(ctx); !errors.Is(err, e.err) || !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("close %d: FromContext = %v, want %v", e.code, err, e.err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			t.Errorf("close %d: the connection's context was not cancelled", e.code)
		}
		if err := conn.WriteJSON("after"); !errors.Is(err, errSessionEnded) {
			t.Errorf("close %d: a write after the end: %v", e.code, err)
		}
		// gqlgen closes a cancelled connection as a normal closure; the session says why.
		_ = conn.WriteClose(1000, "terminated")
		fc.mu.Lock()
		if len(fc.written) != 1 || len(fc.closes) != 1 || fc.closes[0] != (closeFrame{e.code, e.reason}) {
			t.Errorf("close %d: wrote %v, closed %v", e.code, fc.written, fc.closes)
		}
		fc.mu.Unlock()
		if len(e.reason) > 123 {
			t.Errorf("close %d: reason %q is %d bytes, over a close frame's 123", e.code, e.reason, len(e.reason))
		}
	}
}

func TestALiveSessionClosesAsItIsAsked(t *testing.T) {
	// A refusal of connection_init (4403 with its reason) passes through untouched.
	_, conn, fc, _ := newTestSession(t, nil, nil)
	_ = conn.WriteClose(4403, "unauthenticated")
	// And what the transport sets on the connection reaches it.
	conn.(transport.WebsocketReadLimiter).SetReadLimit(256 << 10)
	at := time.Now().Add(20 * time.Second)
	_ = conn.(transport.WebsocketReadDeadliner).SetReadDeadline(at)
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.closes) != 1 || fc.closes[0] != (closeFrame{4403, "unauthenticated"}) || fc.limit != 256<<10 || !fc.deadline.Equal(at) {
		t.Errorf("closes %v, limit %d, deadline %v", fc.closes, fc.limit, fc.deadline)
	}
}

func TestACallerIsRefusedFromItsExpiryEvenBeforeTheSessionEnds(t *testing.T) {
	s, _, _, ctx := newTestSession(t, nil, nil)
	// The watch has not run yet: the expiry alone refuses.
	s.caller = auth.Caller{Principal: policies.Principal{Subject: "u-1"}, Expires: time.Now().Add(-time.Millisecond)}
	ctx = auth.WithSession(ctx, s)
	if _, err := auth.FromContext(ctx); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("FromContext = %v, want ErrExpired", err)
	}
}

func TestASessionEndsAtItsExpiry(t *testing.T) {
	s, _, _, ctx := newTestSession(t, nil, nil)
	ctx = openSession(ctx, "t", auth.Caller{Principal: policies.Principal{Subject: "u-1"}, Expires: time.Now().Add(200 * time.Millisecond)})
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the session outlived its expiry")
	}
	if s.ended.Load() != endExpired {
		t.Fatalf("ended %+v, want expired", s.ended.Load())
	}
}

func TestASessionEndsWhenAGrantItHeldIsRevoked(t *testing.T) {
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	const nimes = "dep:30/com:30189"
	if err := authz.Grant("u-1", "observer", nimes); err != nil {
		t.Fatal(err)
	}
	s, _, _, ctx := newTestSession(t, nil, authz)
	ctx = openSession(ctx, "t", auth.Caller{Principal: policies.Principal{Subject: "u-1"}, Expires: time.Now().Add(time.Hour)})
	// Another subject's revocation, and a new grant of its own, change nothing.
	_ = authz.Grant("u-2", "observer", nimes)
	_ = authz.Revoke("u-2", "observer", nimes)
	_ = authz.Grant("u-1", "rac", nimes)
	time.Sleep(grantCheck + 500*time.Millisecond)
	if e := s.ended.Load(); e != nil {
		t.Fatalf("ended %+v without a revocation of its own", e)
	}
	// The grant given since is relied on too.
	if err := authz.Revoke("u-1", "rac", nimes); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session outlived the revocation by 5 s")
	}
	if s.ended.Load() != endRevoked {
		t.Fatalf("ended %+v, want revoked", s.ended.Load())
	}
	t.Logf("ended %v after the revocation", time.Since(revoked))
}

// A gateway of OIDC identities forwards short tokens it mints: a session renews its
// own before it expires, as long as its ID token is valid, and ends when it can no
// longer.
func TestASessionRenewsItsShortForwardedToken(t *testing.T) {
	idExpiry := time.Now().Add(time.Hour)
	var failing atomic.Bool
	authn := &fakeAuth{fresh: func(n int32) (auth.Caller, error) {
		if failing.Load() {
			return auth.Caller{}, auth.ErrUnauthenticated
		}
		return auth.Caller{
			Principal: policies.Principal{Subject: "oidc-1"}, Forward: fmt.Sprint("fwd-", n),
			Expires: idExpiry, ForwardExpires: time.Now().Add(1500 * time.Millisecond),
		}, nil
	}}
	first, _ := authn.Authenticate(context.Background(), "id-token")
	s, _, _, ctx := newTestSession(t, authn, nil)
	ctx = openSession(ctx, "id-token", first)
	waitUntil(t, 5*time.Second, "the forwarded token renewed", func() bool {
		c, err := auth.FromContext(ctx)
		return err == nil && c.Forward != first.Forward
	})
	// The ID token stops verifying: the session goes on with the forwarded token it
	// has, and ends once that one has expired.
	failing.Store(true)
	c, _ := auth.FromContext(ctx)
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived its forwarded token")
	}
	if s.ended.Load() != endExpired {
		t.Fatalf("ended %+v, want expired", s.ended.Load())
	}
	if time.Now().Before(c.ForwardExpires) {
		t.Errorf("ended %v before its forwarded token expired", time.Until(c.ForwardExpires))
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}
