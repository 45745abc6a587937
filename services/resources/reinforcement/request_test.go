package reinforcement_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
)

var (
	// at is in UTC so events compare equal after a JSON round trip.
	at       = time.Date(2026, 9, 14, 4, 12, 0, 0, time.UTC)
	mayor    = events.Actor{Subject: "sub-m41r", Role: events.RoleMayor}
	rac      = events.Actor{Subject: "sub-7c2e", Role: events.RoleRAC}
	cod      = events.Actor{Subject: "sub-c0d1", Role: events.RolePrefecture}
	operator = events.Actor{Subject: "sub-41aa", Role: events.RoleOperator}
	field    = events.Actor{Subject: "sub-f1e1", Role: events.RoleField}
	observer = events.Actor{Subject: "sub-0b5e", Role: events.RoleObserver}
	admin    = events.Actor{Subject: "sub-ad31", Role: events.RoleAdmin}
)

const sommieres = "dep:30/com:30321"

func submission() reinforcement.Submission {
	return reinforcement.Submission{RequestID: "rf-1", Domain: sommieres, IncidentID: "inc-7", Kind: resource.KindEquipment, Quantity: 6, Reason: "Vidourle en crue, quartiers bas inondés"}
}

func requested() reinforcement.ReinforcementRequested {
	return reinforcement.ReinforcementRequested{RequestID: "rf-1", Domain: sommieres, IncidentID: "inc-7", Kind: resource.KindEquipment, Quantity: 6, Reason: "Vidourle en crue, quartiers bas inondés", By: rac, At: at}
}

func accepted(q int) reinforcement.ReinforcementAccepted {
	return reinforcement.ReinforcementAccepted{Quantity: q, Note: "depuis le CIS de Lunel", By: cod, At: at}
}

func refused() reinforcement.ReinforcementRefused {
	return reinforcement.ReinforcementRefused{Reason: "moyens engagés à Alès", By: cod, At: at}
}

func dispatched() reinforcement.ReinforcementDispatched {
	return reinforcement.ReinforcementDispatched{By: cod, At: at}
}

func arrived() reinforcement.ReinforcementArrived {
	return reinforcement.ReinforcementArrived{By: rac, At: at}
}

func released(by events.Actor) reinforcement.ReinforcementReleased {
	return reinforcement.ReinforcementReleased{By: by, At: at}
}

// history up to each status, for the step rules.
var histories = map[reinforcement.Status][]events.Event{
	reinforcement.StatusRequested:         {requested()},
	reinforcement.StatusAccepted:          {requested(), accepted(6)},
	reinforcement.StatusPartiallyAccepted: {requested(), accepted(4)},
	reinforcement.StatusRefused:           {requested(), refused()},
	reinforcement.StatusDispatched:        {requested(), accepted(4), dispatched()},
	reinforcement.StatusArrived:           {requested(), accepted(4), dispatched(), arrived()},
	reinforcement.StatusReleased:          {requested(), accepted(4), dispatched(), arrived(), released(rac)},
}

func given(history ...events.Event) *reinforcement.Request {
	var r reinforcement.Request
	for _, e := range history {
		r.Apply(e)
	}
	return &r
}

type command func(*reinforcement.Request) ([]events.Event, error)

func submit(cmd reinforcement.Submission, by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.Submit(cmd, by, at) }
}

func accept(q int, note string, by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.Accept(q, note, by, at) }
}

func refuse(reason string, by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.Refuse(reason, by, at) }
}

func dispatch(by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.Dispatch(by, at) }
}

func confirmArrival(by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.ConfirmArrival(by, at) }
}

func release(by events.Actor) command {
	return func(r *reinforcement.Request) ([]events.Event, error) { return r.Release(by, at) }
}

type scenario struct {
	name  string
	given []events.Event
	when  command
	then  []events.Event // the exact events of an accepted command
	err   error          // the refusal, nil when the command is accepted
}

// run checks each scenario's events or refusal, and that deciding left the
// state untouched.
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

func with(change func(*reinforcement.Submission)) reinforcement.Submission {
	cmd := submission()
	change(&cmd)
	return cmd
}

