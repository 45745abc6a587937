package grantlog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events"
	"vigie/events/embedded"
	"vigie/events/role"
	"vigie/events/store"
	"vigie/policies"
	"vigie/policies/grantlog"
)

// openStore starts the embedded event store on a free loopback port and
// returns a client of it.
func openStore(t *testing.T) *store.Client {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const (
	nimes  = "dep:30/com:30189"
	ales   = "dep:30/com:30007"
	gard   = "dep:30"
	istres = "dep:13/com:13047"
)

func newAuthorizer(t *testing.T) *policies.Authorizer {
	t.Helper()
	a, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func registry(t *testing.T) *events.Registry {
	t.Helper()
	reg := events.NewRegistry()
	if err := role.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// appendRoleEvent appends e to the role stream of domain as an admin would.
func appendRoleEvent(t *testing.T, c *store.Client, reg *events.Registry, domain string, e events.Event) {
	t.Helper()
	stream, err := role.StreamID(domain)
	if err != nil {
		t.Fatal(err)
	}
	md := events.NewMetadata(uuid.NewString(), events.Actor{Subject: "adm-1", Role: events.RoleAdmin}, domain, time.Now())
	env, err := reg.Encode(context.Background(), e, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(context.Background(), stream, store.Any(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
}

// follow runs Follow until the test ends and reports its outcome on the channel.
func follow(t *testing.T, c *store.Client, a *policies.Authorizer, reg *events.Registry) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- policies.Follow(ctx, grantlog.Source{Client: c, Registry: reg}, a) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Follow ended with %v, want context.Canceled", err)
		}
	})
	return done
}

// eventually polls cond until it holds or within has passed: the issue's
// promise is that a grant or a revocation takes effect within a second.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFollowAppliesGrantsAndRevocationsAtRuntime(t *testing.T) {
	c, reg := openStore(t), registry(t)
	a := newAuthorizer(t)
	// A grant already in the log before the service starts.
	appendRoleEvent(t, c, reg, nimes, role.RoleGranted{Subject: "obs-1", Role: events.RoleObserver, Domain: nimes, By: "adm-1", At: time.Now()})
	follow(t, c, a, reg)

	select {
	case <-a.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("Follow never caught up")
	}
	if err := a.Authorize(policies.Principal{Subject: "obs-1"}, nimes, policies.ObjectIncident, policies.ActionRead); err != nil {
		t.Fatalf("the grant stored before Follow started is not applied once ready: %v", err)
	}

	mayor := policies.Principal{Subject: "maire-1"}
	if err := a.Authorize(mayor, nimes, policies.ObjectAlert, policies.ActionApprove); !errors.Is(err, policies.ErrForbidden) {
		t.Fatalf("before the grant: %v, want policies.ErrForbidden", err)
	}
	appendRoleEvent(t, c, reg, nimes, role.RoleGranted{Subject: "maire-1", Role: events.RoleMayor, Domain: nimes, By: "adm-1", At: time.Now()})
	eventually(t, time.Second, "the mayor may approve after RoleGranted", func() bool {
		return a.Authorize(mayor, nimes, policies.ObjectAlert, policies.ActionApprove) == nil
	})

	appendRoleEvent(t, c, reg, nimes, role.RoleRevoked{Subject: "maire-1", Role: events.RoleMayor, Domain: nimes, By: "adm-1", At: time.Now()})
	eventually(t, time.Second, "the mayor is refused after RoleRevoked", func() bool {
		return errors.Is(a.Authorize(mayor, nimes, policies.ObjectAlert, policies.ActionApprove), policies.ErrForbidden)
	})

	// A prefecture grant on the département's stream covers its communes.
	cod := policies.Principal{Subject: "cod-1"}
	appendRoleEvent(t, c, reg, gard, role.RoleGranted{Subject: "cod-1", Role: events.RolePrefecture, Domain: gard, By: "adm-0", At: time.Now()})
	eventually(t, time.Second, "the prefecture may validate FR-Alert in Alès", func() bool {
		return a.Authorize(cod, ales, policies.ObjectAlert, policies.ActionValidateFRAlert) == nil
	})
	if err := a.Authorize(cod, istres, policies.ObjectAlert, policies.ActionValidateFRAlert); !errors.Is(err, policies.ErrForbidden) {
		t.Errorf("the Gard's prefecture in Istres: %v, want policies.ErrForbidden", err)
	}
}

func TestFollowSkipsAGrantRecordedInAnotherDomainsStream(t *testing.T) {
	c, reg := openStore(t), registry(t)
	a := newAuthorizer(t)
	// Written to Nîmes' stream, naming the whole département: the admin was
	// authorized on Nîmes only.
	appendRoleEvent(t, c, reg, nimes, role.RoleGranted{Subject: "u-9", Role: events.RoleObserver, Domain: gard, By: "adm-1", At: time.Now()})
	// A later, proper grant shows Follow went past it.
	appendRoleEvent(t, c, reg, nimes, role.RoleGranted{Subject: "u-8", Role: events.RoleObserver, Domain: nimes, By: "adm-1", At: time.Now()})
	follow(t, c, a, reg)
	eventually(t, time.Second, "the proper grant is applied", func() bool {
		return a.Authorize(policies.Principal{Subject: "u-8"}, nimes, policies.ObjectIncident, policies.ActionRead) == nil
	})
	for _, d := range []string{nimes, ales, gard} {
		if err := a.Authorize(policies.Principal{Subject: "u-9"}, d, policies.ObjectIncident, policies.ActionRead); !errors.Is(err, policies.ErrForbidden) {
			t.Errorf("the misfiled grant was applied on %s", d)
		}
	}
}

func TestFollowStopsOnARoleEventItCannotRead(t *testing.T) {
	c, reg := openStore(t), registry(t)
	a := newAuthorizer(t)
	stream, _ := role.StreamID(nimes)
	md := events.NewMetadata(uuid.NewString(), events.Actor{Subject: "adm-1", Role: events.RoleAdmin}, nimes, time.Now())
	env, err := reg.Encode(context.Background(), role.RoleRevoked{Subject: "u-1", Role: events.RoleMayor, Domain: nimes, By: "adm-1", At: time.Now()}, md)
	if err != nil {
		t.Fatal(err)
	}
	// A role event type this program does not know: it could be a revocation.
	if _, err := c.Append(context.Background(), stream, store.Any(), store.EventData{ID: uuid.New(), Type: "RoleSuspended", Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := policies.Follow(ctx, grantlog.Source{Client: c, Registry: reg}, a); !errors.Is(err, events.ErrUnknownEventType) {
		t.Fatalf("Follow = %v, want events.ErrUnknownEventType", err)
	}
}

func TestFollowGrantsAMayorAtTheConfirmationAndNeverFromAnotherDomainsStream(t *testing.T) {
	c, reg := openStore(t), registry(t)
	a := newAuthorizer(t)
	follow(t, c, a, reg)
	x := policies.Principal{Subject: "maire-x"}
	appendRoleEvent(t, c, reg, nimes, role.RoleGrantRequested{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, By: "adm-a", At: time.Now()})
	// A confirmation filed in Alès' stream, naming Nîmes: its author was
	// authorized on Alès only.
	appendRoleEvent(t, c, reg, ales, role.RoleGrantConfirmed{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", By: "adm-ales", At: time.Now()})
	appendRoleEvent(t, c, reg, nimes, role.RoleGranted{Subject: "obs-1", Role: events.RoleObserver, Domain: nimes, By: "adm-a", At: time.Now()})
	eventually(t, time.Second, "the later grant is applied", func() bool {
		return a.Authorize(policies.Principal{Subject: "obs-1"}, nimes, policies.ObjectIncident, policies.ActionRead) == nil
	})
	if err := a.Authorize(x, nimes, policies.ObjectAlert, policies.ActionApprove); !errors.Is(err, policies.ErrForbidden) {
		t.Fatalf("a request, and a confirmation from another domain's stream, made a mayor: %v", err)
	}
	appendRoleEvent(t, c, reg, nimes, role.RoleGrantConfirmed{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", By: "adm-b", At: time.Now()})
	eventually(t, time.Second, "the mayor may approve after the confirmation", func() bool {
		return a.Authorize(x, nimes, policies.ObjectAlert, policies.ActionApprove) == nil
	})
}
