package replay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/alertboard"
	"vigie/projections/incidentboard"
	"vigie/projections/projectiontest"
	"vigie/projections/replay"
	"vigie/projections/resourceboard"
	"vigie/services/alerts/alert"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

const (
	nimes = "dep:30/com:30189"
	ales  = "dep:30/com:30007"
	gard  = "dep:30"
)

var (
	mayor = events.Actor{Subject: "sub-mayor", Role: events.RoleMayor}
	rac   = events.Actor{Subject: "sub-rac", Role: events.RoleRAC}
	pref  = events.Actor{Subject: "sub-pref", Role: events.RolePrefecture}
)

type script struct{ *projectiontest.Script }

func newScript(t testing.TB, st *store.Client) *script {
	s := &script{projectiontest.NewScript(t, st, incident.Register, resource.Register, alert.Register)}
	s.Start, s.Tick = time.Date(2026, 10, 17, 6, 0, 0, 0, time.UTC), time.Minute
	return s
}

func (s *script) inc(name, domain string, by events.Actor, decide func(*incident.Incident, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *incident.Incident { return &incident.Incident{} }, events.CategoryIncident, name, by, domain, decide)
}

func (s *script) report(name, domain string, sev incident.Severity) {
	s.T.Helper()
	s.inc(name, domain, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Report(incident.Report{IncidentID: s.ID(name), Domain: domain, Kind: incident.KindFlood, Title: "Crue " + name, Severity: sev}, by, at)
	})
}

func (s *script) qualify(name, domain string, sev incident.Severity) {
	s.T.Helper()
	s.inc(name, domain, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.Qualify(incident.Qualify{Kind: incident.KindFlashFlood, Severity: sev}, by, at)
	})
}

func (s *script) log(name, domain, entry, text, corrects string) {
	s.T.Helper()
	s.inc(name, domain, rac, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
		return i.AddLogEntry(incident.AddLogEntry{EntryID: entry, Text: text, Corrects: corrects}, by, at)
	})
}

// alert appends an alert's events as the alerts service would (its domain rules are
// its own tests' business).
func (s *script) alert(stream string, by events.Actor, evs ...events.Event) {
	s.T.Helper()
	s.Raw(stream, by, nimes, evs...)
}

func (s *script) res(name, domain string, decide func(*resource.Resource, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *resource.Resource { return &resource.Resource{} }, events.CategoryResource, name, rac, domain, decide)
}

func (s *script) register(name, domain string, kind resource.Kind, label string, capacity int) {
	s.T.Helper()
	s.res(name, domain, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Register(resource.Registration{ResourceID: s.ID(name), Domain: domain, Kind: kind, Name: label, Capacity: capacity}, by, at)
	})
}

func (s *script) engage(name, domain, incidentName string) {
	s.T.Helper()
	s.res(name, domain, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
		return r.Engage(s.ID(incidentName), by, at)
	})
}

