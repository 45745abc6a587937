package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Position is a place in $all. Positions are opaque: a real server's are byte offsets
// in its transaction log (and commit may differ from prepare), the embedded server's a
// dense counter. Compare and store them; never compute with them.
type Position struct {
	Commit, Prepare uint64
}

// Compare orders positions: -1 if p is before o, 0 if equal, +1 if after.
func (p Position) Compare(o Position) int {
	switch {
	case p.Commit < o.Commit:
		return -1
	case p.Commit > o.Commit:
		return 1
	case p.Prepare < o.Prepare:
		return -1
	case p.Prepare > o.Prepare:
		return 1
	}
	return 0
}

// Less reports whether p comes before o in $all.
func (p Position) Less(o Position) bool { return p.Compare(o) < 0 }

func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

func (p Position) esdb() esdb.Position { return esdb.Position{Commit: p.Commit, Prepare: p.Prepare} }

// Expected is the optimistic-concurrency condition of an append or a delete. The zero
// value is Any.
type Expected struct {
	kind expectedKind
	rev  uint64
}

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// Any accepts the write whatever the stream's state. A retry with Any is idempotent
// only on a best-effort basis: prefer Exact or NoStream for commands.
func Any() Expected { return Expected{kind: expectAny} }

// NoStream accepts the write only if the stream has no events yet.
func NoStream() Expected { return Expected{kind: expectNoStream} }

// StreamExists accepts the write only if the stream exists.
func StreamExists() Expected { return Expected{kind: expectStreamExists} }

// Exact accepts the write only if the stream's last event has revision rev.
func Exact(rev uint64) Expected { return Expected{kind: expectExact, rev: rev} }

func (e Expected) String() string {
	switch e.kind {
	case expectNoStream:
		return "no_stream"
	case expectStreamExists:
		return "stream_exists"
	case expectExact:
		return strconv.FormatUint(e.rev, 10)
	}
	return "any"
}

// kindName is String without the revision number, for span attributes.
func (e Expected) kindName() string {
	if e.kind == expectExact {
		return "exact"
	}
	return e.String()
}

func (e Expected) esdb() esdb.ExpectedRevision {
	switch e.kind {
	case expectNoStream:
		return esdb.NoStream{}
	case expectStreamExists:
		return esdb.StreamExists{}
	case expectExact:
		return esdb.Revision(e.rev)
	}
	return esdb.Any{}
}

// EventData is an event to append. Data and Metadata are JSON. Give every event its
// own ID: an append retried with the same IDs and expected revision is not written
// twice. A zero ID gets a random one, which makes a retry write the event again.
type EventData struct {
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
}

// Recorded is an event as the store keeps it.
type Recorded struct {
	StreamID string
	Revision uint64   // in its stream, from 0
	Position Position // in $all
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
	Created  time.Time // set by the server
}

// System reports whether the event is one of the server's own ($-prefixed type), as a
// real server's $all holds them.
func (r Recorded) System() bool { return strings.HasPrefix(r.Type, "$") }

func recordedFrom(ev *esdb.ResolvedEvent) (Recorded, error) {
	e := ev.OriginalEvent()
	if e == nil {
		return Recorded{}, fmt.Errorf("store: the server sent an empty event")
	}
	return Recorded{
		StreamID: e.StreamID,
		Revision: e.EventNumber,
		Position: Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
		ID:       e.EventID,
		Type:     e.EventType,
		Data:     e.Data,
		Metadata: e.UserMetadata,
		Created:  e.CreatedDate,
	}, nil
}

// AppendResult is the outcome of a successful append.
type AppendResult struct {
	// NextRevision is the revision of the stream's last event after the append: pass
	// Exact(NextRevision) to append after it.
	NextRevision uint64
	// Position is where the server put the write in $all.
	Position Position
}

// Direction is the direction of a read.
type Direction int

const (
	Forwards Direction = iota
	Backwards
)

func (d Direction) String() string {
	if d == Backwards {
		return "backwards"
	}
	return "forwards"
}

func (d Direction) esdb() esdb.Direction {
	if d == Backwards {
		return esdb.Backwards
	}
	return esdb.Forwards
}

// StreamFrom is where a stream read starts: Start, End or Revision(n) (inclusive).
type StreamFrom interface {
	streamPosition() esdb.StreamPosition
}

// AllFrom is where a $all read starts: Start, End or a Position.
type AllFrom interface {
	allPosition() esdb.AllPosition
}

// Boundary is one end of a stream or of $all.
type Boundary int

const (
	// Start is the beginning of a stream or of $all.
	Start Boundary = iota + 1
	// End is the end of a stream or of $all (read backwards from it).
	End
)

func (b Boundary) streamPosition() esdb.StreamPosition {
	if b == End {
		return esdb.End{}
	}
	return esdb.Start{}
}

func (b Boundary) allPosition() esdb.AllPosition {
	if b == End {
		return esdb.End{}
	}
	return esdb.Start{}
}

type revision uint64

// Revision starts a stream read at revision n (inclusive).
func Revision(n uint64) StreamFrom { return revision(n) }

func (r revision) streamPosition() esdb.StreamPosition { return esdb.Revision(uint64(r)) }

// A Position starts a $all read at that position.
func (p Position) allPosition() esdb.AllPosition { return p.esdb() }
