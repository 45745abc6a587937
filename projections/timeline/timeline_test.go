package timeline_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/projectiontest"
	"vigie/projections/timeline"
	"vigie/services/incidents/incident"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	"vigie/services/roles/role"
)

const (
	nimes     = "dep:30/com:30189"
	sommieres = "dep:30/com:30321"
	ales      = "dep:30/com:30007"
	gard      = "dep:30"
)

var (
	mayor = events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	rac   = events.Actor{Subject: "sub-rac", Role: events.RoleRAC}
	pref  = events.Actor{Subject: "sub-pref", Role: events.RolePrefecture}
	admin = events.Actor{Subject: "sub-admin", Role: events.RoleAdmin}
)

// Personal data the script writes in free text: none of it may reach the timeline.
var personal = []string{"Dupont", "06 12 34 56 78", "Martin", "Durand", "Roux"}

// script is the shared script, with this package's commands as methods.
type script struct{ *projectiontest.Script }

func newScript(t *testing.T, st *store.Client, register ...func(*events.Registry) error) *script {
	return &script{projectiontest.NewScript(t, st, register...)}
}

func (s *script) inc(name, domain string, by events.Actor, decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *incident.Incident { return &incident.Incident{} }, events.CategoryIncident, name, by, domain, decide)
}

func (s *script) res(name, domain string, decide func(*resource.Resource, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *resource.Resource { return &resource.Resource{} }, events.CategoryResource, name, rac, domain, decide)
}

func (s *script) req(name, domain string, by events.Actor, decide func(*reinforcement.Request, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *reinforcement.Request { return &reinforcement.Request{} }, reinforcement.Category, name, by, domain, decide)
}

// grant runs a role grant on the domain's own stream, role-<domain>.
func (s *script) grant(domain, subject, roleName string) {
	s.T.Helper()
	stream, err := role.StreamID(domain)
	if err != nil {
		s.T.Fatal(err)
	}
	h := &command.Handler[*role.Assignments]{Store: s.Store, Registry: s.Registry, Now: s.Now,
		New: func() *role.Assignments { as, _ := role.New(domain); return as }}
	_, err = h.Handle(context.Background(), command.Command[*role.Assignments]{
		Name: "GrantRole", Stream: stream, CommandID: "grant-" + s.ID(subject),
		Authorize: func(as *role.Assignments) (events.Actor, string, error) { return admin, as.Domain(), nil },
		Decide: func(as *role.Assignments, by events.Actor, at time.Time) ([]events.Event, error) {
			return as.Grant(by, subject, roleName, at)
		},
	})
	if err != nil {
		s.T.Fatal(err)
	}
}

