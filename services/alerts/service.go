package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/territory"
	"vigie/policies"
	"vigie/services/alerts/alert"
	pb "vigie/services/alerts/alertspb"
	"vigie/services/alerts/cap"
	"vigie/services/alerts/resident"
	"vigie/services/guard"
)

// Service holds the command handlers of alerts and residents.
type Service struct {
	store     *store.Client
	registry  *events.Registry
	guard     guard.Guard
	alerts    *command.Handler[*alert.Alert]
	residents *command.Handler[*resident.Resident]

	// Offered are the channels an alert may be drafted with: those whose
	// provider is configured, with CAP_FEED (the gateway publishes it) and
	// FR_ALERT (the prefecture broadcasts it, through an intake or by hand).
	// Nil offers every channel.
	Offered []alert.Channel
	// Audience counts the residents an alert would reach now, per channel: the
	// dispatcher's directory. Nil when this process has none: approvals then
	// record no audience and Audience answers Unavailable.
	Audience AudienceCounter
	// Keys wraps the residents' keys under the key-encryption key; nil: an
	// ephemeral one (tests only).
	Keys resident.KeyWrapper
}

// AudienceCounter counts, per channel, the residents of a commune an alert's
// area and channels reach now; an exercise reaches only those who agreed to
// exercises. Per-message channels (CAP_FEED, WEBHOOK, FR_ALERT) are absent.
type AudienceCounter interface {
	Audience(domain string, polygon []alert.Point, channels []alert.Channel, exercise bool) map[alert.Channel]int
}

// OfferedChannels lists the channels that can go out when the given ones have
// a provider (channel.Config.Senders' keys): those, and always CAP_FEED and
// FR_ALERT, in the contract's order.
func OfferedChannels(withProvider []string) []alert.Channel {
	var out []alert.Channel
	for _, c := range alert.Channels() {
		if c == alert.ChannelCAPFeed || c == alert.ChannelFrAlert || slices.Contains(withProvider, string(c)) {
			out = append(out, c)
		}
	}
	return out
}

