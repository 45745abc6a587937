package command

import (
	"sync"

	"vigie/events"
	"vigie/events/store"
)

// History remembers, per stream, the events already read and decoded, so that a
// command reads only what was appended since the last one instead of replaying the
// whole stream; and it runs this process's commands on one stream one at a time, so
// that fifty people logging on the same incident queue for a few milliseconds instead
// of conflicting, retrying and giving up. Other processes still conflict, and the
// command's append with its expected revision still settles who wins.
//
// Events are values: applying them never changes them, so one remembered event may
// be applied to any number of fresh states.
type History struct {
	mu      sync.Mutex
	streams map[string]*streamHistory
	max     int
	tick    uint64
}

// maxRemembered bounds the events remembered for one stream; a longer stream is
// still serialised but replayed.
const maxRemembered = 10_000

// NewHistory remembers up to max streams (the least recently used are forgotten).
func NewHistory(max int) *History {
	return &History{streams: map[string]*streamHistory{}, max: max}
}

type streamHistory struct {
	lock     sync.Mutex // held by the command running on the stream
	users    int        // commands holding or waiting for lock (under History.mu)
	lastUsed uint64
	revision int64 // of the last remembered event; -1: nothing remembered
	events   []past
}

type past struct {
	event     events.Event
	commandID string
	actor     string
	position  store.Position
	revision  int64
}

// acquire returns the stream's history, locked for the caller; nil without a History.
func (h *History) acquire(stream string) *streamHistory {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	sh := h.streams[stream]
	if sh == nil {
		if len(h.streams) >= h.max {
			h.evict()
		}
		sh = &streamHistory{revision: -1}
		h.streams[stream] = sh
	}
	sh.users++
	h.tick++
	sh.lastUsed = h.tick
	h.mu.Unlock()
	sh.lock.Lock()
	return sh
}

func (h *History) release(stream string, sh *streamHistory) {
	if h == nil {
		return
	}
	sh.lock.Unlock()
	h.mu.Lock()
	sh.users--
	h.mu.Unlock()
}

// evict forgets the least recently used tenth of the unused streams (under h.mu).
func (h *History) evict() {
	type aged struct {
		stream string
		used   uint64
	}
	var idle []aged
	for s, sh := range h.streams {
		if sh.users == 0 {
			idle = append(idle, aged{s, sh.lastUsed})
		}
	}
	n := max(len(idle)/10, 1)
	for range min(n, len(idle)) {
		oldest := 0
		for i := range idle {
			if idle[i].used < idle[oldest].used {
				oldest = i
			}
		}
		delete(h.streams, idle[oldest].stream)
		idle[oldest] = idle[len(idle)-1]
		idle = idle[:len(idle)-1]
	}
}

// known returns the remembered events and where to read the stream from.
func (sh *streamHistory) known() ([]past, store.StreamFrom) {
	if sh == nil || sh.revision < 0 {
		return nil, store.Start
	}
	return sh.events, store.Revision(uint64(sh.revision + 1))
}

func (sh *streamHistory) forget() {
	if sh != nil {
		sh.events, sh.revision = nil, -1
	}
}

// remember keeps what a load read. The lock holder alone touches sh.
func (sh *streamHistory) remember(known, fresh []past) {
	if sh == nil || len(fresh) == 0 {
		return
	}
	all := append(known[:len(known):len(known)], fresh...)
	if len(all) > maxRemembered {
		sh.forget()
		return
	}
	sh.events, sh.revision = all, all[len(all)-1].revision
}

// appended adds a command's own events once the store acknowledged them at revisions
// after..last.
func (sh *streamHistory) appended(after, last int64, produced []events.Event, commandID, actor string, pos store.Position) {
	if sh == nil || sh.revision != after || last-after != int64(len(produced)) {
		sh.forget()
		return
	}
	for i, e := range produced {
		sh.events = append(sh.events, past{event: e, commandID: commandID, actor: actor, position: pos, revision: after + 1 + int64(i)})
	}
	sh.revision = last
	if len(sh.events) > maxRemembered {
		sh.forget()
	}
}
