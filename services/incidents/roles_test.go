package incidents_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"vigie/events"
	"vigie/policies"
	"vigie/policies/guard/guardtest"
	"vigie/policies/role"
	pb "vigie/services/incidents/incidentspb"
)

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
		wantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		_, err = roles.Grant(adminA, &pb.RoleRequest{CommandId: "self-obs", Subject: "adm-a", Role: events.RoleObserver, Domain: nimes})
		wantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		unchanged(t, env, head)
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
		wantCode(t, err, codes.FailedPrecondition, role.ErrOwnRequest)
		unchanged(t, env, head)
	})
	t.Run("X cannot confirm its own grant, even with an admin token", func(t *testing.T) {
		head := env.Head(t)
		_, err := grantX(env.As(t, x.Subject, events.RoleAdmin, nimes), "confirm-self")
		wantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
		unchanged(t, env, head)
	})
	t.Run("neither a mayor, an admin of another commune nor another département's prefecture confirms", func(t *testing.T) {
		head := env.Head(t)
		for _, ctx := range []context.Context{
			env.As(t, "maire-nimes", events.RoleMayor, nimes),
			env.As(t, "adm-ales", events.RoleAdmin, ales),
			env.As(t, "cod-bdr", events.RolePrefecture, bdr),
		} {
			_, err := grantX(ctx, "confirm-other")
			wantCode(t, err, codes.PermissionDenied, nil)
		}
		unchanged(t, env, head)
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
		switch e := r.event.(type) {
		case role.RoleGrantRequested:
			if e.Subject == x.Subject {
				req = e
				if r.md.Actor != "adm-a" || r.md.Role != events.RoleAdmin {
					t.Errorf("request recorded as by %s (%s)", r.md.Actor, r.md.Role)
				}
			}
		case role.RoleGrantConfirmed:
			if e.Subject == x.Subject {
				conf = e
				if r.md.Actor != "adm-b" || r.md.Role != events.RoleAdmin {
					t.Errorf("confirmation recorded as by %s (%s)", r.md.Actor, r.md.Role)
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
	if c, ok := last.event.(role.RoleGrantConfirmed); !ok || c.By != "cod-gard" || c.RequestedBy != "adm-nimes" || last.md.Role != events.RolePrefecture {
		t.Fatalf("last event %#v by %s as %s", last.event, last.md.Actor, last.md.Role)
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
			wantCode(t, err, codes.FailedPrecondition, role.ErrSelfGrant)
			continue
		}
		wantCode(t, err, codes.PermissionDenied, nil)
	}
	unchanged(t, env, head)

	// A prefecture's grant waits for a second admin of the département.
	gardA := env.As(t, "adm-gard-a", events.RoleAdmin, gard)
	gardB := env.As(t, "adm-gard-b", events.RoleAdmin, gard)
	cod2 := policies.Principal{Subject: "cod-2"}
	if r, err := roles.Grant(gardA, &pb.RoleRequest{CommandId: "pref", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard}); err != nil || !r.Pending {
		t.Fatalf("prefecture request: %+v, %v", r, err)
	}
	_, err = roles.Grant(cod, &pb.RoleRequest{CommandId: "pref-by-cod", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard})
	wantCode(t, err, codes.PermissionDenied, nil)
	if r, err := roles.Grant(gardB, &pb.RoleRequest{CommandId: "pref", Subject: cod2.Subject, Role: events.RolePrefecture, Domain: gard}); err != nil || r.Pending {
		t.Fatalf("prefecture confirmation: %+v, %v", r, err)
	}
	eventuallyMay(t, env, cod2, ales, policies.ObjectAlert, policies.ActionValidateFRAlert, true)
}
