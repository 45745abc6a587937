package resourceboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/projectiontest"
)

var base = time.Date(2026, 10, 17, 6, 0, 0, 0, time.UTC)

// script runs domain commands straight on the store through command handlers (which
// build and validate the metadata), with a clock that ticks one minute per command.
type script struct {
	t     *testing.T
	st    *store.Client
	reg   *events.Registry
	run   string // makes this test's ids its own: notices are server-wide
	clock atomic.Int64
	seq   atomic.Int64
}

func newScript(t *testing.T, st *store.Client, register ...func(*events.Registry) error) *script {
	reg, err := projections.Registry(register...)
	if err != nil {
		t.Fatal(err)
	}
	return &script{t: t, st: st, reg: reg, run: fmt.Sprintf("%08x", rand.Uint32())}
}

func (s *script) now() time.Time { return base.Add(time.Duration(s.clock.Add(1)) * time.Minute) }

// id is the id of an aggregate of this test.
func (s *script) id(name string) string { return name + "-" + s.run }

func (s *script) mine(stream string) bool {
	return len(stream) > len(s.run) && stream[len(stream)-len(s.run):] == s.run
}

// do runs one command on the stream category-<id(name)>.
func do[S command.Aggregate](s *script, fresh func() S, category, name string, by events.Actor, domain string,
	decide func(S, events.Actor, time.Time) ([]events.Event, error)) {
	s.t.Helper()
	h := &command.Handler[S]{Store: s.st, Registry: s.reg, Now: s.now, New: fresh}
	_, err := h.Handle(context.Background(), command.Command[S]{
		Name: "test", Stream: events.StreamID(category, s.id(name)), CommandID: fmt.Sprintf("cmd-%s-%d", s.run, s.seq.Add(1)),
		Authorize: func(S) (events.Actor, string, error) { return by, domain, nil },
		Decide:    decide,
	})
	if err != nil {
		s.t.Fatalf("command on %s-%s: %v", category, name, err)
	}
}

// raw appends events as they are, with valid metadata, outside any rule.
func (s *script) raw(stream string, by events.Actor, domain string, evs ...events.Event) {
	s.t.Helper()
	ctx := context.Background()
	cmdID := fmt.Sprintf("raw-%s-%d", s.run, s.seq.Add(1))
	at := s.now()
	data := make([]store.EventData, len(evs))
	for i, e := range evs {
		md := events.NewMetadata(cmdID, by, domain, at) // a random event id
		env, err := s.reg.Encode(ctx, e, md)
		if err != nil {
			s.t.Fatal(err)
		}
		data[i] = store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
	}
	if _, err := s.st.Append(ctx, stream, store.Any(), data...); err != nil {
		s.t.Fatal(err)
	}
}

// project runs a projector until the test ends.
func project(t *testing.T, rdb *redis.Client, st *store.Client, proj projections.Projection, batch int) {
	t.Helper()
	p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, BatchSize: batch}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// caughtUp waits (boundedly) until the read model's checkpoint reaches the last event
// of the store.
func caughtUp(t *testing.T, rdb redis.Cmdable, st *store.Client, name string) {
	t.Helper()
	ctx := context.Background()
	last, err := st.ReadAll(ctx, store.End, store.Backwards, 1)
	if err != nil || len(last) != 1 {
		t.Fatalf("last event: %v (%d)", err, len(last))
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, pos, err := projections.Current(ctx, rdb, name)
		if err != nil {
			t.Fatal(err)
		}
		if !pos.Less(last[0].Position) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s at %s, log at %s", name, pos, last[0].Position)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sameModel fails the test unless two databases hold the same keys and values under
// the model's first version.
func sameModel(t *testing.T, name string, a, b *redis.Client) {
	t.Helper()
	match := projections.KeysOf(name, 1).Prefix() + "*"
	da, db := projectiontest.Dump(t, a, match), projectiontest.Dump(t, b, match)
	if len(da) < 2 {
		t.Fatalf("the model is empty: %v", da)
	}
	for k, v := range da {
		if w, ok := db[k]; !ok {
			t.Errorf("%s only in the first model", k)
		} else if v != w {
			t.Errorf("%s:\n first  %s\n second %s", k, v, w)
		}
	}
	for k := range db {
		if _, ok := da[k]; !ok {
			t.Errorf("%s only in the second model", k)
		}
	}
}

// notices gathers the notices of this test's streams.
type notices struct {
	mu  sync.Mutex
	got map[string][]projections.Notice // by channel
}

func listen(t *testing.T, rdb *redis.Client, mine func(string) bool, channels ...string) *notices {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := rdb.Subscribe(ctx, channels...)
	for range channels {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n := &notices{got: map[string][]projections.Notice{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			var no projections.Notice
			if err := json.Unmarshal([]byte(msg.Payload), &no); err != nil || !mine(no.StreamID) {
				continue
			}
			n.mu.Lock()
			n.got[msg.Channel] = append(n.got[msg.Channel], no)
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ps.Close(); cancel(); <-done })
	return n
}

// wait returns the notices of a channel once there are at least want of them.
func (n *notices) wait(t *testing.T, channel string, want int) []projections.Notice {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.mu.Lock()
		got := slices.Clone(n.got[channel])
		n.mu.Unlock()
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}
