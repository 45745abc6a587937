package incidents_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/policies"
	"vigie/policies/guard"
	"vigie/policies/guard/guardtest"
	"vigie/policies/role"
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

// wantCode fails unless err carries the gRPC code want; when rule is not nil, the
// status message must name it (guard.Status keeps the domain error's text).
func wantCode(t *testing.T, err error, want codes.Code, rule error) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
	if rule != nil {
		if msg := status.Convert(err).Message(); !strings.Contains(msg, rule.Error()) {
			t.Fatalf("message %q does not name %q", msg, rule)
		}
	}
}

type recorded struct {
	event events.Event
	md    events.Metadata
}

// stream decodes every event of a stream with the service's registry.
func stream(t *testing.T, env *guardtest.Env, name string) []recorded {
	t.Helper()
	reg, err := incidents.Registry()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := env.Store.ReadStream(context.Background(), name, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	out := make([]recorded, 0, len(recs))
	for _, rec := range recs {
		e, md, err := reg.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			t.Fatalf("decode %s@%d: %v", name, rec.Revision, err)
		}
		out = append(out, recorded{e, md})
	}
	return out
}

func unchanged(t *testing.T, env *guardtest.Env, head uint64) {
	t.Helper()
	if now := env.Head(t); now != head {
		t.Fatalf("the log moved from %d to %d: a refused command appended", head, now)
	}
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
	wantCode(t, err, codes.PermissionDenied, nil)
	unchanged(t, env, head)

	r, err = c.Escalate(mayor, &pb.EscalateRequest{CommandId: "esc-1", IncidentId: id, Reason: "débordement généralisé"})
	done(r, err, "escalated")

	head = env.Head(t)
	_, err = c.Close(rac, &pb.CloseRequest{CommandId: "close-rac", IncidentId: id, Summary: "décrue"})
	wantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	_, err = c.Stabilize(mayor, &pb.StabilizeRequest{CommandId: "stab-mayor", IncidentId: id})
	wantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	unchanged(t, env, head)

	r, err = c.Stabilize(cod, &pb.StabilizeRequest{CommandId: "stab-1", IncidentId: id})
	done(r, err, "stabilized")
	r, err = c.Close(cod, &pb.CloseRequest{CommandId: "close-1", IncidentId: id, Summary: "Décrue amorcée, plus de victime à secourir"})
	done(r, err, "closed")

	// The prefecture directs an escalated incident for good, closed and reopened
	// (incident.DirectedByPrefecture): the mayor may not reopen it.
	head = env.Head(t)
	_, err = c.Reopen(mayor, &pb.ReopenRequest{CommandId: "reopen-mayor", IncidentId: id, Reason: "nouvelle montée des eaux"})
	wantCode(t, err, codes.FailedPrecondition, incident.ErrDirectedByPrefecture)
	_, err = c.AddLogEntry(operator, &pb.AddLogEntryRequest{CommandId: "log-closed", IncidentId: id, Text: "trop tard"})
	wantCode(t, err, codes.FailedPrecondition, incident.ErrIncidentClosed)
	unchanged(t, env, head)

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
			got = append(got, r.event.EventType())
		}
		t.Fatalf("stream holds %v", got)
	}
	for i, w := range want {
		e, md := log[i].event, log[i].md
		if e.EventType() != w.typ || md.Actor != w.actor || md.Role != w.role || md.Domain != nimes || md.CommandID != w.cmd {
			t.Errorf("event %d: %s by %s as %s on %s (command %s); want %+v", i, e.EventType(), md.Actor, md.Role, md.Domain, md.CommandID, w)
		}
	}
	if rep := log[0].event.(incident.IncidentReported); rep.IncidentID != id || rep.Kind != incident.KindFlashFlood || rep.ReportedBy != "op-nimes" {
		t.Errorf("reported %+v", rep)
	}
	if q := log[1].event.(incident.IncidentQualified); q.Kind != incident.KindFlood || q.Severity != incident.SeveritySevere || q.Location == nil {
		t.Errorf("qualified %+v (the report's location must be kept)", q)
	}
	if e := log[2].event.(incident.LogEntryAdded); e.EntryID != command.EventID(id, "op-nimes", "log-1", 0).String() || e.Author != "op-nimes" {
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
	if log := stream(t, env, "incident-"+first.IncidentId); len(log) != 1 || log[0].event.EventType() != "IncidentReported" {
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
	e1, e2 := log[1].event.(incident.LogEntryAdded), log[2].event.(incident.LogEntryAdded)
	if e1.Author != "op-1" || e2.Author != "op-2" || e1.EntryID == e2.EntryID {
		t.Fatalf("entries %+v and %+v", e1, e2)
	}
}

// waitAuthorized polls the authorizer following the log until p's right to report
// in nimes is want, for at most two seconds.
func waitAuthorized(t *testing.T, env *guardtest.Env, p policies.Principal, want bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for (env.Authz.Authorize(p, nimes, policies.ObjectIncident, policies.ActionReport) == nil) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the authorizer did not follow the grant within 2s (want allowed=%v)", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRoleGrantsTakeEffectWhileTheServiceRuns(t *testing.T) {
	env := start(t)
	inc := pb.NewIncidentsClient(env.Conn)
	roles := pb.NewRolesClient(env.Conn)
	admin := env.As(t, "adm-nimes", events.RoleAdmin, nimes)
	// u-42's token carries one harmless grant elsewhere; what it may do in Nîmes
	// comes from the log.
	u42 := env.As(t, "u-42", events.RoleObserver, istres)
	p42 := policies.Principal{Subject: "u-42", Grants: []policies.Grant{{Role: events.RoleObserver, Domain: istres}}}
	report := func(cmd string) (*pb.IncidentReply, error) {
		return inc.Report(u42, &pb.ReportRequest{CommandId: cmd, Domain: nimes, Kind: "storm", Title: "Arbre tombé sur la chaussée"})
	}

	head := env.Head(t)
	_, err := report("before")
	wantCode(t, err, codes.PermissionDenied, nil)
	unchanged(t, env, head)

	g, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	if err != nil || g.Domain != nimes || g.Duplicate {
		t.Fatalf("grant: %+v, %v", g, err)
	}
	again, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	if err != nil || !again.Duplicate {
		t.Fatalf("resent grant: %+v, %v", again, err)
	}
	_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-2", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	wantCode(t, err, codes.FailedPrecondition, role.ErrAlreadyGranted)
	log := stream(t, env, "role-"+nimes)
	if len(log) != 1 || log[0].md.Actor != "adm-nimes" || log[0].md.Role != events.RoleAdmin {
		t.Fatalf("role stream: %d events, first %+v", len(log), log)
	}
	if gr := log[0].event.(role.RoleGranted); gr.Subject != "u-42" || gr.Role != events.RoleOperator || gr.Domain != nimes || gr.By != "adm-nimes" {
		t.Fatalf("granted %+v", gr)
	}

	waitAuthorized(t, env, p42, true)
	r, err := report("after-grant")
	if err != nil {
		t.Fatalf("report after the grant: %v", err)
	}
	if md := stream(t, env, "incident-"+r.IncidentId)[0].md; md.Actor != "u-42" || md.Role != events.RoleOperator {
		t.Fatalf("reported by %s as %s", md.Actor, md.Role)
	}

	if _, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "revoke-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	waitAuthorized(t, env, p42, false)
	head = env.Head(t)
	_, err = report("after-revoke")
	wantCode(t, err, codes.PermissionDenied, nil)
	// Nor may u-42 see the incident it reported any more.
	_, err = inc.AddLogEntry(u42, &pb.AddLogEntryRequest{CommandId: "log", IncidentId: r.IncidentId, Text: "encore là"})
	wantCode(t, err, codes.NotFound, nil)
	unchanged(t, env, head)

	t.Run("only an admin grants", func(t *testing.T) {
		head := env.Head(t)
		for _, caller := range []context.Context{
			env.As(t, "maire-nimes", events.RoleMayor, nimes),
			env.As(t, "cod-gard", events.RolePrefecture, gard),
			env.As(t, "adm-ales", events.RoleAdmin, ales),
		} {
			_, err := roles.Grant(caller, &pb.RoleRequest{CommandId: "grant-x", Subject: "u-43", Role: events.RoleRAC, Domain: nimes})
			wantCode(t, err, codes.PermissionDenied, nil)
		}
		unchanged(t, env, head)
	})
	t.Run("an admin cannot revoke their own admin role", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "self", Subject: "adm-nimes", Role: events.RoleAdmin, Domain: nimes})
		wantCode(t, err, codes.FailedPrecondition, role.ErrSelfRevokeAdmin)
		unchanged(t, env, head)
	})
	t.Run("a revocation of what is not held", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "revoke-2", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
		wantCode(t, err, codes.FailedPrecondition, role.ErrNotGranted)
		unchanged(t, env, head)
	})
	t.Run("the prefecture's role is not granted on a commune", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-pref", Subject: "u-44", Role: events.RolePrefecture, Domain: nimes})
		wantCode(t, err, codes.FailedPrecondition, role.ErrRoleNotForDomain)
		unchanged(t, env, head)
	})
	t.Run("an unknown role or a malformed subject", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-boss", Subject: "u-44", Role: "boss", Domain: nimes})
		wantCode(t, err, codes.InvalidArgument, role.ErrUnknownRole)
		_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-space", Subject: "u 44", Role: events.RoleOperator, Domain: nimes})
		wantCode(t, err, codes.InvalidArgument, role.ErrInvalidSubject)
		_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-role", Subject: "role:mayor", Role: events.RoleOperator, Domain: nimes})
		wantCode(t, err, codes.InvalidArgument, role.ErrInvalidSubject)
		unchanged(t, env, head)
	})
	t.Run("a malformed domain", func(t *testing.T) {
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-bad", Subject: "u-44", Role: events.RoleOperator, Domain: "nimes"})
		wantCode(t, err, codes.InvalidArgument, nil)
	})
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
					if md := log[len(log)-1].md; md.Actor != subject || md.Role != row.role || md.Domain != nimes {
						t.Errorf("%s recorded by %s as %s on %s", cmd, md.Actor, md.Role, md.Domain)
					}
				case refused:
					if msg := status.Convert(err).Message(); !strings.Contains(msg, row.rule.Error()) {
						t.Errorf("%s: %q does not name %q", cmd, msg, row.rule)
					}
					unchanged(t, env, head)
				default:
					unchanged(t, env, head)
				}
			}
		})
	}
	t.Logf("%d cells", cells)
}
