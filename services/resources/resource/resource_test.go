package resource_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/services/resources/resource"
)

var (
	// at is in UTC so events compare equal after a JSON round trip.
	at       = time.Date(2026, 9, 14, 4, 12, 0, 0, time.UTC)
	rac      = events.Actor{Subject: "sub-7c2e", Role: events.RoleRAC}
	operator = events.Actor{Subject: "sub-41aa", Role: events.RoleOperator}
)

const nimes = "dep:30/com:30189"

func pumpRegistered() resource.ResourceRegistered {
	return resource.ResourceRegistered{ResourceID: "pump-12", Domain: nimes, Kind: resource.KindEquipment, Name: "Motopompe 12", By: rac, At: at}
}

func shelterRegistered() resource.ResourceRegistered {
	return resource.ResourceRegistered{ResourceID: "gym-jean-bouin", Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase Jean Bouin", Capacity: 120, By: rac, At: at}
}

func engaged(incidentID string) resource.ResourceEngaged {
	return resource.ResourceEngaged{IncidentID: incidentID, By: rac, At: at}
}

func statusChanged(s resource.Status) resource.ResourceStatusChanged {
	return resource.ResourceStatusChanged{Status: s, By: operator, At: at}
}

func occupancy(n, previous int) resource.ShelterOccupancyChanged {
	return resource.ShelterOccupancyChanged{Occupancy: n, Previous: previous, By: operator, At: at}
}

// given rebuilds a resource from its history.
func given(history ...events.Event) *resource.Resource {
	var r resource.Resource
	for _, e := range history {
		r.Apply(e)
	}
	return &r
}

type command func(*resource.Resource) ([]events.Event, error)

func register(cmd resource.Registration) command {
	return func(r *resource.Resource) ([]events.Event, error) { return r.Register(cmd, rac, at) }
}

func engage(incidentID string) command {
	return func(r *resource.Resource) ([]events.Event, error) { return r.Engage(incidentID, rac, at) }
}

func release() command {
	return func(r *resource.Resource) ([]events.Event, error) { return r.Release(rac, at) }
}

func setStatus(s resource.Status) command {
	return func(r *resource.Resource) ([]events.Event, error) { return r.SetStatus(s, operator, at) }
}

func setOccupancy(n int) command {
	return func(r *resource.Resource) ([]events.Event, error) { return r.SetOccupancy(n, operator, at) }
}

type scenario struct {
	name  string
	given []events.Event
	when  command
	then  []events.Event // the exact events, nil for a no-op
	err   error          // the refusal, nil when the command is accepted
}

// run checks each scenario: the command's events or refusal, that deciding
// left the state untouched, and that the events apply to a state that exists.
func run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			r := given(s.given...)
			before := *r

			got, err := s.when(r)

			if s.err != nil {
				if !errors.Is(err, s.err) {
					t.Fatalf("err = %v, want %v", err, s.err)
				}
				if got != nil {
					t.Errorf("a refused command returned events %#v", got)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want the command accepted", err)
			}
			if !reflect.DeepEqual(got, s.then) {
				t.Errorf("events = %#v\nwant %#v", got, s.then)
			}
			if *r != before {
				t.Errorf("deciding changed the state from %+v to %+v", before, *r)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	pump := resource.Registration{ResourceID: "pump-12", Domain: nimes, Kind: resource.KindEquipment, Name: "Motopompe 12"}
	gym := resource.Registration{ResourceID: "gym-jean-bouin", Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase Jean Bouin", Capacity: 120}
	with := func(cmd resource.Registration, change func(*resource.Registration)) resource.Registration {
		change(&cmd)
		return cmd
	}
	longName := strings.Repeat("é", resource.MaxNameLen)

	run(t, []scenario{
		{name: "equipment without capacity", when: register(pump), then: []events.Event{pumpRegistered()}},
		{name: "shelter with its capacity", when: register(gym), then: []events.Event{shelterRegistered()}},
		{name: "name trimmed of surrounding spaces", when: register(with(pump, func(c *resource.Registration) { c.Name = "  Motopompe 12\t" })), then: []events.Event{pumpRegistered()}},
		{
			name: "name of 200 characters",
			when: register(with(pump, func(c *resource.Registration) { c.Name = longName })),
			then: []events.Event{resource.ResourceRegistered{ResourceID: "pump-12", Domain: nimes, Kind: resource.KindEquipment, Name: longName, By: rac, At: at}},
		},
		{
			name: "shelter of capacity 1",
			when: register(with(gym, func(c *resource.Registration) { c.Capacity = 1 })),
			then: []events.Event{resource.ResourceRegistered{ResourceID: "gym-jean-bouin", Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase Jean Bouin", Capacity: 1, By: rac, At: at}},
		},
		{
			name: "shelter of the largest capacity",
			when: register(with(gym, func(c *resource.Registration) { c.Capacity = resource.MaxCapacity })),
			then: []events.Event{resource.ResourceRegistered{ResourceID: "gym-jean-bouin", Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase Jean Bouin", Capacity: resource.MaxCapacity, By: rac, At: at}},
		},
		{
			name: "Corsican commune",
			when: register(with(pump, func(c *resource.Registration) { c.Domain = "dep:2A/com:2A004" })),
			then: []events.Event{resource.ResourceRegistered{ResourceID: "pump-12", Domain: "dep:2A/com:2A004", Kind: resource.KindEquipment, Name: "Motopompe 12", By: rac, At: at}},
		},
	})

	t.Run("every kind", func(t *testing.T) {
		for _, k := range resource.Kinds() {
			cmd := with(pump, func(c *resource.Registration) { c.Kind = k })
			if k == resource.KindShelter {
				cmd.Capacity = 10
			}
			var r resource.Resource
			got, err := r.Register(cmd, rac, at)
			if err != nil || len(got) != 1 || got[0].(resource.ResourceRegistered).Kind != k {
				t.Errorf("Register(%s) = %#v, %v", k, got, err)
			}
		}
	})
}

func TestRegisterRefuses(t *testing.T) {
	pump := resource.Registration{ResourceID: "pump-12", Domain: nimes, Kind: resource.KindEquipment, Name: "Motopompe 12"}
	with := func(change func(*resource.Registration)) command {
		cmd := pump
		change(&cmd)
		return register(cmd)
	}

	run(t, []scenario{
		{name: "a resource already registered", given: []events.Event{pumpRegistered()}, when: register(pump), err: resource.ErrAlreadyRegistered},
		{name: "an empty resource id", when: with(func(c *resource.Registration) { c.ResourceID = "" }), err: resource.ErrInvalidResourceID},
		{name: "a resource id of 129 bytes", when: with(func(c *resource.Registration) { c.ResourceID = strings.Repeat("p", 129) }), err: resource.ErrInvalidResourceID},
		{name: "a resource id with a newline", when: with(func(c *resource.Registration) { c.ResourceID = "pump\n12" }), err: resource.ErrInvalidResourceID},
		{name: "a resource id of invalid UTF-8", when: with(func(c *resource.Registration) { c.ResourceID = "pump-\xff" }), err: resource.ErrInvalidResourceID},
		{name: "an unknown kind", when: with(func(c *resource.Registration) { c.Kind = "boat" }), err: resource.ErrUnknownKind},
		{name: "a kind in GraphQL's case", when: with(func(c *resource.Registration) { c.Kind = "EQUIPMENT" }), err: resource.ErrUnknownKind},
		{name: "no kind", when: with(func(c *resource.Registration) { c.Kind = "" }), err: resource.ErrUnknownKind},
		{name: "an empty name", when: with(func(c *resource.Registration) { c.Name = "" }), err: resource.ErrInvalidName},
		{name: "a blank name", when: with(func(c *resource.Registration) { c.Name = " \t " }), err: resource.ErrInvalidName},
		{name: "a name of 201 characters", when: with(func(c *resource.Registration) { c.Name = strings.Repeat("é", 201) }), err: resource.ErrInvalidName},
		{name: "a name with a newline", when: with(func(c *resource.Registration) { c.Name = "Motopompe\n12" }), err: resource.ErrInvalidName},
		{name: "a name of invalid UTF-8", when: with(func(c *resource.Registration) { c.Name = "Motopompe \xff" }), err: resource.ErrInvalidName},
		{name: "a département's domain", when: with(func(c *resource.Registration) { c.Domain = "dep:30" }), err: resource.ErrInvalidDomain},
		{name: "no domain", when: with(func(c *resource.Registration) { c.Domain = "" }), err: resource.ErrInvalidDomain},
		{name: "a commune outside its département", when: with(func(c *resource.Registration) { c.Domain = "dep:30/com:13047" }), err: resource.ErrInvalidDomain},
		{name: "a shelter without capacity", when: with(func(c *resource.Registration) { c.Kind = resource.KindShelter }), err: resource.ErrCapacity},
		{name: "a shelter of negative capacity", when: with(func(c *resource.Registration) { c.Kind, c.Capacity = resource.KindShelter, -5 }), err: resource.ErrCapacity},
		{name: "a shelter above the largest capacity", when: with(func(c *resource.Registration) { c.Kind, c.Capacity = resource.KindShelter, resource.MaxCapacity+1 }), err: resource.ErrCapacity},
		{name: "a capacity on a vehicle", when: with(func(c *resource.Registration) { c.Kind, c.Capacity = resource.KindVehicle, 9 }), err: resource.ErrCapacity},
	})
}

func TestInputErrorsAreInvalidInput(t *testing.T) {
	for _, err := range []error{
		resource.ErrInvalidResourceID, resource.ErrInvalidIncidentID, resource.ErrInvalidDomain, resource.ErrInvalidName,
		resource.ErrUnknownKind, resource.ErrUnknownStatus, resource.ErrCapacity, resource.ErrNegativeOccupancy,
	} {
		if !errors.Is(err, resource.ErrInvalidInput) {
			t.Errorf("%v is not ErrInvalidInput", err)
		}
	}
	for _, err := range []error{
		resource.ErrNotFound, resource.ErrAlreadyRegistered, resource.ErrAlreadyEngaged, resource.ErrNotAvailable, resource.ErrNotEngaged,
		resource.ErrUseEngageRelease, resource.ErrNotAShelter, resource.ErrShelterFull, resource.ErrOccupiedShelter,
	} {
		if errors.Is(err, resource.ErrInvalidInput) {
			t.Errorf("the rule %v is ErrInvalidInput", err)
		}
	}
}

func TestEngage(t *testing.T) {
	run(t, []scenario{
		{name: "an available resource", given: []events.Event{pumpRegistered()}, when: engage("inc-7"), then: []events.Event{engaged("inc-7")}},
		{name: "a shelter", given: []events.Event{shelterRegistered()}, when: engage("inc-7"), then: []events.Event{engaged("inc-7")}},
		{
			name:  "a resource released from another incident",
			given: []events.Event{pumpRegistered(), engaged("inc-7"), resource.ResourceReleased{IncidentID: "inc-7", By: rac, At: at}},
			when:  engage("inc-8"),
			then:  []events.Event{engaged("inc-8")},
		},
		{
			name:  "a resource back from maintenance",
			given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable), statusChanged(resource.StatusAvailable)},
			when:  engage("inc-7"),
			then:  []events.Event{engaged("inc-7")},
		},
		{name: "an incident id of 128 bytes", given: []events.Event{pumpRegistered()}, when: engage(strings.Repeat("i", 128)), then: []events.Event{engaged(strings.Repeat("i", 128))}},
	})
}

func TestEngageRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a resource never registered", when: engage("inc-7"), err: resource.ErrNotFound},
		{name: "an empty incident id", given: []events.Event{pumpRegistered()}, when: engage(""), err: resource.ErrInvalidIncidentID},
		{name: "an incident id of 129 bytes", given: []events.Event{pumpRegistered()}, when: engage(strings.Repeat("i", 129)), err: resource.ErrInvalidIncidentID},
		{name: "an incident id with a control character", given: []events.Event{pumpRegistered()}, when: engage("inc\x007"), err: resource.ErrInvalidIncidentID},
		{name: "a resource engaged on another incident", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: engage("inc-8"), err: resource.ErrAlreadyEngaged},
		{name: "a resource engaged on the same incident", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: engage("inc-7"), err: resource.ErrAlreadyEngaged},
		{name: "an unavailable resource", given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable)}, when: engage("inc-7"), err: resource.ErrNotAvailable},
		{name: "a demobilized resource", given: []events.Event{pumpRegistered(), statusChanged(resource.StatusDemobilized)}, when: engage("inc-7"), err: resource.ErrNotAvailable},
	})

	t.Run("the refusal names the incident the resource is on", func(t *testing.T) {
		_, err := given(pumpRegistered(), engaged("inc-7")).Engage("inc-8", rac, at)
		if err == nil || !strings.Contains(err.Error(), "inc-7") {
			t.Errorf("err = %v, want it to name inc-7", err)
		}
	})
}

