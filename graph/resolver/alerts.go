package resolver

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/labels"
	"vigie/events/store"
	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	"vigie/projections/alertboard"
	alertspb "vigie/services/alerts/alertspb"
)

func (r *Resolver) alertBoard() alertboard.Reader { return alertboard.Reader{Redis: r.Redis} }

// alertCommand sends a command on an existing alert and answers with the board's view
// after it. The gateway authorizes on the board's copy first (an alert the caller may
// not read is "not found"); the service authorizes again on its own stream.
func (r *Resolver) alertCommand(ctx context.Context, id, action string, call func(ctx context.Context) (*alertspb.AlertReply, error)) (*model.Alert, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if doc, ok, err := r.alertBoard().Get(ctx, id); err == nil && ok {
		if !r.canRead(ctx, doc.Domain, policies.ObjectAlert) {
			return nil, errNotFound
		}
		if r.Authz.Authorize(c.Principal, doc.Domain, policies.ObjectAlert, action) != nil {
			return nil, errForbidden
		}
	}
	reply, err := call(identity.WithToken(ctx, c.Forward))
	if err != nil {
		return nil, fromService(err)
	}
	return r.alertAfter(ctx, reply)
}

func (r *Resolver) alertAfter(ctx context.Context, reply *alertspb.AlertReply) (*model.Alert, error) {
	r.settle(ctx, alertboard.Name, store.Position{Commit: reply.CommitPosition, Prepare: reply.PreparePosition})
	doc, ok, err := r.alertBoard().Get(ctx, reply.AlertId)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	if !ok {
		// The board has not caught up (the answer says STALE): what the service told.
		return &model.Alert{ID: reply.AlertId, Domain: reply.Domain, Status: model.AlertStatus(upper(reply.Status)),
			CapURL: capURL(reply.AlertId), Channels: []model.AlertChannel{}, Deliveries: []model.Delivery{}, Cancellations: []model.Delivery{},
			Failures: []model.DeliveryFailure{}}, nil
	}
	out := alertFrom(doc)
	return &out, nil
}

func capURL(id string) string { return "/cap/alerts/" + id + ".xml" }

func alertFrom(d alertboard.Alert) model.Alert {
	c := d.Content
	out := model.Alert{
		ID: d.ID, Domain: d.Domain, Status: model.AlertStatus(upper(d.Status)), Event: c.Event, Headline: c.Headline,
		Author: d.Author, Exercise: d.Exercise, CapURL: capURL(d.ID),
		Description: c.Description, Instruction: c.Instruction, AreaDesc: c.AreaDesc,
		Severity: model.Severity(upper(string(c.Severity))), Urgency: model.Urgency(upper(string(c.Urgency))),
		Certainty: model.Certainty(upper(string(c.Certainty))), Category: model.AlertCategory(upper(string(c.Category))),
		SelfApprovalWaived: d.Waived, DraftedAt: d.DraftedAt, ApprovedAt: d.ApprovedAt, SentAt: d.SentAt,
		Channels: []model.AlertChannel{}, Deliveries: deliveriesFrom(d.Deliveries), Cancellations: deliveriesFrom(d.Cancellations),
		Failures: []model.DeliveryFailure{}, Published: versionFrom(d.Published), PendingRevision: versionFrom(d.PendingRevision),
	}
	if d.ApprovedBy != "" {
		out.ApprovedBy = &d.ApprovedBy
	}
	if d.IncidentID != "" {
		out.IncidentID = &d.IncidentID
	}
	if d.Reason != "" {
		out.Reason = &d.Reason
	}
	if d.FrAlert != "" {
		f := upper(d.FrAlert)
		out.FrAlert = &f
	}
	for _, p := range c.Polygon {
		out.Polygon = append(out.Polygon, model.Point{Lat: p.Lat, Lon: p.Lon})
	}
	for _, ch := range d.Channels {
		out.Channels = append(out.Channels, model.AlertChannel(ch))
	}
	for _, f := range d.Failures {
		out.Failures = append(out.Failures, model.DeliveryFailure{Channel: model.AlertChannel(f.Channel), Reason: f.Reason, At: f.At})
	}
	return out
}