func TestSubmit(t *testing.T) {
	byMayor := requested()
	byMayor.By = mayor
	noReason := requested()
	noReason.Reason = ""
	most := requested()
	most.Quantity = reinforcement.MaxQuantity
	one := requested()
	one.Quantity = 1
	shelter := requested()
	shelter.Kind = resource.KindShelter

	run(t, []scenario{
		{name: "by the rac", when: submit(submission(), rac), then: []events.Event{requested()}},
		{name: "by the mayor", when: submit(submission(), mayor), then: []events.Event{byMayor}},
		{name: "without a reason", when: submit(with(func(c *reinforcement.Submission) { c.Reason = "" }), rac), then: []events.Event{noReason}},
		{name: "the reason trimmed", when: submit(with(func(c *reinforcement.Submission) { c.Reason = "\n " + c.Reason + "  " }), rac), then: []events.Event{requested()}},
		{name: "one", when: submit(with(func(c *reinforcement.Submission) { c.Quantity = 1 }), rac), then: []events.Event{one}},
		{name: "the largest quantity", when: submit(with(func(c *reinforcement.Submission) { c.Quantity = reinforcement.MaxQuantity }), rac), then: []events.Event{most}},
		{name: "a shelter", when: submit(with(func(c *reinforcement.Submission) { c.Kind = resource.KindShelter }), rac), then: []events.Event{shelter}},
	})
}

func TestSubmitRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "by an operator", when: submit(submission(), operator), err: reinforcement.ErrCommuneOnly},
		{name: "by a field agent", when: submit(submission(), field), err: reinforcement.ErrCommuneOnly},
		{name: "by an observer", when: submit(submission(), observer), err: reinforcement.ErrCommuneOnly},
		{name: "by an admin", when: submit(submission(), admin), err: reinforcement.ErrCommuneOnly},
		{name: "by the prefecture", when: submit(submission(), cod), err: reinforcement.ErrCommuneOnly},
		{name: "by a rac without subject", when: submit(submission(), events.Actor{Role: events.RoleRAC}), err: reinforcement.ErrCommuneOnly},
		{name: "a request already made", given: []events.Event{requested()}, when: submit(submission(), rac), err: reinforcement.ErrAlreadyRequested},
		{name: "an empty request id", when: submit(with(func(c *reinforcement.Submission) { c.RequestID = "" }), rac), err: reinforcement.ErrInvalidRequestID},
		{name: "a request id of 129 bytes", when: submit(with(func(c *reinforcement.Submission) { c.RequestID = strings.Repeat("r", 129) }), rac), err: reinforcement.ErrInvalidRequestID},
		{name: "a département's domain", when: submit(with(func(c *reinforcement.Submission) { c.Domain = "dep:30" }), rac), err: reinforcement.ErrInvalidDomain},
		{name: "a commune outside its département", when: submit(with(func(c *reinforcement.Submission) { c.Domain = "dep:30/com:13047" }), rac), err: reinforcement.ErrInvalidDomain},
		{name: "no incident", when: submit(with(func(c *reinforcement.Submission) { c.IncidentID = "" }), rac), err: reinforcement.ErrInvalidIncidentID},
		{name: "an incident id with a newline", when: submit(with(func(c *reinforcement.Submission) { c.IncidentID = "inc\n7" }), rac), err: reinforcement.ErrInvalidIncidentID},
		{name: "an unknown kind", when: submit(with(func(c *reinforcement.Submission) { c.Kind = "helicopter" }), rac), err: reinforcement.ErrUnknownKind},
		{name: "a quantity of zero", when: submit(with(func(c *reinforcement.Submission) { c.Quantity = 0 }), rac), err: reinforcement.ErrQuantity},
		{name: "a negative quantity", when: submit(with(func(c *reinforcement.Submission) { c.Quantity = -2 }), rac), err: reinforcement.ErrQuantity},
		{name: "a quantity of 1001", when: submit(with(func(c *reinforcement.Submission) { c.Quantity = reinforcement.MaxQuantity + 1 }), rac), err: reinforcement.ErrQuantity},
		{name: "a reason of 1001 characters", when: submit(with(func(c *reinforcement.Submission) { c.Reason = strings.Repeat("é", reinforcement.MaxTextLen+1) }), rac), err: reinforcement.ErrInvalidText},
		{name: "a reason with a control character", when: submit(with(func(c *reinforcement.Submission) { c.Reason = "crue\x1b[2J" }), rac), err: reinforcement.ErrInvalidText},
		{name: "a reason of invalid UTF-8", when: submit(with(func(c *reinforcement.Submission) { c.Reason = "crue \xff" }), rac), err: reinforcement.ErrInvalidText},
	})
}

