// Package replay shows the boards as they were at an instant, for the after-action
// review: it runs the live boards' own projections (those of boards.All()) over the
// log from its start up to that instant, into a key space of its own in Redis, reads
// the result with the live boards' own queries, then deletes it. There is no second
// implementation of any read model here: a board is whatever its projection and its
// queries make of the log.
//
// The instant cuts the log: what is replayed is the log up to the last event whose
// time (occurredAt of its metadata, the store's time when missing) is at or before
// it, and everything before that event in the log. Times of commands decided by
// different processes may disagree by a little with the log's order; a replay looks
// past the first event after the instant, at most Skew further in event time (and
// maxPending events), for a later event still at or before it.
//
// Key space: "vigie:replay:<random>:{<model>}:v1:…" (projections.KeysIn); the hash tag
// is the model's, as live. Every key written gets a TTL (so a replay killed half-way
// leaves nothing for long) and the whole space is deleted once the boards are read.
// The TTL is set when a key is first written and once more, when the build ends, on
// the keys remembered as having it (one the projection deleted and wrote again lost
// it meanwhile; a key forgotten gets it again on its next write): an EXPIRE per key
// per batch doubled the commands Redis had to run.
// Memory: the log is streamed in batches; what a replay holds is one batch per
// projection, the names of at most maxExpiring keys per projection and the boards it
// reads back, whatever the length of the log.
package replay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/boards"
)

// Replayer builds the boards as they were at an instant.
type Replayer struct {
	Store *store.Client
	Redis redis.UniversalClient
	// TTL of every key a replay writes, should it not get to delete them: 10 min.
	TTL time.Duration
	// BatchSize: events per pipelined batch of each projection; 1024 (8192 was no
	// faster on a quiet machine, 27,956 against 31,463 events/s, for twice the heap).
	BatchSize int
	// Skew: how far past the instant, in event time, a replay looks for an event still
	// at or before it (see the package's doc); 5 s.
	Skew time.Duration
	// CacheFor: how long the boards of one (domain, instant) are kept in memory and
	// served again; 30 s. Only instants already past by Skew are kept (the log below
	// them no longer changes).
	CacheFor time.Duration
	// Parallel bounds the replays built at once (each reads the whole log); 2.
	Parallel int

	once  sync.Once
	slots chan struct{}
	mu    sync.Mutex
	cache map[cacheKey]cached
}

type cacheKey struct {
	domain string
	at     int64
}

type cached struct {
	boards  *Boards
	expires time.Time
}

func (r *Replayer) init() {
	r.once.Do(func() {
		if r.TTL <= 0 {
			r.TTL = 10 * time.Minute
		}
		if r.BatchSize <= 0 {
			r.BatchSize = 1024
		}
		if r.Skew <= 0 {
			r.Skew = 5 * time.Second
		}
		if r.CacheFor <= 0 {
			r.CacheFor = 30 * time.Second
		}
		if r.Parallel <= 0 {
			r.Parallel = 2
		}
		r.slots = make(chan struct{}, r.Parallel)
		r.cache = map[cacheKey]cached{}
	})
}

// Boards returns the boards of domain (a commune, or a département: all its
// communes) as they were at instant at: Snapshot's, for that domain alone, kept a
// while for the next caller. The caller authorizes: like the live boards.
func (r *Replayer) Boards(ctx context.Context, domain string, at time.Time) (*Boards, error) {
	r.init()
	key := cacheKey{domain, at.UnixNano()}
	r.mu.Lock()
	c, ok := r.cache[key]
	r.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.boards, nil
	}
	snap, err := r.Snapshot(ctx, SnapshotOptions{At: at, Domains: []string{domain}})
	if err != nil {
		return nil, err
	}
	out := snap.Boards[0]
	if time.Since(at) > r.Skew {
		r.mu.Lock()
		now := time.Now()
		for k, c := range r.cache {
			if now.After(c.expires) {
				delete(r.cache, k)
			}
		}
		if len(r.cache) < 64 {
			r.cache[key] = cached{boards: out, expires: now.Add(r.CacheFor)}
		}
		r.mu.Unlock()
	}
	return out, nil
}

// Options of one replay.
type Options struct {
	At time.Time
	// Boards names the read models to build (projection names, e.g. "incidents");
	// nil: those Read reads (BoardNames); empty: none (Observe alone).
	Boards []string
	// Observe, when set, is given every event of the log up to the cut, in order,
	// that Registry decodes: what the decision delays are computed from.
	Observe  func(projections.Event)
	Registry *events.Registry
}

