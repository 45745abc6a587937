package role

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

const nimes = "dep:30/com:30189"

var (
	at     = time.Date(2026, 9, 14, 4, 30, 0, 0, time.UTC)
	admin  = events.Actor{Subject: "adm-1", Role: events.RoleAdmin}
	admin2 = events.Actor{Subject: "adm-2", Role: events.RoleAdmin}
	cod    = events.Actor{Subject: "cod-gard", Role: events.RolePrefecture}
)

type decision func(*Assignments) ([]events.Event, error)

func grant(by events.Actor, subject, roleName string) decision {
	return func(a *Assignments) ([]events.Event, error) { return a.Grant(by, subject, roleName, at) }
}

func revoke(by events.Actor, subject, roleName string) decision {
	return func(a *Assignments) ([]events.Event, error) { return a.Revoke(by, subject, roleName, at) }
}

// scenario is a given/when/then test: the stream holds given, the command
// is when, and then is the events it decides, or err the error it returns.
type scenario struct {
	name   string
	domain string
	given  []events.Event
	when   decision
	then   []events.Event
	err    error
}

func granted(subject, roleName, domain string) RoleGranted {
	return RoleGranted{Subject: subject, Role: roleName, Domain: domain, By: admin.Subject, At: at}
}

// revoked is a revocation by admin, or by the subject given last.
func revoked(subject, roleName, domain string, by ...string) RoleRevoked {
	return RoleRevoked{Subject: subject, Role: roleName, Domain: domain, By: append(by, admin.Subject)[0], At: at}
}

// requested is a request by admin, or by the subject given last.
func requested(subject, roleName, domain string, by ...string) RoleGrantRequested {
	return RoleGrantRequested{Subject: subject, Role: roleName, Domain: domain, By: append(by, admin.Subject)[0], At: at}
}

// confirmed is the confirmation by "by" of admin's request.
func confirmed(subject, roleName, domain, by string) RoleGrantConfirmed {
	return RoleGrantConfirmed{Subject: subject, Role: roleName, Domain: domain, RequestedBy: admin.Subject, By: by, At: at}
}