func TestAccept(t *testing.T) {
	noNote := accepted(6)
	noNote.Note = ""
	run(t, []scenario{
		{name: "in full", given: []events.Event{requested()}, when: accept(6, "depuis le CIS de Lunel", cod), then: []events.Event{accepted(6)}},
		{name: "in part", given: []events.Event{requested()}, when: accept(4, "depuis le CIS de Lunel", cod), then: []events.Event{accepted(4)}},
		{name: "one of six", given: []events.Event{requested()}, when: accept(1, "depuis le CIS de Lunel", cod), then: []events.Event{accepted(1)}},
		{name: "without a note", given: []events.Event{requested()}, when: accept(6, "  ", cod), then: []events.Event{noNote}},
	})
}

func TestAcceptRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a request never made", when: accept(6, "", cod), err: reinforcement.ErrNotFound},
		{name: "by the mayor", given: []events.Event{requested()}, when: accept(6, "", mayor), err: reinforcement.ErrPrefectureOnly},
		{name: "by the rac", given: []events.Event{requested()}, when: accept(6, "", rac), err: reinforcement.ErrPrefectureOnly},
		{name: "by an admin", given: []events.Event{requested()}, when: accept(6, "", admin), err: reinforcement.ErrPrefectureOnly},
		{name: "by a prefecture role without subject", given: []events.Event{requested()}, when: accept(6, "", events.Actor{Role: events.RolePrefecture}), err: reinforcement.ErrPrefectureOnly},
		{name: "more than requested", given: []events.Event{requested()}, when: accept(7, "", cod), err: reinforcement.ErrQuantity},
		{name: "none", given: []events.Event{requested()}, when: accept(0, "", cod), err: reinforcement.ErrQuantity},
		{name: "a negative quantity", given: []events.Event{requested()}, when: accept(-1, "", cod), err: reinforcement.ErrQuantity},
		{name: "a note of 1001 characters", given: []events.Event{requested()}, when: accept(6, strings.Repeat("n", 1001), cod), err: reinforcement.ErrInvalidText},
		{name: "a request already accepted", given: []events.Event{requested(), accepted(6)}, when: accept(6, "", cod), err: reinforcement.ErrWrongStep},
	})
}

func TestRefuse(t *testing.T) {
	run(t, []scenario{
		{name: "with a reason", given: []events.Event{requested()}, when: refuse("moyens engagés à Alès", cod), then: []events.Event{refused()}},
		{name: "with the reason trimmed", given: []events.Event{requested()}, when: refuse(" moyens engagés à Alès\n", cod), then: []events.Event{refused()}},
	})
}

func TestRefuseRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a request never made", when: refuse("non", cod), err: reinforcement.ErrNotFound},
		{name: "by the mayor", given: []events.Event{requested()}, when: refuse("non", mayor), err: reinforcement.ErrPrefectureOnly},
		{name: "by an operator", given: []events.Event{requested()}, when: refuse("non", operator), err: reinforcement.ErrPrefectureOnly},
		{name: "without a reason", given: []events.Event{requested()}, when: refuse("", cod), err: reinforcement.ErrReasonRequired},
		{name: "with a blank reason", given: []events.Event{requested()}, when: refuse(" \n\t", cod), err: reinforcement.ErrReasonRequired},
		{name: "with a reason of 1001 characters", given: []events.Event{requested()}, when: refuse(strings.Repeat("n", 1001), cod), err: reinforcement.ErrInvalidText},
		{name: "a request already refused", given: []events.Event{requested(), refused()}, when: refuse("non", cod), err: reinforcement.ErrWrongStep},
	})
}

func TestDispatch(t *testing.T) {
	run(t, []scenario{
		{name: "accepted in full", given: []events.Event{requested(), accepted(6)}, when: dispatch(cod), then: []events.Event{dispatched()}},
		{name: "accepted in part", given: []events.Event{requested(), accepted(4)}, when: dispatch(cod), then: []events.Event{dispatched()}},
	})
}

func TestDispatchRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a request never made", when: dispatch(cod), err: reinforcement.ErrNotFound},
		{name: "by the rac", given: []events.Event{requested(), accepted(6)}, when: dispatch(rac), err: reinforcement.ErrPrefectureOnly},
		{name: "by a field agent", given: []events.Event{requested(), accepted(6)}, when: dispatch(field), err: reinforcement.ErrPrefectureOnly},
		{name: "before a decision", given: []events.Event{requested()}, when: dispatch(cod), err: reinforcement.ErrWrongStep},
		{name: "after a refusal", given: []events.Event{requested(), refused()}, when: dispatch(cod), err: reinforcement.ErrWrongStep},
	})
}