func TestRelease(t *testing.T) {
	run(t, []scenario{
		{
			name:  "an engaged resource, from its incident",
			given: []events.Event{pumpRegistered(), engaged("inc-7")},
			when:  release(),
			then:  []events.Event{resource.ResourceReleased{IncidentID: "inc-7", By: rac, At: at}},
		},
	})
}

func TestReleaseRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a resource never registered", when: release(), err: resource.ErrNotFound},
		{name: "a resource never engaged", given: []events.Event{pumpRegistered()}, when: release(), err: resource.ErrNotEngaged},
		{
			name:  "a resource already released",
			given: []events.Event{pumpRegistered(), engaged("inc-7"), resource.ResourceReleased{IncidentID: "inc-7", By: rac, At: at}},
			when:  release(),
			err:   resource.ErrNotEngaged,
		},
		{name: "an unavailable resource", given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable)}, when: release(), err: resource.ErrNotEngaged},
	})
}

func TestSetStatus(t *testing.T) {
	run(t, []scenario{
		{name: "available to unavailable", given: []events.Event{pumpRegistered()}, when: setStatus(resource.StatusUnavailable), then: []events.Event{statusChanged(resource.StatusUnavailable)}},
		{name: "available to demobilized", given: []events.Event{pumpRegistered()}, when: setStatus(resource.StatusDemobilized), then: []events.Event{statusChanged(resource.StatusDemobilized)}},
		{
			name:  "unavailable back to available",
			given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable)},
			when:  setStatus(resource.StatusAvailable),
			then:  []events.Event{statusChanged(resource.StatusAvailable)},
		},
		{
			name:  "demobilized back to available",
			given: []events.Event{pumpRegistered(), statusChanged(resource.StatusDemobilized)},
			when:  setStatus(resource.StatusAvailable),
			then:  []events.Event{statusChanged(resource.StatusAvailable)},
		},
		{
			name:  "unavailable to demobilized",
			given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable)},
			when:  setStatus(resource.StatusDemobilized),
			then:  []events.Event{statusChanged(resource.StatusDemobilized)},
		},
		{
			name:  "an emptied shelter to demobilized",
			given: []events.Event{shelterRegistered(), occupancy(40, 0), occupancy(0, 40)},
			when:  setStatus(resource.StatusDemobilized),
			then:  []events.Event{statusChanged(resource.StatusDemobilized)},
		},
		{
			name:  "an occupied shelter stays available",
			given: []events.Event{shelterRegistered(), occupancy(40, 0)},
			when:  setStatus(resource.StatusAvailable),
			then:  nil,
		},
		// The current status again is a no-op: no event, no error.
		{name: "available again", given: []events.Event{pumpRegistered()}, when: setStatus(resource.StatusAvailable), then: nil},
		{name: "unavailable again", given: []events.Event{pumpRegistered(), statusChanged(resource.StatusUnavailable)}, when: setStatus(resource.StatusUnavailable), then: nil},
		{name: "demobilized again", given: []events.Event{pumpRegistered(), statusChanged(resource.StatusDemobilized)}, when: setStatus(resource.StatusDemobilized), then: nil},
		{name: "engaged again", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: setStatus(resource.StatusEngaged), then: nil},
	})
}

func TestSetStatusRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a resource never registered", when: setStatus(resource.StatusUnavailable), err: resource.ErrNotFound},
		{name: "an unknown status", given: []events.Event{pumpRegistered()}, when: setStatus("broken"), err: resource.ErrUnknownStatus},
		{name: "no status", given: []events.Event{pumpRegistered()}, when: setStatus(""), err: resource.ErrUnknownStatus},
		{name: "engaged, without an incident", given: []events.Event{pumpRegistered()}, when: setStatus(resource.StatusEngaged), err: resource.ErrUseEngageRelease},
		{name: "an engaged resource to available", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: setStatus(resource.StatusAvailable), err: resource.ErrUseEngageRelease},
		{name: "an engaged resource to unavailable", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: setStatus(resource.StatusUnavailable), err: resource.ErrUseEngageRelease},
		{name: "an engaged resource to demobilized", given: []events.Event{pumpRegistered(), engaged("inc-7")}, when: setStatus(resource.StatusDemobilized), err: resource.ErrUseEngageRelease},
		{name: "an occupied shelter to unavailable", given: []events.Event{shelterRegistered(), occupancy(1, 0)}, when: setStatus(resource.StatusUnavailable), err: resource.ErrOccupiedShelter},
		{name: "an occupied shelter to demobilized", given: []events.Event{shelterRegistered(), occupancy(120, 0)}, when: setStatus(resource.StatusDemobilized), err: resource.ErrOccupiedShelter},
	})
}