// deliveriesFrom: each channel's state, its French reason and its counts. Counts
// nobody can know (FR-Alert) stay 0 with countsKnown false: a client shows them as
// unknown, never as zero.
func deliveriesFrom(ds []alertboard.Delivery) []model.Delivery {
	out := make([]model.Delivery, 0, len(ds))
	for _, dl := range ds {
		state := model.ChannelState(upper(dl.State))
		if !state.IsValid() {
			// A document written before channels had a state: nothing is known yet.
			state = model.ChannelStatePending
		}
		m := model.Delivery{Channel: model.AlertChannel(dl.Channel), State: state, CountsKnown: dl.CountsKnown,
			Recipients: dl.Recipients, Sent: dl.Sent, Delivered: dl.Delivered, Failed: dl.Failed}
		if !dl.CountsKnown {
			m.Recipients, m.Sent, m.Delivered, m.Failed = 0, 0, 0, 0
		}
		if dl.Reason != "" {
			reason := dl.Reason
			m.Reason = &reason
		}
		out = append(out, m)
	}
	return out
}

// versionFrom is one version of the content: the published one or a revision
// waiting for approval; nil when there is none.
func versionFrom(v *alertboard.Version) *model.AlertContent {
	if v == nil {
		return nil
	}
	out := &model.AlertContent{
		Version: v.Version, Headline: v.Content.Headline, Description: v.Content.Description, Instruction: v.Content.Instruction,
		Severity: model.Severity(upper(string(v.Content.Severity))), ApprovedAt: v.ApprovedAt,
	}
	if v.ApprovedBy != "" {
		by := v.ApprovedBy
		out.ApprovedBy = &by
	}
	return out
}

// content is the wire form of a draft's CAP content; the service and its domain
// validate it.
func content(in model.DraftAlertInput) (*alertspb.Content, []string) {
	c := &alertspb.Content{
		Event: in.Event, Headline: in.Headline, Description: in.Description, Instruction: in.Instruction,
		Severity: string(in.Severity), Urgency: string(in.Urgency), Certainty: string(in.Certainty), Category: string(in.Category),
		AreaDesc: in.AreaDesc,
	}
	if in.Language != nil {
		c.Language = *in.Language
	}
	if in.Effective != nil {
		c.Effective = in.Effective.Format(time.RFC3339)
	}
	if in.Expires != nil {
		c.Expires = in.Expires.Format(time.RFC3339)
	}
	for _, p := range in.Polygon {
		c.Polygon = append(c.Polygon, &alertspb.Point{Lat: p.Lat, Lon: p.Lon})
	}
	channels := make([]string, len(in.Channels))
	for i, ch := range in.Channels {
		channels[i] = string(ch)
	}
	return c, channels
}

func (r *Resolver) draftAlert(ctx context.Context, in model.DraftAlertInput, cmd *string) (*model.Alert, error) {
	c, err := r.authorize(ctx, in.Domain, policies.ObjectAlert, policies.ActionDraft)
	if err != nil {
		return nil, err
	}
	cont, channels := content(in)
	req := &alertspb.DraftRequest{CommandId: cmdID(cmd), Domain: in.Domain, Content: cont, Channels: channels, Exercise: in.Exercise != nil && *in.Exercise}
	if in.IncidentID != nil {
		req.IncidentId = *in.IncidentID
	}
	reply, err := r.Alerts.Draft(identity.WithToken(ctx, c.Forward), req)
	if err != nil {
		return nil, fromService(err)
	}
	return r.alertAfter(ctx, reply)
}