func TestConfirmArrival(t *testing.T) {
	byMayor := arrived()
	byMayor.By = mayor
	run(t, []scenario{
		{name: "by the rac", given: histories[reinforcement.StatusDispatched], when: confirmArrival(rac), then: []events.Event{arrived()}},
		{name: "by the mayor", given: histories[reinforcement.StatusDispatched], when: confirmArrival(mayor), then: []events.Event{byMayor}},
	})
}

func TestConfirmArrivalRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a request never made", when: confirmArrival(rac), err: reinforcement.ErrNotFound},
		{name: "by the prefecture", given: histories[reinforcement.StatusDispatched], when: confirmArrival(cod), err: reinforcement.ErrCommuneOnly},
		{name: "by a field agent", given: histories[reinforcement.StatusDispatched], when: confirmArrival(field), err: reinforcement.ErrCommuneOnly},
		{name: "before dispatch", given: histories[reinforcement.StatusAccepted], when: confirmArrival(rac), err: reinforcement.ErrWrongStep},
	})
}

func TestRelease(t *testing.T) {
	run(t, []scenario{
		{name: "by the rac", given: histories[reinforcement.StatusArrived], when: release(rac), then: []events.Event{released(rac)}},
		{name: "by the mayor", given: histories[reinforcement.StatusArrived], when: release(mayor), then: []events.Event{released(mayor)}},
		{name: "recalled by the prefecture", given: histories[reinforcement.StatusArrived], when: release(cod), then: []events.Event{released(cod)}},
	})
}

func TestReleaseRefuses(t *testing.T) {
	run(t, []scenario{
		{name: "a request never made", when: release(rac), err: reinforcement.ErrNotFound},
		{name: "by an operator", given: histories[reinforcement.StatusArrived], when: release(operator), err: reinforcement.ErrCommuneOrPrefecture},
		{name: "by an observer", given: histories[reinforcement.StatusArrived], when: release(observer), err: reinforcement.ErrCommuneOrPrefecture},
		{name: "before arrival", given: histories[reinforcement.StatusDispatched], when: release(rac), err: reinforcement.ErrWrongStep},
		{name: "twice", given: histories[reinforcement.StatusReleased], when: release(rac), err: reinforcement.ErrWrongStep},
	})
}

// TestStepsOnlyInOrder tries every step from every status: the path's own
// steps are accepted, every other is refused with ErrWrongStep naming the
// status the request is in.
func TestStepsOnlyInOrder(t *testing.T) {
	steps := []struct {
		name string
		cmd  command
		from []reinforcement.Status
	}{
		{"accept", accept(4, "", cod), []reinforcement.Status{reinforcement.StatusRequested}},
		{"refuse", refuse("non", cod), []reinforcement.Status{reinforcement.StatusRequested}},
		{"dispatch", dispatch(cod), []reinforcement.Status{reinforcement.StatusAccepted, reinforcement.StatusPartiallyAccepted}},
		{"confirm arrival", confirmArrival(rac), []reinforcement.Status{reinforcement.StatusDispatched}},
		{"release", release(rac), []reinforcement.Status{reinforcement.StatusArrived}},
	}
	for _, step := range steps {
		for _, status := range reinforcement.Statuses() {
			t.Run(step.name+" when "+string(status), func(t *testing.T) {
				r := given(histories[status]...)
				if r.Status() != status {
					t.Fatalf("history gives %q, want %q", r.Status(), status)
				}

				got, err := step.cmd(r)

				for _, from := range step.from {
					if status == from {
						if err != nil || len(got) != 1 {
							t.Errorf("= %#v, %v, want one event", got, err)
						}
						return
					}
				}
				if !errors.Is(err, reinforcement.ErrWrongStep) {
					t.Fatalf("= %#v, %v, want ErrWrongStep", got, err)
				}
				if !strings.HasSuffix(err.Error(), " quand elle est "+statusInFrench[status]) {
					t.Errorf("err = %q, want it to name the status %s in French", err, status)
				}
			})
		}
	}
}

