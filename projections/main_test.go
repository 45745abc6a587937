package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/incidentboard"
	"vigie/projections/projectiontest"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

// The test binary doubles as a projector process: with childEnv set, TestMain runs an
// incident board projector against VIGIE_TEST_REDIS_URL and VIGIE_TEST_EVENTSTORE_URL
// until it is killed.
const childEnv = "VIGIE_TEST_PROJECTOR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(projectorProcess())
	}
	os.Exit(m.Run())
}

func projectorProcess() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts, err := redis.ParseURL(os.Getenv("VIGIE_TEST_REDIS_URL"))
	if err != nil {
		log.Error("redis url", "err", err)
		return 2
	}
	st, err := store.Open(os.Getenv("VIGIE_TEST_EVENTSTORE_URL"))
	if err != nil {
		log.Error("event store", "err", err)
		return 2
	}
	proj, err := incidentboard.New()
	if err != nil {
		log.Error("projection", "err", err)
		return 2
	}
	batch, _ := strconv.Atoi(os.Getenv("VIGIE_TEST_BATCH"))
	p := &projections.Projector{Redis: redis.NewClient(opts), Store: st, Projection: proj, BatchSize: batch, Log: log}
	if err := p.Run(context.Background()); err != nil {
		log.Error("run", "err", err)
		return 1
	}
	return 0
}

// The territory of the load: two communes of the Gard, one of the Bouches-du-Rhône.
var communes = []string{"dep:30/com:30189", "dep:30/com:30007", "dep:13/com:13055"}

const name = incidentboard.Name

// loader drives commands straight through command handlers on the store: reports,
// qualifications, log entries, escalations, closes and reopenings across its
// incidents, engagements and releases of a few resources, and resends of command ids
// already handled (answered as duplicates, appending nothing).
type loader struct {
	t         testing.TB
	st        *store.Client
	run       string
	inc       *command.Handler[*incident.Incident]
	res       *command.Handler[*resource.Resource]
	incidents []string
	resources []string
	seq       atomic.Int64
	handled   atomic.Int64 // commands that appended events
	dups      atomic.Int64 // resends answered as duplicates
	failed    atomic.Int64 // failures of the machinery (not refusals by a rule)
}

// One subject in two roles, so that a resend is recognised whoever directs by then.
var (
	asMayor      = events.Actor{Subject: "sub-load", Role: events.RoleMayor}
	asPrefecture = events.Actor{Subject: "sub-load", Role: events.RolePrefecture}
)

func newLoader(t testing.TB, st *store.Client, incidents, resources int) *loader {
	l := &loader{t: t, st: st, run: fmt.Sprintf("%06x", rand.Uint32()>>8)}
	ireg, err := projections.Registry(incident.Register)
	if err != nil {
		t.Fatal(err)
	}
	rreg, err := projections.Registry(resource.Register)
	if err != nil {
		t.Fatal(err)
	}
	l.inc = &command.Handler[*incident.Incident]{Store: st, Registry: ireg, New: func() *incident.Incident { return &incident.Incident{} }}
	l.res = &command.Handler[*resource.Resource]{Store: st, Registry: rreg, New: func() *resource.Resource { return &resource.Resource{} }}
	for i := range incidents {
		l.incidents = append(l.incidents, fmt.Sprintf("i%d-%s", i, l.run))
	}
	for i := range resources {
		id := fmt.Sprintf("r%d-%s", i, l.run)
		l.resources = append(l.resources, id)
		_, err := l.res.Handle(context.Background(), command.Command[*resource.Resource]{
			Name: "Register", Stream: "resource-" + id, CommandID: l.commandID(),
			Authorize: func(*resource.Resource) (events.Actor, string, error) { return asMayor, communes[1], nil },
			Decide: func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.Register(resource.Registration{ResourceID: id, Domain: communes[1], Kind: resource.KindVehicle, Name: "VSAV " + id}, by, at)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func (l *loader) commandID() string { return fmt.Sprintf("c-%s-%d", l.run, l.seq.Add(1)) }

func (l *loader) domainOf(i int) string { return communes[i%len(communes)] }

// incidentCommand is a random command for incident i, decided on its state.
func (l *loader) incidentCommand(i int) command.Command[*incident.Incident] {
	id, domain := l.incidents[i], l.domainOf(i)
	cmdID := l.commandID()
	dice := rand.Float64()
	kinds, sevs := incident.Kinds(), incident.Severities()
	return command.Command[*incident.Incident]{
		Name: "Load", Stream: "incident-" + id, CommandID: cmdID,
		Authorize: func(s *incident.Incident) (events.Actor, string, error) {
			if s.DirectedByPrefecture() {
				return asPrefecture, domain, nil
			}
			return asMayor, domain, nil
		},
		Decide: func(s *incident.Incident, by events.Actor, at time.Time) ([]events.Event, error) {
			switch {
			case !s.Exists():
				sev := incident.Severity("")
				if dice < 0.7 {
					sev = sevs[int(dice*100)%len(sevs)]
				}
				return s.Report(incident.Report{IncidentID: id, Domain: domain, Kind: kinds[int(dice*1000)%len(kinds)], Title: "Incident " + id, Severity: sev}, by, at)
			case s.Status() == incident.StatusClosed:
				return s.Reopen("Reprise du feu", by, at)
			case dice < 0.55:
				corrects := ""
				if log := s.Log(); len(log) > 0 && dice < 0.1 {
					corrects = log[len(log)-1].ID
				}
				return s.AddLogEntry(incident.AddLogEntry{EntryID: cmdID, Text: "Point de situation " + cmdID, Corrects: corrects}, by, at)
			case dice < 0.72:
				return s.Qualify(incident.Qualify{Kind: kinds[int(dice*1000)%len(kinds)], Severity: sevs[int(dice*1000)%len(sevs)]}, by, at)
			case dice < 0.78:
				return s.Escalate("Moyens communaux dépassés", by, at)
			case dice < 0.86:
				return s.Stabilize(by, at)
			default:
				return s.Close("Fin d'intervention", by, at)
			}
		},
	}
}

func (l *loader) resourceCommand(r int) command.Command[*resource.Resource] {
	id := l.resources[r]
	target := l.incidents[rand.IntN(len(l.incidents))]
	return command.Command[*resource.Resource]{
		Name: "Load", Stream: "resource-" + id, CommandID: l.commandID(),
		Authorize: func(*resource.Resource) (events.Actor, string, error) { return asMayor, communes[1], nil },
		Decide: func(s *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
			if s.Status() == resource.StatusEngaged {
				return s.Release(by, at)
			}
			return s.Engage(target, by, at)
		},
	}
}

func (l *loader) note(err error, dup bool) {
	var refused *command.RefusedError
	switch {
	case errors.As(err, &refused), errors.Is(err, command.ErrTooManyConflicts):
	case err != nil:
		if errors.Is(err, context.Canceled) {
			return
		}
		if l.failed.Add(1) <= 3 {
			l.t.Logf("load: %v", err)
		}
	case dup:
		l.dups.Add(1)
	default:
		l.handled.Add(1)
	}
}

// one runs a random command, and one time in twenty sends it again; one time in ten
// it appends an event to a stream the board does not read instead.
func (l *loader) one(ctx context.Context) {
	if rand.IntN(10) == 0 {
		stream := fmt.Sprintf("alert-%s-%d", l.run, rand.IntN(5))
		_, err := l.st.Append(ctx, stream, store.Any(), store.EventData{Type: "AlertRaised", Data: []byte(`{"level":"orange"}`), Metadata: []byte(`{}`)})
		l.note(err, false)
		return
	}
	if len(l.resources) > 0 && rand.IntN(10) == 0 {
		cmd := l.resourceCommand(rand.IntN(len(l.resources)))
		res, err := l.res.Handle(ctx, cmd)
		l.note(err, res.Duplicate)
		return
	}
	cmd := l.incidentCommand(rand.IntN(len(l.incidents)))
	res, err := l.inc.Handle(ctx, cmd)
	l.note(err, res.Duplicate)
	if err == nil && len(res.Events) > 0 && rand.IntN(20) == 0 {
		res, err = l.inc.Handle(ctx, cmd)
		if err == nil && !res.Duplicate {
			l.t.Errorf("resent command %s appended again", cmd.CommandID)
		}
		l.note(err, res.Duplicate)
	}
}

// start runs commands at about rate per second until the returned stop is called.
// Commands are not cancelled: stop lets those in flight end, so that none is left
// running inside the store client when the test closes it.
func (l *loader) start(rate int) (stop func()) {
	quit := make(chan struct{})
	tick := time.NewTicker(time.Second / time.Duration(rate))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-quit:
					return
				case <-tick.C:
				}
				l.one(context.Background())
			}
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			tick.Stop()
		})
	}
}

