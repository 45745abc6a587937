package role_test

import (
	"errors"
	"testing"

	"vigie/events"
	"vigie/events/role"
)

// Every role event says what it does to the holdings: a new event type fails here
// until EffectOf (and so both the aggregate and the authorizer) knows it.
func TestEffectOfEveryEvent(t *testing.T) {
	for _, e := range role.Events() {
		if c, ok := e.(role.RoleGrantConfirmed); ok {
			c.RequestedBy, c.By, c.Subject = "adm-1", "adm-2", "u-1"
			e = c
		}
		eff, err := role.EffectOf(e)
		if err != nil {
			t.Errorf("EffectOf(%s): %v", e.EventType(), err)
			continue
		}
		if eff.Change < role.Requests || eff.Change > role.Revokes {
			t.Errorf("EffectOf(%s) = change %d", e.EventType(), eff.Change)
		}
	}
}

type notARoleEvent struct{}

func (notARoleEvent) EventType() string { return "IncidentReported" }

func TestEffectOf(t *testing.T) {
	const d = "dep:30/com:30189"
	cases := []struct {
		name string
		e    events.Event
		want role.Effect
		err  error
	}{
		{"granted", role.RoleGranted{Subject: "u-1", Role: "operator", Domain: d, By: "adm-1"}, role.Effect{role.Grants, "u-1", "operator", d, "adm-1"}, nil},
		{"requested holds nothing yet", role.RoleGrantRequested{Subject: "u-1", Role: "mayor", Domain: d, By: "adm-1"}, role.Effect{role.Requests, "u-1", "mayor", d, "adm-1"}, nil},
		{"confirmed by a second person", role.RoleGrantConfirmed{Subject: "u-1", Role: "mayor", Domain: d, RequestedBy: "adm-1", By: "pref-1"}, role.Effect{role.Grants, "u-1", "mayor", d, "pref-1"}, nil},
		{"confirmed by the requester", role.RoleGrantConfirmed{Subject: "u-1", Role: "mayor", Domain: d, RequestedBy: "adm-1", By: "adm-1"}, role.Effect{}, role.ErrNotSecondPerson},
		{"confirmed by the subject", role.RoleGrantConfirmed{Subject: "u-1", Role: "mayor", Domain: d, RequestedBy: "adm-1", By: "u-1"}, role.Effect{}, role.ErrNotSecondPerson},
		{"confirmed by nobody", role.RoleGrantConfirmed{Subject: "u-1", Role: "mayor", Domain: d, RequestedBy: "adm-1"}, role.Effect{}, role.ErrNotSecondPerson},
		{"revoked", role.RoleRevoked{Subject: "u-1", Role: "mayor", Domain: d, By: "adm-2"}, role.Effect{role.Revokes, "u-1", "mayor", d, "adm-2"}, nil},
		{"another context's event", notARoleEvent{}, role.Effect{}, role.ErrUnknownEvent},
	}
	for _, c := range cases {
		got, err := role.EffectOf(c.e)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%s: EffectOf = %+v, %v; want %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
}
