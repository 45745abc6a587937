package roles_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"vigie/events"
	"vigie/events/store"
	"vigie/policies"
	"vigie/services/guard/guardtest"
	"vigie/services/incidents"
	"vigie/services/incidents/incident"
	incpb "vigie/services/incidents/incidentspb"
	"vigie/services/roles"
	"vigie/services/roles/role"
	pb "vigie/services/roles/rolespb"
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

// start serves the Roles API and, beside it, the incidents service: a door whose
// answers show what the grants recorded here let a person do.
func start(t *testing.T) *guardtest.Env {
	t.Helper()
	return guardtest.Start(t, func(g *grpc.Server, c *store.Client, a *policies.Authorizer) {
		rs, err := roles.New(c, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs.Register(g)
		is, err := incidents.New(c, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		is.Register(g)
	})
}

// stream decodes every event of a role or incident stream.
func stream(t *testing.T, env *guardtest.Env, name string) []guardtest.Recorded {
	t.Helper()
	reg, err := roles.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if err := incident.Register(reg); err != nil {
		t.Fatal(err)
	}
	return env.Stream(t, reg, name)
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
	inc := incpb.NewIncidentsClient(env.Conn)
	roles := pb.NewRolesClient(env.Conn)
	admin := env.As(t, "adm-nimes", events.RoleAdmin, nimes)
	// u-42's token carries one harmless grant elsewhere; what it may do in Nîmes
	// comes from the log.
	u42 := env.As(t, "u-42", events.RoleObserver, istres)
	p42 := policies.Principal{Subject: "u-42", Grants: []policies.Grant{{Role: events.RoleObserver, Domain: istres}}}
	report := func(cmd string) (*incpb.IncidentReply, error) {
		return inc.Report(u42, &incpb.ReportRequest{CommandId: cmd, Domain: nimes, Kind: "storm", Title: "Arbre tombé sur la chaussée"})
	}

	head := env.Head(t)
	_, err := report("before")
	guardtest.WantCode(t, err, codes.PermissionDenied, nil)
	env.Unchanged(t, head)

	g, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	if err != nil || g.Domain != nimes || g.Duplicate {
		t.Fatalf("grant: %+v, %v", g, err)
	}
	again, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	if err != nil || !again.Duplicate {
		t.Fatalf("resent grant: %+v, %v", again, err)
	}
	_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-2", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
	guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrAlreadyGranted)
	log := stream(t, env, "role-"+nimes)
	if len(log) != 1 || log[0].Meta.Actor != "adm-nimes" || log[0].Meta.Role != events.RoleAdmin {
		t.Fatalf("role stream: %d events, first %+v", len(log), log)
	}
	if gr := log[0].Event.(role.RoleGranted); gr.Subject != "u-42" || gr.Role != events.RoleOperator || gr.Domain != nimes || gr.By != "adm-nimes" {
		t.Fatalf("granted %+v", gr)
	}

	waitAuthorized(t, env, p42, true)
	r, err := report("after-grant")
	if err != nil {
		t.Fatalf("report after the grant: %v", err)
	}
	if md := stream(t, env, "incident-"+r.IncidentId)[0].Meta; md.Actor != "u-42" || md.Role != events.RoleOperator {
		t.Fatalf("reported by %s as %s", md.Actor, md.Role)
	}

	if _, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "revoke-1", Subject: "u-42", Role: events.RoleOperator, Domain: nimes}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	waitAuthorized(t, env, p42, false)
	head = env.Head(t)
	_, err = report("after-revoke")
	guardtest.WantCode(t, err, codes.PermissionDenied, nil)
	// Nor may u-42 see the incident it reported any more.
	_, err = inc.AddLogEntry(u42, &incpb.AddLogEntryRequest{CommandId: "log", IncidentId: r.IncidentId, Text: "encore là"})
	guardtest.WantCode(t, err, codes.NotFound, nil)
	env.Unchanged(t, head)

	t.Run("only an admin grants", func(t *testing.T) {
		head := env.Head(t)
		for _, caller := range []context.Context{
			env.As(t, "maire-nimes", events.RoleMayor, nimes),
			env.As(t, "cod-gard", events.RolePrefecture, gard),
			env.As(t, "adm-ales", events.RoleAdmin, ales),
		} {
			_, err := roles.Grant(caller, &pb.RoleRequest{CommandId: "grant-x", Subject: "u-43", Role: events.RoleRAC, Domain: nimes})
			guardtest.WantCode(t, err, codes.PermissionDenied, nil)
		}
		env.Unchanged(t, head)
	})
	t.Run("an admin cannot revoke their own admin role", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "self", Subject: "adm-nimes", Role: events.RoleAdmin, Domain: nimes})
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrSelfRevokeAdmin)
		env.Unchanged(t, head)
	})
	t.Run("a revocation of what is not held", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Revoke(admin, &pb.RoleRequest{CommandId: "revoke-2", Subject: "u-42", Role: events.RoleOperator, Domain: nimes})
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrNotGranted)
		env.Unchanged(t, head)
	})
	t.Run("the prefecture's role is not granted on a commune", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-pref", Subject: "u-44", Role: events.RolePrefecture, Domain: nimes})
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrRoleNotForDomain)
		env.Unchanged(t, head)
	})
	t.Run("an unknown role or a malformed subject", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-boss", Subject: "u-44", Role: "boss", Domain: nimes})
		guardtest.WantCode(t, err, codes.InvalidArgument, role.ErrUnknownRole)
		_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-space", Subject: "u 44", Role: events.RoleOperator, Domain: nimes})
		guardtest.WantCode(t, err, codes.InvalidArgument, role.ErrInvalidSubject)
		_, err = roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-role", Subject: "role:mayor", Role: events.RoleOperator, Domain: nimes})
		guardtest.WantCode(t, err, codes.InvalidArgument, role.ErrInvalidSubject)
		env.Unchanged(t, head)
	})
	t.Run("a malformed domain", func(t *testing.T) {
		_, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-bad", Subject: "u-44", Role: events.RoleOperator, Domain: "nimes"})
		guardtest.WantCode(t, err, codes.InvalidArgument, nil)
	})
}

