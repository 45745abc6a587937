package identity

import (
	"context"
	"crypto/ed25519"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"vigie/policies"
)

// MetadataKey carries the token in gRPC metadata, as "Bearer <token>".
const MetadataKey = "authorization"

// healthPrefix names the standard health service, which orchestrators call
// without a token.
const healthPrefix = "/grpc.health.v1.Health/"

// WithToken returns ctx whose outgoing gRPC calls carry token, replacing any
// token ctx carried.
func WithToken(ctx context.Context, token string) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(MetadataKey, "Bearer "+token)
	return metadata.NewOutgoingContext(ctx, md)
}

type principalKey struct{}

// NewContext returns ctx carrying p, as the interceptors do once a token is
// verified; tests of handlers use it directly.
func NewContext(ctx context.Context, p policies.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller verified by the interceptor.
func FromContext(ctx context.Context) (policies.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(policies.Principal)
	return p, ok
}

// UnaryServerInterceptor verifies the token of every call with pub and puts
// the caller in the handler's context (FromContext); a call without a valid
// token is answered codes.Unauthenticated and never reaches the handler. The
// health service is exempt.
func UnaryServerInterceptor(pub ed25519.PublicKey) grpc.UnaryServerInterceptor {
	v := NewVerifier(pub)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if strings.HasPrefix(info.FullMethod, healthPrefix) {
			return handler(ctx, req)
		}
		p, err := authenticate(ctx, v)
		if err != nil {
			return nil, err
		}
		return handler(NewContext(ctx, p), req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming calls.
func StreamServerInterceptor(pub ed25519.PublicKey) grpc.StreamServerInterceptor {
	v := NewVerifier(pub)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if strings.HasPrefix(info.FullMethod, healthPrefix) {
			return handler(srv, ss)
		}
		p, err := authenticate(ss.Context(), v)
		if err != nil {
			return err
		}
		return handler(srv, &principalStream{ServerStream: ss, ctx: NewContext(ss.Context(), p)})
	}
}

type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

func authenticate(ctx context.Context, v *Verifier) (policies.Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(MetadataKey)
	switch len(values) {
	case 0:
		return policies.Principal{}, status.Error(codes.Unauthenticated, "no identity token")
	case 1:
	default:
		// Two tokens: which one would the gateway have meant?
		return policies.Principal{}, status.Error(codes.Unauthenticated, "more than one identity token")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return policies.Principal{}, status.Error(codes.Unauthenticated, "the identity token is not a Bearer token")
	}
	p, err := v.Verify(strings.TrimSpace(token))
	if err != nil {
		return policies.Principal{}, status.Error(codes.Unauthenticated, err.Error())
	}
	return p, nil
}
