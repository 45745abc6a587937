package incident

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"vigie/events"
)

// A Cévennes episode over Nîmes: the Cadereau d'Uzès overflows at night.

func at(minutes int) time.Time {
	return time.Date(2026, 9, 14, 2, 10, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

var (
	mayor    = events.Actor{Subject: "sub-mayor-30189", Role: events.RoleMayor}
	rac      = events.Actor{Subject: "sub-rac-30189", Role: events.RoleRAC}
	operator = events.Actor{Subject: "sub-operator-30189", Role: events.RoleOperator}
	field    = events.Actor{Subject: "sub-field-30189", Role: events.RoleField}
	observer = events.Actor{Subject: "sub-observer-30189", Role: events.RoleObserver}
	admin    = events.Actor{Subject: "sub-admin-30189", Role: events.RoleAdmin}
	cod      = events.Actor{Subject: "sub-cod-30", Role: events.RolePrefecture}
)

const nimes = "dep:30/com:30189"

func bridge() *Point { return &Point{Lat: 43.8431, Lon: 4.3471} }

func district() []Point {
	return []Point{{Lat: 43.845, Lon: 4.340}, {Lat: 43.850, Lon: 4.355}, {Lat: 43.838, Lon: 4.362}, {Lat: 43.832, Lon: 4.346}}
}

// The history used by most tests, one event at a time.

func reported() IncidentReported {
	return IncidentReported{
		IncidentID: "inc-1", Domain: nimes, Kind: KindFlashFlood,
		Title: "Cadereau d'Uzès en crue", Description: "L'eau passe sur le pont de la route d'Uzès.",
		Location: bridge(), ReportedBy: field.Subject, At: at(0),
	}
}

func qualified() IncidentQualified {
	return IncidentQualified{Kind: KindFlashFlood, Severity: SeveritySevere, Location: bridge(), Zone: district(), By: rac.Subject, At: at(10)}
}

func entry(id, text, corrects string) LogEntryAdded {
	return LogEntryAdded{EntryID: id, Text: text, Corrects: corrects, Author: operator.Subject, At: at(15)}
}

func escalated() IncidentEscalated {
	return IncidentEscalated{Reason: "Plusieurs quartiers inondés, renforts nécessaires", By: mayor.Subject, At: at(30)}
}

func stabilized(by events.Actor) IncidentStabilized {
	return IncidentStabilized{By: by.Subject, At: at(200)}
}

func closed(by events.Actor) IncidentClosed {
	return IncidentClosed{Summary: "Décrue, voirie rouverte", By: by.Subject, At: at(400)}
}

func given(history ...events.Event) []events.Event { return history }

// command is the "when" of a test: one command on the incident.
type command func(*Incident) ([]events.Event, error)

func report(cmd Report, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Report(cmd, by, t) }
}
func qualify(cmd Qualify, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Qualify(cmd, by, t) }
}
func addEntry(cmd AddLogEntry, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.AddLogEntry(cmd, by, t) }
}
func escalate(reason string, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Escalate(reason, by, t) }
}
func stabilize(by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Stabilize(by, t) }
}
func closeWith(summary string, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Close(summary, by, t) }
}
func reopen(reason string, by events.Actor, t time.Time) command {
	return func(i *Incident) ([]events.Event, error) { return i.Reopen(reason, by, t) }
}

func build(history []events.Event) *Incident {
	var i Incident
	for _, e := range history {
		i.Apply(e)
	}
	return &i
}

// decide runs when on the incident built from given, and fails the test if
// the command changed the incident: commands only decide.
func decide(t *testing.T, given []events.Event, when command) (*Incident, []events.Event, error) {
	t.Helper()
	inc, untouched := build(given), build(given)
	got, err := when(inc)
	if !reflect.DeepEqual(inc, untouched) {
		t.Errorf("the command changed the incident:\n got %+v\nwant %+v", inc, untouched)
	}
	return inc, got, err
}

// thenEvents checks the command decides exactly want, and returns the
// incident with them applied.
func thenEvents(t *testing.T, given []events.Event, when command, want ...events.Event) *Incident {
	t.Helper()
	inc, got, err := decide(t, given, when)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %#v\nwant %#v", got, want)
	}
	for _, e := range got {
		inc.Apply(e)
	}
	return inc
}

// thenRefused checks the command is refused by the rule want, with no event.
func thenRefused(t *testing.T, given []events.Event, when command, want error) error {
	t.Helper()
	_, got, err := decide(t, given, when)
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if got != nil {
		t.Errorf("refused with events %#v", got)
	}
	return err
}

