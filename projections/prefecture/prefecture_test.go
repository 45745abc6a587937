package prefecture_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/prefecture"
	"vigie/projections/projectiontest"
	"vigie/services/incidents/incident"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
)

const (
	nimes     = "dep:30/com:30189"
	ales      = "dep:30/com:30007"
	sommieres = "dep:30/com:30321"
	gard      = "dep:30"
	marseille = "dep:13/com:13055"
	bdr       = "dep:13"
)

var (
	mayor = events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	rac   = events.Actor{Subject: "sub-rac", Role: events.RoleRAC}
	pref  = events.Actor{Subject: "sub-pref", Role: events.RolePrefecture}
)

// script is the shared script, with this package's commands as methods.
type script struct{ *projectiontest.Script }

func newScript(t *testing.T, st *store.Client, register ...func(*events.Registry) error) *script {
	return &script{projectiontest.NewScript(t, st, register...)}
}

func (s *script) inc(name, domain string, by events.Actor, decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *incident.Incident { return &incident.Incident{} }, events.CategoryIncident, name, by, domain, decide)
}

func (s *script) report(name, domain string, kind incident.Kind, sev incident.Severity) {
	s.T.Helper()
	s.inc(name, domain, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID(name), Domain: domain, Kind: kind, Title: "Incident " + name, Severity: sev}, by, at)
	})
}

func (s *script) qualify(name, domain string, by events.Actor, kind incident.Kind, sev incident.Severity) {
	s.T.Helper()
	s.inc(name, domain, by, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: kind, Severity: sev}, by, at)
	})
}

func (s *script) req(name, domain string, by events.Actor, decide func(*reinforcement.Request, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *reinforcement.Request { return &reinforcement.Request{} }, reinforcement.Category, name, by, domain, decide)
}

func (s *script) request(name, domain, incidentName string, kind resource.Kind, quantity int) {
	s.T.Helper()
	s.req(name, domain, mayor, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Submit(reinforcement.Submission{RequestID: s.ID(name), Domain: domain, IncidentID: s.ID(incidentName), Kind: kind, Quantity: quantity, Reason: "Renforts " + name}, by, at)
	})
}

func accept(n int) func(*reinforcement.Request, events.Actor, time.Time) ([]events.Event, error) {
	return func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Accept(n, "Colonne du SDIS 34", by, at)
	}
}

// crisis is the script of both tests: a Cévennes episode over three communes of the
// Gard, and a wildfire in Marseille.
func crisis(s *script) {
	s.report("A", nimes, incident.KindFlood, incident.SeverityModerate)        // t1
	s.report("B", nimes, incident.KindWildfire, incident.SeveritySevere)       // t2
	s.report("C", nimes, incident.KindStorm, incident.SeverityModerate)        // t3
	s.report("D", nimes, incident.KindOther, "")                               // t4
	s.report("E", ales, incident.KindIndustrial, incident.SeverityExtreme)     // t5
	s.report("F", ales, incident.KindFlood, incident.SeverityMinor)            // t6
	s.report("G", sommieres, incident.KindFlashFlood, incident.SeveritySevere) // t7
	s.report("H", marseille, incident.KindWildfire, incident.SeveritySevere)   // t8

	s.qualify("A", nimes, mayor, incident.KindFlood, incident.SeveritySevere) // t9
	s.inc("A", nimes, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.AddLogEntry(incident.AddLogEntry{EntryID: "e1", Text: "Le Vistre déborde"}, by, at)
	})
	s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Débordement du Vistre", by, at)
	}) // t11
	s.qualify("E", ales, mayor, incident.KindIndustrial, incident.SeverityExtreme)
	s.inc("F", ales, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Close("Fausse alerte", by, at)
	})
	s.inc("C", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Close("Vent retombé", by, at)
	})
	s.inc("C", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Reopen("Nouvelle rafale", by, at)
	})
	s.qualify("G", sommieres, mayor, incident.KindFlashFlood, incident.SeverityExtreme)
	s.inc("G", sommieres, pref, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Le Vidourle dépasse 1958", by, at)
	})
	s.inc("G", sommieres, pref, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Stabilize(by, at)
	})
	s.inc("E", ales, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Nuage toxique", by, at)
	})
	s.inc("E", ales, pref, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Close("Confinement levé", by, at)
	})

	s.request("R1", nimes, "A", resource.KindVehicle, 3)
	s.request("R2", nimes, "A", resource.KindEquipment, 5)
	s.req("R2", nimes, pref, accept(5))
	s.req("R2", nimes, pref, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Dispatch(by, at)
	})
	s.request("R3", sommieres, "G", resource.KindTeam, 2)
	s.req("R3", sommieres, pref, accept(1))
	s.request("R4", ales, "E", resource.KindDrone, 1)
	s.req("R4", ales, pref, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Refuse("Aucun drone disponible", by, at)
	})
	s.request("R5", sommieres, "G", resource.KindShelter, 1)
	s.req("R5", sommieres, pref, accept(1))
	s.req("R5", sommieres, pref, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Dispatch(by, at)
	})
	s.req("R5", sommieres, mayor, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.ConfirmArrival(by, at)
	})
	s.req("R5", sommieres, rac, func(r *reinforcement.Request, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Release(by, at)
	})
	s.request("R6", nimes, "B", resource.KindVehicle, 2)
	s.request("R7", marseille, "H", resource.KindVehicle, 4)
}