func (r *Resolver) updateAlert(ctx context.Context, id string, in model.DraftAlertInput, cmd *string) (*model.Alert, error) {
	if doc, ok, err := r.alertBoard().Get(ctx, id); err == nil && ok && doc.Domain != in.Domain && r.canRead(ctx, doc.Domain, policies.ObjectAlert) {
		return nil, Error(CodeInvalidInput, "une alerte reste sur le territoire où elle a été rédigée")
	}
	cont, channels := content(in)
	return r.alertCommand(ctx, id, policies.ActionDraft, func(ctx context.Context) (*alertspb.AlertReply, error) {
		return r.Alerts.Revise(ctx, &alertspb.ReviseRequest{CommandId: cmdID(cmd), AlertId: id, Content: cont, Channels: channels})
	})
}

// approveAlert approves with the audience the approver was shown (alertAudience),
// which the approval records; without one the service counts it at approval.
func (r *Resolver) approveAlert(ctx context.Context, id string, audience []model.AudienceInput, cmd *string) (*model.Alert, error) {
	req := &alertspb.ApproveRequest{CommandId: cmdID(cmd), AlertId: id}
	for _, a := range audience {
		if !a.Channel.IsValid() {
			return nil, Error(CodeInvalidInput, "audience : canal inconnu "+string(a.Channel))
		}
		if a.Recipients < 0 || a.Recipients > math.MaxInt32 {
			return nil, Error(CodeInvalidInput, "audience : le nombre de destinataires du canal "+labels.Channels.Of(string(a.Channel))+" doit être entre 0 et 2147483647")
		}
		if req.Audience == nil {
			req.Audience = make(map[string]int32, len(audience))
		}
		if _, twice := req.Audience[string(a.Channel)]; twice {
			return nil, Error(CodeInvalidInput, "audience : canal "+labels.Channels.Of(string(a.Channel))+" donné deux fois")
		}
		req.Audience[string(a.Channel)] = int32(a.Recipients)
	}
	return r.alertCommand(ctx, id, policies.ActionApprove, func(ctx context.Context) (*alertspb.AlertReply, error) {
		return r.Alerts.Approve(ctx, req)
	})
}

