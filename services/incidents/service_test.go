package incidents_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/guard/guardtest"
	"vigie/services/incidents"
	"vigie/services/incidents/incident"
	pb "vigie/services/incidents/incidentspb"
)

// The territory of the tests: Nîmes is "our" commune, Alès another commune of the
// Gard, Istres a commune of another département.
const (
	nimes  = "dep:30/com:30189"
	ales   = "dep:30/com:30007"
	gard   = "dep:30"
	istres = "dep:13/com:13047"
	bdr    = "dep:13"
)

func start(t *testing.T) *guardtest.Env {
	t.Helper()
	return guardtest.Start(t, func(g *grpc.Server, c *store.Client, a *policies.Authorizer) {
		svc, err := incidents.New(c, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.Register(g)
	})
}

// stream decodes every event of a stream with the service's registry.
func stream(t *testing.T, env *guardtest.Env, name string) []guardtest.Recorded {
	t.Helper()
	reg, err := incidents.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return env.Stream(t, reg, name)
}

func TestAnIncidentLivesItsLifecycleOverGRPC(t *testing.T) {
	env := start(t)
	c := pb.NewIncidentsClient(env.Conn)
	operator := env.As(t, "op-nimes", events.RoleOperator, nimes)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	mayor := env.As(t, "maire-nimes", events.RoleMayor, nimes)
	cod := env.As(t, "cod-gard", events.RolePrefecture, gard)

	done := func(r *pb.IncidentReply, err error, status string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != status || r.Domain != nimes || r.Duplicate {
			t.Fatalf("reply %+v, want status %s", r, status)
		}
	}

	r, err := c.Report(operator, &pb.ReportRequest{CommandId: "rep-1", Domain: nimes, Kind: "FLASH_FLOOD", Title: "Cadereau d'Alès sorti de son lit", Location: &pb.Point{Lat: 43.8367, Lon: 4.3601}})
	done(r, err, "reported")
	id := r.IncidentId
	if id != guard.NewID("op-nimes", "rep-1") {
		t.Fatalf("incident id %s is not derived from the caller and the command id", id)
	}
	r, err = c.Qualify(rac, &pb.QualifyRequest{CommandId: "qual-1", IncidentId: id, Kind: "flood", Severity: "Severe"})
	done(r, err, "qualified")
	r, err = c.AddLogEntry(operator, &pb.AddLogEntryRequest{CommandId: "log-1", IncidentId: id, Text: "Avenue Jean Jaurès coupée à la circulation"})
	done(r, err, "qualified")

	head := env.Head(t)
	_, err = c.Escalate(rac, &pb.EscalateRequest{CommandId: "esc-rac", IncidentId: id, Reason: "débordement généralisé"})
	guardtest.WantCode(t, err, codes.PermissionDenied, nil)
	env.Unchanged(t, head)

	r, err = c.Escalate(mayor, &pb.EscalateRequest{CommandId: "esc-1", IncidentId: id, Reason: "débordement généralisé"})
	done(r, err, "escalated")

	head = env.Head(t)
	_, err = c.Close(rac, &pb.CloseRequest{CommandId: "close-rac", IncidentId: id, Summary: "décrue"})
	guardtest.WantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	_, err = c.Stabilize(mayor, &pb.StabilizeRequest{CommandId: "stab-mayor", IncidentId: id})
	guardtest.WantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	env.Unchanged(t, head)

	r, err = c.Stabilize(cod, &pb.StabilizeRequest{CommandId: "stab-1", IncidentId: id})
	done(r, err, "stabilized")
	r, err = c.Close(cod, &pb.CloseRequest{CommandId: "close-1", IncidentId: id, Summary: "Décrue amorcée, plus de victime à secourir"})
	done(r, err, "closed")

	// The prefecture directs an escalated incident for good, closed and reopened
	// (incident.DirectedByPrefecture): the mayor may not reopen it.
	head = env.Head(t)
	_, err = c.Reopen(mayor, &pb.ReopenRequest{CommandId: "reopen-mayor", IncidentId: id, Reason: "nouvelle montée des eaux"})
	guardtest.WantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	_, err = c.AddLogEntry(operator, &pb.AddLogEntryRequest{CommandId: "log-closed", IncidentId: id, Text: "trop tard"})
	guardtest.WantCode(t, err, codes.FailedPrecondition, incident.ErrIncidentClosed)
	env.Unchanged(t, head)

	r, err = c.Reopen(cod, &pb.ReopenRequest{CommandId: "reopen-1", IncidentId: id, Reason: "nouvelle montée des eaux"})
	done(r, err, "qualified")

	want := []struct {
		typ, actor, role, cmd string
	}{
		{"IncidentReported", "op-nimes", events.RoleOperator, "rep-1"},
		{"IncidentQualified", "rac-nimes", events.RoleRAC, "qual-1"},
		{"LogEntryAdded", "op-nimes", events.RoleOperator, "log-1"},
		{"IncidentEscalated", "maire-nimes", events.RoleMayor, "esc-1"},
		{"IncidentStabilized", "cod-gard", events.RolePrefecture, "stab-1"},
		{"IncidentClosed", "cod-gard", events.RolePrefecture, "close-1"},
		{"IncidentReopened", "cod-gard", events.RolePrefecture, "reopen-1"},
	}
	log := stream(t, env, "incident-"+id)
	if len(log) != len(want) {
		var got []string
		for _, r := range log {
			got = append(got, r.Event.EventType())
		}
		t.Fatalf("stream holds %v", got)
	}
	for i, w := range want {
		e, md := log[i].Event, log[i].Meta
		if e.EventType() != w.typ || md.Actor != w.actor || md.Role != w.role || md.Domain != nimes || md.CommandID != w.cmd {
			t.Errorf("event %d: %s by %s as %s on %s (command %s); want %+v", i, e.EventType(), md.Actor, md.Role, md.Domain, md.CommandID, w)
		}
	}
	if rep := log[0].Event.(incident.IncidentReported); rep.IncidentID != id || rep.Kind != incident.KindFlashFlood || rep.ReportedBy != "op-nimes" {
		t.Errorf("reported %+v", rep)
	}
	if q := log[1].Event.(incident.IncidentQualified); q.Kind != incident.KindFlood || q.Severity != incident.SeveritySevere || q.Location == nil {
		t.Errorf("qualified %+v (the report's location must be kept)", q)
	}
	if e := log[2].Event.(incident.LogEntryAdded); e.EntryID != command.EventID(id, "op-nimes", "log-1", 0).String() || e.Author != "op-nimes" {
		t.Errorf("log entry %+v", e)
	}
}

func TestAReportResentWithTheSameCommandIDIsRecordedOnce(t *testing.T) {
	env := start(t)
	c := pb.NewIncidentsClient(env.Conn)
	field := env.As(t, "agent-nimes", events.RoleField, nimes)
	req := &pb.ReportRequest{CommandId: "rep-1", Domain: nimes, Kind: "flood", Title: "Route de Sauve inondée"}

	first, err := c.Report(field, req)
	if err != nil || first.Duplicate {
		t.Fatalf("%+v, %v", first, err)
	}
	again, err := c.Report(field, req)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.IncidentId != first.IncidentId || again.CommitPosition != first.CommitPosition || again.Status != "reported" {
		t.Fatalf("resent %+v, first %+v", again, first)
	}
	if log := stream(t, env, "incident-"+first.IncidentId); len(log) != 1 || log[0].Event.EventType() != "IncidentReported" {
		t.Fatalf("stream holds %d events", len(log))
	}
}

// Command ids are the caller's own (command.Handler scopes them per subject): two
// authors who happen to choose the same one each add their entry.
func TestTwoAuthorsUsingOneCommandIDEachAddTheirLogEntry(t *testing.T) {
	env := start(t)
	c := pb.NewIncidentsClient(env.Conn)
	op1 := env.As(t, "op-1", events.RoleOperator, nimes)
	op2 := env.As(t, "op-2", events.RoleOperator, nimes)
	r, err := c.Report(op1, &pb.ReportRequest{CommandId: "1", IncidentId: "inc-vistre", Domain: nimes, Kind: "flood", Title: "Crue du Vistre"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{op1, op2, op1} {
		if _, err := c.AddLogEntry(ctx, &pb.AddLogEntryRequest{CommandId: "2", IncidentId: r.IncidentId, Text: "pont de la Servie fermé"}); err != nil {
			t.Fatal(err)
		}
	}
	log := stream(t, env, "incident-inc-vistre")
	if len(log) != 3 {
		t.Fatalf("stream holds %d events, want the report and two entries", len(log))
	}
	e1, e2 := log[1].Event.(incident.LogEntryAdded), log[2].Event.(incident.LogEntryAdded)
	if e1.Author != "op-1" || e2.Author != "op-2" || e1.EntryID == e2.EntryID {
		t.Fatalf("entries %+v and %+v", e1, e2)
	}
}

// The matrix's answers: the gRPC code each cell expects.
const (
	allowed  = "ok"
	denied   = "denied"   // PermissionDenied: the caller may read the incident, not do this
	notFound = "notfound" // NotFound: the caller may not even read it (no existence oracle)
	refused  = "rule"     // FailedPrecondition: the policy allows, a domain rule refuses
	na       = "-"        // no token can carry this grant (role.ValidGrant)
)

var matrixCode = map[string]codes.Code{allowed: codes.OK, denied: codes.PermissionDenied, notFound: codes.NotFound, refused: codes.FailedPrecondition}

// matrixCommands are the columns of the matrix, in order.
var matrixCommands = []string{"report", "qualify", "log", "escalate", "stabilize", "close", "reopen"}

// matrix: what each role, granted on each scope, gets from each command on an
// incident of Nîmes that is in the state the command needs (reported for qualify
// and log, qualified for escalate, stabilize and close, closed for reopen), and
// never escalated: the commune directs it.
var matrix = []struct {
	role, scope, grant string
	want               [7]string // report, qualify, log, escalate, stabilize, close, reopen
	rule               error     // the domain rule named by the "rule" cells
}{
	{events.RoleMayor, "own commune", nimes, [7]string{allowed, allowed, allowed, allowed, allowed, allowed, allowed}, nil},
	{events.RoleMayor, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleMayor, "département", gard, [7]string{na, na, na, na, na, na, na}, nil},
	{events.RoleMayor, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	{events.RoleRAC, "own commune", nimes, [7]string{allowed, allowed, allowed, denied, allowed, allowed, allowed}, nil},
	{events.RoleRAC, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleRAC, "département", gard, [7]string{na, na, na, na, na, na, na}, nil},
	{events.RoleRAC, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	{events.RoleOperator, "own commune", nimes, [7]string{allowed, denied, allowed, denied, denied, denied, denied}, nil},
	{events.RoleOperator, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleOperator, "département", gard, [7]string{allowed, denied, allowed, denied, denied, denied, denied}, nil},
	{events.RoleOperator, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	{events.RoleField, "own commune", nimes, [7]string{allowed, denied, denied, denied, denied, denied, denied}, nil},
	{events.RoleField, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleField, "département", gard, [7]string{allowed, denied, denied, denied, denied, denied, denied}, nil},
	{events.RoleField, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	{events.RoleObserver, "own commune", nimes, [7]string{denied, denied, denied, denied, denied, denied, denied}, nil},
	{events.RoleObserver, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleObserver, "département", gard, [7]string{denied, denied, denied, denied, denied, denied, denied}, nil},
	{events.RoleObserver, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	{events.RolePrefecture, "own commune", nimes, [7]string{na, na, na, na, na, na, na}, nil},
	{events.RolePrefecture, "other commune", ales, [7]string{na, na, na, na, na, na, na}, nil},
	// The prefecture logs and may escalate on its own decision; until then the
	// commune directs (incident.ErrNotDirector).
	{events.RolePrefecture, "département", gard, [7]string{denied, refused, allowed, allowed, refused, refused, refused}, incident.ErrNotDirector},
	{events.RolePrefecture, "other département", bdr, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},

	// An admin manages roles and may not even read incidents.
	{events.RoleAdmin, "own commune", nimes, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleAdmin, "other commune", ales, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleAdmin, "département", gard, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
	{events.RoleAdmin, "other département", istres, [7]string{denied, notFound, notFound, notFound, notFound, notFound, notFound}, nil},
}

func TestIncidentCommandsAuthorizationMatrix(t *testing.T) {
	env := start(t)
	c := pb.NewIncidentsClient(env.Conn)
	mayor := env.As(t, "maire-nimes", events.RoleMayor, nimes)
	must := func(t *testing.T, _ *pb.IncidentReply, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("preparing: %v", err)
		}
	}
	// prepare puts a fresh incident in the state the command needs, as the mayor.
	prepare := func(t *testing.T, id, cmd string) {
		if cmd == "report" {
			return
		}
		r, err := c.Report(mayor, &pb.ReportRequest{CommandId: "p-rep-" + id, IncidentId: id, Domain: nimes, Kind: "flood", Title: "Crue du Vistre"})
		must(t, r, err)
		if cmd == "qualify" || cmd == "log" {
			return
		}
		r, err = c.Qualify(mayor, &pb.QualifyRequest{CommandId: "p-qual-" + id, IncidentId: id, Kind: "flood", Severity: "Moderate"})
		must(t, r, err)
		if cmd == "reopen" {
			r, err = c.Close(mayor, &pb.CloseRequest{CommandId: "p-close-" + id, IncidentId: id, Summary: "décrue"})
			must(t, r, err)
		}
	}
	call := func(ctx context.Context, id, cmd string) (*pb.IncidentReply, error) {
		switch cmd {
		case "report":
			return c.Report(ctx, &pb.ReportRequest{CommandId: "t", IncidentId: id, Domain: nimes, Kind: "flood", Title: "Crue du Vistre"})
		case "qualify":
			return c.Qualify(ctx, &pb.QualifyRequest{CommandId: "t", IncidentId: id, Kind: "flood", Severity: "Severe"})
		case "log":
			return c.AddLogEntry(ctx, &pb.AddLogEntryRequest{CommandId: "t", IncidentId: id, Text: "point de situation"})
		case "escalate":
			return c.Escalate(ctx, &pb.EscalateRequest{CommandId: "t", IncidentId: id, Reason: "crue majeure"})
		case "stabilize":
			return c.Stabilize(ctx, &pb.StabilizeRequest{CommandId: "t", IncidentId: id})
		case "close":
			return c.Close(ctx, &pb.CloseRequest{CommandId: "t", IncidentId: id, Summary: "décrue"})
		case "reopen":
			return c.Reopen(ctx, &pb.ReopenRequest{CommandId: "t", IncidentId: id, Reason: "nouvelle pluie"})
		}
		panic(cmd)
	}

	cells := 0
	for _, row := range matrix {
		t.Run(row.role+"/"+row.scope, func(t *testing.T) {
			if row.want[0] == na {
				if err := (policies.Grant{Role: row.role, Domain: row.grant}).Validate(); err == nil {
					t.Fatalf("%s on %s is a valid grant: the row needs answers", row.role, row.grant)
				}
				return
			}
			subject := "u-" + row.role + "-" + strings.ReplaceAll(row.scope, " ", "-")
			ctx := env.As(t, subject, row.role, row.grant)
			for n, cmd := range matrixCommands {
				want := row.want[n]
				id := fmt.Sprintf("m-%s-%s-%s", row.role, strings.ReplaceAll(row.scope, " ", "-"), cmd)
				prepare(t, id, cmd)
				head := env.Head(t)
				_, err := call(ctx, id, cmd)
				cells++
				if got := status.Code(err); got != matrixCode[want] {
					t.Errorf("%s: got %v (%v), want %s", cmd, got, err, want)
					continue
				}
				switch want {
				case allowed:
					log := stream(t, env, "incident-"+id)
					if md := log[len(log)-1].Meta; md.Actor != subject || md.Role != row.role || md.Domain != nimes {
						t.Errorf("%s recorded by %s as %s on %s", cmd, md.Actor, md.Role, md.Domain)
					}
				case refused:
					if msg := status.Convert(err).Message(); !strings.Contains(msg, row.rule.Error()) {
						t.Errorf("%s: %q does not name %q", cmd, msg, row.rule)
					}
					env.Unchanged(t, head)
				default:
					env.Unchanged(t, head)
				}
			}
		})
	}
	t.Logf("%d cells", cells)
}

// The display name of the caller's token goes through the guard into the event's
// metadata: the log says who decided by name, beside the subject rules use.
func TestTheCallersNameIsRecordedWithTheEvent(t *testing.T) {
	env := start(t)
	c := pb.NewIncidentsClient(env.Conn)
	named := env.AsNamed(t, "rac-nimes", "Marie Durand", events.RoleRAC, nimes)
	r, err := c.Report(named, &pb.ReportRequest{CommandId: "rep-named", Domain: nimes, Kind: "FLOOD", Title: "Crue du Vistre"})
	if err != nil {
		t.Fatal(err)
	}
	unnamed := env.As(t, "op-nimes", events.RoleOperator, nimes)
	if _, err := c.AddLogEntry(unnamed, &pb.AddLogEntryRequest{CommandId: "log-unnamed", IncidentId: r.IncidentId, Text: "Pont fermé"}); err != nil {
		t.Fatal(err)
	}
	log := stream(t, env, "incident-"+r.IncidentId)
	if len(log) != 2 {
		t.Fatalf("%d events", len(log))
	}
	if md := log[0].Meta; md.Actor != "rac-nimes" || md.ActorName != "Marie Durand" || md.Role != events.RoleRAC {
		t.Errorf("metadata of the named caller's event: %+v", md)
	}
	if md := log[1].Meta; md.Actor != "op-nimes" || md.ActorName != "" {
		t.Errorf("metadata of the unnamed caller's event: %+v", md)
	}
}