// crisis is a Cévennes episode in ten steps; after each one the boards are looked at.
func crisis(s *script) []func() {
	return []func(){
		func() {
			s.report("A", nimes, incident.SeverityModerate)
			s.register("pompe", nimes, resource.KindEquipment, "Pompe 1", 0)
			s.register("equipe", ales, resource.KindTeam, "Équipe technique", 0)
		},
		func() { s.report("B", ales, ""); s.qualify("A", nimes, incident.SeveritySevere) },
		func() {
			s.engage("pompe", nimes, "A")
			s.log("A", nimes, "e1", "Montée des eaux rue Jean-Jaurès", "")
		},
		func() {
			s.register("gymnase", nimes, resource.KindShelter, "Gymnase Jean-Bouin", 200)
			s.res("gymnase", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.SetOccupancy(50, by, at)
			})
		},
		func() {
			s.inc("A", nimes, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
				return i.Escalate("Moyens communaux dépassés", by, at)
			})
			s.log("A", nimes, "e2", "La préfecture prend la direction", "")
		},
		func() {
			s.engage("equipe", ales, "B")
			s.report("C", nimes, incident.SeverityMinor)
			s.alert("alert-"+s.ID("X"), rac, alert.AlertDrafted{AlertID: s.ID("X"), Domain: nimes, IncidentID: s.ID("A"),
				Content: alert.Content{Event: "Crue", Headline: "Évacuez les berges du Vistre", Description: "Crue rapide", Instruction: "Montez à l'étage",
					Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryGeo,
					AreaDesc: "Nîmes", Language: "fr-FR"},
				Channels: []alert.Channel{alert.ChannelSMS}, By: rac.Subject, At: s.Now()})
		},
		func() {
			s.res("pompe", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.Release(by, at)
			})
			s.res("pompe", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.SetStatus(resource.StatusUnavailable, by, at)
			})
		},
		func() {
			s.inc("A", nimes, pref, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
				return i.Stabilize(by, at)
			})
			s.qualify("B", ales, incident.SeverityExtreme)
			s.alert("alert-"+s.ID("X"), rac, alert.AlertSubmitted{By: rac.Subject, At: s.Now()})
			s.alert("alert-"+s.ID("X"), mayor, alert.AlertApproved{By: mayor.Subject, At: s.Now(),
				Message: alert.Message{Identifier: "urn:x", Sent: s.Now(), MsgType: alert.MsgTypeAlert}})
		},
		func() {
			s.inc("B", ales, mayor, func(i *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
				return i.Close("Décrue", by, at)
			})
			// What the projection refuses (a qualification of an incident never
			// reported) is parked live and left out of a replay alike.
			s.Raw(events.StreamID(events.CategoryIncident, s.ID("ghost")), mayor, nimes,
				incident.IncidentQualified{Kind: incident.KindFlood, Severity: incident.SeverityMinor, By: mayor.Subject, At: s.Now()})
		},
		func() {
			s.log("A", nimes, "e3", "Montée des eaux avenue Jean-Jaurès", "e1")
			s.res("gymnase", nimes, func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.SetOccupancy(120, by, at)
			})
			s.alert("alert-"+s.ID("X"), mayor, alert.AlertDispatchStarted{Identifier: "urn:x", Recipients: map[string]int{"SMS": 40}, At: s.Now()})
			s.alert("dispatch-"+s.ID("X"), mayor, alert.DeliveriesRecorded{AlertID: s.ID("X"), Domain: nimes, Identifier: "urn:x",
				Channel: alert.ChannelSMS, Sent: 40, Delivered: 38, Failed: 2, At: s.Now()})
			s.alert("alert-"+s.ID("X"), mayor, alert.AlertSent{Identifier: "urn:x", At: s.Now()})
		},
	}
}

// content is the part of Boards that must match: the boards themselves.
func content(t testing.TB, b *replay.Boards) string {
	t.Helper()
	c := *b
	c.At, c.Position, c.Events = time.Time{}, store.Position{}, 0
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// crisisReplayer writes the whole crisis into a new log and gives a replayer of it
// (with ttl, zero: the default), the script and the Redis it replays into.
func crisisReplayer(t *testing.T, ttl time.Duration) (*replay.Replayer, *script, *redis.Client) {
	t.Helper()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st)
	for _, step := range crisis(s) {
		step()
	}
	return &replay.Replayer{Store: st, Redis: rdb, TTL: ttl}, s, rdb
}

func TestReplayAtTenInstantsShowsTheBoardsAsTheyWere(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st)
	ib, err := incidentboard.New()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := resourceboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, ib, 3)
	projectiontest.Project(t, rdb, st, rb, 3)
	ab, err := alertboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, ab, 3)

	type snapshot struct {
		at     time.Time
		boards map[string]string
	}
	var snaps []snapshot
	steps := crisis(s)
	for i, step := range steps {
		step()
		projectiontest.WaitCaughtUp(t, rdb, st, incidentboard.Name)
		projectiontest.WaitCaughtUp(t, rdb, st, resourceboard.Name)
		projectiontest.WaitCaughtUp(t, rdb, st, alertboard.Name)
		// The instant: after the step's last command, before the next one.
		snap := snapshot{at: s.Now().Add(-s.Tick / 2), boards: map[string]string{}}
		for _, d := range []string{nimes, ales, gard} {
			b, err := replay.Read(ctx, rdb, "", d)
			if err != nil {
				t.Fatal(err)
			}
			if i == len(steps)-1 && d == gard && (len(b.Incidents) != 3 || len(b.Resources) != 3 || len(b.Incidents[1].Log) != 3 || len(b.Incidents[0].Engaged) != 1 || len(b.Alerts) != 1 || len(b.Alerts[0].Deliveries) != 1) {
				t.Fatalf("the live board at the end = %s", content(t, b))
			}
			snap.boards[d] = content(t, b)
		}
		snaps = append(snaps, snap)
	}

	r := &replay.Replayer{Store: st, Redis: rdb}
	for i, snap := range snaps {
		for d, want := range snap.boards {
			b, err := r.Boards(ctx, d, snap.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := content(t, b); got != want {
				t.Errorf("instant %d (%s), %s:\n got  %s\n want %s", i+1, snap.at.Format(time.TimeOnly), d, got, want)
			}
			if b.Position == (store.Position{}) || b.Events == 0 || !b.At.Equal(snap.at) {
				t.Errorf("instant %d: replayed to %s, %d events, at %s", i+1, b.Position, b.Events, b.At)
			}
		}
	}
	// Before the first event: empty boards.
	b, err := r.Boards(ctx, gard, s.Start)
	if err != nil || len(b.Incidents) != 0 || len(b.Resources) != 0 || b.Events != 0 {
		t.Errorf("before the crisis: %+v, %v", b, err)
	}
	// Nothing of the replays stays in Redis; the live boards are untouched.
	if keys := rdb.Keys(ctx, "vigie:replay:*").Val(); len(keys) != 0 {
		t.Errorf("replay keys left: %v", keys)
	}
	if live, _ := replay.Read(ctx, rdb, "", gard); content(t, live) != snaps[len(snaps)-1].boards[gard] {
		t.Error("the live board changed")
	}
}

