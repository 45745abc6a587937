package resolver

import (
	"context"

	"vigie/events/store"
	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	"vigie/projections/prefecture"
	resourcespb "vigie/services/resources/resourcespb"
)

func reinforcementFromReply(r *resourcespb.ReinforcementReply) *model.Reinforcement {
	out := &model.Reinforcement{
		ID: r.RequestId, Domain: r.Domain, IncidentID: r.IncidentId, Kind: model.ResourceKind(upper(r.Kind)),
		Quantity: int(r.Requested), Status: model.ReinforcementStatus(upper(r.Status)),
	}
	if r.Accepted > 0 {
		a := int(r.Accepted)
		out.Accepted = &a
	}
	return out
}

// reinforcementCommand sends a command on a reinforcement request. The service
// authorizes it on its stream (the commune asks and confirms; the prefecture decides
// and dispatches); the answer is the request once the prefecture's overview shows it.
func (r *Resolver) reinforcementCommand(ctx context.Context, call func(context.Context) (*resourcespb.ReinforcementReply, error)) (*model.Reinforcement, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	reply, err := call(identity.WithToken(ctx, c.Forward))
	if err != nil {
		return nil, fromService(err)
	}
	r.settle(ctx, prefecture.Name, store.Position{Commit: reply.CommitPosition, Prepare: reply.PreparePosition})
	return reinforcementFromReply(reply), nil
}

func (r *Resolver) requestReinforcement(ctx context.Context, in model.RequestReinforcementInput, cmd *string) (*model.Reinforcement, error) {
	if _, err := r.authorize(ctx, in.Domain, policies.ObjectReinforcement, policies.ActionRequest); err != nil {
		return nil, err
	}
	if in.Quantity < 0 || in.Quantity > 1<<20 {
		return nil, Error(CodeInvalidInput, "quantité hors limites : entre 0 et 1048576")
	}
	req := &resourcespb.ReinforcementRequest{CommandId: cmdID(cmd), Domain: in.Domain, IncidentId: in.IncidentID, Kind: lower(string(in.Kind)), Quantity: int32(in.Quantity)}
	if in.Reason != nil {
		req.Reason = *in.Reason
	}
	return r.reinforcementCommand(ctx, func(ctx context.Context) (*resourcespb.ReinforcementReply, error) {
		return r.Reinforcements.Request(ctx, req)
	})
}

func (r *Resolver) acceptReinforcement(ctx context.Context, id string, quantity int, note *string, cmd *string) (*model.Reinforcement, error) {
	if quantity < 0 || quantity > 1<<20 {
		return nil, Error(CodeInvalidInput, "quantité hors limites : entre 0 et 1048576")
	}
	req := &resourcespb.AcceptReinforcementRequest{CommandId: cmdID(cmd), RequestId: id, Quantity: int32(quantity)}
	if note != nil {
		req.Note = *note
	}
	return r.reinforcementCommand(ctx, func(ctx context.Context) (*resourcespb.ReinforcementReply, error) {
		return r.Reinforcements.Accept(ctx, req)
	})
}

func (r *Resolver) reinforcementStep(ctx context.Context, id string, cmd *string, step func(context.Context, *resourcespb.ReinforcementStepRequest) (*resourcespb.ReinforcementReply, error)) (*model.Reinforcement, error) {
	return r.reinforcementCommand(ctx, func(ctx context.Context) (*resourcespb.ReinforcementReply, error) {
		return step(ctx, &resourcespb.ReinforcementStepRequest{CommandId: cmdID(cmd), RequestId: id})
	})
}
