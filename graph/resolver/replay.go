package resolver

import (
	"context"
	"sync"
	"time"

	"vigie/graph/model"
	"vigie/policies"
	"vigie/projections/replay"
	"vigie/projections/timeline"
)

// The after-action review: replay, causal chains and decision delays. Replays are
// built from the log by the boards' own projections (projections/replay); they need
// Resolver.Replay, without which they answer UNAVAILABLE.

// replay answers the boards of domain as they were at at, authorized like the live
// boards: incidents (with their main courante and engaged resources) for whoever may
// read the domain's incidents, resources and alerts for whoever may read those too.
func (r *Resolver) replay(ctx context.Context, domain string, at time.Time) (*model.Replay, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectIncident, policies.ActionRead); err != nil {
		return nil, err
	}
	if r.Replay == nil {
		return nil, unconfigured("replay (no event store configured for it)")
	}
	// Shared by every caller asking for these boards meanwhile (each authorized above,
	// each shown only what it may read below).
	b, err := r.replays.do(ctx, flightKey{domain, at.UnixNano()}, func(ctx context.Context) (*replay.Boards, error) {
		return r.Replay.Boards(ctx, domain, at)
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, Error(CodeUnavailable, "rejeu abandonné : la requête a pris fin")
		}
		return nil, Error(CodeUnavailable, "rejeu indisponible : réessayez dans un instant")
	}
	out := &model.Replay{At: b.At, Events: b.Events, Incidents: []model.Incident{}, Resources: []model.Resource{}, Alerts: []model.Alert{}}
	readsResources := r.canRead(ctx, domain, policies.ObjectResource)
	for _, inc := range b.Incidents {
		// The main courante and resources are the replay's, not the live board's: the
		// incident's field resolvers answer what is set here.
		m := incidentFrom(inc.Incident)
		m.Log, m.Resources = make([]model.LogEntry, len(inc.Log)), []model.Resource{}
		for i, e := range inc.Log {
			m.Log[i] = entryFrom(e)
		}
		for _, res := range inc.Engaged {
			if r.canRead(ctx, res.Domain, policies.ObjectResource) {
				m.Resources = append(m.Resources, resourceFrom(res))
			}
		}
		out.Incidents = append(out.Incidents, m)
	}
	if readsResources {
		for _, res := range b.Resources {
			out.Resources = append(out.Resources, resourceFrom(res))
		}
	}
	if r.canRead(ctx, domain, policies.ObjectAlert) {
		for _, a := range b.Alerts {
			out.Alerts = append(out.Alerts, alertFrom(a))
		}
	}
	return out, nil
}

// timelineEntryFrom is the GraphQL view of a timeline entry.
func timelineEntryFrom(e timeline.Entry) model.TimelineEntry {
	out := model.TimelineEntry{At: e.At, Actor: e.Actor, Role: e.Role, Type: e.Type, StreamID: e.StreamID, Summary: e.Summary, EventID: e.EventID}
	if e.CorrelationID != "" {
		c := e.CorrelationID
		out.CorrelationID = &c
	}
	if e.CausationID != "" {
		c := e.CausationID
		out.CausationID = &c
	}
	if e.About != "" {
		a := e.About
		out.About = &a
	}
	return out
}

func (r *Resolver) causalChain(ctx context.Context, domain, eventID string) ([]model.TimelineEntry, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectTimeline, policies.ActionRead); err != nil {
		return nil, err
	}
	chain, err := timeline.Reader{Redis: r.Redis}.Chain(ctx, domain, eventID)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.TimelineEntry, len(chain))
	for i, e := range chain {
		out[i] = timelineEntryFrom(e)
	}
	return out, nil
}

func (r *Resolver) decisionDelays(ctx context.Context, domain string, from, to *time.Time) (*model.DecisionDelays, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectTimeline, policies.ActionRead); err != nil {
		return nil, err
	}
	if r.Replay == nil {
		return nil, unconfigured("decision delays (no event store configured for them)")
	}
	var f, t time.Time
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	}
	d, err := r.Replay.Delays(ctx, domain, f, t)
	if err != nil {
		return nil, Error(CodeUnavailable, "délais de décision indisponibles : réessayez dans un instant")
	}
	return delaysFrom(d), nil
}