func TestReportOpensTheIncident(t *testing.T) {
	inc := thenEvents(t, given(),
		report(Report{
			IncidentID: "inc-1", Domain: nimes, Kind: KindFlashFlood,
			Title: "  Cadereau d'Uzès en crue\t", Description: "L'eau passe sur le pont de la route d'Uzès.\n",
			Severity: SeverityModerate, Location: bridge(),
		}, field, at(0)),
		IncidentReported{
			IncidentID: "inc-1", Domain: nimes, Kind: KindFlashFlood,
			Title: "Cadereau d'Uzès en crue", Description: "L'eau passe sur le pont de la route d'Uzès.",
			Severity: SeverityModerate, Location: bridge(), ReportedBy: field.Subject, At: at(0),
		})

	if !inc.Exists() || inc.ID() != "inc-1" || inc.Domain() != nimes || inc.Status() != StatusReported {
		t.Errorf("id, domain, status = %q, %q, %q", inc.ID(), inc.Domain(), inc.Status())
	}
	if inc.Kind() != KindFlashFlood || inc.Severity() != SeverityModerate || inc.Title() != "Cadereau d'Uzès en crue" ||
		inc.Description() != "L'eau passe sur le pont de la route d'Uzès." {
		t.Errorf("kind, severity, title, description = %q, %q, %q, %q", inc.Kind(), inc.Severity(), inc.Title(), inc.Description())
	}
	if p, ok := inc.Location(); !ok || p != *bridge() {
		t.Errorf("location = %v, %v", p, ok)
	}
	if inc.ReportedBy() != field.Subject || !inc.ReportedAt().Equal(at(0)) {
		t.Errorf("reported by %q at %v", inc.ReportedBy(), inc.ReportedAt())
	}
	if inc.Qualified() || inc.DirectedByPrefecture() || len(inc.Log()) != 0 || inc.Zone() != nil {
		t.Errorf("a new report is qualified %v, directed by prefecture %v, has log %v, zone %v",
			inc.Qualified(), inc.DirectedByPrefecture(), inc.Log(), inc.Zone())
	}
}

func TestReportWithoutSeverityDescriptionOrLocation(t *testing.T) {
	inc := thenEvents(t, given(),
		report(Report{IncidentID: "inc-2", Domain: "dep:2A/com:2A004", Kind: KindWildfire, Title: "Fumées au-dessus des Sanguinaires"}, rac, at(0)),
		IncidentReported{IncidentID: "inc-2", Domain: "dep:2A/com:2A004", Kind: KindWildfire, Title: "Fumées au-dessus des Sanguinaires", ReportedBy: rac.Subject, At: at(0)})

	if _, ok := inc.Location(); ok || inc.Severity() != "" {
		t.Errorf("location set %v, severity %q; want neither", ok, inc.Severity())
	}
}

func TestQualifyQualifiesAReportedIncident(t *testing.T) {
	inc := thenEvents(t, given(reported()),
		qualify(Qualify{Kind: KindFlashFlood, Severity: SeveritySevere, Location: bridge(), Zone: district()}, rac, at(10)),
		qualified())

	if inc.Status() != StatusQualified || !inc.Qualified() || inc.Severity() != SeveritySevere {
		t.Errorf("status %q, qualified %v, severity %q", inc.Status(), inc.Qualified(), inc.Severity())
	}
	if !reflect.DeepEqual(inc.Zone(), district()) {
		t.Errorf("zone = %v", inc.Zone())
	}
}

func TestQualifyWithoutLocationOrZoneKeepsTheCurrentOnes(t *testing.T) {
	thenEvents(t, given(reported(), qualified()),
		qualify(Qualify{Kind: KindFlood, Severity: SeverityExtreme}, mayor, at(20)),
		IncidentQualified{Kind: KindFlood, Severity: SeverityExtreme, Location: bridge(), Zone: district(), By: mayor.Subject, At: at(20)})

	t.Run("a report without location gets one at qualification", func(t *testing.T) {
		r := reported()
		r.Location = nil
		inc := thenEvents(t, given(r),
			qualify(Qualify{Kind: KindFlashFlood, Severity: SeverityMinor}, rac, at(10)),
			IncidentQualified{Kind: KindFlashFlood, Severity: SeverityMinor, By: rac.Subject, At: at(10)})
		if _, ok := inc.Location(); ok {
			t.Errorf("the incident got a location from nowhere")
		}
	})
}