func newProjector(t testing.TB, rdb redis.UniversalClient, st *store.Client) *projections.Projector {
	t.Helper()
	proj, err := incidentboard.New()
	if err != nil {
		t.Fatal(err)
	}
	return &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: quietLog(t)}
}

// quietLog keeps the projector's warnings for the test's log only.
func quietLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// cleanBuild builds the model from the whole log into a Redis database of its own.
func cleanBuild(t testing.TB, st *store.Client) *redis.Client {
	t.Helper()
	p := newProjector(t, nil, st)
	clean := projectiontest.CleanBuild(t, st, p)
	if s := p.Status(); s.Parked != 0 {
		t.Errorf("clean build parked %d events", s.Parked)
	}
	return clean
}

// logsOnce checks, independently of any build, that each incident's main courante
// holds each LogEntryAdded of its stream exactly once, in order; it returns how many
// events of the board's streams the log holds.
func logsOnce(t testing.TB, rdb *redis.Client, version int64, st *store.Client, l *loader) int {
	t.Helper()
	ctx := context.Background()
	k := projections.KeysOf(name, version)
	for _, id := range l.incidents {
		recs, err := st.ReadStream(ctx, "incident-"+id, store.Start, store.Forwards, store.NoLimit)
		if errors.Is(err, store.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range recs {
			if r.Type == "LogEntryAdded" {
				var e incident.LogEntryAdded
				if err := json.Unmarshal(r.Data, &e); err != nil {
					t.Fatal(err)
				}
				want = append(want, e.EntryID)
			}
		}
		vals, err := rdb.LRange(ctx, k.Key("log", id), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vals {
			var e incidentboard.Entry
			if err := json.Unmarshal([]byte(v), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("log of %s: %d entries, the stream has %d LogEntryAdded\n got  %v\n want %v", id, len(got), len(want), got, want)
		}
		var doc incidentboard.Incident
		if b, err := rdb.Get(ctx, k.Key("incident", id)).Bytes(); err != nil || json.Unmarshal(b, &doc) != nil || doc.LogLength != len(want) {
			t.Errorf("document of %s: logLength %d, want %d (%v)", id, doc.LogLength, len(want), err)
		}
	}
	n := 0
	err := st.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		if strings.HasPrefix(r.StreamID, "incident-") || strings.HasPrefix(r.StreamID, "resource-") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func noDeadLetters(t testing.TB, rdb redis.Cmdable) {
	t.Helper()
	dl, err := projections.DeadLetters(context.Background(), rdb, name, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dl {
		t.Errorf("parked: %s", d)
	}
}