func TestGrantAndRevoke(t *testing.T) {
	mayor := events.Actor{Subject: "maire-1", Role: events.RoleMayor}
	for _, s := range []scenario{
		{
			name: "an admin grants a role on a commune",
			when: grant(admin, "u-1", events.RoleRAC),
			then: []events.Event{granted("u-1", events.RoleRAC, nimes)},
		},
		{
			name:   "the département's wildcard form is recorded canonically",
			domain: "dep:30/*",
			when:   grant(admin, "partner-1", events.RoleObserver),
			then:   []events.Event{granted("partner-1", events.RoleObserver, "dep:30")},
		},

		// Duties stay separate.
		{name: "an admin cannot grant itself the mayor's role", when: grant(admin, admin.Subject, events.RoleMayor), err: ErrSelfGrant},
		{name: "an admin cannot grant itself any role", when: grant(admin, admin.Subject, events.RoleObserver), err: ErrSelfGrant},
		{name: "an admin cannot grant itself another admin grant", when: grant(admin, admin.Subject, events.RoleAdmin), err: ErrSelfGrant},
		{
			name: "a mayor's grant is only requested at first",
			when: grant(admin, "u-1", events.RoleMayor),
			then: []events.Event{requested("u-1", events.RoleMayor, nimes)},
		},
		{
			name:   "a prefecture's grant is only requested at first",
			domain: "dep:30/*",
			when:   grant(admin, "cod-1", events.RolePrefecture),
			then:   []events.Event{requested("cod-1", events.RolePrefecture, "dep:30")},
		},
		{
			name:  "a second admin's grant confirms the request",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  grant(admin2, "u-1", events.RoleMayor),
			then:  []events.Event{confirmed("u-1", events.RoleMayor, nimes, admin2.Subject)},
		},
		{
			name:   "a second admin confirms a prefecture's grant",
			domain: "dep:30",
			given:  []events.Event{requested("cod-1", events.RolePrefecture, "dep:30")},
			when:   grant(admin2, "cod-1", events.RolePrefecture),
			then:   []events.Event{confirmed("cod-1", events.RolePrefecture, "dep:30", admin2.Subject)},
		},
		{
			name:  "the admin who asked cannot confirm its own request",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  grant(admin, "u-1", events.RoleMayor),
			err:   ErrOwnRequest,
		},
		{
			name:  "the future mayor cannot confirm their own grant, even as an admin",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  grant(events.Actor{Subject: "u-1", Role: events.RoleAdmin}, "u-1", events.RoleMayor),
			err:   ErrSelfGrant,
		},
		{
			name:  "the prefecture confirms a commune's mayor",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  grant(cod, "u-1", events.RoleMayor),
			then:  []events.Event{confirmed("u-1", events.RoleMayor, nimes, cod.Subject)},
		},
		{
			name: "the prefecture does not request a mayor's grant",
			when: grant(cod, "u-1", events.RoleMayor),
			err:  ErrNotAdmin,
		},
		{
			name: "the prefecture grants no other role",
			when: grant(cod, "u-1", events.RoleObserver),
			err:  ErrNotAdmin,
		},
		{
			name:   "the prefecture does not confirm one of its own",
			domain: "dep:30",
			given:  []events.Event{requested("cod-2", events.RolePrefecture, "dep:30")},
			when:   grant(cod, "cod-2", events.RolePrefecture),
			err:    ErrNotAdmin,
		},
		{
			name:  "a confirmed grant is held: granting it again is refused",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes), confirmed("u-1", events.RoleMayor, nimes, admin2.Subject)},
			when:  grant(admin, "u-1", events.RoleMayor),
			err:   ErrAlreadyGranted,
		},
		{
			name:  "a request still waiting is withdrawn by a revocation",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  revoke(admin2, "u-1", events.RoleMayor),
			then:  []events.Event{revoked("u-1", events.RoleMayor, nimes, admin2.Subject)},
		},
		{
			name:  "after a withdrawal, a grant is a new request",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes), revoked("u-1", events.RoleMayor, nimes)},
			when:  grant(admin2, "u-1", events.RoleMayor),
			then:  []events.Event{requested("u-1", events.RoleMayor, nimes, admin2.Subject)},
		},
		{
			name:  "a confirmed mayor is revoked by one admin",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes), confirmed("u-1", events.RoleMayor, nimes, admin2.Subject)},
			when:  revoke(admin, "u-1", events.RoleMayor),
			then:  []events.Event{revoked("u-1", events.RoleMayor, nimes)},
		},
		{
			name:  "the prefecture revokes nothing",
			given: []events.Event{requested("u-1", events.RoleMayor, nimes)},
			when:  revoke(cod, "u-1", events.RoleMayor),
			err:   ErrNotAdmin,
		},
		{
			name:  "a second role for the same subject is another grant",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes)},
			when:  grant(admin, "u-1", events.RoleRAC),
			then:  []events.Event{granted("u-1", events.RoleRAC, nimes)},
		},
		{
			name:  "granting a role already held is refused",
			given: []events.Event{granted("u-1", events.RoleMayor, nimes)},
			when:  grant(admin, "u-1", events.RoleMayor),
			err:   ErrAlreadyGranted,
		},
		{
			name:  "a revoked role can be granted again",
			given: []events.Event{granted("u-1", events.RoleField, nimes), revoked("u-1", events.RoleField, nimes)},
			when:  grant(admin, "u-1", events.RoleField),
			then:  []events.Event{granted("u-1", events.RoleField, nimes)},
		},
		{
			name: "only an admin grants, even a mayor",
			when: grant(mayor, "u-1", events.RoleObserver),
			err:  ErrNotAdmin,
		},
		{
			name: "an actor without a role is not an admin",
			when: grant(events.Actor{Subject: "x"}, "u-1", events.RoleObserver),
			err:  ErrNotAdmin,
		},
		{
			name: "an admin without a subject is refused",
			when: grant(events.Actor{Role: events.RoleAdmin}, "u-1", events.RoleObserver),
			err:  ErrInvalidSubject,
		},
		{
			name: "an unknown role is refused",
			when: grant(admin, "u-1", "superuser"),
			err:  ErrUnknownRole,
		},
		{
			name: "role names are case-sensitive",
			when: grant(admin, "u-1", "Mayor"),
			err:  ErrUnknownRole,
		},
		{
			name: "the prefecture's role is not granted on a commune",
			when: grant(admin, "u-1", events.RolePrefecture),
			err:  ErrRoleNotForDomain,
		},
		{
			name:   "a mayor is the mayor of a commune, not of a département",
			domain: "dep:30",
			when:   grant(admin, "u-1", events.RoleMayor),
			err:    ErrRoleNotForDomain,
		},
		{
			name:   "an observer may be granted on a whole département",
			domain: "dep:30",
			when:   grant(admin, "partner-1", events.RoleObserver),
			then:   []events.Event{granted("partner-1", events.RoleObserver, "dep:30")},
		},
		{name: "an empty subject is refused", when: grant(admin, "", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject with a space is refused", when: grant(admin, "jean dupont", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject with a control character is refused", when: grant(admin, "u\x001", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject with a tab is refused", when: grant(admin, "u\t1", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject that is not UTF-8 is refused", when: grant(admin, "u\xff", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject with a right-to-left override is refused", when: grant(admin, "adm\u202enimes", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject with a zero-width space is refused", when: grant(admin, "maire\u200bnimes", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject named like a role is refused", when: grant(admin, "role:mayor", events.RoleField), err: ErrInvalidSubject},
		{name: "a subject over 128 bytes is refused", when: grant(admin, strings.Repeat("a", 129), events.RoleField), err: ErrInvalidSubject},
		{
			name: "a subject of exactly 128 bytes is accepted",
			when: grant(admin, strings.Repeat("a", 128), events.RoleField),
			then: []events.Event{granted(strings.Repeat("a", 128), events.RoleField, nimes)},
		},
		{
			name: "a decision without a time is refused",
			when: func(a *Assignments) ([]events.Event, error) {
				return a.Grant(admin, "u-1", events.RoleField, time.Time{})
			},
			err: ErrMissingTime,
		},
		{
			name:  "an admin revokes a role",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes)},
			when:  revoke(admin, "u-1", events.RoleOperator),
			then:  []events.Event{revoked("u-1", events.RoleOperator, nimes)},
		},
		{
			name:  "revoking one role keeps the subject's others",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes), granted("u-1", events.RoleRAC, nimes)},
			when:  revoke(admin, "u-1", events.RoleRAC),
			then:  []events.Event{revoked("u-1", events.RoleRAC, nimes)},
		},
		{
			name: "revoking a role never granted is refused",
			when: revoke(admin, "u-1", events.RoleOperator),
			err:  ErrNotGranted,
		},
		{
			name:  "revoking a role already revoked is refused",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes), revoked("u-1", events.RoleOperator, nimes)},
			when:  revoke(admin, "u-1", events.RoleOperator),
			err:   ErrNotGranted,
		},
		{
			name:  "revoking another role than the one held is refused",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes)},
			when:  revoke(admin, "u-1", events.RoleRAC),
			err:   ErrNotGranted,
		},
		{
			name:  "only an admin revokes",
			given: []events.Event{granted("u-1", events.RoleOperator, nimes)},
			when:  revoke(mayor, "u-1", events.RoleOperator),
			err:   ErrNotAdmin,
		},
		{
			name:  "an admin cannot remove their own admin grant",
			given: []events.Event{granted(admin.Subject, events.RoleAdmin, nimes)},
			when:  revoke(admin, admin.Subject, events.RoleAdmin),
			err:   ErrSelfRevokeAdmin,
		},
		{
			name:  "an admin may drop another role of their own",
			given: []events.Event{granted(admin.Subject, events.RoleAdmin, nimes), granted(admin.Subject, events.RoleObserver, nimes)},
			when:  revoke(admin, admin.Subject, events.RoleObserver),
			then:  []events.Event{revoked(admin.Subject, events.RoleObserver, nimes)},
		},
		{
			name:  "an admin may revoke another admin",
			given: []events.Event{granted(admin.Subject, events.RoleAdmin, nimes), granted("adm-2", events.RoleAdmin, nimes)},
			when:  revoke(admin, "adm-2", events.RoleAdmin),
			then:  []events.Event{revoked("adm-2", events.RoleAdmin, nimes)},
		},
	} {
		t.Run(s.name, func(t *testing.T) {
			domain := s.domain
			if domain == "" {
				domain = nimes
			}
			a, err := New(domain)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range s.given {
				a.Apply(e)
			}
			before := a.List()
			got, err := s.when(a)
			if s.err != nil {
				if !errors.Is(err, s.err) {
					t.Fatalf("err = %v, want %v", err, s.err)
				}
				if got != nil {
					t.Errorf("refused command decided %v", got)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, s.then) {
				t.Errorf("decided %#v\nwant    %#v", got, s.then)
			}
			if after := a.List(); !reflect.DeepEqual(before, after) {
				t.Errorf("deciding changed the state: %v became %v", before, after)
			}
		})
	}
}