func TestRequalifyingLeavesTheStatusAsItIs(t *testing.T) {
	for _, tt := range []struct {
		name    string
		history []events.Event
		by      events.Actor
		want    Status
	}{
		{"qualified", given(reported(), qualified()), rac, StatusQualified},
		{"escalated", given(reported(), qualified(), escalated()), cod, StatusEscalated},
		{"stabilized", given(reported(), qualified(), stabilized(rac)), mayor, StatusStabilized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inc := thenEvents(t, tt.history,
				qualify(Qualify{Kind: KindFlood, Severity: SeverityModerate}, tt.by, at(250)),
				IncidentQualified{Kind: KindFlood, Severity: SeverityModerate, Location: bridge(), Zone: district(), By: tt.by.Subject, At: at(250)})
			if inc.Status() != tt.want || inc.Kind() != KindFlood {
				t.Errorf("status, kind = %q, %q, want %q, flood", inc.Status(), inc.Kind(), tt.want)
			}
		})
	}
}

func TestAddLogEntryAppendsToTheMainCourante(t *testing.T) {
	inc := thenEvents(t, given(reported(), entry("e1", "Pompiers sur place", "")),
		addEntry(AddLogEntry{EntryID: "e2", Text: " Route d'Uzès fermée au niveau du pont \n"}, operator, at(16)),
		LogEntryAdded{EntryID: "e2", Text: "Route d'Uzès fermée au niveau du pont", Author: operator.Subject, At: at(16)})

	want := []LogEntry{
		{ID: "e1", Text: "Pompiers sur place", Author: operator.Subject, At: at(15)},
		{ID: "e2", Text: "Route d'Uzès fermée au niveau du pont", Author: operator.Subject, At: at(16)},
	}
	if !reflect.DeepEqual(inc.Log(), want) {
		t.Errorf("log = %+v, want %+v", inc.Log(), want)
	}
}

func TestACorrectionIsANewEntryReferencingTheCorrectedOne(t *testing.T) {
	history := given(reported(), entry("e1", "Pont fermé côté nord", ""))

	inc := thenEvents(t, history,
		addEntry(AddLogEntry{EntryID: "e2", Text: "Correction : pont fermé côté sud", Corrects: "e1"}, rac, at(17)),
		LogEntryAdded{EntryID: "e2", Text: "Correction : pont fermé côté sud", Corrects: "e1", Author: rac.Subject, At: at(17)})

	if e1, _ := inc.Entry("e1"); e1.Text != "Pont fermé côté nord" || e1.Corrects != "" {
		t.Errorf("the corrected entry changed: %+v", e1)
	}
	if e2, ok := inc.Entry("e2"); !ok || e2.Corrects != "e1" {
		t.Errorf("correction = %+v, %v", e2, ok)
	}

	t.Run("a correction can itself be corrected, and an entry corrected twice", func(t *testing.T) {
		history := append(history, entry("e2", "Pont fermé côté sud", "e1"))
		thenEvents(t, history,
			addEntry(AddLogEntry{EntryID: "e3", Text: "Pont fermé des deux côtés", Corrects: "e2"}, operator, at(18)),
			LogEntryAdded{EntryID: "e3", Text: "Pont fermé des deux côtés", Corrects: "e2", Author: operator.Subject, At: at(18)})
		thenEvents(t, history,
			addEntry(AddLogEntry{EntryID: "e3", Text: "Pont rouvert", Corrects: "e1"}, operator, at(18)),
			LogEntryAdded{EntryID: "e3", Text: "Pont rouvert", Corrects: "e1", Author: operator.Subject, At: at(18)})
	})
}

func TestEscalatePassesTheDirectionToThePrefecture(t *testing.T) {
	for _, by := range []events.Actor{mayor, cod} {
		t.Run(by.Role, func(t *testing.T) {
			inc := thenEvents(t, given(reported(), qualified()),
				escalate("Plusieurs quartiers inondés, renforts nécessaires", by, at(30)),
				IncidentEscalated{Reason: "Plusieurs quartiers inondés, renforts nécessaires", By: by.Subject, At: at(30)})
			if inc.Status() != StatusEscalated || !inc.DirectedByPrefecture() {
				t.Errorf("status %q, directed by prefecture %v", inc.Status(), inc.DirectedByPrefecture())
			}
		})
	}

	t.Run("a stabilized incident that flares up again", func(t *testing.T) {
		inc := thenEvents(t, given(reported(), qualified(), stabilized(rac)),
			escalate("Nouvel épisode orageux", mayor, at(300)),
			IncidentEscalated{Reason: "Nouvel épisode orageux", By: mayor.Subject, At: at(300)})
		if inc.Status() != StatusEscalated {
			t.Errorf("status = %q", inc.Status())
		}
	})
}

