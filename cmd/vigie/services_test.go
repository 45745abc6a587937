package main

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"vigie/identity"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
	"vigie/services/roles/rolespb"
)

const (
	nimes   = "dep:30/com:30189"
	alesDom = "dep:30/com:30007"
)

// TestServeServicesAsSeparateProcesses runs the event store, the incidents service and
// the resources service as three processes on one data directory, as a deployment
// would, and drives them over gRPC with tokens that `vigie token` printed.
func TestServeServicesAsSeparateProcesses(t *testing.T) {
	data := t.TempDir()
	es := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	env := []string{"EVENTSTORE_URL=esdb://" + es.addr + "?tls=false"}
	// One after the other: the first creates the signing key in --data, the second reads it.
	inc := startVigieEnv(t, append(env, "VIGIE_METRICS_ADDR=127.0.0.1:0"), "serve", "incidents", "--data", data, "--listen", "127.0.0.1:0")
	res := startVigieEnv(t, env, "serve", "resources", "--data", data, "--listen", "127.0.0.1:0")

	mayorTok := vigieToken(t, data, "mayor-30189", "mayor", nimes)
	racTok := vigieToken(t, data, "rac-30007", "rac", alesDom)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	incConn, resConn := grpcConn(t, inc.addr), grpcConn(t, res.addr)
	assertServing(ctx, t, "incidents", incConn)
	assertServing(ctx, t, "resources", resConn)
	// The incidents process serves the Roles API too: a mayor is refused there by the
	// policy, not told the API does not exist.
	if _, err := rolespb.NewRolesClient(incConn).Grant(identity.WithToken(ctx, mayorTok), &rolespb.RoleRequest{CommandId: "grant-1", Subject: "u-1", Role: "observer", Domain: nimes}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a mayor granting a role on the incidents process: %v, want PermissionDenied", err)
	}

	incidents := incidentspb.NewIncidentsClient(incConn)
	resources := resourcespb.NewResourcesClient(resConn)
	mayor := identity.WithToken(ctx, mayorTok)
	rac := identity.WithToken(ctx, racTok)

	// The mayor of Nîmes reports and qualifies an incident.
	report := &incidentspb.ReportRequest{CommandId: "report-1", Domain: nimes, Kind: "flash_flood", Title: "Cadereau d'Uzès en crue"}
	reported, err := incidents.Report(mayor, report)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if reported.IncidentId == "" || reported.Domain != nimes || reported.Status != "reported" || reported.Duplicate {
		t.Fatalf("report = %v", reported)
	}
	incidentID := reported.IncidentId
	qualified, err := incidents.Qualify(mayor, &incidentspb.QualifyRequest{CommandId: "qualify-1", IncidentId: incidentID, Kind: "flash_flood", Severity: "Severe"})
	if err != nil {
		t.Fatalf("qualify: %v", err)
	}
	if qualified.Status != "qualified" || qualified.Revision != reported.Revision+1 {
		t.Fatalf("qualify = %v, want qualified at revision %d", qualified, reported.Revision+1)
	}

	// A service run alone has its own /metrics (issue 16: split services had none): the
	// commands it handled are counted there.
	if text := metricsText(t, &http.Client{Timeout: 10 * time.Second}, metricsURLOf(t, inc)+"/metrics"); !hasSeries(text, "vigie_command_handled_total") {
		t.Errorf("the incidents service's metrics count no command:\n%.800s", text)
	}

	// … registers a shelter and a team, engages the team, fills the shelter.
	shelter, err := resources.Register(mayor, &resourcespb.RegisterRequest{CommandId: "shelter-1", Domain: nimes, Kind: "shelter", Name: "Gymnase Jean Bouin", Capacity: 10})
	if err != nil {
		t.Fatalf("register shelter: %v", err)
	}
	team, err := resources.Register(mayor, &resourcespb.RegisterRequest{CommandId: "team-1", Domain: nimes, Kind: "team", Name: "Police municipale"})
	if err != nil {
		t.Fatalf("register team: %v", err)
	}
	if shelter.ResourceId == "" || team.ResourceId == "" || shelter.ResourceId == team.ResourceId || shelter.Capacity != 10 || team.Status != "available" {
		t.Fatalf("shelter = %v, team = %v", shelter, team)
	}
	engaged, err := resources.Engage(mayor, &resourcespb.EngageRequest{CommandId: "engage-1", ResourceId: team.ResourceId, IncidentId: incidentID})
	if err != nil {
		t.Fatalf("engage: %v", err)
	}
	if engaged.Status != "engaged" || engaged.IncidentId != incidentID {
		t.Fatalf("engage = %v", engaged)
	}
	occupied, err := resources.SetOccupancy(mayor, &resourcespb.SetOccupancyRequest{CommandId: "occupancy-1", ResourceId: shelter.ResourceId, Occupancy: 8})
	if err != nil {
		t.Fatalf("set occupancy: %v", err)
	}
	if occupied.Occupancy != 8 || occupied.Capacity != 10 {
		t.Fatalf("set occupancy = %v", occupied)
	}

	// The RAC of Alès learns nothing of Nîmes: every command is answered NotFound.
	for name, call := range map[string]func() error{
		"qualify": func() error {
			_, err := incidents.Qualify(rac, &incidentspb.QualifyRequest{CommandId: "rac-1", IncidentId: incidentID, Kind: "flood", Severity: "Minor"})
			return err
		},
		"log": func() error {
			_, err := incidents.AddLogEntry(rac, &incidentspb.AddLogEntryRequest{CommandId: "rac-2", IncidentId: incidentID, Text: "vu"})
			return err
		},
		"close": func() error {
			_, err := incidents.Close(rac, &incidentspb.CloseRequest{CommandId: "rac-3", IncidentId: incidentID, Summary: "fini"})
			return err
		},
		"occupancy": func() error {
			_, err := resources.SetOccupancy(rac, &resourcespb.SetOccupancyRequest{CommandId: "rac-4", ResourceId: shelter.ResourceId, Occupancy: 0})
			return err
		},
		"release": func() error {
			_, err := resources.Release(rac, &resourcespb.ReleaseRequest{CommandId: "rac-5", ResourceId: team.ResourceId})
			return err
		},
	} {
		if code := status.Code(call()); code != codes.NotFound {
			t.Errorf("rac of %s, %s on Nîmes: %v, want NotFound", alesDom, name, code)
		}
	}

	// No token, no command, on either service.
	if _, err := incidents.Report(ctx, &incidentspb.ReportRequest{CommandId: "anon-1", Domain: nimes, Kind: "flood", Title: "x"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("report without a token: %v, want Unauthenticated", err)
	}
	if _, err := resources.SetOccupancy(ctx, &resourcespb.SetOccupancyRequest{CommandId: "anon-2", ResourceId: shelter.ResourceId, Occupancy: 0}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("set occupancy without a token: %v, want Unauthenticated", err)
	}

	// SIGTERM: the incidents service ends cleanly (code 0, within stopTimeout), and a
	// new process on the same log finds the incident as it was.
	start := time.Now()
	inc.stop(t, syscall.SIGTERM)
	t.Logf("incidents service stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	incConn.Close()
	inc = startVigieEnv(t, env, "serve", "incidents", "--data", data, "--listen", "127.0.0.1:0")
	incConn = grpcConn(t, inc.addr)
	assertServing(ctx, t, "incidents after restart", incConn)
	incidents = incidentspb.NewIncidentsClient(incConn)

	again, err := incidents.Report(mayor, report)
	if err != nil {
		t.Fatalf("resent report after restart: %v", err)
	}
	if !again.Duplicate || again.IncidentId != incidentID || again.Status != "qualified" || again.Revision != qualified.Revision {
		t.Errorf("resent report after restart = %v, want a duplicate of %s, qualified at revision %d", again, incidentID, qualified.Revision)
	}
	requalified, err := incidents.Qualify(mayor, &incidentspb.QualifyRequest{CommandId: "qualify-2", IncidentId: incidentID, Kind: "flash_flood", Severity: "Extreme"})
	if err != nil {
		t.Fatalf("qualify after restart: %v", err)
	}
	if requalified.Duplicate || requalified.Status != "qualified" || requalified.Revision != qualified.Revision+1 {
		t.Errorf("qualify after restart = %v, want qualified at revision %d", requalified, qualified.Revision+1)
	}

	// Everything ends cleanly, the services before the store they write to.
	incConn.Close()
	resConn.Close()
	inc.stop(t, syscall.SIGTERM)
	res.stop(t, syscall.SIGINT)
	es.stop(t, syscall.SIGTERM)
}

func TestServeServiceWithoutEventstoreURLExitsTwo(t *testing.T) {
	for _, component := range []string{"incidents", "resources", "alerts"} {
		t.Run(component, func(t *testing.T) {
			stdout, stderr, code := runVigie(t, []string{"EVENTSTORE_URL="}, "serve", component, "--data", t.TempDir(), "--listen", "127.0.0.1:0")
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if want := "vigie serve " + component + ": EVENTSTORE_URL is not set"; !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestTokenRequiresSubRoleAndDomain(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"--role", "mayor", "--domain", nimes},
		{"--sub", "mayor-30189", "--domain", nimes},
		{"--sub", "mayor-30189", "--role", "mayor"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runVigie(t, nil, append([]string{"token", "--data", data}, args...)...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, "vigie token : --sub, --role et --domain sont obligatoires") {
				t.Errorf("stderr = %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// --name puts the person's display name in the token; a name that verification
// would refuse is refused before any token is printed.
func TestTokenCarriesTheNameGiven(t *testing.T) {
	data := t.TempDir()
	stdout, stderr, code := runVigie(t, nil, "token", "--data", data, "--sub", "rac-nimes", "--role", "rac", "--domain", nimes, "--name", "Marie Durand")
	if code != exitOK {
		t.Fatalf("exit code %d; stderr: %s", code, stderr)
	}
	key, err := identity.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := identity.Verify(key.Public().(ed25519.PublicKey), strings.TrimSpace(stdout))
	if err != nil || p.Subject != "rac-nimes" || p.Name != "Marie Durand" {
		t.Errorf("token names %+v, %v", p, err)
	}
	for _, bad := range []string{"Marie\x07Durand", strings.Repeat("n", 200)} {
		stdout, stderr, code := runVigie(t, nil, "token", "--data", data, "--sub", "rac-nimes", "--role", "rac", "--domain", nimes, "--name", bad)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "vigie token : --name : nom affiché invalide") {
			t.Errorf("--name %q: exit code %d, stdout %q, stderr %q", bad, code, stdout, stderr)
		}
	}
}

// vigieToken runs `vigie token` and returns the one line it prints.
func vigieToken(t *testing.T, data, sub, roleName, domain string) string {
	t.Helper()
	stdout, stderr, code := runVigie(t, nil, "token", "--data", data, "--sub", sub, "--role", roleName, "--domain", domain)
	if code != exitOK {
		t.Fatalf("vigie token: exit code %d; stderr: %s", code, stderr)
	}
	tok, ok := strings.CutSuffix(stdout, "\n")
	if !ok || tok == "" || strings.ContainsAny(tok, "\n \t") {
		t.Fatalf("vigie token printed %q, want one line holding the token", stdout)
	}
	return tok
}

// grpcConn is a plaintext connection to a service on loopback, closed at the test's end.
func grpcConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// assertServing asks the standard health service, without a token, as a probe would.
func assertServing(ctx context.Context, t *testing.T, name string, conn *grpc.ClientConn) {
	t.Helper()
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("%s health check: %v", name, err)
	}
	if h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("%s health = %v, want SERVING", name, h.Status)
	}
}
