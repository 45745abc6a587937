package alerts_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/role"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/alerts"
	pb "vigie/services/alerts/alertspb"
	"vigie/services/guard/guardtest"
)

const (
	nimes = "dep:30/com:30189"
	ales  = "dep:30/com:30007"
)

func startAlerts(t *testing.T) (*guardtest.Env, pb.AlertsClient) {
	t.Helper()
	env := guardtest.Start(t, func(g *grpc.Server, c *store.Client, a *policies.Authorizer) {
		svc, err := alerts.New(c, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.Register(g)
	})
	return env, pb.NewAlertsClient(env.Conn)
}

// reportedIn writes the opening of incident id in domain as the incidents
// service does (this module does not depend on that service): the first event
// of incident-<id>, filed under the incident's domain.
func reportedIn(t *testing.T, env *guardtest.Env, domain, id string) {
	t.Helper()
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

func draft(domain, incident, cmd string) *pb.DraftRequest {
	return &pb.DraftRequest{
		CommandId: cmd, Domain: domain, IncidentId: incident, Channels: []string{"CAP_FEED"},
		Content: &pb.Content{
			Event: "Crue", Headline: "Crue du Gardon : évitez les quais", Description: "Le Gardon déborde sur les quais.",
			Instruction: "Ne stationnez pas sur les quais.", Severity: "Severe", Urgency: "Immediate", Certainty: "Observed",
			Category: "Met", AreaDesc: "Quais du Gardon", Language: "fr-FR",
			Polygon: []*pb.Point{{Lat: 44.12, Lon: 4.07}, {Lat: 44.12, Lon: 4.09}, {Lat: 44.14, Lon: 4.09}, {Lat: 44.14, Lon: 4.07}},
		},
	}
}

// Alès' crisis cell, from the review, drafts an alert to its residents "about"
// Nîmes' incident, and about incidents that do not exist.
func TestADraftCannotReferenceAnIncidentOfAnotherCommune(t *testing.T) {
	env, c := startAlerts(t)
	racAles := env.As(t, "rac-ales", events.RoleRAC, ales)
	reportedIn(t, env, nimes, "inc-nimes")
	reportedIn(t, env, ales, "inc-ales")

	before := env.Head(t)
	_, elsewhere := c.Draft(racAles, draft(ales, "inc-nimes", "d-nimes"))
	_, nowhere := c.Draft(racAles, draft(ales, "00000000-0000-5000-8000-000000000000", "d-unknown"))
	for _, err := range []error{elsewhere, nowhere} {
		if status.Code(err) != codes.NotFound {
			t.Fatalf("got %v, want NotFound", err)
		}
	}
	if a, b := status.Convert(elsewhere).Message(), status.Convert(nowhere).Message(); a != b {
		t.Fatalf("Nîmes' incident is answered %q, an unknown one %q", a, b)
	}
	if after := env.Head(t); after != before {
		t.Fatal("a refused draft appended to the log")
	}

	// Authorization first: an observer learns nothing of the incident it names.
	_, err := c.Draft(env.As(t, "obs-ales", events.RoleObserver, ales), draft(ales, "inc-nimes", "d-obs"))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an observer's draft: %v, want PermissionDenied", err)
	}

	r, err := c.Draft(racAles, draft(ales, "inc-ales", "d-ales"))
	if err != nil || r.Domain != ales {
		t.Fatalf("a draft about Alès' own incident: %+v, %v", r, err)
	}
	if r, err := c.Draft(racAles, draft(ales, "", "d-none")); err != nil || r.Domain != ales {
		t.Fatalf("a draft about no incident: %+v, %v", r, err)
	}
}

// Someone in both cells may read Nîmes' incident: the draft in Alès is still
// refused, by name.
func TestADraftIsAboutAnIncidentOfItsOwnCommune(t *testing.T) {
	env, c := startAlerts(t)
	reportedIn(t, env, nimes, "inc-nimes")
	reg := events.NewRegistry()
	if err := role.Register(reg); err != nil {
		t.Fatal(err)
	}
	stream, _ := role.StreamID(nimes)
	adm := events.Actor{Subject: "adm-test", Role: events.RoleAdmin}
	md := events.NewMetadata("grant-both", adm, nimes, time.Now())
	enc, err := reg.Encode(context.Background(), role.RoleGranted{Subject: "rac-both", Role: events.RoleRAC, Domain: nimes, By: adm.Subject, At: md.OccurredAt}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Append(context.Background(), stream, store.Any(), store.EventData{ID: enc.ID, Type: enc.Type, Data: enc.Data, Metadata: enc.Metadata}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for env.Authz.Authorize(policies.Principal{Subject: "rac-both"}, nimes, policies.ObjectIncident, policies.ActionRead) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the grant in Nîmes was not followed")
		}
		time.Sleep(5 * time.Millisecond)
	}

	before := env.Head(t)
	_, err = c.Draft(env.As(t, "rac-both", events.RoleRAC, ales), draft(ales, "inc-nimes", "d-both"))
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "autre commune") {
		t.Fatalf("got %v, want FailedPrecondition naming the other commune", err)
	}
	if after := env.Head(t); after != before {
		t.Fatal("a refused draft appended to the log")
	}
}
