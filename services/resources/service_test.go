package resources_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/store"
	"vigie/identity"
	"vigie/policies"
	"vigie/services/guard"
	"vigie/services/guard/guardtest"
	"vigie/services/resources"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	pb "vigie/services/resources/resourcespb"
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
		svc, err := resources.New(c, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.Register(g)
	})
}

// stream decodes every event of a stream with the service's registry.
func stream(t *testing.T, env *guardtest.Env, name string) []guardtest.Recorded {
	t.Helper()
	reg, err := resources.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return env.Stream(t, reg, name)
}

func types(rs []guardtest.Recorded) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Event.EventType()
	}
	return out
}

func register(t *testing.T, ctx context.Context, c pb.ResourcesClient, req *pb.RegisterRequest) *pb.ResourceReply {
	t.Helper()
	r, err := c.Register(ctx, req)
	if err != nil {
		t.Fatalf("register %s: %v", req.ResourceId, err)
	}
	return r
}

func TestFiftyConcurrentEngagementsOfOneResourceExactlyOneWins(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	register(t, rac, c, &pb.RegisterRequest{CommandId: "reg-team", ResourceId: "team-pm-1", Domain: nimes, Kind: "team", Name: "Police municipale, équipe 1"})

	const n = 50
	for i := range n {
		reported(t, env, nimes, fmt.Sprintf("inc-%02d", i))
	}
	type outcome struct {
		incident string
		reply    *pb.ResourceReply
		err      error
	}
	out := make([]outcome, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			inc := fmt.Sprintf("inc-%02d", i)
			r, err := c.Engage(rac, &pb.EngageRequest{CommandId: "engage-" + inc, ResourceId: "team-pm-1", IncidentId: inc})
			out[i] = outcome{inc, r, err}
		})
	}
	close(gate)
	wg.Wait()

	var winners []outcome
	aborted := 0
	for _, o := range out {
		switch status.Code(o.err) {
		case codes.OK:
			winners = append(winners, o)
		case codes.FailedPrecondition:
			guardtest.WantCode(t, o.err, codes.FailedPrecondition, resource.ErrAlreadyEngaged)
		case codes.Aborted:
			aborted++
		default:
			t.Errorf("engage on %s: %v", o.incident, o.err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d engagements succeeded, want exactly 1", len(winners))
	}
	win := winners[0]
	t.Logf("winner %s; %d refused as already engaged, %d aborted", win.incident, n-1-aborted, aborted)
	if win.reply.Status != string(resource.StatusEngaged) || win.reply.IncidentId != win.incident || win.reply.Duplicate {
		t.Fatalf("winner's reply %+v", win.reply)
	}

	log := stream(t, env, "resource-team-pm-1")
	if got := types(log); len(got) != 2 || got[0] != "ResourceRegistered" || got[1] != "ResourceEngaged" {
		t.Fatalf("stream holds %v, want [ResourceRegistered ResourceEngaged]", got)
	}
	engaged := log[1].Event.(resource.ResourceEngaged)
	if engaged.IncidentID != win.incident || log[1].Meta.CommandID != "engage-"+win.incident {
		t.Fatalf("the log engaged on %s by command %s; the winner was %s", engaged.IncidentID, log[1].Meta.CommandID, win.incident)
	}
}

func TestFiftyConcurrentOccupancyChangesNeverExceedCapacity(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	const capacity = 30
	register(t, rac, c, &pb.RegisterRequest{CommandId: "reg-gym", ResourceId: "gym-jean-bouin", Domain: nimes, Kind: "shelter", Name: "Gymnase Jean Bouin", Capacity: capacity})

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 30189))
	const n = 50
	values := make([]int32, n)
	for i := range values {
		values[i] = int32(rng.IntN(61)) // 0..60
	}
	errs := make([]error, n)
	replies := make([]*pb.ResourceReply, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			replies[i], errs[i] = c.SetOccupancy(rac, &pb.SetOccupancyRequest{CommandId: fmt.Sprintf("occ-%02d", i), ResourceId: "gym-jean-bouin", Occupancy: values[i]})
		})
	}
	close(gate)
	wg.Wait()

	accepted := map[string]int32{} // command id → occupancy, for the calls answered OK
	full, aborted := 0, 0
	for i, v := range values {
		switch {
		case v > capacity:
			guardtest.WantCode(t, errs[i], codes.FailedPrecondition, resource.ErrShelterFull)
			full++
		case status.Code(errs[i]) == codes.Aborted:
			aborted++
		case errs[i] != nil:
			t.Fatalf("occupancy %d: %v", v, errs[i])
		default:
			if replies[i].Occupancy != v || replies[i].Capacity != capacity {
				t.Fatalf("occupancy %d answered %+v", v, replies[i])
			}
			accepted[fmt.Sprintf("occ-%02d", i)] = v
		}
	}
	t.Logf("%d over capacity, %d accepted, %d aborted", full, len(accepted), aborted)

	prev := 0
	changes := 0
	for _, r := range stream(t, env, "resource-gym-jean-bouin")[1:] {
		e, ok := r.Event.(resource.ShelterOccupancyChanged)
		if !ok {
			t.Fatalf("unexpected %s", r.Event.EventType())
		}
		changes++
		if e.Occupancy < 0 || e.Occupancy > capacity {
			t.Fatalf("the log records an occupancy of %d for a capacity of %d", e.Occupancy, capacity)
		}
		if e.Previous != prev || e.Occupancy == e.Previous {
			t.Fatalf("change %d→%d follows an occupancy of %d", e.Previous, e.Occupancy, prev)
		}
		if v, ok := accepted[r.Meta.CommandID]; !ok || int(v) != e.Occupancy {
			t.Fatalf("the log records %d by command %s, which was not answered OK with that value", e.Occupancy, r.Meta.CommandID)
		}
		prev = e.Occupancy
	}
	if changes > len(accepted) {
		t.Fatalf("%d changes recorded for %d accepted commands", changes, len(accepted))
	}
}

