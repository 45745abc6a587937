package identity

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"vigie/policies"
)

// commandService stands for a Vigie service: EmptyCall is the command "approve
// an alert of Nîmes", which the service authorizes itself before appending;
// StreamingOutputCall stands for a streaming query.
type commandService struct {
	testpb.UnimplementedTestServiceServer
	authz *policies.Authorizer

	mu       sync.Mutex
	appended []string // subjects whose command was appended
	seen     []policies.Principal
}

func (s *commandService) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no caller")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, p)
	if err := s.authz.Authorize(p, "dep:30/com:30189", policies.ObjectAlert, policies.ActionApprove); err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	s.appended = append(s.appended, p.Subject)
	return &testpb.Empty{}, nil
}

func (s *commandService) StreamingOutputCall(_ *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	p, ok := FromContext(stream.Context())
	if !ok {
		return status.Error(codes.Internal, "no caller in a stream that passed the interceptor")
	}
	return stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte(p.Subject)}})
}

type fixture struct {
	key    []byte
	svc    *commandService
	client testpb.TestServiceClient
	health healthpb.HealthClient
}

func serve(t *testing.T) *fixture {
	t.Helper()
	pub, key := newKey(t)
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(pub)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(pub)),
	)
	svc := &commandService{authz: authz}
	testpb.RegisterTestServiceServer(srv, svc)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &fixture{key: key, svc: svc, client: testpb.NewTestServiceClient(conn), health: healthpb.NewHealthClient(conn)}
}

func (f *fixture) token(t *testing.T, c Claims) string {
	t.Helper()
	tok, err := Issue(f.key, c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAVerifiedCallerReachesTheService(t *testing.T) {
	f := serve(t)
	c := WithToken(ctx(t), f.token(t, mayorOfNimes))
	if _, err := f.client.EmptyCall(c, &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	want := policies.Principal{Subject: mayorOfNimes.Subject, Grants: mayorOfNimes.Grants}
	if len(f.svc.seen) != 1 || f.svc.seen[0].Subject != want.Subject || len(f.svc.seen[0].Grants) != 1 || f.svc.seen[0].Grants[0] != want.Grants[0] {
		t.Fatalf("the service saw %+v, want %+v", f.svc.seen, want)
	}
	if len(f.svc.appended) != 1 {
		t.Fatalf("appended %v", f.svc.appended)
	}
}

func TestUnauthenticatedCallsNeverReachTheService(t *testing.T) {
	f := serve(t)
	_, otherKey := newKey(t)
	foreign, err := Issue(otherKey, mayorOfNimes, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := issue(f.key, mayorOfNimes, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	good := f.token(t, mayorOfNimes)
	for name, c := range map[string]context.Context{
		"no token":           ctx(t),
		"empty token":        WithToken(ctx(t), ""),
		"garbage":            WithToken(ctx(t), "garbage"),
		"another key":        WithToken(ctx(t), foreign),
		"expired":            WithToken(ctx(t), expired),
		"not Bearer":         metadata.AppendToOutgoingContext(ctx(t), "authorization", "Basic "+good),
		"no scheme":          metadata.AppendToOutgoingContext(ctx(t), "authorization", good),
		"two tokens":         metadata.AppendToOutgoingContext(WithToken(ctx(t), good), "authorization", "Bearer "+good),
		"token in other key": metadata.AppendToOutgoingContext(ctx(t), "x-token", "Bearer "+good),
	} {
		_, err := f.client.EmptyCall(c, &testpb.Empty{})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
		stream, err := f.client.StreamingOutputCall(c, &testpb.StreamingOutputCallRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s (stream): %v, want Unauthenticated", name, err)
		}
	}
	if len(f.svc.seen) != 0 || len(f.svc.appended) != 0 {
		t.Fatalf("refused calls reached the handler: seen %v, appended %v", f.svc.seen, f.svc.appended)
	}
}

func TestAnAuthenticatedButUnauthorizedCallAppendsNothing(t *testing.T) {
	f := serve(t)
	for _, c := range []Claims{
		{Subject: "op-1", Grants: []policies.Grant{{Role: "operator", Domain: "dep:30/com:30189"}}},
		{Subject: "maire-13", Grants: []policies.Grant{{Role: "mayor", Domain: "dep:13/com:13047"}}},
		{Subject: "nobody"},
	} {
		_, err := f.client.EmptyCall(WithToken(ctx(t), f.token(t, c)), &testpb.Empty{})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", c.Subject, err)
		}
	}
	if len(f.svc.appended) != 0 {
		t.Fatalf("appended %v", f.svc.appended)
	}
}

func TestStreamsCarryTheCaller(t *testing.T) {
	f := serve(t)
	stream, err := f.client.StreamingOutputCall(WithToken(ctx(t), f.token(t, mayorOfNimes)), &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msg.GetPayload().GetBody()); got != mayorOfNimes.Subject {
		t.Fatalf("the stream handler saw %q", got)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("end of stream: %v", err)
	}
}

func TestHealthChecksNeedNoToken(t *testing.T) {
	f := serve(t)
	res, err := f.health.Check(ctx(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("status %v", res.GetStatus())
	}
	w, err := f.health.Watch(ctx(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := w.Recv(); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v %v", res, err)
	}
}

func TestWithTokenReplacesAnEarlierToken(t *testing.T) {
	c := WithToken(WithToken(metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "r-1"), "first"), "second")
	md, _ := metadata.FromOutgoingContext(c)
	if got := md.Get(MetadataKey); len(got) != 1 || got[0] != "Bearer second" {
		t.Fatalf("authorization = %q", got)
	}
	if got := md.Get("x-request-id"); len(got) != 1 {
		t.Fatalf("other metadata lost: %v", md)
	}
}

func TestFromContextWithoutACaller(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("a caller in an empty context")
	}
	p := policies.Principal{Subject: "u-1"}
	if got, ok := FromContext(NewContext(context.Background(), p)); !ok || got.Subject != "u-1" {
		t.Fatalf("FromContext = %+v, %v", got, ok)
	}
}
