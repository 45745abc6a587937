package projectiontest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/projections"
)

// Base is where a Script's clock starts unless told otherwise.
var Base = time.Date(2026, 10, 17, 6, 0, 0, 0, time.UTC)

// Script runs domain commands straight on the store through command handlers (which
// build and validate the metadata), with a clock that ticks once per command: the
// n-th command (or raw append) of a script happens at Start + n×Tick. A test package
// wraps it in a type of its own for its domain's commands (see Do).
type Script struct {
	T        testing.TB
	Store    *store.Client
	Registry *events.Registry
	// Run makes this test's ids its own (see ID): notices are server-wide, and
	// tests of other packages write to the same store categories.
	Run   string
	Start time.Time     // Base unless set before the first command
	Tick  time.Duration // a minute unless set before the first command
	clock atomic.Int64
	seq   atomic.Int64
}

// NewScript makes a script on st whose registry holds what register registers.
func NewScript(t testing.TB, st *store.Client, register ...func(*events.Registry) error) *Script {
	t.Helper()
	reg, err := projections.Registry(register...)
	if err != nil {
		t.Fatal(err)
	}
	return &Script{T: t, Store: st, Registry: reg, Run: fmt.Sprintf("%08x", rand.Uint32()), Start: Base, Tick: time.Minute}
}

// Now ticks the clock and tells the new time: the handlers' clock.
func (s *Script) Now() time.Time { return s.Start.Add(time.Duration(s.clock.Add(1)) * s.Tick) }

// SetClock sets how many ticks have passed: the next command happens at
// Start + (ticks+1)×Tick.
func (s *Script) SetClock(ticks int64) { s.clock.Store(ticks) }

// ID is the id in this test of an aggregate the script calls name.
func (s *Script) ID(name string) string { return name + "-" + s.Run }

// Mine tells whether a stream is one of this test's: the filter of Listen.
func (s *Script) Mine(stream string) bool {
	return len(stream) > len(s.Run) && stream[len(stream)-len(s.Run):] == s.Run
}

// CommandID is a new command id of this test, prefix-<run>-<n>.
func (s *Script) CommandID(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, s.Run, s.seq.Add(1))
}

// Do runs one command, authorized as by in domain, on the stream category-<ID(name)>;
// the test fails if the command fails (a refusal included).
func Do[S command.Aggregate](s *Script, fresh func() S, category, name string, by events.Actor, domain string,
	decide func(S, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	h := &command.Handler[S]{Store: s.Store, Registry: s.Registry, Now: s.Now, New: fresh}
	_, err := h.Handle(context.Background(), command.Command[S]{
		Name: "test", Stream: events.StreamID(category, s.ID(name)), CommandID: s.CommandID("cmd"),
		Authorize: func(S) (events.Actor, string, error) { return by, domain, nil },
		Decide:    decide,
	})
	if err != nil {
		s.T.Fatalf("command on %s-%s: %v", category, name, err)
	}
}

// Raw appends events as they are, outside any rule, with valid metadata: one command
// of by in domain, at the script's next time, each event with an id of its own.
func (s *Script) Raw(stream string, by events.Actor, domain string, evs ...events.Event) {
	s.T.Helper()
	cmdID, at := s.CommandID("raw"), s.Now()
	mds := make([]events.Metadata, len(evs))
	for i := range evs {
		mds[i] = events.NewMetadata(cmdID, by, domain, at) // a random event id
	}
	s.RawWith(stream, evs, mds)
}

// RawWith appends events as they are, each with its metadata, outside any rule.
func (s *Script) RawWith(stream string, evs []events.Event, mds []events.Metadata) {
	s.T.Helper()
	ctx := context.Background()
	data := make([]store.EventData, len(evs))
	for i, e := range evs {
		env, err := s.Registry.Encode(ctx, e, mds[i])
		if err != nil {
			s.T.Fatal(err)
		}
		data[i] = store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
	}
	if _, err := s.Store.Append(ctx, stream, store.Any(), data...); err != nil {
		s.T.Fatal(err)
	}
}