func TestRegisterIsIdempotentByCommandIDPerSubject(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	req := &pb.RegisterRequest{CommandId: "cmd-pump", Domain: nimes, Kind: "equipment", Name: "Motopompe 12"}

	first := register(t, rac, c, req)
	if first.Duplicate || first.ResourceId != guard.NewID("rac-nimes", "cmd-pump") {
		t.Fatalf("first reply %+v", first)
	}
	again := register(t, rac, c, req)
	if !again.Duplicate || again.ResourceId != first.ResourceId || again.CommitPosition != first.CommitPosition {
		t.Fatalf("resent reply %+v, first %+v", again, first)
	}
	if got := types(stream(t, env, "resource-"+first.ResourceId)); len(got) != 1 {
		t.Fatalf("stream holds %v, want one ResourceRegistered", got)
	}

	mayor := env.As(t, "maire-nimes", events.RoleMayor, nimes)
	other := register(t, mayor, c, req)
	if other.Duplicate || other.ResourceId == first.ResourceId {
		t.Fatalf("another subject's command with the same id answered %+v", other)
	}
	log := stream(t, env, "resource-"+other.ResourceId)
	if len(log) != 1 || log[0].Meta.Actor != "maire-nimes" || log[0].Meta.Role != events.RoleMayor {
		t.Fatalf("the other subject's resource: %v", types(log))
	}
	if got := types(stream(t, env, "resource-"+first.ResourceId)); len(got) != 1 {
		t.Fatalf("the first resource's stream now holds %v", got)
	}
}