func TestWholePathWithPartialAcceptance(t *testing.T) {
	type state struct {
		status   reinforcement.Status
		accepted int
	}
	steps := []struct {
		name string
		when command
		then events.Event
		want state
	}{
		{"Sommières asks for six pumps", submit(submission(), rac), requested(), state{reinforcement.StatusRequested, 0}},
		{"the COD can spare four", accept(4, " depuis le CIS de Lunel ", cod), accepted(4), state{reinforcement.StatusPartiallyAccepted, 4}},
		{"the COD sends them", dispatch(cod), dispatched(), state{reinforcement.StatusDispatched, 4}},
		{"the rac sees them arrive", confirmArrival(rac), arrived(), state{reinforcement.StatusArrived, 4}},
		{"the mayor releases them", release(mayor), released(mayor), state{reinforcement.StatusReleased, 4}},
	}
	var r reinforcement.Request
	var log []events.Event
	for _, step := range steps {
		got, err := step.when(&r)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if want := []events.Event{step.then}; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: events = %#v, want %#v", step.name, got, want)
		}
		for _, e := range got {
			r.Apply(e)
		}
		log = append(log, got...)
		if s := (state{r.Status(), r.AcceptedQuantity()}); s != step.want {
			t.Fatalf("%s: state = %+v, want %+v", step.name, s, step.want)
		}
	}
	if r.ID() != "rf-1" || r.Domain() != sommieres || r.IncidentID() != "inc-7" || r.Kind() != resource.KindEquipment || r.Quantity() != 6 {
		t.Errorf("request lost: %+v", r)
	}
	if replayed := given(log...); *replayed != r {
		t.Errorf("replaying the log gives %+v, want %+v", *replayed, r)
	}
}

func TestApply(t *testing.T) {
	t.Run("a request with no history does not exist", func(t *testing.T) {
		if r := given(); r.Exists() || r.Status() != "" {
			t.Errorf("zero request exists with status %q", r.Status())
		}
	})

	t.Run("acceptance of the quantity requested is in full", func(t *testing.T) {
		r := given(requested(), accepted(6))
		if r.Status() != reinforcement.StatusAccepted || r.AcceptedQuantity() != 6 {
			t.Errorf("status, accepted = %s, %d", r.Status(), r.AcceptedQuantity())
		}
	})

	t.Run("acceptance of less is in part", func(t *testing.T) {
		r := given(requested(), accepted(5))
		if r.Status() != reinforcement.StatusPartiallyAccepted || r.AcceptedQuantity() != 5 {
			t.Errorf("status, accepted = %s, %d", r.Status(), r.AcceptedQuantity())
		}
	})

	t.Run("a refusal accepts nothing", func(t *testing.T) {
		r := given(requested(), refused())
		if r.Status() != reinforcement.StatusRefused || r.AcceptedQuantity() != 0 {
			t.Errorf("status, accepted = %s, %d", r.Status(), r.AcceptedQuantity())
		}
	})

	t.Run("events of other aggregates are ignored", func(t *testing.T) {
		r := given(requested())
		before := *r
		r.Apply(resource.ResourceEngaged{IncidentID: "inc-7"})
		r.Apply(&reinforcement.ReinforcementRefused{Reason: "non"}) // the registry only ever decodes values
		if *r != before {
			t.Errorf("state = %+v, want %+v", *r, before)
		}
	})
}

func TestInputErrorsAreInvalidInput(t *testing.T) {
	for _, err := range []error{
		reinforcement.ErrInvalidRequestID, reinforcement.ErrInvalidIncidentID, reinforcement.ErrInvalidDomain,
		reinforcement.ErrUnknownKind, reinforcement.ErrQuantity, reinforcement.ErrReasonRequired, reinforcement.ErrInvalidText,
	} {
		if !errors.Is(err, reinforcement.ErrInvalidInput) {
			t.Errorf("%v is not ErrInvalidInput", err)
		}
	}
	for _, err := range []error{
		reinforcement.ErrNotFound, reinforcement.ErrAlreadyRequested, reinforcement.ErrPrefectureOnly,
		reinforcement.ErrCommuneOnly, reinforcement.ErrCommuneOrPrefecture, reinforcement.ErrWrongStep,
	} {
		if errors.Is(err, reinforcement.ErrInvalidInput) {
			t.Errorf("the rule %v is ErrInvalidInput", err)
		}
	}
}

// statusInFrench is how a refusal names each status.
var statusInFrench = map[reinforcement.Status]string{
	reinforcement.StatusRequested:         "demandée",
	reinforcement.StatusAccepted:          "acceptée",
	reinforcement.StatusPartiallyAccepted: "acceptée en partie",
	reinforcement.StatusRefused:           "refusée",
	reinforcement.StatusDispatched:        "envoyée",
	reinforcement.StatusArrived:           "arrivée",
	reinforcement.StatusReleased:          "libérée",
}