func TestReplaySpaceIsApartAndExpires(t *testing.T) {
	ctx := context.Background()
	r, s, rdb := crisisReplayer(t, time.Hour)
	var space string
	err := r.Run(ctx, replay.Options{At: s.Now()}, func(ctx context.Context, res replay.Result) error {
		space = res.Space
		keys := rdb.Keys(ctx, "vigie:"+res.Space+"*").Val()
		if len(keys) < 5 {
			t.Errorf("space %s holds %v", res.Space, keys)
		}
		for _, k := range keys {
			if ttl := rdb.TTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
				t.Errorf("%s: TTL %s", k, ttl)
			}
		}
		// Nothing outside the space: the live models were never written.
		if all := rdb.Keys(ctx, "vigie:*").Val(); len(all) != len(keys) {
			t.Errorf("%d keys in Redis, %d in the space", len(all), len(keys))
		}
		b, err := replay.Read(ctx, rdb, res.Space, gard)
		if err != nil || len(b.Incidents) != 3 {
			t.Errorf("boards in the space: %+v, %v", b, err)
		}
		// The space is an argument, not the callback's context (issue 16): a reader
		// not told it reads the live boards, which hold nothing here.
		if live, err := replay.Read(ctx, rdb, "", gard); err != nil || len(live.Incidents) != 0 {
			t.Errorf("a live read inside the replay's callback: %d incidents, %v; want the live boards (none)", len(live.Incidents), err)
		}
		if _, _, err := projections.Current(ctx, rdb, res.Space, incidentboard.Name); err != nil {
			t.Error(err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys := rdb.Keys(ctx, "vigie:"+space+"*").Val(); len(keys) != 0 {
		t.Errorf("left after the answer: %v", keys)
	}
}

func TestReportOfACrisis(t *testing.T) {
	ctx := context.Background()
	r, s, rdb := crisisReplayer(t, 0)
	mid := s.Start.Add(12*s.Tick + s.Tick/2)
	rep, err := r.Report(ctx, replay.ReportOptions{Domain: gard, At: []time.Time{mid, s.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Timeline) < 25 || len(rep.Boards) != 2 || len(rep.Boards[0].Incidents) != 2 || len(rep.Boards[1].Incidents) != 3 {
		t.Fatalf("report: %d entries, %d boards", len(rep.Timeline), len(rep.Boards))
	}
	if len(rep.Delays.Incidents) != 3 || rep.Delays.Incidents[0].ReportToQualification == nil || len(rep.Delays.Incidents[0].Alerts) != 1 {
		t.Errorf("delays: %+v", rep.Delays)
	}
	var js, page strings.Builder
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Crue A", "Évacuez les berges du Vistre", "Incident signalé", "Signalement → qualification", "Gymnase Jean-Bouin",
		// The alert's outcome as it was, per channel, in French.
		"Partiellement diffusée", "SMS : Partiellement remis (2 messages sur 40 n&#39;ont pas pu être remis) — 40 / 38 / 2",
		"Alerte diffusée : SMS partiel (2 échecs sur 40)"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	if strings.Contains(page.String(), "tous ses canaux") || strings.Contains(page.String(), "partially_sent") {
		t.Errorf("the report says the alert went out on every channel, or shows a status untranslated:\n%s", page.String())
	}
	// One stream: its entries and its items only.
	one, err := r.Report(ctx, replay.ReportOptions{Domain: gard, Stream: "incident-" + s.ID("B")})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range one.Timeline {
		if e.StreamID != "incident-"+s.ID("B") && e.About != "incident-"+s.ID("B") {
			t.Errorf("entry of %s", e.StreamID)
		}
	}
	if len(one.Timeline) < 4 || len(one.Boards[0].Incidents) != 1 || len(one.Boards[0].Resources) != 1 {
		t.Errorf("report of one stream: %d entries, %+v", len(one.Timeline), one.Boards[0])
	}
	if keys := rdb.Keys(ctx, "vigie:replay:*").Val(); len(keys) != 0 {
		t.Errorf("replay keys left: %d", len(keys))
	}
}