func TestTheServiceAuthenticatesAndAuthorizesEveryCall(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	register(t, rac, c, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump-12", Domain: nimes, Kind: "equipment", Name: "Motopompe 12"})
	reported(t, env, nimes, "inc-1")
	engage := &pb.EngageRequest{CommandId: "engage", ResourceId: "pump-12", IncidentId: "inc-1"}

	t.Run("no token", func(t *testing.T) {
		head := env.Head(t)
		_, err := c.Engage(context.Background(), engage)
		guardtest.WantCode(t, err, codes.Unauthenticated)
		_, err = c.Register(context.Background(), &pb.RegisterRequest{CommandId: "x", ResourceId: "pump-13", Domain: nimes, Kind: "equipment", Name: "Motopompe 13"})
		guardtest.WantCode(t, err, codes.Unauthenticated)
		env.Unchanged(t, head)
	})
	t.Run("a token signed by another key", func(t *testing.T) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := identity.Issue(key, identity.Claims{Subject: "maire-nimes", Grants: []policies.Grant{{Role: events.RoleMayor, Domain: nimes}}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		head := env.Head(t)
		_, err = c.Engage(identity.WithToken(context.Background(), tok), engage)
		guardtest.WantCode(t, err, codes.Unauthenticated)
		env.Unchanged(t, head)
	})
	t.Run("a rac of another commune is told it does not exist", func(t *testing.T) {
		head := env.Head(t)
		_, err := c.Engage(env.As(t, "rac-ales", events.RoleRAC, ales), engage)
		guardtest.WantCode(t, err, codes.NotFound)
		// The same answer as for a resource that really does not exist.
		_, err = c.Engage(env.As(t, "rac-ales", events.RoleRAC, ales), &pb.EngageRequest{CommandId: "engage", ResourceId: "no-such-pump", IncidentId: "inc-1"})
		guardtest.WantCode(t, err, codes.NotFound)
		env.Unchanged(t, head)
	})
	t.Run("an observer of the commune may read, not engage", func(t *testing.T) {
		head := env.Head(t)
		_, err := c.Engage(env.As(t, "obs-nimes", events.RoleObserver, nimes), engage)
		guardtest.WantCode(t, err, codes.PermissionDenied)
		env.Unchanged(t, head)
	})
	t.Run("the prefecture does not register a commune's resources", func(t *testing.T) {
		head := env.Head(t)
		_, err := c.Register(env.As(t, "cod-gard", events.RolePrefecture, gard), &pb.RegisterRequest{CommandId: "reg-cod", ResourceId: "pump-cod", Domain: nimes, Kind: "equipment", Name: "Motopompe COD"})
		guardtest.WantCode(t, err, codes.PermissionDenied)
		env.Unchanged(t, head)
	})
	t.Run("another département's prefecture is told it does not exist", func(t *testing.T) {
		head := env.Head(t)
		cod13 := env.As(t, "cod-bdr", events.RolePrefecture, bdr)
		_, err := c.SetStatus(cod13, &pb.SetStatusRequest{CommandId: "st", ResourceId: "pump-12", Status: "unavailable"})
		guardtest.WantCode(t, err, codes.NotFound)
		_, err = c.Engage(cod13, engage)
		guardtest.WantCode(t, err, codes.NotFound)
		env.Unchanged(t, head)
	})
	t.Run("the commune's field agent updates the status", func(t *testing.T) {
		r, err := c.SetStatus(env.As(t, "agent-nimes", events.RoleField, nimes), &pb.SetStatusRequest{CommandId: "st", ResourceId: "pump-12", Status: "unavailable"})
		if err != nil || r.Status != "unavailable" {
			t.Fatalf("%+v, %v", r, err)
		}
		log := stream(t, env, "resource-pump-12")
		if md := log[len(log)-1].Meta; md.Actor != "agent-nimes" || md.Role != events.RoleField || md.Domain != nimes {
			t.Fatalf("metadata %+v", md)
		}
	})
}

func TestMalformedCommandsAreRefusedAndAppendNothing(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	register(t, rac, c, &pb.RegisterRequest{CommandId: "reg-team", ResourceId: "team-1", Domain: nimes, Kind: "team", Name: "Services techniques"})
	register(t, rac, c, &pb.RegisterRequest{CommandId: "reg-gym", ResourceId: "gym-1", Domain: nimes, Kind: "shelter", Name: "Gymnase", Capacity: 30})
	reg := func(mod func(*pb.RegisterRequest)) func() error {
		req := &pb.RegisterRequest{CommandId: "reg-new", ResourceId: "new-1", Domain: nimes, Kind: "vehicle", Name: "Fourgon"}
		mod(req)
		return func() error { _, err := c.Register(rac, req); return err }
	}
	long := strings.Repeat("x", guard.MaxCommandID+1)

	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
		rule error
	}{
		{"an unknown kind", reg(func(r *pb.RegisterRequest) { r.Kind = "boat" }), codes.InvalidArgument, resource.ErrUnknownKind},
		{"a kind in GraphQL's case", reg(func(r *pb.RegisterRequest) { r.Kind = "VEHICLE" }), codes.InvalidArgument, resource.ErrUnknownKind},
		{"an empty name", reg(func(r *pb.RegisterRequest) { r.Name = "" }), codes.InvalidArgument, resource.ErrInvalidName},
		{"a blank name", reg(func(r *pb.RegisterRequest) { r.Name = " \t " }), codes.InvalidArgument, resource.ErrInvalidName},
		{"a shelter without capacity", reg(func(r *pb.RegisterRequest) { r.Kind = "shelter" }), codes.InvalidArgument, resource.ErrCapacity},
		{"a team with a capacity", reg(func(r *pb.RegisterRequest) { r.Kind, r.Capacity = "team", 12 }), codes.InvalidArgument, resource.ErrCapacity},
		{"no command id", reg(func(r *pb.RegisterRequest) { r.CommandId = "" }), codes.InvalidArgument, nil},
		{"a command id of 129 bytes", reg(func(r *pb.RegisterRequest) { r.CommandId = long }), codes.InvalidArgument, nil},
		{"no command id and no resource id", reg(func(r *pb.RegisterRequest) { r.CommandId, r.ResourceId = "", "" }), codes.InvalidArgument, nil},
		{"a resource id with a newline", reg(func(r *pb.RegisterRequest) { r.ResourceId = "new\n1" }), codes.InvalidArgument, nil},
		{"a resource id of 129 bytes", reg(func(r *pb.RegisterRequest) { r.ResourceId = long }), codes.InvalidArgument, nil},
		// Authorization comes before validation: a domain that is no commune's is one
		// the caller holds no grant on.
		{"a département's domain", reg(func(r *pb.RegisterRequest) { r.Domain = gard }), codes.PermissionDenied, nil},
		{"no domain", reg(func(r *pb.RegisterRequest) { r.Domain = "" }), codes.PermissionDenied, nil},
		{"an id already registered", reg(func(r *pb.RegisterRequest) { r.ResourceId = "team-1" }), codes.FailedPrecondition, resource.ErrAlreadyRegistered},
		{"an occupancy on a team", func() error {
			_, err := c.SetOccupancy(rac, &pb.SetOccupancyRequest{CommandId: "occ", ResourceId: "team-1", Occupancy: 3})
			return err
		}, codes.FailedPrecondition, resource.ErrNotAShelter},
		{"a negative occupancy", func() error {
			_, err := c.SetOccupancy(rac, &pb.SetOccupancyRequest{CommandId: "occ", ResourceId: "gym-1", Occupancy: -1})
			return err
		}, codes.InvalidArgument, resource.ErrNegativeOccupancy},
		{"an occupancy beyond capacity", func() error {
			_, err := c.SetOccupancy(rac, &pb.SetOccupancyRequest{CommandId: "occ", ResourceId: "gym-1", Occupancy: 31})
			return err
		}, codes.FailedPrecondition, resource.ErrShelterFull},
		{"an unknown status", func() error {
			_, err := c.SetStatus(rac, &pb.SetStatusRequest{CommandId: "st", ResourceId: "team-1", Status: "broken"})
			return err
		}, codes.InvalidArgument, resource.ErrUnknownStatus},
		{"engaged set as a status", func() error {
			_, err := c.SetStatus(rac, &pb.SetStatusRequest{CommandId: "st", ResourceId: "team-1", Status: "engaged"})
			return err
		}, codes.FailedPrecondition, resource.ErrUseEngageRelease},
		{"an engagement on no incident", func() error {
			_, err := c.Engage(rac, &pb.EngageRequest{CommandId: "eng", ResourceId: "team-1"})
			return err
		}, codes.InvalidArgument, resource.ErrInvalidIncidentID},
		{"a release of a resource not engaged", func() error {
			_, err := c.Release(rac, &pb.ReleaseRequest{CommandId: "rel", ResourceId: "team-1"})
			return err
		}, codes.FailedPrecondition, resource.ErrNotEngaged},
		{"an engagement of a resource never registered", func() error {
			_, err := c.Engage(rac, &pb.EngageRequest{CommandId: "eng", ResourceId: "ghost", IncidentId: "inc-1"})
			return err
		}, codes.NotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := env.Head(t)
			err := tc.call()
			if tc.rule != nil {
				guardtest.WantCode(t, err, tc.code, tc.rule)
			} else {
				guardtest.WantCode(t, err, tc.code)
			}
			env.Unchanged(t, head)
		})
	}
}

