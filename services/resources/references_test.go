package resources_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/role"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard/guardtest"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	pb "vigie/services/resources/resourcespb"
)

// reported writes the opening of incident id in domain as the incidents service
// does (this module does not depend on that service): the first event of
// incident-<id>, filed under the incident's domain.
func reported(t *testing.T, env *guardtest.Env, domain string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		stream := events.StreamID(events.CategoryIncident, id)
		by := events.Actor{Subject: "rac-test", Role: events.RoleRAC}
		md := events.NewMetadata("report-"+id, by, domain, time.Now())
		evID := command.EventID(stream, by.Subject, md.CommandID, 0)
		md.EventID, md.Schema = evID.String(), 1
		meta, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(map[string]any{"incidentId": id, "domain": domain, "kind": "flood", "title": "Crue", "by": by, "at": md.OccurredAt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Append(context.Background(), stream, store.NoStream(), store.EventData{ID: evID, Type: "IncidentReported", Data: data, Metadata: meta}); err != nil {
			t.Fatalf("report %s: %v", id, err)
		}
	}
}

// grantInLog records that subject holds roleName on domain, as the Roles API
// would, and waits until the service's authorizer follows it.
func grantInLog(t *testing.T, env *guardtest.Env, subject, roleName, domain string) {
	t.Helper()
	reg := events.NewRegistry()
	if err := role.Register(reg); err != nil {
		t.Fatal(err)
	}
	stream, err := role.StreamID(domain)
	if err != nil {
		t.Fatal(err)
	}
	admin := events.Actor{Subject: "adm-test", Role: events.RoleAdmin}
	md := events.NewMetadata("grant-"+subject, admin, domain, time.Now())
	env2, err := reg.Encode(context.Background(), role.RoleGranted{Subject: subject, Role: roleName, Domain: domain, By: admin.Subject, At: md.OccurredAt}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Append(context.Background(), stream, store.Any(), store.EventData{ID: env2.ID, Type: env2.Type, Data: env2.Data, Metadata: env2.Metadata}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for env.Authz.Authorize(policies.Principal{Subject: subject}, domain, policies.ObjectIncident, policies.ActionRead) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the grant of %s to %s on %s was not followed", roleName, subject, domain)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sameAnswer fails unless the two refusals are the same NOT_FOUND, word for
// word: an id of another commune must be answered as an id of nothing.
func sameAnswer(t *testing.T, elsewhere, nowhere error) {
	t.Helper()
	guardtest.WantCode(t, elsewhere, codes.NotFound)
	guardtest.WantCode(t, nowhere, codes.NotFound)
	if a, b := status.Convert(elsewhere).Message(), status.Convert(nowhere).Message(); a != b {
		t.Fatalf("an incident of another commune is answered %q, an unknown one %q", a, b)
	}
}

// Alès' crisis cell, from the review, tries to reach into Nîmes' incident with
// its own means: engaging its pump on it, asking the prefecture for
// reinforcements on it; and names incidents that do not exist.
func TestACommuneCannotReferenceAnotherCommunesIncident(t *testing.T) {
	env := start(t)
	resources := pb.NewResourcesClient(env.Conn)
	reinforcements := pb.NewReinforcementsClient(env.Conn)
	racAles := env.As(t, "rac-ales", events.RoleRAC, ales)
	mayorAles := env.As(t, "maire-ales", events.RoleMayor, ales)
	reported(t, env, nimes, "inc-nimes")
	reported(t, env, ales, "inc-ales")
	register(t, racAles, resources, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump-ales", Domain: ales, Kind: "equipment", Name: "Motopompe d'Alès"})
	const unknown = "00000000-0000-5000-8000-000000000000"

	t.Run("engaging its own resource on Nîmes' incident is answered as for no incident", func(t *testing.T) {
		head := env.Head(t)
		_, elsewhere := resources.Engage(racAles, &pb.EngageRequest{CommandId: "eng-nimes", ResourceId: "pump-ales", IncidentId: "inc-nimes"})
		_, nowhere := resources.Engage(racAles, &pb.EngageRequest{CommandId: "eng-unknown", ResourceId: "pump-ales", IncidentId: unknown})
		sameAnswer(t, elsewhere, nowhere)
		env.Unchanged(t, head)
	})
	t.Run("requesting reinforcements for Nîmes' incident is answered as for no incident", func(t *testing.T) {
		head := env.Head(t)
		ask := func(cmd, incident string) error {
			_, err := reinforcements.Request(mayorAles, &pb.ReinforcementRequest{CommandId: cmd, Domain: ales, IncidentId: incident, Kind: "team", Quantity: 2, Reason: "Quais inondés"})
			return err
		}
		sameAnswer(t, ask("rf-nimes", "inc-nimes"), ask("rf-unknown", unknown))
		env.Unchanged(t, head)
	})
	t.Run("a commune's own incident is still served", func(t *testing.T) {
		r, err := resources.Engage(racAles, &pb.EngageRequest{CommandId: "eng-ales", ResourceId: "pump-ales", IncidentId: "inc-ales"})
		if err != nil || r.IncidentId != "inc-ales" {
			t.Fatalf("engage on Alès' own incident: %+v, %v", r, err)
		}
		rf, err := reinforcements.Request(mayorAles, &pb.ReinforcementRequest{CommandId: "rf-ales", Domain: ales, IncidentId: "inc-ales", Kind: "team", Quantity: 2})
		if err != nil || rf.IncidentId != "inc-ales" {
			t.Fatalf("request for Alès' own incident: %+v, %v", rf, err)
		}
	})
}

// Someone who runs the cells of both communes may read both incidents: the
// domain still refuses to mix them, and says why, because help between communes
// goes through the prefecture.
func TestMeansAndRequestsStayWithTheirOwnCommunesIncident(t *testing.T) {
	env := start(t)
	resources := pb.NewResourcesClient(env.Conn)
	reinforcements := pb.NewReinforcementsClient(env.Conn)
	reported(t, env, nimes, "inc-nimes")
	grantInLog(t, env, "rac-both", events.RoleRAC, nimes)
	both := env.As(t, "rac-both", events.RoleRAC, ales)
	register(t, both, resources, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump-ales", Domain: ales, Kind: "equipment", Name: "Motopompe d'Alès"})

	head := env.Head(t)
	_, err := resources.Engage(both, &pb.EngageRequest{CommandId: "eng", ResourceId: "pump-ales", IncidentId: "inc-nimes"})
	guardtest.WantCode(t, err, codes.FailedPrecondition, resource.ErrIncidentOfAnotherCommune)
	_, err = reinforcements.Request(both, &pb.ReinforcementRequest{CommandId: "rf", Domain: ales, IncidentId: "inc-nimes", Kind: "team", Quantity: 1})
	guardtest.WantCode(t, err, codes.FailedPrecondition, reinforcement.ErrIncidentOfAnotherCommune)
	env.Unchanged(t, head)

	// The prefecture's workflow is the way: Nîmes asks for its own incident.
	if _, err := reinforcements.Request(both, &pb.ReinforcementRequest{CommandId: "rf-nimes", Domain: nimes, IncidentId: "inc-nimes", Kind: "equipment", Quantity: 1}); err != nil {
		t.Fatalf("Nîmes' request for its own incident: %v", err)
	}
}

// Authorization still comes first: a caller who may not act on the resource,
// or in the domain it asks for, learns nothing of the incident it names.
func TestAReferenceIsLookedAtOnlyAfterTheCallerMayAct(t *testing.T) {
	env := start(t)
	resources := pb.NewResourcesClient(env.Conn)
	reinforcements := pb.NewReinforcementsClient(env.Conn)
	rac := env.As(t, "rac-nimes", events.RoleRAC, nimes)
	reported(t, env, nimes, "inc-nimes")
	register(t, rac, resources, &pb.RegisterRequest{CommandId: "reg", ResourceId: "pump-nimes", Domain: nimes, Kind: "equipment", Name: "Motopompe 12"})

	head := env.Head(t)
	observer := env.As(t, "obs-nimes", events.RoleObserver, nimes)
	for _, incident := range []string{"inc-nimes", "no-such-incident"} {
		_, err := resources.Engage(observer, &pb.EngageRequest{CommandId: "eng", ResourceId: "pump-nimes", IncidentId: incident})
		guardtest.WantCode(t, err, codes.PermissionDenied)
		_, err = reinforcements.Request(observer, &pb.ReinforcementRequest{CommandId: "rf", Domain: nimes, IncidentId: incident, Kind: "team", Quantity: 1})
		guardtest.WantCode(t, err, codes.PermissionDenied)
	}
	env.Unchanged(t, head)
}
