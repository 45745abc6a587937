package incidentboard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/incidentboard"
	"vigie/projections/projectiontest"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

// The territory: Nîmes and Alès in the Gard, Marseille in the Bouches-du-Rhône.
const (
	nimes     = "dep:30/com:30189"
	ales      = "dep:30/com:30007"
	gard      = "dep:30"
	marseille = "dep:13/com:13055"
	bdr       = "dep:13"
)

var (
	mayor      = events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	rac        = events.Actor{Subject: "sub-rac", Role: events.RoleRAC}
	prefecture = events.Actor{Subject: "sub-pref", Role: events.RolePrefecture}
)

// script is the shared script with a clock that ticks one second per command, so that
// every report has its own time.
type script struct{ *projectiontest.Script }

func newScript(t *testing.T, st *store.Client) *script {
	s := &script{projectiontest.NewScript(t, st, incident.Register, resource.Register)}
	s.Start, s.Tick = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), time.Second
	return s
}

func (s *script) incident(name, domain string, by events.Actor, decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *incident.Incident { return &incident.Incident{} }, events.CategoryIncident, name, by, domain, decide)
}

func (s *script) report(name, domain string, kind incident.Kind, sev incident.Severity) {
	s.T.Helper()
	s.incident(name, domain, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID(name), Domain: domain, Kind: kind, Title: "Incident " + name, Severity: sev,
			Location: &incident.Point{Lat: 43.8, Lon: 4.36}}, by, at)
	})
}

func (s *script) resource(name, domain string, decide func(*resource.Resource, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *resource.Resource { return &resource.Resource{} }, events.CategoryResource, name, rac, domain, decide)
}

