// Package guard is what every Vigie service does around a command: identify the caller
// from the verified token, decide in which role they act over the domain concerned (or
// refuse), and turn the outcome into the gRPC status the gateway maps to its
// error codes (graph/resolver/errors.go). One place, so the incidents, resources and alerts services cannot differ.
package guard

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/territory"
	"vigie/identity"
	"vigie/policies"
)

// Guard authorizes commands with the policies.
type Guard struct {
	Authz *policies.Authorizer
}

// Caller is the authenticated principal of a call (set by identity's interceptor).
func Caller(ctx context.Context) (policies.Principal, error) {
	p, ok := identity.FromContext(ctx)
	if !ok {
		return policies.Principal{}, status.Error(codes.Unauthenticated, "aucune identité vérifiée sur l'appel")
	}
	return p, nil
}

// roleOrder decides the role recorded for an actor holding several roles over a
// domain: the one with the widest authority in the commune comes first, so the events
// say "the mayor escalated" rather than "the operator" for a mayor who is both.
var roleOrder = []string{events.RoleMayor, events.RoleRAC, events.RolePrefecture, events.RoleOperator, events.RoleField, events.RoleAdmin, events.RoleObserver}

// Act authorizes p to perform action on object in domain, and says as whom.
func (g Guard) Act(p policies.Principal, domain, object, action string) (events.Actor, error) {
	if err := g.Authz.Authorize(p, domain, object, action); err != nil {
		return events.Actor{}, err
	}
	held := g.Authz.RolesIn(p, domain)
	for _, r := range roleOrder {
		if slices.Contains(held, r) && g.Authz.Allows(r, object, action) {
			// The name goes with the actor into the events' metadata, so the
			// log says who decided by name (events.Metadata.ActorName).
			return events.Actor{Subject: p.Subject, Role: r, Name: p.Name}, nil
		}
	}
	// Authorize said yes, so one of the held roles allows it; keep the first.
	return events.Actor{}, fmt.Errorf("%w: no role of the caller allows %s %s", policies.ErrForbidden, object, action)
}

// ActOn is Act on an aggregate that exists in domain: a caller who may not even read
// that domain is told it does not exist, so refusals reveal nothing of other
// communes (no existence oracle); a reader who may not act is told they may not.
func (g Guard) ActOn(p policies.Principal, domain, object, action string) (events.Actor, error) {
	by, err := g.Act(p, domain, object, action)
	if err == nil || action == policies.ActionRead {
		return by, err
	}
	if g.Authz.Authorize(p, domain, object, policies.ActionRead) != nil {
		return events.Actor{}, fmt.Errorf("%s %w", object, events.ErrNotFound)
	}
	return events.Actor{}, err
}

// namespace makes ids that no other system derives the same way.
var namespace = uuid.MustParse("0b9f4b5e-0d0e-4c43-8d6f-5d2c7c1e9a77")

// NewID is the id of an aggregate a command creates when the client chose none: derived
// from the caller and the command id, so a resent creation finds what the first made.
func NewID(subject, commandID string) string {
	return uuid.NewSHA1(namespace, []byte(subject+"\x00"+commandID)).String()
}

// MaxCommandID bounds command ids (idempotency keys chosen by clients).
const MaxCommandID = 128

// CommandID checks a command id.
func CommandID(id string) error {
	if id == "" || len(id) > MaxCommandID {
		return status.Errorf(codes.InvalidArgument, "identifiant de commande : de 1 à %d octets", MaxCommandID)
	}
	return nil
}

// Stream is the stream of an aggregate id given by a client, checked.
func Stream(category, id string) (string, error) {
	s := events.StreamID(category, id)
	if id == "" || len(id) > 128 || events.ValidateStreamID(s) != nil {
		return "", status.Error(codes.InvalidArgument, "identifiant invalide : de 1 à 128 octets, sans espace ni caractère de contrôle")
	}
	return s, nil
}

// Status turns the outcome of a command into a gRPC status whose message names the
// rule, never another domain's data.
func Status(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var refused *command.RefusedError
	switch {
	case errors.Is(err, events.ErrInvalidInput):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, events.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, policies.ErrForbidden):
		return status.Error(codes.PermissionDenied, "action non autorisée pour votre rôle sur ce territoire")
	case errors.Is(err, identity.ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, "authentification requise")
	case errors.As(err, &refused):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, command.ErrTooManyConflicts), errors.Is(err, store.ErrConflict):
		return status.Error(codes.Aborted, "trop de modifications concurrentes : réessayez")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "délai dépassé")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "annulé")
	case errors.Is(err, store.ErrUnavailable):
		return status.Error(codes.Unavailable, "journal des événements indisponible")
	}
	return status.Error(codes.Internal, "erreur interne")
}

// NewServer is the gRPC server of a Vigie service: every call but health checks is
// authenticated with the identity key (so a handler never runs for an unknown
// caller), traced with OpenTelemetry (spans carry no request data), and the standard
// health service answers SERVING.
func NewServer(pub ed25519.PublicKey, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	opts = append([]grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(identity.UnaryServerInterceptor(pub)),
		grpc.ChainStreamInterceptor(identity.StreamServerInterceptor(pub)),
		grpc.MaxRecvMsgSize(1 << 20),
	}, opts...)
	g := grpc.NewServer(opts...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(g, h)
	return g, h
}

// IncidentDomain is the domain of the incident id as the incident's own stream
// records it, when p may read that incident; "" when id is empty, when there is
// no such incident or when p may not read it, which the domains refuse alike (so
// an id of another commune tells nothing an unknown id does not). Only the
// incidents service writes that stream and it files every event under the
// incident's domain (the metadata's), so the first event says it; a service
// reads it itself rather than trusting the gateway's board, being the authority.
func (g Guard) IncidentDomain(ctx context.Context, st *store.Client, p policies.Principal, id string) (string, error) {
	stream := events.StreamID(events.CategoryIncident, id)
	if id == "" || events.ValidateStreamID(stream) != nil {
		return "", nil // the domain refuses the id itself
	}
	recs, err := st.ReadStream(ctx, stream, store.Start, store.Forwards, 1)
	if errors.Is(err, store.ErrStreamNotFound) || errors.Is(err, store.ErrStreamDeleted) || err == nil && len(recs) == 0 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var md events.Metadata
	if err := json.Unmarshal(recs[0].Metadata, &md); err != nil {
		return "", fmt.Errorf("guard: %s@0: %w", stream, err)
	}
	domain, err := territory.Canonical(md.Domain)
	if err != nil || g.Authz.Authorize(p, domain, policies.ObjectIncident, policies.ActionRead) != nil {
		return "", nil
	}
	return domain, nil
}