// crisis is the script of both tests. The clock ticks one minute per command: the
// n-th command happens at base + n minutes.
func crisis(s *script) {
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("A"), Domain: nimes, Kind: incident.KindFlood, Title: "Crue du Vistre", Severity: incident.SeverityModerate}, by, at)
	}) // t1
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlood, Severity: incident.SeveritySevere}, by, at)
	}) // t2
	s.inc("A", nimes, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.AddLogEntry(incident.AddLogEntry{EntryID: "e1", Text: "Mme Dupont, 06 12 34 56 78, évacuée"}, by, at)
	}) // t3
	s.res("pompe", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Register(resource.Registration{ResourceID: s.ID("pompe"), Domain: nimes, Kind: resource.KindEquipment, Name: "Pompe 1"}, by, at)
	}) // t4
	s.res("pompe", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Engage(s.ID("A"), by, at)
	}) // t5
	s.res("gymnase", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Register(resource.Registration{ResourceID: s.ID("gymnase"), Domain: nimes, Kind: resource.KindShelter, Name: "Gymnase", Capacity: 200}, by, at)
	}) // t6
	s.res("gymnase", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.SetOccupancy(40, by, at)
	}) // t7
	s.inc("B", sommieres, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID("B"), Domain: sommieres, Kind: incident.KindFlashFlood, Title: "Crue du Vidourle", Severity: incident.SeveritySevere}, by, at)
	}) // t8
	s.req("R1", sommieres, mayor, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Submit(reinforcement.Submission{RequestID: s.ID("R1"), Domain: sommieres, IncidentID: s.ID("B"), Kind: resource.KindTeam, Quantity: 2, Reason: "Famille Martin isolée"}, by, at)
	}) // t9
	s.req("R1", sommieres, pref, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Refuse("Colonne de M. Durand déjà engagée", by, at)
	}) // t10
	s.grant(nimes, "sub-new-operator", events.RoleOperator) // t11
	s.grant(gard, "sub-cod", events.RolePrefecture)         // t12
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Le Vistre déborde chez M. Roux", by, at)
	}) // t13

	// Two reports of the same millisecond, Nîmes' logged before Alès': the timeline of
	// the Gard keeps that order (their JSON alone would put Alès first), then an entry
	// caused by the first report.
	same := projectiontest.Base.Add(20 * time.Minute)
	x := events.NewMetadata("cmd-x-"+s.Run, mayor, nimes, same)
	s.RawWith(events.StreamID(events.CategoryIncident, s.ID("X")), []events.Event{
		incident.IncidentReported{IncidentID: s.ID("X"), Domain: nimes, Kind: incident.KindStorm, Title: "Orage", ReportedBy: mayor.Subject, At: same},
	}, []events.Metadata{x})
	s.RawWith(events.StreamID(events.CategoryIncident, s.ID("Y")), []events.Event{
		incident.IncidentReported{IncidentID: s.ID("Y"), Domain: ales, Kind: incident.KindStorm, Title: "Orage", ReportedBy: mayor.Subject, At: same},
	}, []events.Metadata{events.NewMetadata("cmd-y-"+s.Run, mayor, ales, same)})
	later := projectiontest.Base.Add(21 * time.Minute)
	s.RawWith(events.StreamID(events.CategoryIncident, s.ID("X")), []events.Event{
		incident.LogEntryAdded{EntryID: "e1", Text: "Toiture arrachée", Author: rac.Subject, At: later},
	}, []events.Metadata{events.NewMetadata("cmd-x2-"+s.Run, rac, nimes, later).Caused(x)})

	// An event whose metadata lost its domain cannot be filed: it is parked, and the
	// timeline goes on.
	ctx := context.Background()
	env, err := s.Registry.Encode(ctx, incident.LogEntryAdded{EntryID: "e9", Text: "?", Author: rac.Subject, At: later},
		events.NewMetadata("cmd-lost-"+s.Run, rac, nimes, later))
	if err != nil {
		s.T.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(env.Metadata, &md); err != nil {
		s.T.Fatal(err)
	}
	delete(md, "domain")
	if env.Metadata, err = json.Marshal(md); err != nil {
		s.T.Fatal(err)
	}
	if _, err := s.Store.Append(ctx, events.StreamID(events.CategoryIncident, s.ID("X")), store.Any(),
		store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		s.T.Fatal(err)
	}
	// The last event of the log is one the timeline files: its checkpoint ends there.
	s.SetClock(30)
	s.grant(ales, "sub-ales-observer", events.RoleObserver) // t31
}

