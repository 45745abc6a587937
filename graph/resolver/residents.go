package resolver

import (
	"context"

	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	alertspb "vigie/services/alerts/alertspb"
)

// registerResident forwards the registration to the alerts service, which seals the
// contact details with the resident's own key; nothing of them is kept here or logged.
func (r *Resolver) registerResident(ctx context.Context, in model.RegisterResidentInput, cmd *string) (*model.Resident, error) {
	c, err := r.authorize(ctx, in.Domain, policies.ObjectResident, policies.ActionRegister)
	if err != nil {
		return nil, err
	}
	req := &alertspb.RegisterResidentRequest{CommandId: cmdID(cmd), Domain: in.Domain, Consent: in.Consent == nil || *in.Consent,
		Exercises: in.Exercises != nil && *in.Exercises}
	if in.Phone != nil {
		req.Phone = *in.Phone
	}
	if in.Email != nil {
		req.Email = *in.Email
	}
	if in.Language != nil {
		req.Language = *in.Language
	}
	if in.Location != nil {
		req.Location = &alertspb.Point{Lat: in.Location.Lat, Lon: in.Location.Lon}
	}
	for _, ch := range in.Channels {
		req.Channels = append(req.Channels, string(ch))
	}
	reply, err := r.Residents.Register(identity.WithToken(ctx, c.Forward), req)
	if err != nil {
		return nil, fromService(err)
	}
	out := &model.Resident{ID: reply.ResidentId, Domain: reply.Domain, Channels: []model.AlertChannel{}}
	for _, ch := range reply.Channels {
		out.Channels = append(out.Channels, model.AlertChannel(ch))
	}
	return out, nil
}

// eraseResident forgets a resident for good (crypto-shredding). The service checks
// the caller's right on the resident's own domain, and answers "not found" alike for
// unknown ids and residents of domains the caller may not touch.
func (r *Resolver) eraseResident(ctx context.Context, id string, cmd *string) (bool, error) {
	c, err := caller(ctx)
	if err != nil {
		return false, err
	}
	if _, err := r.Residents.Erase(identity.WithToken(ctx, c.Forward), &alertspb.EraseResidentRequest{CommandId: cmdID(cmd), ResidentId: id}); err != nil {
		return false, fromService(err)
	}
	return true, nil
}