func TestStabilize(t *testing.T) {
	t.Run("the commune, before escalation", func(t *testing.T) {
		inc := thenEvents(t, given(reported(), qualified()), stabilize(rac, at(200)), stabilized(rac))
		if inc.Status() != StatusStabilized {
			t.Errorf("status = %q", inc.Status())
		}
	})
	t.Run("the prefecture, after escalation", func(t *testing.T) {
		thenEvents(t, given(reported(), qualified(), escalated()), stabilize(cod, at(200)), stabilized(cod))
	})
}

func TestCloseFromEveryOpenStatus(t *testing.T) {
	for _, tt := range []struct {
		name    string
		history []events.Event
		by      events.Actor
	}{
		{"reported: a false alarm", given(reported()), rac},
		{"qualified", given(reported(), qualified()), mayor},
		{"escalated, by the prefecture", given(reported(), qualified(), escalated()), cod},
		{"stabilized", given(reported(), qualified(), stabilized(rac)), rac},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inc := thenEvents(t, tt.history, closeWith("Décrue, voirie rouverte", tt.by, at(400)), closed(tt.by))
			if inc.Status() != StatusClosed {
				t.Errorf("status = %q", inc.Status())
			}
		})
	}
}

func TestReopen(t *testing.T) {
	t.Run("a qualified incident returns to qualified, its log intact", func(t *testing.T) {
		inc := thenEvents(t, given(reported(), qualified(), entry("e1", "Pompiers sur place", ""), stabilized(rac), closed(rac)),
			reopen("Nouvelle montée des eaux", mayor, at(500)),
			IncidentReopened{Reason: "Nouvelle montée des eaux", By: mayor.Subject, At: at(500)})
		if inc.Status() != StatusQualified || len(inc.Log()) != 1 || inc.Severity() != SeveritySevere {
			t.Errorf("status %q, log %v, severity %q", inc.Status(), inc.Log(), inc.Severity())
		}
	})
	t.Run("a never qualified incident returns to reported", func(t *testing.T) {
		inc := thenEvents(t, given(reported(), closed(rac)),
			reopen("Ce n'était pas une fausse alerte", rac, at(500)),
			IncidentReopened{Reason: "Ce n'était pas une fausse alerte", By: rac.Subject, At: at(500)})
		if inc.Status() != StatusReported || inc.Qualified() {
			t.Errorf("status %q, qualified %v", inc.Status(), inc.Qualified())
		}
	})
	t.Run("an escalated incident stays directed by the prefecture", func(t *testing.T) {
		inc := thenEvents(t, given(reported(), qualified(), escalated(), closed(cod)),
			reopen("Nouvelle montée des eaux", cod, at(500)),
			IncidentReopened{Reason: "Nouvelle montée des eaux", By: cod.Subject, At: at(500)})
		if inc.Status() != StatusQualified || !inc.DirectedByPrefecture() {
			t.Errorf("status %q, directed by prefecture %v", inc.Status(), inc.DirectedByPrefecture())
		}
	})
}

func TestAfterEscalationThePrefectureDirects(t *testing.T) {
	history := given(reported(), qualified(), escalated())

	t.Run("the prefecture qualifies, stabilizes, closes and reopens", func(t *testing.T) {
		thenEvents(t, history, qualify(Qualify{Kind: KindFlashFlood, Severity: SeverityExtreme}, cod, at(40)),
			IncidentQualified{Kind: KindFlashFlood, Severity: SeverityExtreme, Location: bridge(), Zone: district(), By: cod.Subject, At: at(40)})
		thenEvents(t, history, stabilize(cod, at(200)), stabilized(cod))
		thenEvents(t, history, closeWith("Décrue, voirie rouverte", cod, at(400)), closed(cod))
		thenEvents(t, append(history, closed(cod)), reopen("Reprise", cod, at(500)), IncidentReopened{Reason: "Reprise", By: cod.Subject, At: at(500)})
	})
	t.Run("the commune keeps the main courante", func(t *testing.T) {
		for _, by := range []events.Actor{mayor, rac, operator, field} {
			thenEvents(t, history, addEntry(AddLogEntry{EntryID: "e-" + by.Role, Text: "Point de situation"}, by, at(45)),
				LogEntryAdded{EntryID: "e-" + by.Role, Text: "Point de situation", Author: by.Subject, At: at(45)})
		}
	})
	t.Run("the commune no longer decides the course", func(t *testing.T) {
		for _, by := range []events.Actor{mayor, rac} {
			thenRefused(t, history, qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor}, by, at(40)), ErrDirectedByPrefecture)
			thenRefused(t, history, stabilize(by, at(200)), ErrDirectedByPrefecture)
			thenRefused(t, history, closeWith("Fin", by, at(400)), ErrDirectedByPrefecture)
		}
	})
}

