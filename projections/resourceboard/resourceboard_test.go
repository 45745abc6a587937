package resourceboard_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/projectiontest"
	"vigie/projections/resourceboard"
	"vigie/services/resources/resource"
)

const (
	nimes      = "dep:30/com:30189"
	sommieres  = "dep:30/com:30321"
	ales       = "dep:30/com:30007"
	gard       = "dep:30"
	marseille  = "dep:13/com:13055"
	bouchesRho = "dep:13"
)

var rac = events.Actor{Subject: "sub-rac", Role: events.RoleRAC}

// script is the shared script, with this package's commands as methods.
type script struct{ *projectiontest.Script }

func newScript(t *testing.T, st *store.Client, register ...func(*events.Registry) error) *script {
	return &script{projectiontest.NewScript(t, st, register...)}
}

func newResource() *resource.Resource { return &resource.Resource{} }

type decision = func(*resource.Resource, events.Actor, time.Time) ([]events.Event, error)

func (s *script) res(name, domain string, decide decision) {
	s.T.Helper()
	projectiontest.Do(s.Script, newResource, events.CategoryResource, name, rac, domain, decide)
}

func (s *script) register(name, domain string, kind resource.Kind, label string, capacity int) {
	s.T.Helper()
	s.res(name, domain, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Register(resource.Registration{ResourceID: s.ID(name), Domain: domain, Kind: kind, Name: label, Capacity: capacity}, by, at)
	})
}

func engage(incidentID string) decision {
	return func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Engage(incidentID, by, at)
	}
}

func release(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
	return r.Release(by, at)
}

func status(st resource.Status) decision {
	return func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.SetStatus(st, by, at)
	}
}

func occupancy(n int) decision {
	return func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.SetOccupancy(n, by, at)
	}
}

// crisis is the script of both tests: the resources of three communes of the Gard and
// one of Marseille through a Cévennes episode.
func crisis(s *script) {
	s.register("pompe2", nimes, resource.KindEquipment, "Pompe 2", 0)
	s.register("pompe1", nimes, resource.KindEquipment, "pompe 1", 0)
	s.register("equipe", nimes, resource.KindTeam, "Équipe technique", 0)
	s.register("gymnase", nimes, resource.KindShelter, "Gymnase Jean-Bouin", 200)
	s.register("ecole", nimes, resource.KindShelter, "École Jules-Ferry", 80)
	s.register("drone", sommieres, resource.KindDrone, "Drone thermique", 0)
	s.register("salle", sommieres, resource.KindShelter, "Salle polyvalente", 150)
	s.register("halle", ales, resource.KindShelter, "Halle des sports", 50)
	s.register("vsav", marseille, resource.KindVehicle, "VSAV 1", 0)

	inc1, inc2 := s.ID("inc1"), s.ID("inc2")
	s.res("pompe1", nimes, engage(inc1))
	s.res("equipe", nimes, engage(inc1))
	s.res("drone", sommieres, engage(inc1))
	s.res("pompe2", nimes, engage(inc2))
	s.res("pompe2", nimes, release)
	s.res("pompe2", nimes, status(resource.StatusUnavailable))

	s.res("gymnase", nimes, occupancy(50))
	s.res("gymnase", nimes, occupancy(120))
	s.res("ecole", nimes, occupancy(30))
	s.res("ecole", nimes, occupancy(0))
	s.res("ecole", nimes, status(resource.StatusUnavailable))
	s.res("salle", sommieres, occupancy(40))
	// Alès' only shelter fills, empties and is demobilized: its totals fall to zero.
	s.res("halle", ales, occupancy(10))
	s.res("halle", ales, occupancy(0))
	s.res("halle", ales, status(resource.StatusDemobilized))

	// An engagement in the stream of a resource never registered shows nowhere.
	s.Raw(events.StreamID(events.CategoryResource, s.ID("ghost")), rac, nimes,
		resource.ResourceEngaged{IncidentID: inc1, By: rac, At: s.Now()})
}

func names(docs []resourceboard.Resource) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Name
	}
	return out
}

