package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
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
	Addr string // host:port; "127.0.0.1:0" picks a free port
	// Socket, instead of Addr, is the path of a Unix socket to serve on, of mode 0600
	// from the moment it can be reached (it is bound in a private directory beside
	// it, then renamed), and removed by Close. Keep it to MaxSocketPath bytes, in a
	// directory only this user can enter (0700, as the data directory is). A socket
	// left there by a server that died is replaced; one that answers is not.
	Socket   string
	CertFile string // TLS certificate and key; both empty = insecure, allowed only on loopback or a socket
	KeyFile  string
	// Certificate serves TLS from memory (EphemeralTLS), instead of files.
	Certificate *tls.Certificate
	// Password, when set, is required of every caller (user AdminUser, Basic
	// credentials), as a real node with access control requires them.
	Password string
	// Accounts, with Password, are further users known for this start only (the
	// all-in-one's services); they pass the stream access checks (access.go).
	Accounts []Account
	// Users, when set, are required of every caller instead (Basic credentials checked
	// against the users file, LoadUsers); it needs TLS, as the official clients send
	// credentials only over TLS.
	Users *Users
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
	socket   string      // the Unix socket's path, or ""
	sockFile os.FileInfo // the socket file, removed by Close if it is still this one
}

// SocketHost is what Addr, URL and ClientURL give as host:port for a server on a Unix
// socket: a connection string needs one, and store.WithUnixSocket replaces it with the
// socket. "localhost" is also the name the TLS certificate is verified against
// (EphemeralTLS's names it).
const SocketHost = "localhost:2113"

// MaxSocketPath bounds ListenConfig.Socket: a path of this length, and the temporary
// name Listen first binds beside it, fit every Unix's sun_path (104 bytes on the BSDs
// and macOS, 108 on Linux, terminating NUL included).
const MaxSocketPath = 90

// ServerVersion is what ServerFeatures announces; the official clients read features
// from the method list, not from the version.
const ServerVersion = "24.10.0"

// setDefaults has nothing to fill: where to serve, and how securely, are the
// caller's to say. Listen calls it all the same, as every entry point calls its
// configuration's, so that a default added later is in place before Validate.
func (c *ListenConfig) setDefaults() {}

// Validate reports every problem of c at once, each naming its field: these are
// the configurations Listen refuses before it binds anything.
func (c ListenConfig) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf("embedded: "+format, args...)) }
	switch {
	case c.Addr != "" && c.Socket != "":
		fail("give Addr or Socket, not both")
	case c.Addr == "" && c.Socket == "":
		fail("give Addr or Socket: ListenConfig has neither")
	}
	addrOK := true
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			addrOK = false
			fail("ListenConfig.Addr %q is not host:port", c.Addr)
		}
	}
	if len(c.Socket) > MaxSocketPath {
		fail("ListenConfig.Socket: path %q is longer than %d bytes", c.Socket, MaxSocketPath)
	}
	files := c.CertFile != "" || c.KeyFile != ""
	switch {
	case c.CertFile != "" && c.KeyFile == "":
		fail("ListenConfig.KeyFile is empty: TLS needs both a certificate and a key file")
	case c.CertFile == "" && c.KeyFile != "":
		fail("ListenConfig.CertFile is empty: TLS needs both a certificate and a key file")
	}
	if c.Certificate != nil && files {
		fail("ListenConfig.Certificate with CertFile/KeyFile: give one TLS certificate, from memory or from files")
	}
	// A half-given pair already failed above: it asked for TLS, so it is not also
	// reported as insecure.
	withTLS := c.Certificate != nil || files
	if !withTLS && c.Socket == "" && c.Addr != "" && addrOK && !isLoopback(c.Addr) {
		fail("refusing to serve without TLS on %q (ListenConfig.Addr): insecure is allowed only on a loopback address or a Unix socket", c.Addr)
	}
	if c.Users != nil && !withTLS {
		fail("ListenConfig.Users need TLS: the clients send credentials only over TLS")
	}
	if len(c.Accounts) > 0 {
		if c.Password == "" {
			fail("ListenConfig.Accounts need the admin's Password")
		}
		if c.Users != nil {
			fail("ListenConfig.Accounts with Users: the users file decides who may call, the accounts would be ignored")
		}
	}
	return errors.Join(errs...)
}

// Listen starts serving in the background, once cfg is valid (Validate).
func (s *Store) Listen(cfg ListenConfig) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	switch {
	case cfg.Certificate != nil:
		creds = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cfg.Certificate}, MinVersion: tls.VersionTLS12})
	case cfg.CertFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("embedded: TLS: %w", err)
		}
		creds = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	var (
		lis      net.Listener
		sockFile os.FileInfo
		err      error
	)
	if cfg.Socket != "" {
		lis, sockFile, err = listenUnix(cfg.Socket)
	} else {
		lis, err = net.Listen("tcp", cfg.Addr)
	}
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
	switch {
	case cfg.Users != nil:
		opts = append(opts, authInterceptors(cfg.Users.Login)...)
	case cfg.Password != "":
		opts = append(opts, authInterceptors(accountsLogin(append([]Account{{Name: AdminUser, Password: cfg.Password}}, cfg.Accounts...)))...)
	}
	srv := &Server{grpc: grpc.NewServer(opts...), lis: lis, tls: creds != nil, password: cfg.Password, stop: make(chan struct{}), served: make(chan struct{}),
		socket: cfg.Socket, sockFile: sockFile}
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

// listenUnix listens on a Unix socket at path that only this user can connect to,
// from the first moment: the socket is bound in a fresh directory of mode 0700 beside
// path, made 0600 there, then renamed to path (a rename keeps the bound socket). A
// chmod after binding in place would leave it, for that instant, as open as the umask
// makes it, and a connection accepted then stays. A socket already at path is
// replaced if nothing answers it (its server died), refused otherwise; any other file
// there is refused.
func listenUnix(path string) (*net.UnixListener, os.FileInfo, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, nil, fmt.Errorf("%s is already served", path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	private, err := os.MkdirTemp(filepath.Dir(path), ".s") // 0700
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(private)
	tmp := filepath.Join(private, "s")
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	lis.SetUnlinkOnClose(false) // it is renamed: Close removes path itself
	fail := func(err error) (*net.UnixListener, os.FileInfo, error) {
		lis.Close()
		return nil, nil, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return lis, fi, nil
}

// Addr is the address actually listened on, host:port; for a server on a Unix
// socket, SocketHost (Socket gives the path).
func (srv *Server) Addr() string {
	if srv.socket != "" {
		return SocketHost
	}
	return srv.lis.Addr().String()
}

// Socket is the path of the Unix socket served on, or "" on TCP.
func (srv *Server) Socket() string { return srv.socket }

// URL is the connection string for the official clients. For a server on a Unix
// socket its host:port is SocketHost: open it with store.WithUnixSocket(srv.Socket()).
func (srv *Server) URL() string {
	return fmt.Sprintf("esdb://%s?tls=%t", srv.Addr(), srv.tls)
}

// Close ends subscriptions, lets in-flight calls finish (bounded), and stops serving;
// it removes its Unix socket, unless another file replaced it.
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
		if srv.sockFile != nil {
			if fi, err := os.Lstat(srv.socket); err == nil && os.SameFile(fi, srv.sockFile) {
				_ = os.Remove(srv.socket)
			}
		}
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
