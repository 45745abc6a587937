package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// ListenConfig says where and how to serve the protocol.
type ListenConfig struct {
	Addr     string // host:port; "127.0.0.1:0" picks a free port
	CertFile string // TLS certificate and key; both empty = insecure, allowed only on loopback
	KeyFile  string
	// Certificate serves TLS from memory (EphemeralTLS), instead of files.
	Certificate *tls.Certificate
	// Password, when set, is required of every caller (user AdminUser, Basic
	// credentials), as a real node with access control requires them.
	Password string
}

// Server serves the EventStoreDB gRPC protocol for one Store.
type Server struct {
	grpc     *grpc.Server
	lis      net.Listener
	tls      bool
	password string
	stop     chan struct{} // closed by Close: ends subscriptions so the server can stop
	stopped  sync.Once
	served   chan struct{}
}

// ServerVersion is what ServerFeatures announces; the official clients read features
// from the method list, not from the version.
const ServerVersion = "24.10.0"

// Listen starts serving in the background.
func (s *Store) Listen(cfg ListenConfig) (*Server, error) {
	var creds credentials.TransportCredentials
	switch {
	case cfg.Certificate != nil:
		creds = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cfg.Certificate}, MinVersion: tls.VersionTLS12})
	case cfg.CertFile != "" && cfg.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("embedded: TLS: %w", err)
		}
		creds = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	case cfg.CertFile != "" || cfg.KeyFile != "":
		return nil, errors.New("embedded: TLS needs both a certificate and a key file")
	default:
		if !isLoopback(cfg.Addr) {
			return nil, fmt.Errorf("embedded: refusing to serve without TLS on %q: insecure is allowed only on a loopback address", cfg.Addr)
		}
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	opts := []grpc.ServerOption{
		// One proposed event may be as large as a whole append, plus framing.
		grpc.MaxRecvMsgSize(s.cfg.MaxAppendSize + 64<<10),
		// The official clients ping every 10 s by default; the gRPC default policy
		// (5 min) would answer with GOAWAY and drop every subscription.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	if cfg.Password != "" {
		opts = append(opts, authInterceptors(cfg.Password)...)
	}
	srv := &Server{grpc: grpc.NewServer(opts...), lis: lis, tls: creds != nil, password: cfg.Password, stop: make(chan struct{}), served: make(chan struct{})}
	streams.RegisterStreamsServer(srv.grpc, &streamsService{store: s, stop: srv.stop})
	serverfeatures.RegisterServerFeaturesServer(srv.grpc, featuresService{})
	go func() {
		defer close(srv.served)
		_ = srv.grpc.Serve(lis)
	}()
	return srv, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address actually listened on.
func (srv *Server) Addr() string { return srv.lis.Addr().String() }

// URL is the connection string for the official clients.
func (srv *Server) URL() string {
	return fmt.Sprintf("esdb://%s?tls=%t", srv.Addr(), srv.tls)
}

// Close ends subscriptions, lets in-flight calls finish (bounded), and stops serving.
func (srv *Server) Close() {
	srv.stopped.Do(func() {
		close(srv.stop)
		done := make(chan struct{})
		go func() {
			srv.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			srv.grpc.Stop()
		}
		<-srv.served
	})
}

type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const svc = "event_store.client.streams.streams"
	m := func(name string) *serverfeatures.SupportedMethod {
		return &serverfeatures.SupportedMethod{MethodName: name, ServiceName: svc}
	}
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: ServerVersion,
		Methods:                 []*serverfeatures.SupportedMethod{m("read"), m("append"), m("delete"), m("tombstone")},
	}, nil
}

var errServerStopping = status.Error(codes.Unavailable, "event store server is stopping")
