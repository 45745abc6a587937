package incidents

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/incidents/incident"
	pb "vigie/services/incidents/incidentspb"
)

// Service holds the command handler of incidents.
type Service struct {
	guard     guard.Guard
	incidents *command.Handler[*incident.Incident]
}

// Registry returns the event types this service writes.
func Registry() (*events.Registry, error) {
	reg := events.NewRegistry()
	if err := incident.Register(reg); err != nil {
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
	return &Service{
		guard:     guard.Guard{Authz: authz},
		incidents: &command.Handler[*incident.Incident]{Store: c, Registry: reg, Now: now, History: command.NewHistory(20_000), New: func() *incident.Incident { return &incident.Incident{} }},
	}, nil
}

// Register serves the Incidents API on g.
func (s *Service) Register(g grpc.ServiceRegistrar) {
	pb.RegisterIncidentsServer(g, incidentsAPI{s: s})
}

type incidentsAPI struct {
	s *Service
	pb.UnimplementedIncidentsServer
}

type decideIncident = func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)

func (a incidentsAPI) run(ctx context.Context, name, id, commandID, action string, create *pb.ReportRequest, decide decideIncident) (*pb.IncidentReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(commandID); err != nil {
		return nil, err
	}
	stream, err := guard.Stream(events.CategoryIncident, id)
	if err != nil {
		return nil, err
	}
	res, err := a.s.incidents.Handle(ctx, command.Command[*incident.Incident]{
		Name: name, Stream: stream, CommandID: commandID,
		Authorize: func(i *incident.Incident) (events.Actor, string, error) {
			if i.Exists() {
				by, err := a.s.guard.ActOn(p, i.Domain(), policies.ObjectIncident, action)
				return by, i.Domain(), err
			}
			if create == nil {
				return events.Actor{}, "", incident.ErrNotFound
			}
			by, err := a.s.guard.Act(p, create.Domain, policies.ObjectIncident, action)
			return by, create.Domain, err
		},
		Decide: decide,
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	i := res.State
	return &pb.IncidentReply{
		IncidentId: i.ID(), Domain: i.Domain(), Status: string(i.Status()), Revision: res.Revision,
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare, Duplicate: res.Duplicate,
	}, nil
}

func point(p *pb.Point) *incident.Point {
	if p == nil {
		return nil
	}
	return &incident.Point{Lat: p.Lat, Lon: p.Lon}
}

func (a incidentsAPI) Report(ctx context.Context, req *pb.ReportRequest) (*pb.IncidentReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id := req.IncidentId
	if id == "" {
		id = guard.NewID(p.Subject, req.CommandId)
	}
	return a.run(ctx, "ReportIncident", id, req.CommandId, policies.ActionReport, req, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		kind, err := incident.ParseKind(req.Kind)
		if err != nil {
			return nil, err
		}
		var sev incident.Severity
		if req.Severity != "" {
			if sev, err = incident.ParseSeverity(req.Severity); err != nil {
				return nil, err
			}
		}
		return i.Report(incident.Report{IncidentID: id, Domain: req.Domain, Kind: kind, Title: req.Title, Description: req.Description, Severity: sev, Location: point(req.Location)}, by, now)
	})
}

func (a incidentsAPI) Qualify(ctx context.Context, req *pb.QualifyRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "QualifyIncident", req.IncidentId, req.CommandId, policies.ActionQualify, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		kind, err := incident.ParseKind(req.Kind)
		if err != nil {
			return nil, err
		}
		sev, err := incident.ParseSeverity(req.Severity)
		if err != nil {
			return nil, err
		}
		zone := make([]incident.Point, 0, len(req.Zone))
		for _, p := range req.Zone {
			zone = append(zone, *point(p))
		}
		return i.Qualify(incident.Qualify{Kind: kind, Severity: sev, Location: point(req.Location), Zone: zone}, by, now)
	})
}

// LogEntryID is the id the service gives a main-courante entry: it derives from the
// incident, the author and the command, so a resent entry is the same entry, and two
// authors who chose the same command id (command ids are per subject) do not claim one
// entry id. A drill replaying a log asks it which id an entry got.
func LogEntryID(incidentID, subject, commandID string) string {
	return command.EventID(incidentID, subject, commandID, 0).String()
}

func (a incidentsAPI) AddLogEntry(ctx context.Context, req *pb.AddLogEntryRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "AddLogEntry", req.IncidentId, req.CommandId, policies.ActionLog, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		entry := LogEntryID(req.IncidentId, by.Subject, req.CommandId)
		return i.AddLogEntry(incident.AddLogEntry{EntryID: entry, Text: req.Text, Corrects: req.Corrects}, by, now)
	})
}

func (a incidentsAPI) Escalate(ctx context.Context, req *pb.EscalateRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "EscalateIncident", req.IncidentId, req.CommandId, policies.ActionEscalate, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		return i.Escalate(req.Reason, by, now)
	})
}

func (a incidentsAPI) Stabilize(ctx context.Context, req *pb.StabilizeRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "StabilizeIncident", req.IncidentId, req.CommandId, policies.ActionStabilize, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		return i.Stabilize(by, now)
	})
}

func (a incidentsAPI) Close(ctx context.Context, req *pb.CloseRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "CloseIncident", req.IncidentId, req.CommandId, policies.ActionClose, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		return i.Close(req.Summary, by, now)
	})
}

func (a incidentsAPI) Reopen(ctx context.Context, req *pb.ReopenRequest) (*pb.IncidentReply, error) {
	return a.run(ctx, "ReopenIncident", req.IncidentId, req.CommandId, policies.ActionReopen, nil, func(i *incident.Incident, by events.Actor, now time.Time) ([]events.Event, error) {
		return i.Reopen(req.Reason, by, now)
	})
}