// TestWholeLifecycle drives one incident through every command, each decided
// from the state the previous events left, and checks that state against the
// one rebuilt from the whole stream.
func TestWholeLifecycle(t *testing.T) {
	var inc Incident
	var stream []events.Event
	step := func(name string, when command, want Status) {
		t.Helper()
		got, err := when(&inc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range got {
			inc.Apply(e)
		}
		stream = append(stream, got...)
		if inc.Status() != want {
			t.Fatalf("after %s: status %q, want %q", name, inc.Status(), want)
		}
	}

	step("report", report(Report{IncidentID: "inc-1", Domain: nimes, Kind: KindFlood, Title: "Eau sur la chaussée"}, field, at(0)), StatusReported)
	step("log", addEntry(AddLogEntry{EntryID: "e1", Text: "30 cm d'eau avenue Jean-Jaurès"}, operator, at(5)), StatusReported)
	step("qualify", qualify(Qualify{Kind: KindFlashFlood, Severity: SeveritySevere, Location: bridge(), Zone: district()}, rac, at(10)), StatusQualified)
	step("correct", addEntry(AddLogEntry{EntryID: "e2", Text: "50 cm, pas 30", Corrects: "e1"}, operator, at(12)), StatusQualified)
	step("escalate", escalate("Débordement généralisé", mayor, at(30)), StatusEscalated)
	step("log after escalation", addEntry(AddLogEntry{EntryID: "e3", Text: "Renforts SDIS arrivés"}, rac, at(60)), StatusEscalated)
	step("stabilize", stabilize(cod, at(200)), StatusStabilized)
	step("close", closeWith("Décrue", cod, at(400)), StatusClosed)
	step("reopen", reopen("Nouvelle crue", cod, at(500)), StatusQualified)
	step("log after reopening", addEntry(AddLogEntry{EntryID: "e4", Text: "Nouvelle montée"}, operator, at(505)), StatusQualified)
	step("stabilize again", stabilize(cod, at(600)), StatusStabilized)
	step("close again", closeWith("Fin de l'épisode", cod, at(700)), StatusClosed)

	if rebuilt := build(stream); !reflect.DeepEqual(rebuilt, &inc) {
		t.Errorf("state rebuilt from the stream differs:\n got %+v\nwant %+v", rebuilt, &inc)
	}
	if n := len(inc.Log()); n != 4 {
		t.Errorf("log has %d entries, want 4", n)
	}
	if !inc.DirectedByPrefecture() || inc.Kind() != KindFlashFlood {
		t.Errorf("directed by prefecture %v, kind %q", inc.DirectedByPrefecture(), inc.Kind())
	}
}

func TestApplyIgnoresEventsOfOtherTypes(t *testing.T) {
	inc := build(given(reported(), qualified()))
	want := build(given(reported(), qualified()))

	inc.Apply(otherEvent{})

	if !reflect.DeepEqual(inc, want) {
		t.Errorf("an unknown event changed the incident")
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "ResourceEngaged" }

func TestStateIsNotSharedWithEventsOrCallers(t *testing.T) {
	zone := district()
	q := qualified()
	q.Zone = zone
	inc := build(given(reported(), q, entry("e1", "Pompiers sur place", "")))

	zone[0] = Point{}
	q.Location.Lat = 0
	inc.Zone()[1] = Point{}
	inc.Log()[0].Text = "effacé"

	if !reflect.DeepEqual(inc.Zone(), district()) {
		t.Errorf("zone = %v", inc.Zone())
	}
	if p, _ := inc.Location(); p != *bridge() {
		t.Errorf("location = %v", p)
	}
	if e, _ := inc.Entry("e1"); e.Text != "Pompiers sur place" {
		t.Errorf("entry = %+v", e)
	}

	t.Run("the decided event does not share the command's zone", func(t *testing.T) {
		zone := district()
		got, err := build(given(reported())).Qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor, Zone: zone}, rac, at(10))
		if err != nil {
			t.Fatal(err)
		}
		zone[0] = Point{}
		if z := got[0].(IncidentQualified).Zone; !reflect.DeepEqual(z, district()) {
			t.Errorf("event zone = %v", z)
		}
	})
}

func TestEntryOfAnUnknownID(t *testing.T) {
	if _, ok := build(given(reported())).Entry("e1"); ok {
		t.Error("found an entry in an empty log")
	}
}
