package resolver

import (
	"context"
	"errors"

	"vigie/events/store"
	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	"vigie/projections/resourceboard"
	resourcespb "vigie/services/resources/resourcespb"
)

func (r *Resolver) resourceBoard() resourceboard.Reader { return resourceboard.Reader{Redis: r.Redis} }

func resourceFrom(d resourceboard.Resource) model.Resource {
	out := model.Resource{ID: d.ID, Domain: d.Domain, Kind: model.ResourceKind(upper(d.Kind)), Name: d.Name, Status: model.ResourceStatus(upper(d.Status))}
	if d.IncidentID != "" {
		id := d.IncidentID
		out.IncidentID = &id
	}
	if d.Shelter() {
		c, o := d.Capacity, d.Occupancy
		out.Capacity, out.Occupancy = &c, &o
	}
	return out
}

func (r *Resolver) resources(ctx context.Context, domain string, kind *model.ResourceKind, status *model.ResourceStatus) ([]model.Resource, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectResource, policies.ActionRead); err != nil {
		return nil, err
	}
	var k, s string
	if kind != nil {
		k = lower(string(*kind))
	}
	if status != nil {
		s = lower(string(*status))
	}
	docs, err := r.resourceBoard().List(ctx, domain, k, s, resourceboard.Page{})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Resource, len(docs))
	for i, d := range docs {
		out[i] = resourceFrom(d)
	}
	return out, nil
}

// incidentResources are the resources engaged on an incident the caller may read.
func (r *Resolver) incidentResources(ctx context.Context, in *model.Incident) ([]model.Resource, error) {
	if in.Resources != nil {
		return in.Resources, nil // a replay's incident carries its own, already filtered
	}
	docs, err := r.resourceBoard().EngagedOn(ctx, in.ID, resourceboard.Page{})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Resource, 0, len(docs))
	for _, d := range docs {
		// A resource of another commune engaged here is shown only to those who may
		// read that commune's resources.
		if r.canRead(ctx, d.Domain, policies.ObjectResource) {
			out = append(out, resourceFrom(d))
		}
	}
	return out, nil
}

func (r *Resolver) shelters(ctx context.Context, domain string) (*model.ShelterTotals, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectResource, policies.ActionRead); err != nil {
		return nil, err
	}
	t, err := r.resourceBoard().Shelters(ctx, domain)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	return &model.ShelterTotals{Shelters: int(t.Shelters), Capacity: int(t.Capacity), Occupancy: int(t.Occupancy)}, nil
}

// resourceCommand sends a command on an existing resource (authorized on the board's
// copy first, then by the service on its stream).
func (r *Resolver) resourceCommand(ctx context.Context, id, action string, call func(context.Context) (*resourcespb.ResourceReply, error)) (*model.Resource, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if doc, err := r.resourceBoard().Get(ctx, id); err == nil {
		if !r.canRead(ctx, doc.Domain, policies.ObjectResource) {
			return nil, errNotFound
		}
		if r.Authz.Authorize(c.Principal, doc.Domain, policies.ObjectResource, action) != nil {
			return nil, errForbidden
		}
	}
	reply, err := call(identity.WithToken(ctx, c.Forward))
	if err != nil {
		return nil, fromService(err)
	}
	return r.resourceAfter(ctx, reply)
}

func (r *Resolver) resourceAfter(ctx context.Context, reply *resourcespb.ResourceReply) (*model.Resource, error) {
	return r.resourceAfterOr(ctx, reply, model.Resource{})
}

// resourceAfterOr is resourceAfter for a command that knows more of the resource than
// the reply says (a registration: its kind and name), for when the board lags.
func (r *Resolver) resourceAfterOr(ctx context.Context, reply *resourcespb.ResourceReply, known model.Resource) (*model.Resource, error) {
	r.settle(ctx, resourceboard.Name, store.Position{Commit: reply.CommitPosition, Prepare: reply.PreparePosition})
	doc, err := r.resourceBoard().Get(ctx, reply.ResourceId)
	if errors.Is(err, resourceboard.ErrNotFound) {
		known.ID, known.Domain, known.Status = reply.ResourceId, reply.Domain, model.ResourceStatus(upper(reply.Status))
		return &known, nil
	}
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := resourceFrom(doc)
	return &out, nil
}

func (r *Resolver) registerResource(ctx context.Context, in model.RegisterResourceInput, cmd *string) (*model.Resource, error) {
	c, err := r.authorize(ctx, in.Domain, policies.ObjectResource, policies.ActionRegister)
	if err != nil {
		return nil, err
	}
	req := &resourcespb.RegisterRequest{CommandId: cmdID(cmd), Domain: in.Domain, Kind: lower(string(in.Kind)), Name: in.Name}
	if in.Capacity != nil {
		if *in.Capacity < 0 || *in.Capacity > 1<<30 {
			return nil, Error(CodeInvalidInput, "capacité hors limites")
		}
		req.Capacity = int32(*in.Capacity)
	}
	reply, err := r.Resources.Register(identity.WithToken(ctx, c.Forward), req)
	if err != nil {
		return nil, fromService(err)
	}
	known := model.Resource{Kind: in.Kind, Name: in.Name}
	if in.Kind == model.ResourceKindShelter {
		occupancy := 0
		known.Capacity, known.Occupancy = in.Capacity, &occupancy
	}
	return r.resourceAfterOr(ctx, reply, known)
}

func (r *Resolver) engageResource(ctx context.Context, resourceID, incidentID string, cmd *string) (*model.Resource, error) {
	return r.resourceCommand(ctx, resourceID, policies.ActionEngage, func(ctx context.Context) (*resourcespb.ResourceReply, error) {
		return r.Resources.Engage(ctx, &resourcespb.EngageRequest{CommandId: cmdID(cmd), ResourceId: resourceID, IncidentId: incidentID})
	})
}

func (r *Resolver) releaseResource(ctx context.Context, resourceID string, cmd *string) (*model.Resource, error) {
	return r.resourceCommand(ctx, resourceID, policies.ActionRelease, func(ctx context.Context) (*resourcespb.ResourceReply, error) {
		return r.Resources.Release(ctx, &resourcespb.ReleaseRequest{CommandId: cmdID(cmd), ResourceId: resourceID})
	})
}

func (r *Resolver) setResourceStatus(ctx context.Context, resourceID string, status model.ResourceStatus, cmd *string) (*model.Resource, error) {
	return r.resourceCommand(ctx, resourceID, policies.ActionSetStatus, func(ctx context.Context) (*resourcespb.ResourceReply, error) {
		return r.Resources.SetStatus(ctx, &resourcespb.SetStatusRequest{CommandId: cmdID(cmd), ResourceId: resourceID, Status: lower(string(status))})
	})
}

func (r *Resolver) setShelterOccupancy(ctx context.Context, resourceID string, occupancy int, cmd *string) (*model.Resource, error) {
	if occupancy < -1<<30 || occupancy > 1<<30 {
		return nil, Error(CodeInvalidInput, "occupation hors limites")
	}
	return r.resourceCommand(ctx, resourceID, policies.ActionSetOccupancy, func(ctx context.Context) (*resourcespb.ResourceReply, error) {
		return r.Resources.SetOccupancy(ctx, &resourcespb.SetOccupancyRequest{CommandId: cmdID(cmd), ResourceId: resourceID, Occupancy: int32(occupancy)})
	})
}
