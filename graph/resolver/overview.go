package resolver

import (
	"context"
	"slices"
	"time"

	"vigie/events/territory"
	"vigie/graph/model"
	"vigie/policies"
	"vigie/projections/prefecture"
	"vigie/projections/timeline"
)

// departementOf is the département of a domain ("dep:30/com:30189" → "dep:30").
func departementOf(domain string) string { return territory.DepartementOf(domain) }

// inScope says whether an object of domain d belongs to a query on scope (a commune,
// or a département and all its communes).
func inScope(d, scope string) bool {
	return d == scope || departementOf(scope) == scope && departementOf(d) == scope
}

func pageOf(first, offset *int) (int64, int64) {
	var o, l int64
	if offset != nil && *offset > 0 {
		o = int64(*offset)
	}
	if first != nil && *first > 0 {
		l = int64(*first)
	}
	return o, l
}

func (r *Resolver) overview(ctx context.Context, domain string, first, offset *int) ([]model.Incident, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectIncident, policies.ActionRead); err != nil {
		return nil, err
	}
	o, l := pageOf(first, offset)
	docs, err := prefecture.Reader{Redis: r.Redis}.Overview(ctx, departementOf(domain), prefecture.Page{Offset: o, Limit: l})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Incident, 0, len(docs))
	for _, d := range docs {
		if !inScope(d.Domain, domain) {
			continue
		}
		inc := model.Incident{ID: d.ID, Domain: d.Domain, Kind: model.IncidentKind(upper(d.Kind)), Title: d.Title,
			Status: model.IncidentStatus(upper(d.Status)), ReportedAt: d.ReportedAt, DirectedByPrefecture: d.Escalated}
		if d.Severity != "" {
			s := model.Severity(upper(d.Severity))
			inc.Severity = &s
		}
		out = append(out, inc)
	}
	return out, nil
}

func (r *Resolver) reinforcements(ctx context.Context, domain string, status []model.ReinforcementStatus) ([]model.Reinforcement, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectReinforcement, policies.ActionRead); err != nil {
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
	docs, err := prefecture.Reader{Redis: r.Redis}.Reinforcements(ctx, departementOf(domain), statuses, prefecture.Page{})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Reinforcement, 0, len(docs))
	for _, d := range docs {
		if !inScope(d.Domain, domain) {
			continue
		}
		rf := model.Reinforcement{ID: d.ID, Domain: d.Domain, IncidentID: d.IncidentID, Kind: model.ResourceKind(upper(d.Kind)),
			Quantity: d.Quantity, Status: model.ReinforcementStatus(upper(d.Status))}
		if d.Accepted > 0 {
			a := d.Accepted
			rf.Accepted = &a
		}
		out = append(out, rf)
	}
	return out, nil
}

func (r *Resolver) timeline(ctx context.Context, domain string, from, to *time.Time) ([]model.TimelineEntry, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectTimeline, policies.ActionRead); err != nil {
		return nil, err
	}
	var f, t time.Time
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	}
	entries, err := timeline.Reader{Redis: r.Redis}.Range(ctx, domain, f, t, timeline.Page{})
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.TimelineEntry, len(entries))
	for i, e := range entries {
		out[i] = timelineEntryFrom(e)
	}
	return out, nil
}
