package graph

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"vigie/graph/auth"
	"vigie/policies"
	"vigie/policies/journal"
)

// A websocket is authenticated once, in connection_init, and may then stay open for
// hours: longer than its token, longer than the roles its caller held. Until issue 14
// the same socket went on answering queries and feeding boardChanged and alertChanged
// after both had ended. A session is that connection's right, re-checked for as long
// as it lives: when the token's expiry passes, or a role the caller held is revoked in
// the log, every operation of the socket is refused from that instant, the open
// subscriptions end and the socket is closed with the code that says why.
const (
	// closeExpired and closeRevoked are graphql-transport-ws's close codes for a
	// session whose right ended: 4401 Unauthorized (the token expired: authenticate
	// again), 4403 Forbidden (a role it relied on was revoked). The dashboard stops
	// reconnecting on either: its token will not do.
	closeExpired = 4401
	closeRevoked = 4403
	// grantCheck is how often a session compares its caller's grants with the
	// policies' (which follow the log's revocations within moments): a revocation
	// ends the session within about a second. Each check reads the subject's grants
	// (policies.Authorizer.GrantsOf: ~30 µs with 10,000 grants recorded).
	grantCheck = time.Second
	// forwardRenewal is how long before the services stop accepting the caller's
	// forwarded token a session authenticates its token again for a fresh one (the
	// short tokens a gateway of OIDC identities mints).
	forwardRenewal = time.Minute
	// closeGrace bounds how long an ended session's socket may take to close (a
	// write blocked on a client that does not read holds the transport's lock): then
	// it is cut without a close frame.
	closeGrace = 5 * time.Second
)

// The close frames' reasons, read by the people whose screen stops.
const (
	reasonExpired = "session expirée : le jeton n'est plus valide, reconnectez-vous"
	reasonRevoked = "droits retirés : un rôle de cette session a été révoqué"
)

// errSessionEnded is what a write on an ended session's socket returns: nothing more
// reaches a caller whose right has ended, not even an event already on its way.
var errSessionEnded = errors.New("graph: the websocket session has ended")

// sessionTransport is gqlgen's websocket transport whose connections are sessions.
type sessionTransport struct {
	transport.Websocket
	authn   auth.Authenticator
	authz   *policies.Authorizer // nil: grants are not followed (no revocation ends a session)
	journal *journal.Journal
}

var _ graphql.Transport = sessionTransport{}

// sessions is ws serving its connections as sessions of cfg's callers.
func sessions(cfg Config, ws transport.Websocket) sessionTransport {
	t := sessionTransport{Websocket: ws, authn: cfg.Auth, journal: cfg.journal()}
	if cfg.Resolver != nil {
		t.authz = cfg.Resolver.Authz
	}
	return t
}

type sessionKey struct{}

// Do serves one websocket as a session: the connection's writes and close go
// through the session, and connection_init (the transport's InitFunc) finds it in the
// context to open it once the caller is authenticated (openSession).
func (t sessionTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := &session{authn: t.authn, authz: t.authz, journal: t.journal}
	ws := t.Websocket
	impl := ws.Implementation
	if impl == nil {
		impl = transport.CoderWebsocketImplementation{}
	}
	ws.Implementation = sessionAccept{impl: impl, s: s}
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), sessionKey{}, s))
	defer cancel() // the session's watch ends with the connection
	ws.Do(w, r.WithContext(ctx), exec)
}