// Result says what a replay applied.
type Result struct {
	Position store.Position // of the last event of the log at or before the instant
	Events   int            // events up to the cut (of every stream)
	Space    string         // the key space, "replay:<random>:"
	Refused  int64          // events a projection refused (parked by the live projector too)
}

// Run builds the boards named in opts as they were at opts.At into a disposable key
// space, calls read with the result (its Space is what the boards' Readers must be
// told to read), then deletes the space (whatever read returned).
func (r *Replayer) Run(ctx context.Context, opts Options, read func(ctx context.Context, res Result) error) error {
	r.init()
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	names := opts.Boards
	if names == nil {
		names = BoardNames()
	}
	all, err := boards.All()
	if err != nil {
		return err
	}
	var projs []projections.Projection
	for _, p := range all {
		if slices.Contains(names, p.Name()) {
			projs = append(projs, p)
		}
	}
	if len(projs) != len(names) {
		return fmt.Errorf("replay: boards %v: some are not in boards.All()", names)
	}
	space, err := newSpace()
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = projections.DeleteSpace(dctx, r.Redis, space)
	}()
	res, err := r.build(ctx, space, projs, opts)
	if err != nil {
		return err
	}
	return read(ctx, res)
}

// Delays are the decision delays of domain (incidents reported and alerts drafted
// between from and to; zero: open) as the log tells them up to to (zero: now).
func (r *Replayer) Delays(ctx context.Context, domain string, from, to time.Time) (Delays, error) {
	if to.IsZero() {
		to = time.Now().UTC()
	}
	reg, err := Registry()
	if err != nil {
		return Delays{}, err
	}
	t := NewTracker()
	err = r.Run(ctx, Options{At: to, Boards: []string{}, Observe: t.Add, Registry: reg}, func(context.Context, Result) error { return nil })
	if err != nil {
		return Delays{}, err
	}
	return t.Delays(domain, from, to), nil
}

// BoardNames are the read models Read reads.
func BoardNames() []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = s.board
	}
	return out
}

func newSpace() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "replay:" + hex.EncodeToString(b[:]) + ":", nil
}

// maxPending bounds the events held past the instant while looking for a later one
// still at or before it.
const maxPending = 10_000

var errStop = errors.New("stop")