func types(es []timeline.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

func TestTimelineAfterACrisis(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, incident.Register, resource.Register, reinforcement.Register, role.Register)
	proj, err := timeline.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 4)
	crisis(s)
	projectiontest.WaitCaughtUp(t, rdb, st, timeline.Name)
	r := timeline.Reader{Redis: rdb}
	stream := func(category, name string) string { return events.StreamID(category, s.ID(name)) }

	all, err := r.Range(ctx, nimes, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"IncidentReported", "IncidentQualified", "LogEntryAdded", "ResourceRegistered", "ResourceEngaged",
		"ResourceRegistered", "ShelterOccupancyChanged", "RoleGranted", "IncidentEscalated", "IncidentReported", "LogEntryAdded"}
	if !slices.Equal(types(all), want) {
		t.Fatalf("Range(nimes) = %q\nwant %q", types(all), want)
	}
	first := all[0]
	if !first.At.Equal(projectiontest.Base.Add(time.Minute)) || first.Domain != nimes || first.Actor != mayor.Subject || first.Role != mayor.Role ||
		first.StreamID != stream(events.CategoryIncident, "A") || first.EventID == "" || first.CorrelationID == "" ||
		first.CausationID != first.CorrelationID || first.Position == (store.Position{}) {
		t.Errorf("first entry = %+v", first)
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) || all[i].At.Before(all[i-1].At) {
			t.Errorf("entries %d and %d out of order: %+v, %+v", i-1, i, all[i-1], all[i])
		}
	}
	summaries := map[int]string{
		0: "Incident signalé : Crue du Vistre (inondation, gravité modérée)",
		1: "Incident qualifié : inondation, gravité sévère",
		2: "Main courante : entrée ajoutée",
		3: "Ressource enregistrée : Pompe 1 (matériel)",
		// Things by their names, never their ids.
		4: "Ressource « Pompe 1 » engagée sur l'incident « Crue du Vistre »",
		5: "Ressource enregistrée : Gymnase (centre d'hébergement, 200 places)",
		6: "Centre d'hébergement « Gymnase » : 0 → 40 personnes",
		7: "Rôle opérateur attribué à sub-new-operator",
		8: "Direction de l'incident transférée à la préfecture",
	}
	for i, want := range summaries {
		if all[i].Summary != want {
			t.Errorf("summary %d = %q, want %q", i, all[i].Summary, want)
		}
	}
	// The causal chain: the entry on X was caused by X's report.
	if x, x2 := all[9], all[10]; x2.CausationID != x.EventID || x2.CorrelationID != x.CorrelationID || x2.CorrelationID != "cmd-x-"+s.Run {
		t.Errorf("chain: report %+v, entry %+v", x, x2)
	}

	window, err := r.Range(ctx, nimes, projectiontest.Base.Add(2*time.Minute), projectiontest.Base.Add(5*time.Minute), timeline.Page{})
	if err != nil || !slices.Equal(types(window), []string{"IncidentQualified", "LogEntryAdded", "ResourceRegistered", "ResourceEngaged"}) {
		t.Errorf("Range(nimes, t2, t5) = %q, %v", types(window), err)
	}

	dep, err := r.Range(ctx, gard, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil || len(dep) != 17 {
		t.Fatalf("Range(gard) = %d entries, %v", len(dep), err)
	}
	// A prefecture grant is a request until a second person confirms it (issue 14).
	if dep[11].Summary != "Attribution du rôle préfecture à sub-cod demandée : en attente de la confirmation d'une autre personne" || dep[11].Domain != gard {
		t.Errorf("the département's own entry = %+v", dep[11])
	}
	if dep[13].StreamID != stream(events.CategoryIncident, "X") || dep[14].StreamID != stream(events.CategoryIncident, "Y") || !dep[13].At.Equal(dep[14].At) {
		t.Errorf("entries of one millisecond out of the log's order: %+v, %+v", dep[13], dep[14])
	}
	if page, err := r.Range(ctx, gard+"/*", time.Time{}, time.Time{}, timeline.Page{Offset: 14, Limit: 2}); err != nil ||
		len(page) != 2 || page[0].StreamID != stream(events.CategoryIncident, "Y") || page[1].Type != "LogEntryAdded" {
		t.Errorf("Range(gard, page 14+2) = %+v, %v", page, err)
	}
	if latest, err := r.Latest(ctx, gard, timeline.Page{Limit: 2}); err != nil || len(latest) != 2 ||
		latest[0].Type != "RoleGranted" || latest[1].Type != "LogEntryAdded" {
		t.Errorf("Latest(gard, 2) = %+v, %v", latest, err)
	}

	som, err := r.Range(ctx, sommieres, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil || !slices.Equal(types(som), []string{"IncidentReported", "ReinforcementRequested", "ReinforcementRefused"}) {
		t.Fatalf("Range(sommieres) = %q, %v", types(som), err)
	}
	if want := "Renfort demandé : 2 équipes pour l'incident « Crue du Vidourle »"; som[1].Summary != want || som[2].Summary != "Renfort refusé" || som[2].Role != pref.Role {
		t.Errorf("Sommières' requests = %+v", som[1:])
	}
	if got, err := r.Range(ctx, ales, time.Time{}, time.Time{}, timeline.Page{}); err != nil || !slices.Equal(types(got), []string{"IncidentReported", "RoleGranted"}) {
		t.Errorf("Range(ales) = %q, %v", types(got), err)
	}

	// No personal data in any entry, whatever the free text of the events said.
	for k, v := range projectiontest.Dump(t, rdb, projections.KeysOf(timeline.Name, 1).Prefix()+"*") {
		for _, p := range personal {
			if strings.Contains(v, p) {
				t.Errorf("%s holds %q", k, p)
			}
		}
	}
	// The event without a domain is parked.
	dead, err := projections.DeadLetters(ctx, rdb, timeline.Name, 10)
	if err != nil || len(dead) != 1 || !strings.Contains(string(dead[0]), stream(events.CategoryIncident, "X")) {
		t.Errorf("dead letters = %s, %v", dead, err)
	}
}

func TestBatchesDoNotChangeTheModel(t *testing.T) {
	st, _ := projectiontest.Store(t)
	crisis(newScript(t, st, incident.Register, resource.Register, reinforcement.Register, role.Register))
	projectiontest.BatchesAlike(t, st, timeline.New)
}