func TestSetOccupancy(t *testing.T) {
	run(t, []scenario{
		{name: "people arrive", given: []events.Event{shelterRegistered()}, when: setOccupancy(40), then: []events.Event{occupancy(40, 0)}},
		{name: "up to capacity", given: []events.Event{shelterRegistered(), occupancy(40, 0)}, when: setOccupancy(120), then: []events.Event{occupancy(120, 40)}},
		{name: "everyone leaves", given: []events.Event{shelterRegistered(), occupancy(120, 0)}, when: setOccupancy(0), then: []events.Event{occupancy(0, 120)}},
		{name: "an engaged shelter", given: []events.Event{shelterRegistered(), engaged("inc-7")}, when: setOccupancy(15), then: []events.Event{occupancy(15, 0)}},
		{name: "the same count is a no-op", given: []events.Event{shelterRegistered(), occupancy(40, 0)}, when: setOccupancy(40), then: nil},
		{name: "zero in a closed shelter is a no-op", given: []events.Event{shelterRegistered(), statusChanged(resource.StatusDemobilized)}, when: setOccupancy(0), then: nil},
	})
}

func TestSetOccupancyRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a resource never registered", when: setOccupancy(3), err: resource.ErrNotFound},
		{name: "a resource that is not a shelter", given: []events.Event{pumpRegistered()}, when: setOccupancy(3), err: resource.ErrNotAShelter},
		{name: "zero on a resource that is not a shelter", given: []events.Event{pumpRegistered()}, when: setOccupancy(0), err: resource.ErrNotAShelter},
		{name: "a negative count", given: []events.Event{shelterRegistered()}, when: setOccupancy(-1), err: resource.ErrNegativeOccupancy},
		{name: "one more than capacity", given: []events.Event{shelterRegistered(), occupancy(120, 0)}, when: setOccupancy(121), err: resource.ErrShelterFull},
		{name: "people in an unavailable shelter", given: []events.Event{shelterRegistered(), statusChanged(resource.StatusUnavailable)}, when: setOccupancy(1), err: resource.ErrNotAvailable},
		{name: "people in a demobilized shelter", given: []events.Event{shelterRegistered(), statusChanged(resource.StatusDemobilized)}, when: setOccupancy(1), err: resource.ErrNotAvailable},
	})
}