// build streams the log up to the cut into one runner per projection.
func (r *Replayer) build(ctx context.Context, space string, projs []projections.Projection, opts Options) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := Result{Space: space}
	runners := make([]*runner, len(projs))
	var wg sync.WaitGroup
	errs := make([]error, len(projs))
	for i, p := range projs {
		runners[i] = &runner{proj: p, keys: projections.KeysIn(space, p.Name(), 1), rdb: r.Redis, ttl: r.TTL, expiring: map[string]bool{},
			prefixes: p.StreamPrefixes(), in: make(chan []store.Recorded, 2)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range runners[i].in {
				if errs[i] != nil {
					continue // drain
				}
				if errs[i] = runners[i].apply(ctx, batch); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	var obs *observer
	if opts.Observe != nil && opts.Registry != nil {
		obs = &observer{reg: opts.Registry, fn: opts.Observe}
	}
	var batch, pending []store.Recorded
	flush := func() {
		if len(batch) == 0 {
			return
		}
		for _, ru := range runners {
			select {
			case ru.in <- batch:
			case <-ctx.Done():
			}
		}
		if obs != nil {
			obs.observe(batch)
		}
		batch = nil
	}
	take := func(rec store.Recorded) {
		batch = append(batch, rec)
		if len(batch) >= r.BatchSize {
			flush()
		}
	}
	horizon := opts.At.Add(r.Skew)
	err := r.Store.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(rec store.Recorded) error {
		if rec.System() || strings.HasPrefix(rec.StreamID, "$") {
			return nil
		}
		t := eventTime(rec)
		if t.After(opts.At) {
			if t.After(horizon) || len(pending) >= maxPending {
				return errStop
			}
			pending = append(pending, rec)
			return nil
		}
		for _, p := range pending {
			take(p)
		}
		res.Events += len(pending) + 1
		pending = pending[:0]
		take(rec)
		res.Position = rec.Position
		return nil
	})
	flush()
	for _, ru := range runners {
		close(ru.in)
	}
	wg.Wait()
	for i, ru := range runners {
		res.Refused += ru.refused.Load()
		if errs[i] == nil && (err == nil || errors.Is(err, errStop)) {
			errs[i] = ru.expireAll(ctx)
		}
	}
	if err != nil && !errors.Is(err, errStop) {
		return res, fmt.Errorf("replay: reading the log: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	return res, ctx.Err()
}

// eventTime is when the event happened: its metadata's occurredAt, the store's time
// when that is missing or unreadable (what the timeline shows too).
func eventTime(rec store.Recorded) time.Time {
	const key = `"occurredAt":"`
	if i := strings.Index(string(rec.Metadata), key); i >= 0 {
		rest := rec.Metadata[i+len(key):]
		if j := strings.IndexByte(string(rest), '"'); j > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil && !t.IsZero() {
				return t
			}
		}
	}
	var md struct {
		OccurredAt time.Time `json:"occurredAt"`
	}
	if json.Unmarshal(rec.Metadata, &md) == nil && !md.OccurredAt.IsZero() {
		return md.OccurredAt
	}
	return rec.Created
}

// runner applies batches of the log to one projection's model in the replay's space,
// as the projector does: decoded with the projection's registry, events it cannot
// decode or that it refuses are left out (the projector parks them), the rest in log
// order. Nobody else writes the space: no lease, no transaction, no checkpoint.
type runner struct {
	proj     projections.Projection
	keys     projections.Keys
	prefixes []string
	rdb      redis.UniversalClient
	ttl      time.Duration
	expiring map[string]bool // keys already given the TTL
	in       chan []store.Recorded
	refused  atomic.Int64
}

func (ru *runner) apply(ctx context.Context, recs []store.Recorded) error {
	batch := make([]projections.Event, 0, len(recs))
	for _, rec := range recs {
		if !hasPrefix(rec.StreamID, ru.prefixes) {
			continue
		}
		e, md, err := ru.proj.Registry().Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			continue // parked by the live projector
		}
		batch = append(batch, projections.Event{Position: rec.Position, StreamID: rec.StreamID, Revision: rec.Revision,
			Type: rec.Type, Created: rec.Created, Event: e, Meta: md})
	}
	if len(batch) == 0 {
		return nil
	}
	err := ru.write(ctx, batch)
	var refused refusedError
	if !errors.As(err, &refused) {
		return err
	}
	// As the projector: one event at a time, leaving out those the projection refuses.
	for i := range batch {
		err := ru.write(ctx, batch[i:i+1])
		if errors.As(err, &refused) {
			ru.refused.Add(1)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type refusedError struct{ error }

// write stages the projection's writes for a batch, gives each key it writes the
// space's TTL, and sends them in one pipeline.
func (ru *runner) write(ctx context.Context, batch []projections.Event) error {
	w := ru.rdb.Pipeline()
	m := &projections.Model{Keys: ru.keys, R: ru.rdb, W: w}
	if err := ru.proj.Apply(ctx, m, batch); err != nil {
		w.Discard()
		return refusedError{err}
	}
	cmds := w.Cmds()
	seen := make(map[string]bool, len(cmds))
	for _, c := range cmds {
		args := c.Args()
		if len(args) < 2 {
			continue
		}
		if k, ok := args[1].(string); ok && !seen[k] {
			seen[k] = true
		}
	}
	if len(ru.expiring) >= maxExpiring {
		// Forget them rather than grow with the log: a forgotten key gets its TTL
		// again on its next write, which is all the end's pass needs.
		clear(ru.expiring)
	}
	for k := range seen {
		if !ru.expiring[k] {
			ru.expiring[k] = true
			w.Expire(ctx, k, ru.ttl)
		}
	}
	_, err := w.Exec(ctx)
	return err
}

// maxExpiring bounds the keys a runner remembers as having their TTL (about 6 MiB):
// the shared indexes, written by every batch, stay in it; most documents are written
// a few times in a whole log.
const maxExpiring = 65_536

// expireAll gives every key the runner wrote its TTL again, for those the projection
// deleted and wrote again since their first write.
func (ru *runner) expireAll(ctx context.Context) error {
	w := ru.rdb.Pipeline()
	n := 0
	for k := range ru.expiring {
		w.Expire(ctx, k, ru.ttl)
		if n++; n%10_000 == 0 {
			if _, err := w.Exec(ctx); err != nil {
				return err
			}
		}
	}
	_, err := w.Exec(ctx)
	return err
}

func hasPrefix(stream string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(stream, p) {
			return true
		}
	}
	return false
}

// observer decodes the replayed log for Options.Observe.
type observer struct {
	reg *events.Registry
	fn  func(projections.Event)
}

func (o *observer) observe(batch []store.Recorded) {
	for _, rec := range batch {
		e, md, err := o.reg.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			continue // not an event the observer reads
		}
		o.fn(projections.Event{Position: rec.Position, StreamID: rec.StreamID, Revision: rec.Revision, Type: rec.Type, Created: rec.Created, Event: e, Meta: md})
	}
}
