package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/territory"
)

// Projector keeps one read model up to date: standby until it holds the lease, then
// it follows the log from the model's checkpoint and applies batches.
type Projector struct {
	Redis      redis.UniversalClient
	Store      *store.Client
	Projection Projection
	Log        *slog.Logger
	LeaseTTL   time.Duration // default 3 s: a standby takes over within LeaseTTL + LeaseTTL/6
	BatchSize  int           // default 512 events per transaction
	// Namespace keeps this deployment's notices apart on a shared Redis (NoticeChannelIn).
	Namespace string

	active   atomic.Bool
	applied  atomic.Uint64 // events applied since start
	parked   atomic.Uint64
	lastSeen atomic.Int64 // unix ms of the last event applied (its store time)
	silent   bool         // a rebuild announces nothing: its version is not live yet
	behind   atomic.Int64 // events past the checkpoint at the last measure
	caughtUp atomic.Bool
}

func (p *Projector) setDefaults() {
	if p.LeaseTTL <= 0 {
		p.LeaseTTL = 3 * time.Second
	}
	if p.BatchSize <= 0 {
		p.BatchSize = 512
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
}

// Status is what /readyz shows of a projector.
type Status struct {
	Name     string `json:"name"`
	Active   bool   `json:"active"`
	CaughtUp bool   `json:"caughtUp"`
	Applied  uint64 `json:"applied"`
	Parked   uint64 `json:"parked"`
	Behind   int64  `json:"behind"` // events of its streams not yet applied (last measure)
}

// Status reports the projector's state.
func (p *Projector) Status() Status {
	return Status{Name: p.Projection.Name(), Active: p.active.Load(), CaughtUp: p.caughtUp.Load(), Applied: p.applied.Load(), Parked: p.parked.Load(), Behind: p.behind.Load()}
}

// maxLinks bounds the links of a batch's span.
const maxLinks = 128

var tracer = otel.Tracer("vigie/projections")

var (
	meter            = otel.Meter("vigie/projections")
	appliedCount, _  = meter.Int64Counter("vigie.projection.applied", metric.WithDescription("events applied to read models"))
	parkedCount, _   = meter.Int64Counter("vigie.projection.parked", metric.WithDescription("events parked in a dead-letter list"))
	behindGauge, _   = meter.Int64Gauge("vigie.projection.behind", metric.WithDescription("events of the projection's streams in the log past its checkpoint (counted up to 10,000)"))
	behindMsGauge, _ = meter.Int64Gauge("vigie.projection.behind_ms", metric.WithUnit("ms"), metric.WithDescription("age of the oldest event of the projection's streams not yet applied"))
	lagHist, _       = meter.Float64Histogram("vigie.projection.lag", metric.WithUnit("ms"),
		metric.WithDescription("time from an event's append to its read model's commit"),
		metric.WithExplicitBucketBoundaries(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 30000))
)

// Run works until ctx ends: standby, active while it holds the lease, standby again
// when it loses it.
func (p *Projector) Run(ctx context.Context) error {
	p.setDefaults()
	name := p.Projection.Name()
	p.rebuildIfAheadOfLog(ctx)
	for {
		token, err := p.waitForLease(ctx)
		if err != nil {
			return nil // ctx ended
		}
		p.Log.Info("projection active", "projection", name, "token", token)
		err = p.follow(ctx, token, 0)
		p.active.Store(false)
		p.caughtUp.Store(false)
		if ctx.Err() != nil {
			// Leave the lease to a standby at once rather than after its TTL.
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = release(rctx, p.Redis, name, token)
			cancel()
			return nil
		}
		if !errors.Is(err, errLeaseLost) {
			p.Log.Error("projection stopped, standing by", "projection", name, "err", err)
			time.Sleep(p.LeaseTTL / 3) // do not spin on a failing Redis or store
		} else {
			p.Log.Warn("projection lease lost, standing by", "projection", name)
		}
	}
}

func (p *Projector) waitForLease(ctx context.Context) (string, error) {
	// Standbys try twice as often as the holder renews: a dead holder is replaced
	// within LeaseTTL + LeaseTTL/6 (3.5 s by default; the bound is 5 s).
	tick := time.NewTicker(p.LeaseTTL / 6)
	defer tick.Stop()
	for {
		token, ok, err := acquire(ctx, p.Redis, p.Projection.Name(), p.LeaseTTL)
		if err == nil && ok {
			return token, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// item is what the subscription hands the apply loop: an event, or a checkpoint past
// events the filter left out, or the news that it caught up.
type item struct {
	event      *Event      // decoded
	bad        *deadLetter // or undecodable, to park
	checkpoint store.Position
	caughtUp   bool
}

// follow applies the log to the model as the holder of token. version 0 means the
// model's current version; a rebuild passes its new one.
func (p *Projector) follow(ctx context.Context, token string, v int64) error {
	name := p.Projection.Name()
	if v == 0 {
		var err error
		if v, err = version(ctx, p.Redis, name); err != nil {
			return err
		}
	}
	return p.apply(ctx, KeysOf(name, v), func(ctx context.Context) error {
		return renew(ctx, p.Redis, name, token, p.LeaseTTL)
	}, func(tx *redis.Tx, ctx context.Context) error {
		cur, err := tx.Get(ctx, leaseKey(name)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if cur != token {
			return errLeaseLost
		}
		return nil
	}, []string{leaseKey(name)}, nil)
}

// apply runs the subscription and the batch loop. guard checks, inside the watched
// transaction, that this instance may still write; keepAlive runs between batches;
// onCaughtUp (may be nil) is told each time everything stored has been applied and
// may end the loop by returning errStop.
func (p *Projector) apply(ctx context.Context, k Keys, keepAlive func(context.Context) error, guard func(*redis.Tx, context.Context) error, watch []string, onCaughtUp func(context.Context) error) error {
	from, err := readCheckpoint(ctx, p.Redis, k)
	if err != nil {
		return err
	}
	var start *store.Position
	if from != (store.Position{}) {
		start = &from
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan item, 4*p.BatchSize)
	subErr := make(chan error, 1)
	go func() {
		subErr <- p.Store.Subscribe(subCtx, start, store.Filter{StreamPrefixes: p.Projection.StreamPrefixes()}, store.HandlerFuncs{
			OnEvent: func(ctx context.Context, e store.Recorded) error {
				select {
				case items <- p.decode(e):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			},
			OnCheckpoint: func(ctx context.Context, pos store.Position) error {
				select {
				case items <- item{checkpoint: pos}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			},
			OnCaughtUp: func(ctx context.Context) {
				select {
				case items <- item{caughtUp: true}:
				case <-ctx.Done():
				}
			},
		})
	}()
	p.active.Store(true)
	tick := time.NewTicker(p.LeaseTTL / 3)
	defer tick.Stop()
	checkpoint := from
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-subErr:
			return fmt.Errorf("projections: %s subscription: %w", k.name, err)
		case <-tick.C:
			if err := keepAlive(ctx); err != nil {
				return err
			}
			p.measureLag(ctx, checkpoint)
		case first := <-items:
			batch, pos, caughtUp := p.drain(first, items)
			if pos != (store.Position{}) && checkpoint.Less(pos) {
				if err := p.commit(ctx, k, batch, pos, guard, watch); err != nil {
					return err
				}
				checkpoint = pos
			}
			if caughtUp {
				p.caughtUp.Store(true)
				if onCaughtUp != nil {
					if err := onCaughtUp(ctx); err != nil {
						return err
					}
				}
			}
		}
	}
}

// drain gathers what is queued, up to a batch, so that a busy log is applied in large
// transactions and a quiet one at once.
func (p *Projector) drain(first item, items <-chan item) (batch []item, pos store.Position, caughtUp bool) {
	take := func(it item) {
		switch {
		case it.event != nil || it.bad != nil:
			batch = append(batch, it)
			pos = it.position()
		case it.caughtUp:
			caughtUp = true
		default:
			if pos.Less(it.checkpoint) {
				pos = it.checkpoint
			}
		}
	}
	take(first)
	for len(batch) < p.BatchSize && !caughtUp {
		select {
		case it := <-items:
			take(it)
		default:
			return batch, pos, caughtUp
		}
	}
	return batch, pos, caughtUp
}

// deadLetter is one parked event.
type deadLetter struct {
	Position store.Position `json:"position"`
	StreamID string         `json:"streamId"`
	Type     string         `json:"type"`
	Reason   string         `json:"reason"`
	At       time.Time      `json:"at"`
}

// maxDeadLetters bounds the list: enough to diagnose, never unbounded.
const maxDeadLetters = 10_000

// commit applies a batch and moves the checkpoint to pos in one transaction. An event
// that cannot be decoded or applied is parked with its reason and the rest goes on.
func (p *Projector) commit(ctx context.Context, k Keys, items []item, pos store.Position, guard func(*redis.Tx, context.Context) error, watch []string) error {
	batch := make([]Event, 0, len(items))
	var parked []deadLetter
	for _, it := range items {
		if it.bad != nil {
			parked = append(parked, *it.bad)
			continue
		}
		batch = append(batch, *it.event)
	}
	// One span per batch, linked to the trace of every event it applies: the
	// after-action review can follow a command to the board that showed it.
	links := make([]trace.Link, 0, min(len(batch), maxLinks))
	for _, e := range batch[:min(len(batch), maxLinks)] {
		if sc := trace.SpanContextFromContext(command.ContextWithRemoteSpan(ctx, e.Meta)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	ctx, span := tracer.Start(ctx, "project "+k.name, trace.WithLinks(links...),
		trace.WithAttributes(attribute.String("vigie.projection", k.name), attribute.Int("vigie.batch.events", len(batch))))
	defer span.End()
	notices, err := p.tx(ctx, k, batch, parked, pos, guard, watch)
	var applyErr applyError
	if errors.As(err, &applyErr) {
		// Find the event at fault: one transaction per event, parking the failing one.
		notices = nil
		for i, e := range batch {
			at := e.Position
			if i == len(batch)-1 {
				at = pos
			}
			var lead []deadLetter
			if i == 0 {
				lead = parked
			}
			n, err := p.tx(ctx, k, batch[i:i+1], lead, at, guard, watch)
			if errors.As(err, &applyErr) {
				lead = append(lead, deadLetter{Position: e.Position, StreamID: e.StreamID, Type: e.Type, Reason: applyErr.err.Error(), At: time.Now().UTC()})
				parked = append(parked, lead[len(lead)-1])
				n, err = p.tx(ctx, k, nil, lead, at, guard, watch)
			}
			if err != nil {
				return err
			}
			notices = append(notices, n...)
		}
	} else if err != nil {
		return err
	}
	name := k.name
	for _, d := range parked {
		p.Log.Warn("event parked", "projection", name, "stream", d.StreamID, "type", d.Type, "position", d.Position.String(), "reason", d.Reason)
	}
	attrs := metric.WithAttributes(attribute.String("projection", name))
	appliedCount.Add(ctx, int64(len(batch)), attrs)
	p.applied.Add(uint64(len(batch)))
	if len(parked) > 0 {
		parkedCount.Add(ctx, int64(len(parked)), attrs)
		p.parked.Add(uint64(len(parked)))
	}
	if n := len(batch); n > 0 {
		last := batch[n-1].Created
		p.lastSeen.Store(last.UnixMilli())
		lagHist.Record(ctx, float64(time.Since(last).Microseconds())/1000, attrs)
	}
	// Committed: the notices must go out even if the projector is being stopped.
	if !p.silent {
		p.publish(context.WithoutCancel(ctx), notices)
	}
	return nil
}

type applyError struct{ err error }

func (e applyError) Error() string { return e.err.Error() }

// tx is one watched transaction: guard, the projection's writes, parked events and the
// checkpoint, all or nothing.
func (p *Projector) tx(ctx context.Context, k Keys, batch []Event, parked []deadLetter, pos store.Position, guard func(*redis.Tx, context.Context) error, watch []string) ([]Notice, error) {
	var notices []Notice
	err := p.Redis.Watch(ctx, func(tx *redis.Tx) error {
		if err := guard(tx, ctx); err != nil {
			return err
		}
		w := tx.TxPipeline()
		m := &Model{Keys: k, R: tx, W: w}
		if len(batch) > 0 {
			if err := p.Projection.Apply(ctx, m, batch); err != nil {
				w.Discard()
				return applyError{err}
			}
		}
		for _, d := range parked {
			b, _ := json.Marshal(d)
			w.RPush(ctx, deadLetterKey(k.name), b)
		}
		if len(parked) > 0 {
			w.LTrim(ctx, deadLetterKey(k.name), -maxDeadLetters, -1)
		}
		writeCheckpoint(ctx, w, k, pos)
		_, err := w.Exec(ctx)
		notices = m.notices
		return err
	}, watch...)
	if errors.Is(err, redis.TxFailedErr) {
		return nil, errLeaseLost
	}
	return notices, err
}

// publish tells the gateways what changed, after the commit: a notice never announces
// a change a query cannot see yet.
func (p *Projector) publish(ctx context.Context, notices []Notice) {
	if len(notices) == 0 {
		return
	}
	pipe := p.Redis.Pipeline()
	for _, n := range notices {
		n.Projection = p.Projection.Name()
		b, _ := json.Marshal(n)
		pipe.Publish(ctx, NoticeChannelIn(p.Namespace, n.Domain), b)
		if dep := departement(n.Domain); dep != n.Domain {
			pipe.Publish(ctx, NoticeChannelIn(p.Namespace, dep), b)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// Notices are hints to refresh; the model itself is committed.
		p.Log.Warn("publishing notices failed", "projection", p.Projection.Name(), "err", err)
	}
}

// departement is the département part of a commune's domain ("dep:30/com:30189" →
// "dep:30").
func departement(domain string) string { return territory.DepartementOf(domain) }

// DeadLetters returns the parked events of a read model, oldest first (at most max).
func DeadLetters(ctx context.Context, rdb redis.Cmdable, name string, max int64) ([]json.RawMessage, error) {
	vals, err := rdb.LRange(ctx, deadLetterKey(name), 0, max-1).Result()
	out := make([]json.RawMessage, len(vals))
	for i, v := range vals {
		out[i] = json.RawMessage(v)
	}
	return out, err
}

// Registry is a helper for projections: a registry of the given event registrations.
func Registry(register ...func(*events.Registry) error) (*events.Registry, error) {
	reg := events.NewRegistry()
	for _, r := range register {
		if err := r(reg); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// decode turns a recorded event into what the batch loop applies. It runs on the
// subscription's goroutine, so decoding overlaps the batch loop's waits on Redis.
func (p *Projector) decode(r store.Recorded) item {
	e, md, err := p.Projection.Registry().Decode(r.Type, r.Data, r.Metadata)
	if err != nil {
		return item{bad: &deadLetter{Position: r.Position, StreamID: r.StreamID, Type: r.Type, Reason: err.Error(), At: time.Now().UTC()}}
	}
	return item{event: &Event{Position: r.Position, StreamID: r.StreamID, Revision: r.Revision, Type: r.Type, Created: r.Created, Event: e, Meta: md}}
}

func (it item) position() store.Position {
	if it.bad != nil {
		return it.bad.Position
	}
	return it.event.Position
}

// maxBehind bounds the count of events behind: past it the projection is simply far
// behind, and counting further would cost a read of the whole backlog every second.
const maxBehind = 10_000

// measureLag records how far the model is behind the head of the log: the events of
// its streams past the checkpoint, and the age of the oldest of them. Positions are
// only compared, never subtracted (a real server's positions are byte offsets).
func (p *Projector) measureLag(ctx context.Context, checkpoint store.Position) {
	var from store.AllFrom = store.Start
	if checkpoint != (store.Position{}) {
		from = checkpoint
	}
	var behind int64
	var oldest time.Time
	prefixes := p.Projection.StreamPrefixes()
	errEnough := errors.New("enough")
	err := p.Store.ReadAllFunc(ctx, from, store.Forwards, maxBehind+1, func(r store.Recorded) error {
		if !checkpoint.Less(r.Position) || r.System() {
			return nil
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(r.StreamID, prefix) {
				if behind == 0 {
					oldest = r.Created
				}
				if behind++; behind >= maxBehind {
					return errEnough
				}
				break
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return
	}
	attrs := metric.WithAttributes(attribute.String("projection", p.Projection.Name()))
	behindGauge.Record(ctx, behind, attrs)
	var ms int64
	if behind > 0 {
		ms = time.Since(oldest).Milliseconds()
	}
	behindMsGauge.Record(ctx, ms, attrs)
	p.behind.Store(behind)
}

// rebuildIfAheadOfLog rebuilds the read model when it has applied events the log no
// longer holds: the event store was restored from a backup older than the model (or
// replaced). Following it from its checkpoint would skip every new event up to that
// position and keep showing what the log lost. Of several projectors starting
// together, one rebuilds; the others find the rebuild running and follow the new
// version once it is switched.
func (p *Projector) rebuildIfAheadOfLog(ctx context.Context) {
	name := p.Projection.Name()
	_, applied, err := Current(ctx, p.Redis, "", name)
	if err != nil || applied == (store.Position{}) {
		return
	}
	head, err := p.Store.ReadAll(ctx, store.End, store.Backwards, 1)
	if err != nil || len(head) > 0 && !head[0].Position.Less(applied) {
		return
	}
	p.Log.Warn("read model is ahead of the log (restored from an older backup?): rebuilding it from the log", "projection", name, "applied", applied.String())
	if _, err := p.Rebuild(ctx); err != nil && !errors.Is(err, ErrRebuildRunning) && ctx.Err() == nil {
		p.Log.Error("rebuild after a restore failed", "projection", name, "err", err)
	}
}