// TestApplyFollowsTheCommands decides each command on the state the previous
// events built, applies what it decided, and checks the state says what the
// command meant: the state the handler reloads is the one the command left.
func TestApplyFollowsTheCommands(t *testing.T) {
	type state struct {
		status     resource.Status
		incidentID string
		occupancy  int
	}
	steps := []struct {
		when command
		want state
	}{
		{register(resource.Registration{ResourceID: "gym-jean-bouin", Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase Jean Bouin", Capacity: 120}), state{resource.StatusAvailable, "", 0}},
		{setOccupancy(60), state{resource.StatusAvailable, "", 60}},
		{engage("inc-7"), state{resource.StatusEngaged, "inc-7", 60}},
		{setOccupancy(120), state{resource.StatusEngaged, "inc-7", 120}},
		{release(), state{resource.StatusAvailable, "", 120}},
		{setOccupancy(0), state{resource.StatusAvailable, "", 0}},
		{setStatus(resource.StatusUnavailable), state{resource.StatusUnavailable, "", 0}},
		{setStatus(resource.StatusAvailable), state{resource.StatusAvailable, "", 0}},
		{engage("inc-8"), state{resource.StatusEngaged, "inc-8", 0}},
		{release(), state{resource.StatusAvailable, "", 0}},
		{setStatus(resource.StatusDemobilized), state{resource.StatusDemobilized, "", 0}},
	}
	var r resource.Resource
	for i, step := range steps {
		got, err := step.when(&r)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, e := range got {
			r.Apply(e)
		}
		if s := (state{r.Status(), r.IncidentID(), r.Occupancy()}); s != step.want {
			t.Fatalf("step %d: state = %+v, want %+v", i, s, step.want)
		}
	}
	if !r.Exists() || r.ID() != "gym-jean-bouin" || r.Domain() != nimes || r.Kind() != resource.KindShelter || r.Name() != "Gymnase Jean Bouin" || r.Capacity() != 120 {
		t.Errorf("registration lost: %+v", r)
	}
}

func TestApply(t *testing.T) {
	t.Run("a resource with no history does not exist", func(t *testing.T) {
		r := given()
		if r.Exists() || r.Status() != "" {
			t.Errorf("zero resource exists with status %q", r.Status())
		}
	})

	t.Run("registration gives an available resource", func(t *testing.T) {
		r := given(pumpRegistered())
		if !r.Exists() || r.Status() != resource.StatusAvailable || r.ID() != "pump-12" || r.Domain() != nimes ||
			r.Kind() != resource.KindEquipment || r.Name() != "Motopompe 12" || r.Capacity() != 0 || r.Occupancy() != 0 || r.IncidentID() != "" {
			t.Errorf("state = %+v", r)
		}
	})

	t.Run("events of other aggregates are ignored", func(t *testing.T) {
		r := given(pumpRegistered(), engaged("inc-7"))
		before := *r
		r.Apply(otherEvent{})
		r.Apply(&resource.ResourceReleased{IncidentID: "inc-7"}) // the registry only ever decodes values
		if *r != before {
			t.Errorf("state = %+v, want %+v", *r, before)
		}
	})
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "IncidentReported" }