// alertAudience: whom an approval of the alert would reach now, per channel,
// counted by the alerts service from the residents' directory. Read like any
// alert: one the caller may not read is "not found", as an unknown id.
func (r *Resolver) alertAudience(ctx context.Context, id string) ([]model.Audience, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	doc, ok, err := r.alertBoard().Get(ctx, id)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	if !ok || !r.canRead(ctx, doc.Domain, policies.ObjectAlert) {
		return nil, errNotFound
	}
	reply, err := r.Alerts.Audience(identity.WithToken(ctx, c.Forward), &alertspb.AlertRequest{AlertId: id})
	if err != nil {
		return nil, fromService(err)
	}
	out := make([]model.Audience, 0, len(reply.Counts))
	for _, n := range reply.Counts {
		a := model.Audience{Channel: model.AlertChannel(n.Channel), Known: n.Known}
		if n.Known {
			a.Recipients = int(n.Recipients)
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *Resolver) alertAction(ctx context.Context, id, action string, cmd *string, call func(context.Context, *alertspb.AlertRequest) (*alertspb.AlertReply, error)) (*model.Alert, error) {
	return r.alertCommand(ctx, id, action, func(ctx context.Context) (*alertspb.AlertReply, error) {
		return call(ctx, &alertspb.AlertRequest{CommandId: cmdID(cmd), AlertId: id})
	})
}

func (r *Resolver) alertReason(ctx context.Context, id, reason, action string, cmd *string, call func(context.Context, *alertspb.ReasonRequest) (*alertspb.AlertReply, error)) (*model.Alert, error) {
	return r.alertCommand(ctx, id, action, func(ctx context.Context) (*alertspb.AlertReply, error) {
		return call(ctx, &alertspb.ReasonRequest{CommandId: cmdID(cmd), AlertId: id, Reason: reason})
	})
}

// The generated gRPC client methods take variadic call options; these adapters fix
// them so that one signature serves every action.
func (r *Resolver) submit(ctx context.Context, req *alertspb.AlertRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.Submit(ctx, req)
}
func (r *Resolver) confirmFrAlertBroadcast(ctx context.Context, req *alertspb.AlertRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.ConfirmFrAlertBroadcast(ctx, req)
}
func (r *Resolver) validateFrAlert(ctx context.Context, req *alertspb.AlertRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.ValidateFrAlert(ctx, req)
}
func (r *Resolver) reject(ctx context.Context, req *alertspb.ReasonRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.Reject(ctx, req)
}
func (r *Resolver) refuseFrAlert(ctx context.Context, req *alertspb.ReasonRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.RefuseFrAlert(ctx, req)
}
func (r *Resolver) cancel(ctx context.Context, req *alertspb.ReasonRequest) (*alertspb.AlertReply, error) {
	return r.Alerts.Cancel(ctx, req)
}

func (r *Resolver) alerts(ctx context.Context, domain string, statuses []model.AlertStatus) ([]model.Alert, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectAlert, policies.ActionRead); err != nil {
		return nil, err
	}
	st := make([]string, len(statuses))
	for i, s := range statuses {
		st[i] = lower(string(s))
	}
	docs, err := r.alertBoard().List(ctx, domain, st)
	if err != nil {
		return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
	}
	out := make([]model.Alert, len(docs))
	for i, d := range docs {
		out[i] = alertFrom(d)
	}
	return out, nil
}

// pendingApprovals: what waits for the caller's decision — for a mayor the alerts
// of their communes pending approval, for the prefecture the FR-Alert requests of
// their départements. Each grant is asked on its own domain, so a caller sees only
// what they may decide.
func (r *Resolver) pendingApprovals(ctx context.Context) ([]model.Alert, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []model.Alert
	seen := map[string]bool{}
	for _, g := range c.Principal.Grants {
		domain := canonical(g.Domain)
		for _, want := range []struct{ action, status string }{
			{policies.ActionApprove, string(alert.StatusPendingApproval)},
			{policies.ActionValidateFRAlert, string(alert.StatusFrAlertRequested)},
		} {
			if r.Authz.Authorize(c.Principal, domain, policies.ObjectAlert, want.action) != nil {
				continue
			}
			docs, err := r.alertBoard().List(ctx, domain, []string{want.status})
			if err != nil {
				return nil, Error(CodeUnavailable, MsgReadModelUnavailable)
			}
			for _, d := range docs {
				if !seen[d.ID] {
					seen[d.ID] = true
					out = append(out, alertFrom(d))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b model.Alert) int { return b.DraftedAt.Compare(a.DraftedAt) })
	if out == nil {
		out = []model.Alert{}
	}
	return out, nil
}

// alertChanged delivers the alert after each change of a domain's alerts to a
// caller allowed to read them.
func (r *Resolver) alertChanged(ctx context.Context, domain string) (<-chan *model.Alert, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectAlert, policies.ActionRead); err != nil {
		return nil, err
	}
	in := r.Notices.Subscribe(ctx, domain)
	out := make(chan *model.Alert, 16)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-in:
				id, ok := alertIDOf(n.StreamID)
				if !ok {
					continue
				}
				doc, found, err := r.alertBoard().Get(ctx, id)
				if err != nil || !found {
					continue
				}
				a := alertFrom(doc)
				select {
				case out <- &a:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// alertIDOf: the alert a notice is about (its stream or its dispatch journal).
func alertIDOf(stream string) (string, bool) {
	for _, p := range []string{events.Prefix(events.CategoryAlert), events.Prefix(events.CategoryDispatch)} {
		if id, ok := strings.CutPrefix(stream, p); ok {
			return id, true
		}
	}
	return "", false
}
