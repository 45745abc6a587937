// Package guardtest starts what a service's tests need around it: an embedded event
// store, the store client, an authorizer following role grants from the log, and the
// service on a real gRPC server with identity verification, reached over loopback.
package guardtest

import (
	"context"
	"crypto/ed25519"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"vigie/events/store"
	"vigie/events/storetest"
	"vigie/policies"
	"vigie/policies/grantlog"
	"vigie/policies/guard"
	"vigie/policies/identity"
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
	tok, err := identity.Issue(e.key, identity.Claims{Subject: subject, Grants: []policies.Grant{{Role: roleName, Domain: domain}}}, time.Hour)
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
