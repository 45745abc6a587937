package embedded

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// AdminUser is the user the embedded store knows when it is given a password.
const AdminUser = "admin"

// NewPassword returns a random password for a store served to this process
// only: the all-in-one `vigie serve` makes one at every start and keeps it in
// memory, so a local process that finds the loopback port still cannot read
// the log (the residents' sealed data, the role grants) nor append to it.
func NewPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// authInterceptors refuse every call without valid Basic credentials, as a real node
// does once access control is on: no credentials answer PermissionDenied "Access
// Denied" with the `exception: access-denied` trailer (the server's
// RpcExceptions.AccessDenied, for an anonymous caller now that anonymous stream
// access is off by default; the clients report ErrorCodeAccessDenied), wrong ones
// Unauthenticated (the server's authentication middleware; the clients report
// ErrorCodeUnauthenticated). ServerFeatures stays open: the official clients ask it
// before they send credentials, and it reveals only the protocol's method list.
// login is Users.Login, or for the all-in-one the accounts made at its start.
func authInterceptors(login func(user, pass string) (*Principal, bool)) []grpc.ServerOption {
	check := func(ctx context.Context, method string) (context.Context, error) {
		if strings.HasPrefix(method, "/event_store.client.server_features.") {
			return ctx, nil
		}
		md, _ := metadata.FromIncomingContext(ctx)
		got := md.Get("authorization")
		if len(got) == 0 {
			return ctx, errAccessDenied
		}
		for _, h := range got {
			if user, pass, ok := parseBasic(h); ok {
				if p, ok := login(user, pass); ok {
					return withPrincipal(ctx, p), nil
				}
			}
		}
		return ctx, errBadCredentials
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			ctx, err := check(ctx, info.FullMethod)
			if err != nil {
				if err == errAccessDenied {
					_ = grpc.SetTrailer(ctx, accessDeniedTrailer)
				}
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			ctx, err := check(ss.Context(), info.FullMethod)
			if err != nil {
				if err == errAccessDenied {
					ss.SetTrailer(accessDeniedTrailer)
				}
				drainRequests(ss)
				return err
			}
			return h(srv, principalStream{ServerStream: ss, ctx: ctx})
		}),
	}
}

// drainRequests reads and drops what the caller sends until it closes its side (or
// for 2 s at most), before a refused streaming call is answered. The official client
// sends an append's messages (and a read's request) before it looks at the answer: an
// answer that ends the stream first makes its Send fail with io.EOF, which it reports
// as ErrorCodeUnknown instead of the refusal's code.
func drainRequests(ss grpc.ServerStream) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ss.RecvMsg(new(emptypb.Empty)) == nil { // any message decodes as Empty (unknown fields)
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

var (
	errAccessDenied     = status.Error(codes.PermissionDenied, "Access Denied")
	errBadCredentials   = status.Error(codes.Unauthenticated, "Bad login or password")
	accessDeniedTrailer = metadata.Pairs("exception", "access-denied")
)

// parseBasic decodes "Basic base64(user:password)", the header the official clients
// send for the credentials of their connection string.
func parseBasic(h string) (user, pass string, ok bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(b), ":")
	return user, pass, ok && user != ""
}

// Account is a user the all-in-one makes at each start and keeps in memory, with a
// password from NewPassword: one per Vigie service, each limited by the stream
// policy to what that service does.
type Account struct {
	Name     string
	Password string
	Groups   []string
}

// accountsLogin checks a pair against accounts, in constant time per account.
func accountsLogin(accounts []Account) func(user, pass string) (*Principal, bool) {
	return func(user, pass string) (*Principal, bool) {
		var found *Principal
		for _, a := range accounts {
			ok := subtle.ConstantTimeCompare([]byte(user), []byte(a.Name)) & subtle.ConstantTimeCompare([]byte(pass), []byte(a.Password))
			if ok == 1 && found == nil {
				found = &Principal{Name: a.Name, Groups: a.Groups}
			}
		}
		return found, found != nil
	}
}

// ClientURL is URL with the admin's credentials, for a client in this
// process. Never log it.
func (srv *Server) ClientURL() string {
	if srv.password == "" {
		return srv.URL()
	}
	return srv.URLFor(AdminUser, srv.password)
}

// URLFor is URL with the credentials of user. Never log it.
func (srv *Server) URLFor(user, password string) string {
	return fmt.Sprintf("esdb://%s@%s?tls=%t", url.UserPassword(user, password).String(), srv.Addr(), srv.tls)
}

// EphemeralTLS makes a self-signed certificate for the loopback addresses,
// held in memory only, and the pool that trusts it: the all-in-one process
// serves its store over TLS to itself, because the official client sends
// credentials only over TLS. Nothing is written: a new one at every start.
func EphemeralTLS() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "vigie embedded event store"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