func TestApplyFoldsTheStream(t *testing.T) {
	a, err := New(nimes)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []events.Event{
		granted("u-2", events.RoleField, nimes),
		granted("u-1", events.RoleMayor, nimes),
		granted("u-1", events.RoleAdmin, nimes),
		revoked("u-2", events.RoleField, nimes),
		granted("u-3", events.RoleObserver, nimes),
	} {
		a.Apply(e)
	}
	want := []Assignment{{"u-1", "admin"}, {"u-1", "mayor"}, {"u-3", "observer"}}
	if got := a.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List() = %v, want %v", got, want)
	}
	if !a.Has("u-1", events.RoleMayor) || a.Has("u-2", events.RoleField) {
		t.Fatal("Has disagrees with List")
	}
}

func TestARequestedGrantIsHeldOnlyOnceConfirmed(t *testing.T) {
	a, err := New(nimes)
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(requested("u-1", events.RoleMayor, nimes))
	if by, ok := a.Pending("u-1", events.RoleMayor); !ok || by != admin.Subject || a.Has("u-1", events.RoleMayor) {
		t.Fatalf("after the request: pending %v by %q, held %v", ok, by, a.Has("u-1", events.RoleMayor))
	}
	a.Apply(confirmed("u-1", events.RoleMayor, nimes, admin2.Subject))
	if _, ok := a.Pending("u-1", events.RoleMayor); ok || !a.Has("u-1", events.RoleMayor) {
		t.Fatal("after the confirmation the grant is not held, or still pending")
	}
	a.Apply(requested("u-2", events.RoleMayor, nimes))
	a.Apply(revoked("u-2", events.RoleMayor, nimes))
	if _, ok := a.Pending("u-2", events.RoleMayor); ok || a.Has("u-2", events.RoleMayor) {
		t.Fatal("a withdrawn request is still pending or held")
	}
}

