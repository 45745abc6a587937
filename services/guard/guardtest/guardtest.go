// Package guardtest starts what a service's tests need around it: an embedded event
// store, the store client, an authorizer following role grants from the log, and the
// service on a real gRPC server with identity verification, reached over loopback.
package guardtest

import (
	"context"
	"crypto/ed25519"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/store"
	"vigie/events/storetest"
	"vigie/identity"
	"vigie/policies"
	"vigie/policies/grantlog"
	"vigie/services/guard"
)

// Env is a running service under test.
type Env struct {
	Store *store.Client
	Authz *policies.Authorizer
	Conn  *grpc.ClientConn
	key   ed25519.PrivateKey
}

// Start runs the service that register installs; everything stops at the test's end.
func Start(t testing.TB, register func(g *grpc.Server, c *store.Client, a *policies.Authorizer)) *Env {
	t.Helper()
	c, _ := storetest.Embedded(t)
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() { defer close(followed); _ = policies.Follow(ctx, grantlog.Source{Client: c}, authz) }()
	select {
	case <-authz.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("role grants not followed")
	}
	key, err := identity.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g, _ := guard.NewServer(key.Public().(ed25519.PublicKey))
	register(g, c, authz)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		g.Stop()
		cancel()
		<-followed
	})
	return &Env{Store: c, Authz: authz, Conn: conn, key: key}
}

// As is a context whose calls carry a token for subject holding role over domain.
func (e *Env) As(t testing.TB, subject, roleName, domain string) context.Context {
	t.Helper()
	return e.AsNamed(t, subject, "", roleName, domain)
}

// AsNamed is As with a token that also gives its bearer's display name.
func (e *Env) AsNamed(t testing.TB, subject, name, roleName, domain string) context.Context {
	t.Helper()
	tok, err := identity.Issue(e.key, identity.Claims{Subject: subject, Name: name, Grants: []policies.Grant{{Role: roleName, Domain: domain}}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return identity.WithToken(context.Background(), tok)
}

// Head is the number of events in the log: what a refused command must not change.
func (e *Env) Head(t testing.TB) uint64 {
	t.Helper()
	recs, err := e.Store.ReadAll(context.Background(), store.End, store.Backwards, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return 0
	}
	return recs[0].Position.Commit
}

// Unchanged fails if the log grew since head: a refused command must append nothing.
func (e *Env) Unchanged(t testing.TB, head uint64) {
	t.Helper()
	if now := e.Head(t); now != head {
		t.Fatalf("the log moved from %d to %d: a refused command appended", head, now)
	}
}

// Recorded is one event of a stream, decoded.
type Recorded struct {
	Event events.Event
	Meta  events.Metadata
}

// Stream decodes every event of stream name with reg (the service's registry).
func (e *Env) Stream(t testing.TB, reg *events.Registry, name string) []Recorded {
	t.Helper()
	recs, err := e.Store.ReadStream(context.Background(), name, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	out := make([]Recorded, 0, len(recs))
	for _, rec := range recs {
		ev, md, err := reg.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			t.Fatalf("decode %s@%d: %v", name, rec.Revision, err)
		}
		out = append(out, Recorded{ev, md})
	}
	return out
}

// WantCode fails unless err carries the gRPC code want and, for each rule given,
// a status message naming it (guard.Status keeps the domain error's text); a nil
// rule asks nothing of the message.
func WantCode(t testing.TB, err error, want codes.Code, rules ...error) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		if msg := status.Convert(err).Message(); !strings.Contains(msg, r.Error()) {
			t.Fatalf("message %q does not name %q", msg, r)
		}
	}
}