func ids(docs []incidentboard.Incident) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func TestBoardAnswersAfterAScriptOfCommands(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st)
	no := projectiontest.Listen(t, rdb, s.Mine, projections.NoticeChannel(nimes), projections.NoticeChannel(ales), projections.NoticeChannel(gard),
		projections.NoticeChannel(marseille), projections.NoticeChannel(bdr))
	// The projector follows the commands live, in small batches.
	proj, err := incidentboard.New()
	if err != nil {
		t.Fatal(err)
	}
	p := projectiontest.Project(t, rdb, st, proj, 4)
	r := incidentboard.Reader{Redis: rdb}
	stream := func(name string) string { return events.CategoryIncident + "-" + s.ID(name) }

	// Nîmes: A (Moderate, qualified Severe, escalated, two log entries), B (Severe),
	// C (Moderate), D (not assessed). Alès: E (Extreme, qualified, resources), F (Minor,
	// closed). Marseille: G (Severe, qualified).
	s.report("A", nimes, incident.KindFlood, incident.SeverityModerate)

	// A notice comes once the change is committed: a query then sees it.
	n := no.WaitFor(t, projections.NoticeChannel(nimes), stream("A"), "IncidentReported")
	if n.Projection != incidentboard.Name || n.Domain != nimes || n.Position == (store.Position{}) {
		t.Errorf("notice = %+v", n)
	}
	if doc, err := r.Get(ctx, s.ID("A")); err != nil || doc.Status != "reported" {
		t.Fatalf("Get right after the notice = %+v, %v", doc, err)
	}
	if _, pos, _ := projections.Current(ctx, rdb, "", incidentboard.Name); pos.Less(n.Position) {
		t.Errorf("notice at %s, model at %s: announced before the commit", n.Position, pos)
	}
	if n := no.WaitFor(t, projections.NoticeChannel(gard), stream("A"), "IncidentReported"); n.Domain != nimes {
		t.Errorf("département's notice = %+v, want the commune's domain", n)
	}

	s.report("B", nimes, incident.KindWildfire, incident.SeveritySevere)
	s.report("C", nimes, incident.KindStorm, incident.SeverityModerate)
	s.report("D", nimes, incident.KindOther, "")
	s.report("E", ales, incident.KindIndustrial, incident.SeverityExtreme)
	s.report("F", ales, incident.KindFlood, incident.SeverityMinor)
	s.report("G", marseille, incident.KindWildfire, incident.SeveritySevere)

	zone := []incident.Point{{Lat: 43.8, Lon: 4.3}, {Lat: 43.9, Lon: 4.3}, {Lat: 43.9, Lon: 4.4}}
	s.incident("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlood, Severity: incident.SeveritySevere, Zone: zone}, by, at)
	})
	s.incident("A", nimes, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.AddLogEntry(incident.AddLogEntry{EntryID: "e1", Text: "Montée des eaux rue Jean-Jaurès"}, by, at)
	})
	s.incident("A", nimes, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.AddLogEntry(incident.AddLogEntry{EntryID: "e2", Text: "Rue Émile-Jamais, pas Jean-Jaurès", Corrects: "e1"}, by, at)
	})
	s.incident("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Escalate("Débordement du Vistre", by, at)
	})
	s.incident("E", ales, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindIndustrial, Severity: incident.SeverityExtreme}, by, at)
	})
	s.incident("G", marseille, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindWildfire, Severity: incident.SeveritySevere}, by, at)
	})
	// F is counted, then closed: its counts must go, not stay at zero.
	projectiontest.WaitCaughtUp(t, rdb, st, incidentboard.Name)
	if c, err := r.Counts(ctx, ales); err != nil || c["kind:flood"] != 1 || c["active"] != 2 {
		t.Fatalf("Alès before the close = %v, %v", c, err)
	}
	s.incident("F", ales, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Close("Fausse alerte", by, at)
	})
	for _, name := range []string{"pump", "vsav"} {
		s.resource(name, ales, func(res *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
			return res.Register(resource.Registration{ResourceID: s.ID(name), Domain: ales, Kind: resource.KindEquipment, Name: name}, by, at)
		})
		s.resource(name, ales, func(res *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
			return res.Engage(s.ID("E"), by, at)
		})
	}
	s.resource("vsav", ales, func(res *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return res.Release(by, at)
	})
	no.WaitFor(t, projections.NoticeChannel(ales), events.CategoryResource+"-"+s.ID("vsav"), "ResourceReleased")
	projectiontest.WaitCaughtUp(t, rdb, st, incidentboard.Name)
	if ps := p.Status(); !ps.Active || ps.Parked != 0 {
		t.Errorf("Status = %+v", ps)
	}

	t.Run("List orders by severity then recency", func(t *testing.T) {
		for _, tt := range []struct {
			domain string
			want   []string
		}{
			{nimes, []string{"B", "A", "C", "D"}}, // B and A Severe, B the more recent
			{ales, []string{"E"}},                 // F closed
			{gard, []string{"E", "B", "A", "C", "D"}},
			{marseille, []string{"G"}},
			{bdr, []string{"G"}},
			{"dep:30/com:30028", nil},
		} {
			got, err := r.List(ctx, tt.domain, nil, incidentboard.Page{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for _, n := range tt.want {
				want = append(want, s.ID(n))
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("List(%s) = %v, want %v", tt.domain, ids(got), want)
			}
		}
		page, err := r.List(ctx, gard, nil, incidentboard.Page{Offset: 1, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{s.ID("B"), s.ID("A")}; !slices.Equal(ids(page), want) {
			t.Errorf("page 1+2 of the Gard = %v, want %v", ids(page), want)
		}
	})

	t.Run("status filters", func(t *testing.T) {
		for _, tt := range []struct {
			domain   string
			statuses []string
			want     []string
		}{
			{gard, []string{"reported"}, []string{"B", "C", "D"}},
			{gard, []string{"qualified", "escalated"}, []string{"E", "A"}},
			{gard, []string{"closed"}, []string{"F"}},
			{ales, []string{"closed", "qualified"}, []string{"E", "F"}},
			{nimes, []string{"closed"}, nil},
			{bdr, []string{"qualified"}, []string{"G"}},
			{bdr, []string{"reported"}, nil},
		} {
			got, err := r.List(ctx, tt.domain, tt.statuses, incidentboard.Page{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for _, n := range tt.want {
				want = append(want, s.ID(n))
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("List(%s, %v) = %v, want %v", tt.domain, tt.statuses, ids(got), want)
			}
		}
	})

	t.Run("Counts are exact and keep no zero", func(t *testing.T) {
		for _, tt := range []struct {
			domain string
			want   map[string]int64
		}{
			{nimes, map[string]int64{"active": 4, "kind:flood": 1, "kind:wildfire": 1, "kind:storm": 1, "kind:other": 1,
				"severity:Severe": 2, "severity:Moderate": 1, "status:escalated": 1, "status:reported": 3}},
			{ales, map[string]int64{"active": 1, "kind:industrial": 1, "severity:Extreme": 1, "status:qualified": 1}},
			{gard, map[string]int64{"active": 5, "kind:flood": 1, "kind:wildfire": 1, "kind:storm": 1, "kind:other": 1, "kind:industrial": 1,
				"severity:Extreme": 1, "severity:Severe": 2, "severity:Moderate": 1, "status:escalated": 1, "status:reported": 3, "status:qualified": 1}},
			{marseille, map[string]int64{"active": 1, "kind:wildfire": 1, "severity:Severe": 1, "status:qualified": 1}},
			{bdr, map[string]int64{"active": 1, "kind:wildfire": 1, "severity:Severe": 1, "status:qualified": 1}},
		} {
			got, err := r.Counts(ctx, tt.domain)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Counts(%s) = %v\n want %v", tt.domain, got, tt.want)
			}
			// The stored hash itself holds no zero: a rebuild must match it field by field.
			raw, err := rdb.HGetAll(ctx, projections.KeysOf(incidentboard.Name, 1).Key("counts", tt.domain)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != len(tt.want) {
				t.Errorf("stored counts of %s = %v", tt.domain, raw)
			}
			for f, v := range raw {
				if v == "0" {
					t.Errorf("stored counts of %s keep %s at 0", tt.domain, f)
				}
			}
		}
		if got, err := r.Counts(ctx, "dep:30/com:30028"); err != nil || len(got) != 0 {
			t.Errorf("Counts of a quiet commune = %v, %v", got, err)
		}
	})

	t.Run("Get", func(t *testing.T) {
		e, err := r.Get(ctx, s.ID("E"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(e.Resources, []string{s.ID("pump")}) || e.Status != "qualified" || !e.Qualified || e.Severity != "Extreme" ||
			e.Domain != ales || e.Kind != "industrial" || e.LogLength != 0 {
			t.Errorf("E = %+v", e)
		}
		a, err := r.Get(ctx, s.ID("A"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "escalated" || !a.DirectedByPrefecture || !a.Qualified || a.Severity != "Severe" || a.LogLength != 2 ||
			len(a.Zone) != 3 || a.Location == nil || a.Title != "Incident A" || len(a.Resources) != 0 || a.Resources == nil {
			t.Errorf("A = %+v", a)
		}
		if !a.UpdatedAt.After(a.ReportedAt) {
			t.Errorf("A updated %v, reported %v", a.UpdatedAt, a.ReportedAt)
		}
		f, err := r.Get(ctx, s.ID("F"))
		if err != nil || f.Status != "closed" {
			t.Errorf("closed F = %+v, %v", f, err)
		}
		d, err := r.Get(ctx, s.ID("D"))
		if err != nil || d.Severity != "" || d.Status != "reported" {
			t.Errorf("D = %+v, %v", d, err)
		}
		if _, err := r.Get(ctx, "nowhere"); !errors.Is(err, incidentboard.ErrNotFound) {
			t.Errorf("Get(nowhere) = %v, want ErrNotFound", err)
		}
	})

	t.Run("Log in order", func(t *testing.T) {
		log, err := r.Log(ctx, s.ID("A"), incidentboard.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].ID != "e1" || log[1].ID != "e2" || log[1].Corrects != "e1" || log[0].Corrects != "" ||
			log[0].Author != rac.Subject || !log[0].At.Before(log[1].At) || log[1].Text != "Rue Émile-Jamais, pas Jean-Jaurès" {
			t.Errorf("log of A = %+v", log)
		}
		second, err := r.Log(ctx, s.ID("A"), incidentboard.Page{Offset: 1, Limit: 1})
		if err != nil || len(second) != 1 || second[0].ID != "e2" {
			t.Errorf("second entry = %+v, %v", second, err)
		}
		if none, err := r.Log(ctx, s.ID("B"), incidentboard.Page{}); err != nil || len(none) != 0 {
			t.Errorf("log of B = %+v, %v", none, err)
		}
	})

	t.Run("notices per commune and per département", func(t *testing.T) {
		for _, tt := range []struct {
			name, typ string
			channels  []string
		}{
			{"A", "LogEntryAdded", []string{nimes, gard}},
			{"A", "IncidentEscalated", []string{nimes, gard}},
			{"F", "IncidentClosed", []string{ales, gard}},
			{"G", "IncidentQualified", []string{marseille, bdr}},
		} {
			for _, ch := range tt.channels {
				no.WaitFor(t, projections.NoticeChannel(ch), stream(tt.name), tt.typ)
			}
		}
		no.WaitFor(t, projections.NoticeChannel(ales), events.CategoryResource+"-"+s.ID("pump"), "ResourceEngaged")
		no.WaitFor(t, projections.NoticeChannel(gard), events.CategoryResource+"-"+s.ID("vsav"), "ResourceReleased")
		// Each channel hears of its own domain only.
		for ch, prefix := range map[string]string{nimes: nimes, ales: ales, gard: gard + "/", marseille: marseille, bdr: bdr + "/"} {
			for _, n := range no.On(projections.NoticeChannel(ch)) {
				if len(n.Domain) < len(prefix) || n.Domain[:len(prefix)] != prefix {
					t.Errorf("notice of %s (%s) on the channel of %s", n.StreamID, n.Domain, ch)
				}
			}
		}
		// A resource's registration changes no board: no notice.
		for _, n := range no.On(projections.NoticeChannel(ales)) {
			if n.Type == "ResourceRegistered" {
				t.Errorf("notice of a registration: %+v", n)
			}
		}
	})

	t.Run("a clean build in one batch is the same model", func(t *testing.T) {
		proj, err := incidentboard.New()
		if err != nil {
			t.Fatal(err)
		}
		clean := projectiontest.CleanBuild(t, st, &projections.Projector{Projection: proj})
		projectiontest.SameModel(t, incidentboard.Name, rdb, 1, clean)
	})
}