// openSession starts the session of the websocket whose connection_init carried
// token, authenticated as c, and returns the context the connection then serves
// under: its caller is the session's, and it is cancelled when the session ends,
// which ends the subscriptions and closes the socket. Outside a sessionTransport the
// caller is recorded as is (each operation still refuses it once expired).
func openSession(ctx context.Context, token string, c auth.Caller) context.Context {
	s, _ := ctx.Value(sessionKey{}).(*session)
	if s == nil {
		return auth.WithCaller(ctx, c, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.token, s.caller, s.cancel = token, c, cancel
	s.mu.Unlock()
	// The grants it holds now, before any operation is served: a revocation from
	// here on is seen.
	held := s.grants(c.Principal.Subject)
	go s.watch(ctx, held)
	return auth.WithSession(ctx, s)
}

// session is one websocket's right to be served.
type session struct {
	authn   auth.Authenticator
	authz   *policies.Authorizer
	journal *journal.Journal

	mu     sync.Mutex
	token  string
	caller auth.Caller
	cancel context.CancelFunc      // the connection's context, once opened
	conn   transport.WebsocketConn // once accepted

	ended atomic.Pointer[sessionEnd] // nil while the right holds
}

// sessionEnd is why a session ended.
type sessionEnd struct {
	code   int
	reason string
	err    error // what the caller's operations are answered from then on
}

var (
	endExpired = &sessionEnd{code: closeExpired, reason: reasonExpired, err: auth.ErrExpired}
	endRevoked = &sessionEnd{code: closeRevoked, reason: reasonRevoked, err: auth.ErrRevoked}
)

// Caller is the session's caller while its right holds (auth.Session).
func (s *session) Caller() (auth.Caller, error) {
	if e := s.ended.Load(); e != nil {
		return auth.Caller{}, e.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caller, nil
}

// watch ends the session when its token's expiry passes or one of the grants it
// held is revoked, and returns when ctx ends (the connection closed, or the session
// ended).
func (s *session) watch(ctx context.Context, held map[policies.Grant]bool) {
	s.mu.Lock()
	c := s.caller
	s.mu.Unlock()
	var expiry <-chan time.Time
	if !c.Expires.IsZero() {
		t := time.NewTimer(time.Until(c.Expires))
		defer t.Stop()
		expiry = t.C
	}
	tick := time.NewTicker(grantCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-expiry:
			s.end(endExpired)
			return
		case <-tick.C:
			now := s.grants(c.Principal.Subject)
			for g := range held {
				if !now[g] {
					s.end(endRevoked)
					return
				}
			}
			// A grant given since is relied on from now on: its revocation ends
			// the session too.
			held = now
			if err := s.renew(ctx); err != nil {
				s.end(endExpired)
				return
			}
		}
	}
}

// grants is the set of grants the log gives subject, as the policies know them.
func (s *session) grants(subject string) map[policies.Grant]bool {
	if s.authz == nil {
		return nil
	}
	gs := s.authz.GrantsOf(subject)
	out := make(map[policies.Grant]bool, len(gs))
	for _, g := range gs {
		out[g] = true
	}
	return out
}

// renew authenticates the session's token again when the forwarded token is about
// to expire before the session does, so that mutations sent over the socket still
// reach the services. It fails only once the forwarded token has expired and the
// session's token no longer authenticates (until then a failure is tried again at
// the next check).
func (s *session) renew(ctx context.Context) error {
	s.mu.Lock()
	c, token := s.caller, s.token
	s.mu.Unlock()
	if c.ForwardExpires.IsZero() || !c.ForwardExpires.Before(c.Expires) || time.Until(c.ForwardExpires) > forwardRenewal {
		return nil
	}
	fresh, err := s.authn.Authenticate(ctx, token)
	if err == nil && fresh.Principal.Subject != c.Principal.Subject {
		err = auth.ErrUnauthenticated // the same token names the same subject; never trust otherwise
	}
	if err != nil {
		if time.Now().Before(c.ForwardExpires) {
			return nil
		}
		return err
	}
	s.mu.Lock()
	s.caller = fresh
	s.mu.Unlock()
	return nil
}

// end ends the session for the reason e, once: from now on its caller is refused and
// nothing more is written to the socket but the close frame with e's code. It cancels
// the connection's context, which ends the subscriptions and has the transport close
// the socket; should a blocked write keep it from doing so, the socket is cut after
// closeGrace.
func (s *session) end(e *sessionEnd) {
	if !s.ended.CompareAndSwap(nil, e) {
		return
	}
	s.mu.Lock()
	conn, cancel, subject := s.conn, s.cancel, s.caller.Principal.Subject
	s.mu.Unlock()
	s.journal.Record(context.Background(), journal.Entry{Kind: journal.SessionEnded, Actor: subject, Action: "websocket",
		Code: strconv.Itoa(e.code), Reason: e.reason})
	if cancel != nil {
		cancel()
	}
	if conn != nil {
		time.AfterFunc(closeGrace, func() { _ = conn.Close() })
	}
}

// sessionAccept accepts websockets through impl and hands the transport connections
// that answer to the session.
type sessionAccept struct {
	impl transport.WebsocketImplementation
	s    *session
}

func (a sessionAccept) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := a.impl.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	a.s.conn = c
	a.s.mu.Unlock()
	return sessionConn{WebsocketConn: c, s: a.s}, nil
}

// sessionConn is a websocket connection that writes nothing once its session has
// ended, and closes with the session's code: gqlgen closes a connection whose
// context was cancelled with 1000 Normal Closure, which would tell the client
// nothing went wrong (and to reconnect as before).
type sessionConn struct {
	transport.WebsocketConn
	s *session
}

var (
	_ transport.WebsocketReadLimiter   = sessionConn{}
	_ transport.WebsocketReadDeadliner = sessionConn{}
)

func (c sessionConn) WriteJSON(v any) error {
	if c.s.ended.Load() != nil {
		return errSessionEnded
	}
	return c.WebsocketConn.WriteJSON(v)
}

func (c sessionConn) WriteClose(code int, reason string) error {
	if e := c.s.ended.Load(); e != nil {
		code, reason = e.code, e.reason
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit and SetReadDeadline pass on what the transport asks of the connection
// (its message size limit, and the deadline that drops a client that stopped
// answering pings): without them wrapping it would silently lift both.
func (c sessionConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c sessionConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