// A confirmation written around the Roles API by the one who asked (or by the one it
// empowers) is not a second person's: the assignments hold nothing more, as the
// authorizer grants nothing, so the next decision sees what the authorizer enforces.
func TestAConfirmationByTheRequesterHoldsNothing(t *testing.T) {
	a, err := New(nimes)
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(requested("u-1", events.RoleMayor, nimes))
	a.Apply(confirmed("u-1", events.RoleMayor, nimes, admin.Subject))
	a.Apply(confirmed("u-1", events.RoleMayor, nimes, "u-1"))
	if by, ok := a.Pending("u-1", events.RoleMayor); !ok || by != admin.Subject || a.Has("u-1", events.RoleMayor) {
		t.Fatalf("after forged confirmations: pending %v by %q, held %v", ok, by, a.Has("u-1", events.RoleMayor))
	}
}

func TestNewRefusesAnInvalidDomain(t *testing.T) {
	for _, d := range []string{"", "dep:3", "dep:30/com:13047", "com:30189", "dep:300/com:30012"} {
		if _, err := New(d); !errors.Is(err, ErrInvalidDomain) {
			t.Errorf("New(%q) = %v, want ErrInvalidDomain", d, err)
		}
		if _, err := StreamID(d); !errors.Is(err, ErrInvalidDomain) {
			t.Errorf("StreamID(%q) = %v, want ErrInvalidDomain", d, err)
		}
	}
}

func TestStreamIDKeepsTheDomainReadable(t *testing.T) {
	for in, want := range map[string]string{
		"dep:30":           "role-dep:30",
		"dep:30/*":         "role-dep:30",
		"dep:30/com:30189": "role-dep:30/com:30189",
		"dep:2A/com:2A004": "role-dep:2A/com:2A004",
	} {
		got, err := StreamID(in)
		if err != nil || got != want {
			t.Errorf("StreamID(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err := events.ValidateStreamID(got); err != nil {
			t.Errorf("ValidateStreamID(%q) = %v", got, err)
		}
		if c := events.Category(got); c != events.CategoryRole {
			t.Errorf("Category(%q) = %q", got, c)
		}
	}
}

func TestEventsRoundTripThroughTheRegistry(t *testing.T) {
	reg := events.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	for _, e := range []events.Event{
		granted("u-1", events.RoleMayor, nimes), revoked("u-1", events.RoleMayor, nimes),
		requested("u-1", events.RoleMayor, nimes), confirmed("u-1", events.RoleMayor, nimes, admin2.Subject),
	} {
		md := events.NewMetadata("cmd-1", admin, nimes, at)
		env, err := reg.Encode(context.Background(), e, md)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := reg.Decode(env.Type, env.Data, env.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("round trip of %s gave %#v", env.Type, back)
		}
	}
}