func TestBoardAnswersAfterACrisis(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, resource.Register)
	no := projectiontest.Listen(t, rdb, s.Mine, projections.NoticeChannel(nimes), projections.NoticeChannel(gard))
	proj, err := resourceboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 4)
	crisis(s)
	projectiontest.WaitCaughtUp(t, rdb, st, resourceboard.Name)
	r := resourceboard.Reader{Redis: rdb}

	lists := []struct {
		domain, kind, status string
		page                 resourceboard.Page
		want                 []string
	}{
		{nimes, "", "", resourceboard.Page{}, []string{"École Jules-Ferry", "Équipe technique", "Gymnase Jean-Bouin", "pompe 1", "Pompe 2"}},
		{gard, "", "", resourceboard.Page{}, []string{"Drone thermique", "École Jules-Ferry", "Équipe technique", "Gymnase Jean-Bouin", "Halle des sports", "pompe 1", "Pompe 2", "Salle polyvalente"}},
		{gard, "", "", resourceboard.Page{Offset: 2, Limit: 3}, []string{"Équipe technique", "Gymnase Jean-Bouin", "Halle des sports"}},
		{gard, "", "", resourceboard.Page{Offset: 7, Limit: 3}, []string{"Salle polyvalente"}},
		{nimes, "equipment", "", resourceboard.Page{}, []string{"pompe 1", "Pompe 2"}},
		{nimes, "", "engaged", resourceboard.Page{}, []string{"Équipe technique", "pompe 1"}},
		{gard, "", "engaged", resourceboard.Page{}, []string{"Drone thermique", "Équipe technique", "pompe 1"}},
		{nimes, "equipment", "unavailable", resourceboard.Page{}, []string{"Pompe 2"}},
		{gard, "shelter", "available", resourceboard.Page{}, []string{"Gymnase Jean-Bouin", "Salle polyvalente"}},
		{gard, "shelter", "demobilized", resourceboard.Page{}, []string{"Halle des sports"}},
		{sommieres, "drone", "available", resourceboard.Page{}, []string{}},
		{bouchesRho, "", "", resourceboard.Page{}, []string{"VSAV 1"}},
		{gard, "vehicle", "", resourceboard.Page{}, []string{}},
	}
	for _, l := range lists {
		got, err := r.List(ctx, l.domain, l.kind, l.status, l.page)
		if err != nil || !slices.Equal(names(got), l.want) {
			t.Errorf("List(%s, %q, %q, %+v) = %q, %v; want %q", l.domain, l.kind, l.status, l.page, names(got), err, l.want)
		}
	}
	if n, err := r.Count(ctx, gard, "shelter", ""); err != nil || n != 4 {
		t.Errorf("Count(gard, shelter) = %d, %v", n, err)
	}

	engaged, err := r.EngagedOn(ctx, s.ID("inc1"), resourceboard.Page{})
	if err != nil || !slices.Equal(names(engaged), []string{"Drone thermique", "Équipe technique", "pompe 1"}) {
		t.Errorf("EngagedOn(inc1) = %q, %v", names(engaged), err)
	}
	if engaged, err := r.EngagedOn(ctx, s.ID("inc2"), resourceboard.Page{}); err != nil || len(engaged) != 0 {
		t.Errorf("EngagedOn(inc2), released = %q, %v", names(engaged), err)
	}

	p1, err := r.Get(ctx, s.ID("pompe1"))
	if err != nil {
		t.Fatal(err)
	}
	want := resourceboard.Resource{ID: s.ID("pompe1"), Domain: nimes, Kind: "equipment", Name: "pompe 1", Status: "engaged",
		IncidentID: s.ID("inc1"), UpdatedAt: projectiontest.Base.Add(10 * time.Minute)}
	if p1 != want {
		t.Errorf("Get(pompe1) =\n %+v\nwant\n %+v", p1, want)
	}
	if g, err := r.Get(ctx, s.ID("gymnase")); err != nil || g.Capacity != 200 || g.Occupancy != 120 || g.Status != "available" {
		t.Errorf("Get(gymnase) = %+v, %v", g, err)
	}
	if p2, err := r.Get(ctx, s.ID("pompe2")); err != nil || p2.IncidentID != "" || p2.Status != "unavailable" {
		t.Errorf("Get(pompe2) = %+v, %v", p2, err)
	}
	if _, err := r.Get(ctx, s.ID("ghost")); !errors.Is(err, resourceboard.ErrNotFound) {
		t.Errorf("Get(ghost) = %v, want ErrNotFound", err)
	}

	shelters := map[string]resourceboard.ShelterTotals{
		nimes:     {Shelters: 2, Open: 1, Capacity: 200, Occupancy: 120},
		sommieres: {Shelters: 1, Open: 1, Capacity: 150, Occupancy: 40},
		ales:      {Shelters: 1},
		gard:      {Shelters: 4, Open: 2, Capacity: 350, Occupancy: 160},
		marseille: {},
	}
	for domain, want := range shelters {
		if got, err := r.Shelters(ctx, domain); err != nil || got != want {
			t.Errorf("Shelters(%s) = %+v, %v; want %+v", domain, got, err, want)
		}
	}
	// No total is kept at zero: a rebuild would not write it.
	k, _, _ := projections.Current(ctx, rdb, "", resourceboard.Name)
	if h, err := rdb.HGetAll(ctx, k.Key("shelters", ales)).Result(); err != nil || len(h) != 1 || h["shelters"] != "1" {
		t.Errorf("shelters of Alès = %v, %v", h, err)
	}
	if n, err := rdb.Exists(ctx, k.Key("shelters", marseille), k.Key("engaged", s.ID("inc2"))).Result(); err != nil || n != 0 {
		t.Errorf("%d empty keys remain (%v)", n, err)
	}

	// Every change is announced on the commune's channel and its département's. Nîmes:
	// 5 registrations, 4 engagements and releases, 2 status changes, 4 occupancy
	// changes; Sommières 4 changes and Alès 4 more for the Gard.
	for ch, want := range map[string]int{nimes: 15, gard: 23} {
		got := no.Wait(projections.NoticeChannel(ch), want)
		if len(got) != want {
			t.Errorf("%d notices on %s, want %d", len(got), ch, want)
		}
		for _, n := range got {
			if n.Projection != resourceboard.Name || n.StreamID == events.StreamID(events.CategoryResource, s.ID("ghost")) || n.At.IsZero() {
				t.Errorf("notice %+v", n)
			}
		}
	}
}

func TestBatchesDoNotChangeTheModel(t *testing.T) {
	st, _ := projectiontest.Store(t)
	crisis(newScript(t, st, resource.Register))
	projectiontest.BatchesAlike(t, st, resourceboard.New)
}
