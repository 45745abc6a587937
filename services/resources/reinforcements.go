package resources

import (
	"context"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	pb "vigie/services/resources/resourcespb"
)

type reinforcementsAPI struct {
	s *Service
	pb.UnimplementedReinforcementsServer
}

type decideRequest = func(*reinforcement.Request, events.Actor, time.Time) ([]events.Event, error)

func (a reinforcementsAPI) run(ctx context.Context, name, id, commandID, action string, create *pb.ReinforcementRequest, decide decideRequest) (*pb.ReinforcementReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(commandID); err != nil {
		return nil, err
	}
	stream, err := guard.Stream(reinforcement.Category, id)
	if err != nil {
		return nil, err
	}
	res, err := a.s.reinforcements.Handle(ctx, command.Command[*reinforcement.Request]{
		Name: name, Stream: stream, CommandID: commandID,
		Authorize: func(r *reinforcement.Request) (events.Actor, string, error) {
			if r.Exists() {
				by, err := a.s.guard.ActOn(p, r.Domain(), policies.ObjectReinforcement, action)
				return by, r.Domain(), err
			}
			if create == nil {
				return events.Actor{}, "", reinforcement.ErrNotFound
			}
			by, err := a.s.guard.Act(p, create.Domain, policies.ObjectReinforcement, action)
			return by, create.Domain, err
		},
		Decide: decide,
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	r := res.State
	return &pb.ReinforcementReply{
		RequestId: r.ID(), Domain: r.Domain(), Status: string(r.Status()), IncidentId: r.IncidentID(), Kind: string(r.Kind()), Requested: int32(r.Quantity()), Accepted: int32(r.AcceptedQuantity()),
		Revision: res.Revision, CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare, Duplicate: res.Duplicate,
	}, nil
}

func (a reinforcementsAPI) Request(ctx context.Context, req *pb.ReinforcementRequest) (*pb.ReinforcementReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.RequestId
	if id == "" {
		id = guard.NewID(p.Subject, req.CommandId)
	}
	incidentDomain, err := a.s.incidentDomain(ctx, p, req.IncidentId)
	if err != nil {
		return nil, guard.Status(err)
	}
	return a.run(ctx, "RequestReinforcement", id, req.CommandId, policies.ActionRequest, req, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.SubmitFor(reinforcement.Submission{RequestID: id, Domain: req.Domain, IncidentID: req.IncidentId, Kind: resource.Kind(req.Kind), Quantity: int(req.Quantity), Reason: req.Reason}, incidentDomain, by, now)
	})
}

func (a reinforcementsAPI) Accept(ctx context.Context, req *pb.AcceptReinforcementRequest) (*pb.ReinforcementReply, error) {
	return a.run(ctx, "AcceptReinforcement", req.RequestId, req.CommandId, policies.ActionDecide, nil, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Accept(int(req.Quantity), req.Note, by, now)
	})
}

func (a reinforcementsAPI) Refuse(ctx context.Context, req *pb.RefuseReinforcementRequest) (*pb.ReinforcementReply, error) {
	return a.run(ctx, "RefuseReinforcement", req.RequestId, req.CommandId, policies.ActionDecide, nil, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Refuse(req.Reason, by, now)
	})
}

func (a reinforcementsAPI) Dispatch(ctx context.Context, req *pb.ReinforcementStepRequest) (*pb.ReinforcementReply, error) {
	return a.run(ctx, "DispatchReinforcement", req.RequestId, req.CommandId, policies.ActionDispatch, nil, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Dispatch(by, now)
	})
}

func (a reinforcementsAPI) Arrive(ctx context.Context, req *pb.ReinforcementStepRequest) (*pb.ReinforcementReply, error) {
	return a.run(ctx, "ConfirmReinforcementArrival", req.RequestId, req.CommandId, policies.ActionArrive, nil, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.ConfirmArrival(by, now)
	})
}

func (a reinforcementsAPI) Release(ctx context.Context, req *pb.ReinforcementStepRequest) (*pb.ReinforcementReply, error) {
	return a.run(ctx, "ReleaseReinforcement", req.RequestId, req.CommandId, policies.ActionRelease, nil, func(r *reinforcement.Request, by events.Actor, now time.Time) ([]events.Event, error) {
		return r.Release(by, now)
	})
}