// Registry returns the event types this service writes, the dispatcher's included.
func Registry() (*events.Registry, error) {
	reg := events.NewRegistry()
	if err := errors.Join(alert.Register(reg), resident.Register(reg)); err != nil {
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
	history := command.NewHistory(20_000)
	return &Service{
		store:     c,
		registry:  reg,
		guard:     guard.Guard{Authz: authz},
		alerts:    &command.Handler[*alert.Alert]{Store: c, Registry: reg, Now: now, History: history, New: func() *alert.Alert { return &alert.Alert{} }},
		residents: &command.Handler[*resident.Resident]{Store: c, Registry: reg, Now: now, New: func() *resident.Resident { return &resident.Resident{} }},
	}, nil
}

// Register serves the Alerts and Residents APIs on g.
func (s *Service) Register(g grpc.ServiceRegistrar) {
	pb.RegisterAlertsServer(g, alertsAPI{s: s})
	pb.RegisterResidentsServer(g, residentsAPI{s: s})
}

type alertsAPI struct {
	s *Service
	pb.UnimplementedAlertsServer
}

type decideAlert = func(*alert.Alert, events.Actor, time.Time) ([]events.Event, error)

// run is every alert command: the caller's grants decide on the alert's domain (or,
// for a draft, on the domain it names); the domain code decides the rest.
func (a alertsAPI) run(ctx context.Context, name, id, commandID, action, createIn string, cause *events.Metadata, decide decideAlert) (*pb.AlertReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(commandID); err != nil {
		return nil, err
	}
	stream, err := guard.Stream(events.CategoryAlert, id)
	if err != nil {
		return nil, err
	}
	res, err := a.s.alerts.Handle(ctx, command.Command[*alert.Alert]{
		Name: name, Stream: stream, CommandID: commandID, Cause: cause,
		Authorize: func(al *alert.Alert) (events.Actor, string, error) {
			if al.Exists() {
				by, err := a.s.guard.ActOn(p, al.Domain(), policies.ObjectAlert, action)
				return by, al.Domain(), err
			}
			if createIn == "" {
				return events.Actor{}, "", alert.ErrNotFound
			}
			by, err := a.s.guard.Act(p, createIn, policies.ObjectAlert, action)
			return by, createIn, err
		},
		Decide: decide,
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	al := res.State
	return &pb.AlertReply{
		AlertId: al.ID(), Domain: al.Domain(), Status: string(al.Status()), Revision: uint64(max(res.Revision, 0)),
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare, Duplicate: res.Duplicate,
	}, nil
}

func (a alertsAPI) Draft(ctx context.Context, req *pb.DraftRequest) (*pb.AlertReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.AlertId
	if id == "" {
		id = guard.NewID(p.Subject, req.CommandId)
	}
	incidentDomain, err := a.s.incidentDomain(ctx, p, req.IncidentId)
	if err != nil {
		return nil, guard.Status(err)
	}
	// An alert about an incident continues the incident's causal chain, so the
	// after-action review can follow a report to the alert it led to.
	var cause *events.Metadata
	if incidentDomain != "" {
		cause = a.s.lastEventOf(ctx, req.IncidentId)
	}
	return a.run(ctx, "DraftAlert", id, req.CommandId, policies.ActionDraft, req.Domain, cause, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		content, channels, err := parseContent(req.Content, req.Channels)
		if err != nil {
			return nil, err
		}
		decided, err := al.Draft(alert.Draft{AlertID: id, Domain: req.Domain, IncidentID: req.IncidentId, Content: content, Channels: channels, Exercise: req.Exercise, Offered: a.s.Offered}, by, now)
		if err != nil || req.IncidentId == "" {
			return decided, err
		}
		// Decided after the draft's own checks, so malformed input is still
		// INVALID_INPUT; the rule belongs with the alert domain's (its Draft could
		// take the incident's domain), kept here while that package is another's.
		switch own, _ := territory.Canonical(req.Domain); {
		case incidentDomain == "":
			return nil, errIncidentNotFound
		case incidentDomain != own:
			return nil, errIncidentOfAnotherCommune
		}
		return decided, nil
	})
}

// The references of a draft: an incident the caller may not read is answered
// as one that does not exist, word for word; one of another commune that the
// caller may read (someone in both cells) is refused by name, for a commune
// alerts its own residents about its own incidents.
var (
	errIncidentNotFound         = fmt.Errorf("alert: incident %w", events.ErrNotFound)
	errIncidentOfAnotherCommune = errors.New("l'incident relève d'une autre commune : une commune alerte ses habitants sur ses propres incidents")
)

// incidentDomain: the incident's domain when p may read it (guard.IncidentDomain).
func (s *Service) incidentDomain(ctx context.Context, p policies.Principal, id string) (string, error) {
	return s.guard.IncidentDomain(ctx, s.store, p, id)
}

// lastEventOf returns the metadata of the incident's latest event, nil when there is
// no incident or it cannot be read: the link is for the review, never a condition.
func (s *Service) lastEventOf(ctx context.Context, incidentID string) *events.Metadata {
	if incidentID == "" || events.ValidateStreamID(incidentID) != nil {
		return nil
	}
	recs, err := s.store.ReadStream(ctx, events.StreamID(events.CategoryIncident, incidentID), store.End, store.Backwards, 1)
	if err != nil || len(recs) == 0 {
		return nil
	}
	var md events.Metadata
	if json.Unmarshal(recs[0].Metadata, &md) != nil || md.EventID == "" {
		return nil
	}
	return &md
}

func (a alertsAPI) Revise(ctx context.Context, req *pb.ReviseRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "ReviseAlert", req.AlertId, req.CommandId, policies.ActionDraft, "", nil, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		content, channels, err := parseContent(req.Content, req.Channels)
		if err != nil {
			return nil, err
		}
		return al.Revise(alert.Revision{Content: content, Channels: channels, Offered: a.s.Offered}, by, now)
	})
}

func (a alertsAPI) Submit(ctx context.Context, req *pb.AlertRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "SubmitAlert", req.AlertId, req.CommandId, policies.ActionSubmit, "", nil, (*alert.Alert).Submit)
}

// Approve records the audience the approver was shown, or, when the caller
// showed none, the one counted now.
func (a alertsAPI) Approve(ctx context.Context, req *pb.ApproveRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "ApproveAlert", req.AlertId, req.CommandId, policies.ActionApprove, "", nil, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		audience := make(map[string]int, len(req.Audience))
		for ch, n := range req.Audience {
			audience[ch] = int(n)
		}
		if len(audience) == 0 && a.s.Audience != nil {
			for ch, n := range a.s.Audience.Audience(al.Domain(), al.Content().Polygon, al.Channels(), al.Exercise()) {
				audience[string(ch)] = n
			}
		}
		decided, err := al.Approve(audience, by, now)
		if err != nil {
			return nil, err
		}
		// What would go out must be a valid CAP document: one that would not
		// validate is never published, and the mayor is told why.
		for _, e := range decided {
			if ap, ok := e.(alert.AlertApproved); ok {
				in := cap.AlertInput{Domain: al.Domain(), Exercise: al.Exercise(), Messages: append(al.Messages(), ap.Message), Content: al.Content()}
				if err := cap.Check(in.Latest()); err != nil {
					return nil, &alert.InputError{Field: "content", Problem: "le message CAP ne serait pas valide, rien n'est publié : " + err.Error(), Family: alert.ErrInvalidInput}
				}
			}
		}
		return decided, nil
	})
}