// The resource domain takes any printable UTF-8 as an id (resource.validID), spaces
// included, unlike the incident domain; the service follows the domain.
func TestAResourceIDWithASpaceIsTheDomainsToJudge(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	r, err := c.Register(rac, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump 12", Domain: nimes, Kind: "equipment", Name: "Motopompe 12"})
	if err != nil || r.ResourceId != "pump 12" {
		t.Fatalf("%+v, %v", r, err)
	}
	if got := types(stream(t, env, "resource-pump 12")); len(got) != 1 {
		t.Fatalf("stream holds %v", got)
	}
}

func TestAReinforcementGoesFromTheCommuneToTheGardPrefectureAndBack(t *testing.T) {
	env := start(t)
	c := pb.NewReinforcementsClient(env.Conn)
	mayor := env.As(t, "maire-nimes", events.RoleMayor, nimes)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	cod := env.As(t, "cod-gard", events.RolePrefecture, gard)
	cod13 := env.As(t, "cod-bdr", events.RolePrefecture, bdr)
	reported(t, env, nimes, "inc-cadereau")

	req, err := c.Request(mayor, &pb.ReinforcementRequest{CommandId: "req-pumps", Domain: nimes, IncidentId: "inc-cadereau", Kind: "equipment", Quantity: 6, Reason: "Cadereau d'Uzès en crue"})
	if err != nil {
		t.Fatal(err)
	}
	id := req.RequestId
	if id != guard.NewID("maire-nimes", "req-pumps") || req.Status != string(reinforcement.StatusRequested) || req.Requested != 6 || req.Domain != nimes {
		t.Fatalf("request %+v", req)
	}
	step := func(cmd string) *pb.ReinforcementStepRequest {
		return &pb.ReinforcementStepRequest{CommandId: cmd, RequestId: id}
	}

	head := env.Head(t)
	_, err = c.Accept(mayor, &pb.AcceptReinforcementRequest{CommandId: "acc-m", RequestId: id, Quantity: 6})
	guardtest.WantCode(t, err, codes.PermissionDenied)
	_, err = c.Accept(cod13, &pb.AcceptReinforcementRequest{CommandId: "acc-13", RequestId: id, Quantity: 6})
	guardtest.WantCode(t, err, codes.NotFound)
	_, err = c.Dispatch(cod, step("early"))
	guardtest.WantCode(t, err, codes.FailedPrecondition, reinforcement.ErrWrongStep)
	_, err = c.Accept(cod, &pb.AcceptReinforcementRequest{CommandId: "acc-7", RequestId: id, Quantity: 7})
	guardtest.WantCode(t, err, codes.InvalidArgument, reinforcement.ErrQuantity)
	env.Unchanged(t, head)

	acc, err := c.Accept(cod, &pb.AcceptReinforcementRequest{CommandId: "acc-4", RequestId: id, Quantity: 4, Note: "4 motopompes du SDIS"})
	if err != nil || acc.Status != string(reinforcement.StatusPartiallyAccepted) || acc.Accepted != 4 || acc.Requested != 6 {
		t.Fatalf("accept: %+v, %v", acc, err)
	}
	dis, err := c.Dispatch(cod, step("dispatch"))
	if err != nil || dis.Status != string(reinforcement.StatusDispatched) {
		t.Fatalf("dispatch: %+v, %v", dis, err)
	}
	_, err = c.Arrive(cod, step("arrive-cod"))
	guardtest.WantCode(t, err, codes.PermissionDenied)
	arr, err := c.Arrive(rac, step("arrive"))
	if err != nil || arr.Status != string(reinforcement.StatusArrived) {
		t.Fatalf("arrive: %+v, %v", arr, err)
	}
	_, err = c.Release(cod13, step("release-13"))
	guardtest.WantCode(t, err, codes.NotFound)
	rel, err := c.Release(rac, step("release"))
	if err != nil || rel.Status != string(reinforcement.StatusReleased) || rel.Accepted != 4 {
		t.Fatalf("release: %+v, %v", rel, err)
	}

	log := stream(t, env, "reinforcement-"+id)
	want := []struct{ typ, actor, role, cmd string }{
		{"ReinforcementRequested", "maire-nimes", events.RoleMayor, "req-pumps"},
		{"ReinforcementAccepted", "cod-gard", events.RolePrefecture, "acc-4"},
		{"ReinforcementDispatched", "cod-gard", events.RolePrefecture, "dispatch"},
		{"ReinforcementArrived", "rac-nimes", events.RoleRAC, "arrive"},
		{"ReinforcementReleased", "rac-nimes", events.RoleRAC, "release"},
	}
	if len(log) != len(want) {
		t.Fatalf("stream holds %v", types(log))
	}
	for i, w := range want {
		md := log[i].Meta
		if log[i].Event.EventType() != w.typ || md.Actor != w.actor || md.Role != w.role || md.CommandID != w.cmd || md.Domain != nimes {
			t.Errorf("event %d: %s by %s as %s (%s) on %s; want %+v", i, log[i].Event.EventType(), md.Actor, md.Role, md.CommandID, md.Domain, w)
		}
	}
	if a := log[1].Event.(reinforcement.ReinforcementAccepted); a.Quantity != 4 {
		t.Errorf("accepted %d", a.Quantity)
	}
}

// Command ids are the caller's own (command.Handler scopes them per subject), so
// callers who share one are independent: still exactly one engagement wins.
func TestCallersSharingACommandIDAreNotTakenForOneAnother(t *testing.T) {
	env := start(t)
	c := pb.NewResourcesClient(env.Conn)
	register(t, env.As(t, "rac-nimes", events.RoleRAC, nimes), c, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump-1", Domain: nimes, Kind: "equipment", Name: "Motopompe 1"})

	const n = 50
	for i := range n {
		reported(t, env, nimes, fmt.Sprintf("inc-%02d", i))
	}
	errs := make([]error, n)
	ctxs := make([]context.Context, n)
	for i := range n {
		ctxs[i] = env.As(t, fmt.Sprintf("rac-%02d", i), events.RoleRAC, nimes)
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			_, errs[i] = c.Engage(ctxs[i], &pb.EngageRequest{CommandId: "engage", ResourceId: "pump-1", IncidentId: fmt.Sprintf("inc-%02d", i)})
		})
	}
	close(gate)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		}
	}
	if got := types(stream(t, env, "resource-pump-1")); wins != 1 || len(got) != 2 {
		t.Fatalf("%d callers told their engagement succeeded; the log holds %v", wins, got)
	}
}