// eventuallyMay waits until the authorizer following the log lets p do action
// on object in domain (or no longer does, when want is false).
func eventuallyMay(t *testing.T, env *guardtest.Env, p policies.Principal, domain, object, action string, want bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for (env.Authz.Authorize(p, domain, object, action) == nil) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s %s %s on %s: still allowed=%v after 2s", p.Subject, object, action, domain, !want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled returns once the authorizer has followed the log up to now: a
// harmless grant appended last has taken effect, so every event before it has
// been applied (or skipped) too.
func settled(t *testing.T, env *guardtest.Env, roles pb.RolesClient, admin context.Context, domain, marker string) {
	t.Helper()
	if _, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "marker-" + marker, Subject: marker, Role: events.RoleObserver, Domain: domain}); err != nil {
		t.Fatalf("marker grant: %v", err)
	}
	eventuallyMay(t, env, policies.Principal{Subject: marker}, domain, policies.ObjectIncident, policies.ActionRead, true)
}

// An attacker holding one admin account tries to give itself, or a friend,
// the mayor's power to approve alerts to the population.
func TestOneAdminAloneCannotMakeAMayor(t *testing.T) {
	env := start(t)
	roles := pb.NewRolesClient(env.Conn)
	adminA := env.As(t, "adm-a", events.RoleAdmin, nimes)
	adminB := env.As(t, "adm-b", events.RoleAdmin, nimes)
	x := policies.Principal{Subject: "maire-x"}
	grantX := func(ctx context.Context, cmd string) (*pb.RoleReply, error) {
		return roles.Grant(ctx, &pb.RoleRequest{CommandId: cmd, Subject: x.Subject, Role: events.RoleMayor, Domain: nimes})
	}

	t.Run("an admin granting itself the mayor's role is refused", func(t *testing.T) {
		head := env.Head(t)
		_, err := roles.Grant(adminA, &pb.RoleRequest{CommandId: "self", Subject: "adm-a", Role: events.RoleMayor, Domain: nimes})
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		_, err = roles.Grant(adminA, &pb.RoleRequest{CommandId: "self-obs", Subject: "adm-a", Role: events.RoleObserver, Domain: nimes})
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		env.Unchanged(t, head)
	})

	requested, err := grantX(adminA, "grant-x")
	if err != nil || !requested.Pending || requested.Domain != nimes {
		t.Fatalf("admin A's grant: %+v, %v; want a pending request", requested, err)
	}
	settled(t, env, roles, adminA, nimes, "obs-after-request")
	if env.Authz.Authorize(x, nimes, policies.ObjectAlert, policies.ActionApprove) == nil {
		t.Fatal("X may approve alerts on admin A's word alone")
	}

	t.Run("admin A cannot confirm its own request", func(t *testing.T) {
		head := env.Head(t)
		_, err := grantX(adminA, "confirm-own")
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrOwnRequest)
		env.Unchanged(t, head)
	})
	t.Run("X cannot confirm its own grant, even with an admin token", func(t *testing.T) {
		head := env.Head(t)
		_, err := grantX(env.As(t, x.Subject, events.RoleAdmin, nimes), "confirm-self")
		guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		env.Unchanged(t, head)
	})
	t.Run("neither a mayor, an admin of another commune nor another département's prefecture confirms", func(t *testing.T) {
		head := env.Head(t)
		for _, ctx := range []context.Context{
			env.As(t, "maire-nimes", events.RoleMayor, nimes),
			env.As(t, "adm-ales", events.RoleAdmin, ales),
			env.As(t, "cod-bdr", events.RolePrefecture, bdr),
		} {
			_, err := grantX(ctx, "confirm-other")
			guardtest.WantCode(t, err, codes.PermissionDenied, nil)
		}
		env.Unchanged(t, head)
	})

	confirmed, err := grantX(adminB, "confirm-x")
	if err != nil || confirmed.Pending {
		t.Fatalf("admin B's confirmation: %+v, %v", confirmed, err)
	}
	eventuallyMay(t, env, x, nimes, policies.ObjectAlert, policies.ActionApprove, true)

	// The log shows both people.
	var req role.RoleGrantRequested
	var conf role.RoleGrantConfirmed
	for _, r := range stream(t, env, "role-"+nimes) {
		switch e := r.Event.(type) {
		case role.RoleGrantRequested:
			if e.Subject == x.Subject {
				req = e
				if r.Meta.Actor != "adm-a" || r.Meta.Role != events.RoleAdmin {
					t.Errorf("request recorded as by %s (%s)", r.Meta.Actor, r.Meta.Role)
				}
			}
		case role.RoleGrantConfirmed:
			if e.Subject == x.Subject {
				conf = e
				if r.Meta.Actor != "adm-b" || r.Meta.Role != events.RoleAdmin {
					t.Errorf("confirmation recorded as by %s (%s)", r.Meta.Actor, r.Meta.Role)
				}
			}
		case role.RoleGranted:
			if e.Subject == x.Subject {
				t.Errorf("the mayor's role was granted in one step: %+v", e)
			}
		}
	}
	if req.By != "adm-a" || req.Role != events.RoleMayor || conf.By != "adm-b" || conf.RequestedBy != "adm-a" || conf.Domain != nimes {
		t.Fatalf("the log shows request %+v and confirmation %+v", req, conf)
	}

	t.Run("a request withdrawn before its confirmation grants nothing", func(t *testing.T) {
		y := policies.Principal{Subject: "maire-y"}
		if r, err := roles.Grant(adminA, &pb.RoleRequest{CommandId: "grant-y", Subject: y.Subject, Role: events.RoleMayor, Domain: nimes}); err != nil || !r.Pending {
			t.Fatalf("request: %+v, %v", r, err)
		}
		if r, err := roles.Revoke(adminB, &pb.RoleRequest{CommandId: "withdraw-y", Subject: y.Subject, Role: events.RoleMayor, Domain: nimes}); err != nil || r.Pending {
			t.Fatalf("withdrawal: %+v, %v", r, err)
		}
		if r, err := roles.Grant(adminB, &pb.RoleRequest{CommandId: "grant-y-again", Subject: y.Subject, Role: events.RoleMayor, Domain: nimes}); err != nil || !r.Pending {
			t.Fatalf("after a withdrawal, admin B's grant must be a new request: %+v, %v", r, err)
		}
		settled(t, env, roles, adminA, nimes, "obs-after-withdrawal")
		if env.Authz.Authorize(y, nimes, policies.ObjectAlert, policies.ActionApprove) == nil {
			t.Fatal("a withdrawn request granted the mayor's role")
		}
	})
}

