// Package roles is the Roles API: who holds which role on which domain, granted and
// revoked by the administrators (and a commune's mayor confirmed by the prefecture),
// recorded as events in role-<domain>; the policies follow those events
// (policies.Follow) to authorize everyone else. The grants' rules are the aggregate's
// (package role); this package checks who asks and turns the outcome into gRPC.
package roles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/roles/role"
	pb "vigie/services/roles/rolespb"
)

// Service holds the command handler of the role grants.
type Service struct {
	guard guard.Guard
	roles *command.Handler[*role.Assignments]
}

// Registry returns the event types this service writes.
func Registry() (*events.Registry, error) {
	reg := events.NewRegistry()
	if err := role.Register(reg); err != nil {
		return nil, err
	}
	return reg, nil
}

// New builds the service; now may be nil (the wall clock).
func New(c *store.Client, authz *policies.Authorizer, now func() time.Time) (*Service, error) {
	reg, err := Registry()
	if err != nil {
		return nil, err
	}
	return &Service{
		guard: guard.Guard{Authz: authz},
		roles: &command.Handler[*role.Assignments]{Store: c, Registry: reg, Now: now},
	}, nil
}

// Register serves the Roles API on g.
func (s *Service) Register(g grpc.ServiceRegistrar) {
	pb.RegisterRolesServer(g, rolesAPI{s: s})
}

type rolesAPI struct {
	s *Service
	pb.UnimplementedRolesServer
}

func (a rolesAPI) Grant(ctx context.Context, req *pb.RoleRequest) (*pb.RoleReply, error) {
	return a.run(ctx, "GrantRole", policies.ActionGrant, req, (*role.Assignments).Grant)
}

func (a rolesAPI) Revoke(ctx context.Context, req *pb.RoleRequest) (*pb.RoleReply, error) {
	return a.run(ctx, "RevokeRole", policies.ActionRevoke, req, (*role.Assignments).Revoke)
}

func (a rolesAPI) run(ctx context.Context, name, action string, req *pb.RoleRequest, decide func(*role.Assignments, events.Actor, string, string, time.Time) ([]events.Event, error)) (*pb.RoleReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(req.CommandId); err != nil {
		return nil, err
	}
	stream, err := role.StreamID(req.Domain)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	// The domain is part of the request, so each command gets a handler whose fresh
	// state knows it; handlers are plain values.
	h := *a.s.roles
	h.New = func() *role.Assignments { as, _ := role.New(req.Domain); return as }
	res, err := h.Handle(ctx, command.Command[*role.Assignments]{
		Name: name, Stream: stream, CommandID: req.CommandId,
		Authorize: func(as *role.Assignments) (events.Actor, string, error) {
			by, err := a.s.guard.Act(p, as.Domain(), policies.ObjectRole, action)
			if err != nil && action == policies.ActionGrant {
				// The prefecture grants nothing, but confirms a commune's mayor: it
				// acts as the one whose policy allows that, and the role domain
				// refuses it anything else.
				if conf, cerr := a.s.guard.Act(p, as.Domain(), policies.ObjectRole, policies.ActionConfirm); cerr == nil {
					by, err = conf, nil
				}
			}
			return by, as.Domain(), err
		},
		Decide: func(as *role.Assignments, by events.Actor, now time.Time) ([]events.Event, error) {
			evs, err := decide(as, by, req.Subject, req.Role, now)
			switch {
			case errors.Is(err, role.ErrUnknownRole) || errors.Is(err, role.ErrInvalidSubject):
				// Malformed requests, not refusals by a rule: the role package's errors
				// are not of the events.ErrInvalidInput family guard.Status maps.
				err = fmt.Errorf("%w: %w", events.ErrInvalidInput, err)
			case errors.Is(err, role.ErrNotAdmin):
				// Someone the policy let in only to confirm (the prefecture) asked for
				// more: a refusal of who they are, answered as the policy's are.
				err = fmt.Errorf("%w: %w", policies.ErrForbidden, err)
			}
			return evs, err
		},
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	_, pending := res.State.Pending(req.Subject, req.Role)
	return &pb.RoleReply{
		Subject: req.Subject, Role: req.Role, Domain: res.State.Domain(), Pending: pending,
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare, Duplicate: res.Duplicate,
	}, nil
}