func delaysFrom(d replay.Delays) *model.DecisionDelays {
	out := &model.DecisionDelays{Incidents: []model.IncidentDelays{}, Alerts: []model.AlertDelays{}, Summary: []model.DelaySummary{}}
	for _, inc := range d.Incidents {
		m := model.IncidentDelays{IncidentID: inc.IncidentID, Domain: inc.Domain, Title: inc.Title, ReportedAt: inc.ReportedAt,
			ReportToQualification: spanFrom(inc.ReportToQualification), QualificationToEngagement: spanFrom(inc.QualificationToEngagement),
			Alerts: []model.AlertDelays{}}
		for _, a := range inc.Alerts {
			m.Alerts = append(m.Alerts, alertDelaysFrom(a))
		}
		out.Incidents = append(out.Incidents, m)
	}
	for _, a := range d.Alerts {
		out.Alerts = append(out.Alerts, alertDelaysFrom(a))
	}
	for _, s := range d.Summary {
		out.Summary = append(out.Summary, model.DelaySummary{Delay: s.Delay, Count: s.Count, MedianSeconds: s.MedianSeconds, WorstSeconds: s.WorstSeconds, Worst: s.Worst})
	}
	return out
}

func alertDelaysFrom(a replay.AlertDelays) model.AlertDelays {
	out := model.AlertDelays{AlertID: a.AlertID, Headline: a.Headline, Exercise: a.Exercise, DraftedAt: a.DraftedAt,
		DraftToApproval: spanFrom(a.DraftToApproval), ApprovalToFirstDelivery: spanFrom(a.ApprovalToFirstDelivery),
		FrAlertRequestToDecision: spanFrom(a.FrAlertRequestToDecision)}
	if a.IncidentID != "" {
		out.IncidentID = &a.IncidentID
	}
	if a.FrAlertDecision != "" {
		out.FrAlertDecision = &a.FrAlertDecision
	}
	return out
}

func spanFrom(s *replay.Span) *model.DelaySpan {
	if s == nil {
		return nil
	}
	return &model.DelaySpan{From: s.From, To: s.To, Seconds: s.Seconds}
}

// flights runs one replay for all the callers who ask for the same boards (domain and
// instant) while it runs: the boards are the same for all, and each replay reads the
// whole log. A replay stops when every caller waiting for it has gone (their request
// ended): its context, which reaches the event store's read, is cancelled then, and
// not when only the first caller goes.
type flights struct {
	mu sync.Mutex
	m  map[flightKey]*flight
}

type flightKey struct {
	domain string
	at     int64
}

type flight struct {
	done    chan struct{}
	boards  *replay.Boards
	err     error
	waiting int // callers still waiting; guarded by flights.mu
	cancel  context.CancelFunc
}

// do answers fn's boards for key, running fn once for every caller that asks while it
// runs. The boards answered are shared: read-only.
func (f *flights) do(ctx context.Context, key flightKey, fn func(context.Context) (*replay.Boards, error)) (*replay.Boards, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[flightKey]*flight{}
	}
	fl := f.m[key]
	if fl == nil {
		// The replay's context keeps the first caller's values (its trace) but not its
		// end: it ends when the last caller leaves.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		f.m[key] = fl
		go func() {
			fl.boards, fl.err = fn(fctx)
			f.mu.Lock()
			if f.m[key] == fl {
				delete(f.m, key)
			}
			f.mu.Unlock()
			cancel()
			close(fl.done)
		}()
	}
	fl.waiting++
	f.mu.Unlock()
	select {
	case <-fl.done:
		return fl.boards, fl.err
	case <-ctx.Done():
		f.mu.Lock()
		if fl.waiting--; fl.waiting == 0 {
			// Nobody wants it any more: stop reading the log, and let a later caller
			// start afresh rather than join a cancelled replay.
			fl.cancel()
			if f.m[key] == fl {
				delete(f.m, key)
			}
		}
		f.mu.Unlock()
		return nil, ctx.Err()
	}
}
