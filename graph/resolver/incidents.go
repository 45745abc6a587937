package resolver

import (
	"context"
	"errors"
	"slices"
	"time"

	"vigie/events/store"
	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	"vigie/projections/incidentboard"
	incidentspb "vigie/services/incidents/incidentspb"
)

func (r *Resolver) board() incidentboard.Reader { return incidentboard.Reader{Redis: r.Redis} }

// incidentCommand sends a command on an existing incident and answers with the board's
// view after it. The gateway authorizes on the board's copy of the incident first; the
// service authorizes again on its own stream.
func (r *Resolver) incidentCommand(ctx context.Context, id, action string, call func(ctx context.Context) (*incidentspb.IncidentReply, error)) (*model.Incident, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if doc, err := r.board().Get(ctx, id); err == nil {
		if !r.canRead(ctx, doc.Domain, policies.ObjectIncident) {
			return nil, errNotFound
		}
		if r.Authz.Authorize(c.Principal, doc.Domain, policies.ObjectIncident, action) != nil {
			return nil, errForbidden
		}
	}
	reply, err := call(identity.WithToken(ctx, c.Forward))
	if err != nil {
		return nil, fromService(err)
	}
	return r.incidentAfter(ctx, reply)
}

func (r *Resolver) incidentAfter(ctx context.Context, reply *incidentspb.IncidentReply) (*model.Incident, error) {
	return r.incidentAfterOr(ctx, reply, model.Incident{})
}

// incidentAfterOr is incidentAfter for a command that knows more of the incident than
// the service's reply says (a report: its kind, title…), for when the board has not
// caught up.
func (r *Resolver) incidentAfterOr(ctx context.Context, reply *incidentspb.IncidentReply, known model.Incident) (*model.Incident, error) {
	r.settle(ctx, incidentboard.Name, store.Position{Commit: reply.CommitPosition, Prepare: reply.PreparePosition})
	doc, err := r.board().Get(ctx, reply.IncidentId)
	if errors.Is(err, incidentboard.ErrNotFound) {
		// The board has not caught up (the answer says STALE): what the service told.
		known.ID, known.Domain, known.Status = reply.IncidentId, reply.Domain, model.IncidentStatus(upper(reply.Status))
		return &known, nil
	}
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := incidentFrom(doc)
	return &out, nil
}

func (r *Resolver) reportIncident(ctx context.Context, in model.ReportIncidentInput, cmd *string) (*model.Incident, error) {
	c, err := r.authorize(ctx, in.Domain, policies.ObjectIncident, policies.ActionReport)
	if err != nil {
		return nil, err
	}
	req := &incidentspb.ReportRequest{CommandId: cmdID(cmd), Domain: in.Domain, Kind: lower(string(in.Kind)), Title: in.Title}
	if in.Description != nil {
		req.Description = *in.Description
	}
	if in.Severity != nil {
		req.Severity = capSeverity(*in.Severity)
	}
	if in.Location != nil {
		req.Location = &incidentspb.Point{Lat: in.Location.Lat, Lon: in.Location.Lon}
	}
	reply, err := r.Incidents.Report(identity.WithToken(ctx, c.Forward), req)
	if err != nil {
		return nil, fromService(err)
	}
	// Should the board lag, the answer is still a valid Incident (a kind of "" is no
	// IncidentKind): what was reported, at about the time the service recorded it.
	return r.incidentAfterOr(ctx, reply, model.Incident{
		Kind: in.Kind, Title: in.Title, Severity: in.Severity, Description: in.Description,
		Location: (*model.Point)(in.Location), ReportedAt: time.Now(),
	})
}

func (r *Resolver) incidents(ctx context.Context, domain string, status []model.IncidentStatus) ([]model.Incident, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectIncident, policies.ActionRead); err != nil {
		return nil, err
	}
	statuses := make([]string, len(status))
	for i, s := range status {
		statuses[i] = lower(string(s))
	}
	// A status named twice reads its index twice: a list of thousands of them
	// (a body of 256 KiB holds ~28 000) would cost as many Redis reads.
	slices.Sort(statuses)
	statuses = slices.Compact(statuses)
	docs, err := r.board().List(ctx, domain, statuses, incidentboard.Page{})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Incident, len(docs))
	for i, d := range docs {
		out[i] = incidentFrom(d)
	}
	return out, nil
}

// incident answers null both for an unknown id and for an incident the caller may not
// read: ids reveal nothing.
func (r *Resolver) incident(ctx context.Context, id string) (*model.Incident, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	doc, err := r.board().Get(ctx, id)
	if errors.Is(err, incidentboard.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	if !r.canRead(ctx, doc.Domain, policies.ObjectIncident) {
		return nil, nil
	}
	out := incidentFrom(doc)
	return &out, nil
}

// maxLog bounds one answer's main courante.
const maxLog = 1000

func (r *Resolver) incidentLog(ctx context.Context, in *model.Incident) ([]model.LogEntry, error) {
	// The parent incident was authorized when it was resolved.
	if in.Log != nil {
		return in.Log, nil // a replay's incident carries its own main courante
	}
	entries, err := r.board().Log(ctx, in.ID, incidentboard.Page{Limit: maxLog})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.LogEntry, len(entries))
	for i, e := range entries {
		out[i] = entryFrom(e)
	}
	return out, nil
}

func (r *Resolver) incidentCounts(ctx context.Context, domain string) ([]model.Count, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectIncident, policies.ActionRead); err != nil {
		return nil, err
	}
	counts, err := r.board().Counts(ctx, domain)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Count, 0, len(counts))
	for k, v := range counts {
		out = append(out, model.Count{Key: k, Value: int(v)})
	}
	sortCounts(out)
	return out, nil
}