func TestOverviewAfterACrisis(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, incident.Register, reinforcement.Register)
	no := projectiontest.Listen(t, rdb, s.Mine, projections.NoticeChannel(gard), projections.NoticeChannel(ales))
	proj, err := prefecture.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 3)
	crisis(s)
	projectiontest.WaitCaughtUp(t, rdb, st, prefecture.Name)
	r := prefecture.Reader{Redis: rdb}

	ids := func(docs []prefecture.Incident) []string {
		out := make([]string, len(docs))
		for i, d := range docs {
			out[i] = d.ID
		}
		return out
	}
	want := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = s.ID(n)
		}
		return out
	}
	for _, c := range []struct {
		name string
		get  func() ([]prefecture.Incident, error)
		want []string
	}{
		{"Overview(gard)", func() ([]prefecture.Incident, error) { return r.Overview(ctx, gard, prefecture.Page{}) }, want("G", "B", "A", "C", "D")},
		{"Overview(gard/*) page 2", func() ([]prefecture.Incident, error) {
			return r.Overview(ctx, gard+"/*", prefecture.Page{Offset: 1, Limit: 2})
		}, want("B", "A")},
		{"Overview(bdr)", func() ([]prefecture.Incident, error) { return r.Overview(ctx, bdr, prefecture.Page{}) }, want("H")},
		{"Escalated(gard)", func() ([]prefecture.Incident, error) { return r.Escalated(ctx, gard, prefecture.Page{}) }, want("G", "A")},
		{"Escalated(bdr)", func() ([]prefecture.Incident, error) { return r.Escalated(ctx, bdr, prefecture.Page{}) }, want()},
	} {
		got, err := c.get()
		if err != nil || !slices.Equal(ids(got), c.want) {
			t.Errorf("%s = %q, %v; want %q", c.name, ids(got), err, c.want)
		}
	}

	a, err := r.Incident(ctx, s.ID("A"))
	if err != nil {
		t.Fatal(err)
	}
	wantA := prefecture.Incident{ID: s.ID("A"), Domain: nimes, Kind: "flood", Title: "Incident A", Severity: "Severe", Status: "escalated",
		Qualified: true, Escalated: true, ReportedAt: projectiontest.Base.Add(1 * time.Minute), UpdatedAt: projectiontest.Base.Add(11 * time.Minute)}
	if a != wantA {
		t.Errorf("Incident(A) =\n %+v\nwant\n %+v", a, wantA)
	}
	if c, err := r.Incident(ctx, s.ID("C")); err != nil || c.Status != "reported" {
		t.Errorf("Incident(C), reopened = %+v, %v", c, err)
	}
	if e, err := r.Incident(ctx, s.ID("E")); err != nil || e.Status != "closed" || !e.Escalated {
		t.Errorf("Incident(E), closed = %+v, %v", e, err)
	}
	if _, err := r.Incident(ctx, s.ID("Z")); !errors.Is(err, prefecture.ErrNotFound) {
		t.Errorf("Incident(Z) = %v", err)
	}

	counts, err := r.CommuneCounts(ctx, gard)
	if err != nil || len(counts) != 2 || counts[nimes] != 4 || counts[sommieres] != 1 {
		t.Errorf("CommuneCounts(gard) = %v, %v", counts, err)
	}
	k, _, _ := projections.Current(ctx, rdb, "", prefecture.Name)
	if h, err := rdb.HGetAll(ctx, k.Key("communes", gard)).Result(); err != nil || len(h) != 2 {
		t.Errorf("communes:%s = %v, %v: Alès' count must be gone, not 0", gard, h, err)
	}

	rids := func(docs []prefecture.Reinforcement) []string {
		out := make([]string, len(docs))
		for i, d := range docs {
			out[i] = d.ID
		}
		return out
	}
	for _, c := range []struct {
		statuses []string
		page     prefecture.Page
		want     []string
	}{
		{nil, prefecture.Page{}, want("R1", "R6", "R3", "R2", "R5", "R4")},
		{nil, prefecture.Page{Offset: 4, Limit: 10}, want("R5", "R4")},
		{[]string{"requested"}, prefecture.Page{}, want("R1", "R6")},
		{[]string{"refused", "requested"}, prefecture.Page{}, want("R1", "R6", "R4")},
		{[]string{"dispatched", "refused", "requested"}, prefecture.Page{Offset: 1, Limit: 2}, want("R6", "R2")},
		{[]string{"dispatched", "refused", "requested"}, prefecture.Page{Offset: 3, Limit: 5}, want("R4")},
		{[]string{"accepted", "arrived"}, prefecture.Page{}, want()},
		{[]string{"bogus"}, prefecture.Page{}, want()},
	} {
		got, err := r.Reinforcements(ctx, gard, c.statuses, c.page)
		if err != nil || !slices.Equal(rids(got), c.want) {
			t.Errorf("Reinforcements(gard, %q, %+v) = %q, %v; want %q", c.statuses, c.page, rids(got), err, c.want)
		}
	}
	if got, err := r.Reinforcements(ctx, bdr, nil, prefecture.Page{}); err != nil || !slices.Equal(rids(got), want("R7")) {
		t.Errorf("Reinforcements(bdr) = %q, %v", rids(got), err)
	}
	r3, err := r.Reinforcement(ctx, s.ID("R3"))
	if err != nil {
		t.Fatal(err)
	}
	if r3.Status != "partially_accepted" || r3.Quantity != 2 || r3.Accepted != 1 || r3.Note != "Colonne du SDIS 34" ||
		r3.Domain != sommieres || r3.IncidentID != s.ID("G") || r3.Kind != "team" || r3.Reason != "Renforts R3" {
		t.Errorf("Reinforcement(R3) = %+v", r3)
	}
	if r4, err := r.Reinforcement(ctx, s.ID("R4")); err != nil || r4.Refusal != "Aucun drone disponible" || r4.Status != "refused" {
		t.Errorf("Reinforcement(R4) = %+v, %v", r4, err)
	}

	// Changes are announced on the commune's channel and the département's; a
	// main-courante entry changes nothing here.
	found := func(ch, stream, typ string) bool {
		for _, n := range no.Wait(ch, 1) {
			if n.StreamID == stream && n.Type == typ && n.Projection == prefecture.Name {
				return true
			}
		}
		return false
	}
	refused := events.StreamID(reinforcement.Category, s.ID("R4"))
	deadline := time.Now().Add(10 * time.Second)
	for !found(projections.NoticeChannel(ales), refused, "ReinforcementRefused") || !found(projections.NoticeChannel(gard), refused, "ReinforcementRefused") {
		if time.Now().After(deadline) {
			t.Fatal("no notice of the refusal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if found(projections.NoticeChannel(gard), events.StreamID(events.CategoryIncident, s.ID("A")), "LogEntryAdded") {
		t.Error("notice of a main-courante entry")
	}
}

func TestBatchesDoNotChangeTheModel(t *testing.T) {
	st, _ := projectiontest.Store(t)
	crisis(newScript(t, st, incident.Register, reinforcement.Register))
	projectiontest.BatchesAlike(t, st, prefecture.New)
}