func (a alertsAPI) ConfirmFrAlertBroadcast(ctx context.Context, req *pb.AlertRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "ConfirmFrAlertBroadcast", req.AlertId, req.CommandId, policies.ActionValidateFRAlert, "", nil, (*alert.Alert).ConfirmFrAlertBroadcast)
}

// Audience counts whom an approval of the alert's latest version would reach
// now: residents per channel from the directory; FR_ALERT and CAP_FEED are
// not counted (an area, a public feed). The caller must be allowed to read
// the alert.
func (a alertsAPI) Audience(ctx context.Context, req *pb.AlertRequest) (*pb.AudienceReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	stream, err := guard.Stream(events.CategoryAlert, req.AlertId)
	if err != nil {
		return nil, err
	}
	al, err := a.s.alerts.Load(ctx, stream)
	if err != nil {
		return nil, guard.Status(err)
	}
	if !al.Exists() {
		return nil, guard.Status(alert.ErrNotFound)
	}
	if _, err := a.s.guard.ActOn(p, al.Domain(), policies.ObjectAlert, policies.ActionRead); err != nil {
		return nil, guard.Status(err)
	}
	if a.s.Audience == nil {
		return nil, status.Error(codes.Unavailable, "le répertoire des habitants n'est pas disponible dans ce processus")
	}
	counts := a.s.Audience.Audience(al.Domain(), al.Content().Polygon, al.Channels(), al.Exercise())
	out := &pb.AudienceReply{AlertId: al.ID(), Domain: al.Domain()}
	for _, c := range al.Channels() {
		n, known := counts[c]
		out.Counts = append(out.Counts, &pb.AudienceCount{Channel: string(c), Recipients: int32(n), Known: known})
	}
	return out, nil
}

func (a alertsAPI) Reject(ctx context.Context, req *pb.ReasonRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "RejectAlert", req.AlertId, req.CommandId, policies.ActionReject, "", nil, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		return al.Reject(req.Reason, by, now)
	})
}

func (a alertsAPI) ValidateFrAlert(ctx context.Context, req *pb.AlertRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "ValidateFrAlert", req.AlertId, req.CommandId, policies.ActionValidateFRAlert, "", nil, (*alert.Alert).ValidateFrAlert)
}

func (a alertsAPI) RefuseFrAlert(ctx context.Context, req *pb.ReasonRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "RefuseFrAlert", req.AlertId, req.CommandId, policies.ActionRefuseFRAlert, "", nil, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		return al.RefuseFrAlert(req.Reason, by, now)
	})
}

func (a alertsAPI) Cancel(ctx context.Context, req *pb.ReasonRequest) (*pb.AlertReply, error) {
	return a.run(ctx, "CancelAlert", req.AlertId, req.CommandId, policies.ActionCancel, "", nil, func(al *alert.Alert, by events.Actor, now time.Time) ([]events.Event, error) {
		return al.Cancel(req.Reason, by, now)
	})
}

// parseContent reads the wire form of an alert's content into the domain's; the
// domain validates the rest (bounds, polygon, times).
func parseContent(c *pb.Content, names []string) (alert.Content, []alert.Channel, error) {
	if c == nil {
		return alert.Content{}, nil, &alert.InputError{Field: "content", Problem: "missing", Family: alert.ErrInvalidInput}
	}
	out := alert.Content{Event: c.Event, Headline: c.Headline, Description: c.Description, Instruction: c.Instruction, AreaDesc: c.AreaDesc, Language: c.Language}
	var err error
	if out.Severity, err = alert.ParseSeverity(c.Severity); err != nil {
		return out, nil, err
	}
	if out.Urgency, err = alert.ParseUrgency(c.Urgency); err != nil {
		return out, nil, err
	}
	if out.Certainty, err = alert.ParseCertainty(c.Certainty); err != nil {
		return out, nil, err
	}
	if out.Category, err = alert.ParseCategory(c.Category); err != nil {
		return out, nil, err
	}
	for _, p := range c.Polygon {
		out.Polygon = append(out.Polygon, alert.Point{Lat: p.Lat, Lon: p.Lon})
	}
	if out.Effective, err = optionalTime("effective", c.Effective); err != nil {
		return out, nil, err
	}
	if out.Expires, err = optionalTime("expires", c.Expires); err != nil {
		return out, nil, err
	}
	channels := make([]alert.Channel, 0, len(names))
	for _, n := range names {
		ch, err := alert.ParseChannel(n)
		if err != nil {
			return out, nil, err
		}
		channels = append(channels, ch)
	}
	return out, channels, nil
}

func optionalTime(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, &alert.InputError{Field: field, Problem: fmt.Sprintf("not an RFC 3339 time: %q", s), Family: alert.ErrInvalidInput}
	}
	return &t, nil
}