// For a commune's mayor, the prefecture may be the second person; it confirms
// nothing else and grants nothing.
func TestThePrefectureConfirmsACommunesMayorAndNothingElse(t *testing.T) {
	env := start(t)
	roles := pb.NewRolesClient(env.Conn)
	admin := env.As(t, "adm-nimes", events.RoleAdmin, nimes)
	cod := env.As(t, "cod-gard", events.RolePrefecture, gard)
	z := policies.Principal{Subject: "maire-z"}

	if r, err := roles.Grant(admin, &pb.RoleRequest{CommandId: "grant-z", Subject: z.Subject, Role: events.RoleMayor, Domain: nimes}); err != nil || !r.Pending {
		t.Fatalf("request: %+v, %v", r, err)
	}
	r, err := roles.Grant(cod, &pb.RoleRequest{CommandId: "confirm-z", Subject: z.Subject, Role: events.RoleMayor, Domain: nimes})
	if err != nil || r.Pending {
		t.Fatalf("the prefecture's confirmation: %+v, %v", r, err)
	}
	eventuallyMay(t, env, z, nimes, policies.ObjectAlert, policies.ActionApprove, true)
	log := stream(t, env, "role-"+nimes)
	last := log[len(log)-1]
	if c, ok := last.Event.(role.RoleGrantConfirmed); !ok || c.By != "cod-gard" || c.RequestedBy != "adm-nimes" || last.Meta.Role != events.RolePrefecture {
		t.Fatalf("last event %#v by %s as %s", last.Event, last.Meta.Actor, last.Meta.Role)
	}

	head := env.Head(t)
	for name, req := range map[string]*pb.RoleRequest{
		"a grant of its own":            {CommandId: "cod-grant", Subject: "u-1", Role: events.RoleObserver, Domain: nimes},
		"a mayor nobody requested":      {CommandId: "cod-mayor", Subject: "u-2", Role: events.RoleMayor, Domain: nimes},
		"a prefecture's grant":          {CommandId: "cod-pref", Subject: "cod-2", Role: events.RolePrefecture, Domain: gard},
		"a mayor in another commune":    {CommandId: "cod-ales", Subject: "u-3", Role: events.RoleMayor, Domain: ales},
		"a grant of the prefecture's":   {CommandId: "cod-self", Subject: "cod-gard", Role: events.RoleObserver, Domain: gard},
		"a revocation, even of a mayor": {CommandId: "cod-revoke", Subject: z.Subject, Role: events.RoleMayor, Domain: nimes},
	} {
		var err error
		if req.CommandId == "cod-revoke" {
			_, err = roles.Revoke(cod, req)
		} else {
			_, err = roles.Grant(cod, req)
		}
		if name == "a grant of the prefecture's" {
			guardtest.WantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
			continue
		}
		guardtest.WantCode(t, err, codes.PermissionDenied, nil)
	}
	env.Unchanged(t, head)

	// A prefecture's grant waits for a second admin of the département.
	gardA := env.As(t, "adm-gard-a", events.RoleAdmin, gard)
	gardB := env.As(t, "adm-gard-b", events.RoleAdmin, gard)
	cod2 := policies.Principal{Subject: "cod-2"}
	if r, err := roles.Grant(gardA, &pb.RoleRequest{CommandId: "pref", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard}); err != nil || !r.Pending {
		t.Fatalf("prefecture request: %+v, %v", r, err)
	}
	_, err = roles.Grant(cod, &pb.RoleRequest{CommandId: "pref-by-cod", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard})
	guardtest.WantCode(t, err, codes.PermissionDenied, nil)
	if r, err := roles.Grant(gardB, &pb.RoleRequest{CommandId: "pref", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard}); err != nil || r.Pending {
		t.Fatalf("prefecture confirmation: %+v, %v", r, err)
	}
	eventuallyMay(t, env, cod2, ales, policies.ObjectAlert, policies.ActionValidateFRAlert, true)
}
