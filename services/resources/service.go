package resources

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	pb "vigie/services/resources/resourcespb"
)

// Service holds the command handlers of both aggregates.
type Service struct {
	store          *store.Client
	guard          guard.Guard
	resources      *command.Handler[*resource.Resource]
	reinforcements *command.Handler[*reinforcement.Request]
}

// Registry returns the event types this service writes.
func Registry() (*events.Registry, error) {
	reg := events.NewRegistry()
	if err := resource.Register(reg); err != nil {
		return nil, err
	}
	if err := reinforcement.Register(reg); err != nil {
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
	// One history for the service's aggregates: their streams have distinct names.
	history := command.NewHistory(20_000)
	return &Service{
		store:          c,
		guard:          guard.Guard{Authz: authz},
		resources:      &command.Handler[*resource.Resource]{Store: c, Registry: reg, Now: now, History: history, New: func() *resource.Resource { return &resource.Resource{} }},
		reinforcements: &command.Handler[*reinforcement.Request]{Store: c, Registry: reg, Now: now, History: history, New: func() *reinforcement.Request { return &reinforcement.Request{} }},
	}, nil
}

// Register serves both gRPC APIs on g.
func (s *Service) Register(g grpc.ServiceRegistrar) {
	pb.RegisterResourcesServer(g, resourcesAPI{s: s})
	pb.RegisterReinforcementsServer(g, reinforcementsAPI{s: s})
}

type resourcesAPI struct {
	s *Service
	pb.UnimplementedResourcesServer
}

type decideResource = func(*resource.Resource, events.Actor, time.Time) ([]events.Event, error)

// exec runs a command on an existing resource.
func (a resourcesAPI) exec(ctx context.Context, name, id, commandID, action string, decide decideResource) (*pb.ResourceReply, error) {
	return a.run(ctx, name, id, commandID, func(p policies.Principal, r *resource.Resource) (events.Actor, string, error) {
		if !r.Exists() {
			return events.Actor{}, "", resource.ErrNotFound
		}
		by, err := a.s.guard.ActOn(p, r.Domain(), policies.ObjectResource, action)
		return by, r.Domain(), err
	}, decide)
}

func (a resourcesAPI) run(ctx context.Context, name, id, commandID string, authorize func(policies.Principal, *resource.Resource) (events.Actor, string, error), decide decideResource) (*pb.ResourceReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(commandID); err != nil {
		return nil, err
	}
	stream, err := guard.Stream(events.CategoryResource, id)
	if err != nil {
		return nil, err
	}
	res, err := a.s.resources.Handle(ctx, command.Command[*resource.Resource]{
		Name: name, Stream: stream, CommandID: commandID,
		Authorize: func(r *resource.Resource) (events.Actor, string, error) { return authorize(p, r) },
		Decide:    decide,
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	r := res.State
	return &pb.ResourceReply{
		ResourceId: r.ID(), Domain: r.Domain(), Status: string(r.Status()), IncidentId: r.IncidentID(),
		Capacity: int32(r.Capacity()), Occupancy: int32(r.Occupancy()), Revision: res.Revision,
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare, Duplicate: res.Duplicate,
	}, nil
}

func (a resourcesAPI) Register(ctx context.Context, req *pb.RegisterRequest) (*pb.ResourceReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.ResourceId
	if id == "" {
		id = guard.NewID(p.Subject, req.CommandId)
	}
	return a.run(ctx, "RegisterResource", id, req.CommandId, func(p policies.Principal, r *resource.Resource) (events.Actor, string, error) {
		if r.Exists() { // an id chosen twice: answer as for any command on it
			by, err := a.s.guard.ActOn(p, r.Domain(), policies.ObjectResource, policies.ActionRegister)
			return by, r.Domain(), err
		}
		by, err := a.s.guard.Act(p, req.Domain, policies.ObjectResource, policies.ActionRegister)
		return by, req.Domain, err
	}, func(r *resource.Resource, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Register(resource.Registration{ResourceID: id, Domain: req.Domain, Kind: resource.Kind(req.Kind), Name: req.Name, Capacity: int(req.Capacity)}, by, now)
	})
}

func (a resourcesAPI) Engage(ctx context.Context, req *pb.EngageRequest) (*pb.ResourceReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	incidentDomain, err := a.s.incidentDomain(ctx, p, req.IncidentId)
	if err != nil {
		return nil, guard.Status(err)
	}
	return a.exec(ctx, "EngageResource", req.ResourceId, req.CommandId, policies.ActionEngage, func(r *resource.Resource, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.EngageOn(req.IncidentId, incidentDomain, by, now)
	})
}

// incidentDomain: the incident's domain when p may read it (guard.IncidentDomain).
func (s *Service) incidentDomain(ctx context.Context, p policies.Principal, id string) (string, error) {
	return s.guard.IncidentDomain(ctx, s.store, p, id)
}

func (a resourcesAPI) Release(ctx context.Context, req *pb.ReleaseRequest) (*pb.ResourceReply, error) {
	return a.exec(ctx, "ReleaseResource", req.ResourceId, req.CommandId, policies.ActionRelease, func(r *resource.Resource, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Release(by, now)
	})
}

func (a resourcesAPI) SetStatus(ctx context.Context, req *pb.SetStatusRequest) (*pb.ResourceReply, error) {
	return a.exec(ctx, "SetResourceStatus", req.ResourceId, req.CommandId, policies.ActionSetStatus, func(r *resource.Resource, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.SetStatus(resource.Status(req.Status), by, now)
	})
}

func (a resourcesAPI) SetOccupancy(ctx context.Context, req *pb.SetOccupancyRequest) (*pb.ResourceReply, error) {
	return a.exec(ctx, "SetShelterOccupancy", req.ResourceId, req.CommandId, policies.ActionSetOccupancy, func(r *resource.Resource, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.SetOccupancy(int(req.Occupancy), by, now)
	})
}
