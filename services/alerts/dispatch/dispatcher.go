package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/resident"
)

// Channels sent once per message rather than once per resident.
var perMessage = []string{string(alert.ChannelWebhook), string(alert.ChannelCAPFeed), string(alert.ChannelFrAlert)}

// System is the actor the dispatcher records its events as.
var System = events.Actor{Subject: "vigie-dispatcher", Role: "system"}

// CategoryDispatch is the category of the dispatch journals, dispatch-<alertId>.
const CategoryDispatch = "dispatch"

// Dispatcher sends approved alerts to the residents of their area over every
// channel of the alert, and records what it did:
//   - AlertDispatchStarted, AlertSent and AlertDispatchFailed in the alert's stream;
//   - one DeliveriesRecorded per channel and bucket of recipients in the alert's
//     dispatch journal (dispatch-<alertId>), appended at the journal's exact
//     revision, so a bucket is counted once however many times it was sent.
//
// After a crash it resumes at the buckets not recorded yet. A bucket interrupted
// mid-send is sent again with the same delivery ids, which providers take as
// idempotency keys (and e-mail as its Message-ID): a resident gets one message.
type Dispatcher struct {
	Store    *store.Client
	Registry *events.Registry
	// Senders by channel name (SMS, VOICE, EMAIL, PUSH, WEBHOOK, FR_ALERT); a
	// channel without one fails, recorded. CAP_FEED needs none: the gateway
	// publishes the feed from the alerts board.
	Senders     map[string]channel.Sender
	Buckets     int // recipients are split in this many buckets; 64 when zero
	Concurrency int // messages in flight; 64 when zero
	Log         *slog.Logger
	Now         func() time.Time

	dir     *Directory
	sem     chan struct{} // messages in flight, over every bucket being sent
	journal sync.Mutex    // this process's appends to journals, one at a time: no self-conflicts
	mu      sync.Mutex
	alerts  map[string]*tracked
	wake    chan struct{}
	handler *command.Handler[*alert.Alert]
	caught  atomic.Bool
}

// tracked is what the dispatcher knows of one alert: its state, and its journal.
type tracked struct {
	state   *alert.Alert
	started map[string]bool // identifiers whose dispatch started
	sent    map[string]bool // identifiers recorded sent
	failed  map[string]bool // identifier/channel failures recorded
	done    map[string]bool // identifier/channel/bucket recorded
	journal int64           // last revision of dispatch-<id> seen, -1 none
}

var (
	meter         = otel.Meter("vigie/dispatch")
	deliveries, _ = meter.Int64Counter("vigie.dispatch.messages", metric.WithDescription("messages handed to providers, by channel and outcome"))
)

// Bucket is the bucket of a resident id among n: stable, so a resumed dispatch
// sends the same residents in the same buckets.
func Bucket(id string, n int) int { return int(hashID(id) % uint32(n)) }

func hashID(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

// DeliveryID names one message to one resident on one channel: the provider's
// idempotency key. It reveals nothing of the resident.
func DeliveryID(identifier, ch, residentID string) string {
	s := sha256.Sum256([]byte(identifier + "\x00" + ch + "\x00" + residentID))
	return hex.EncodeToString(s[:16])
}

// Directory returns the dispatcher's residents (for tests and benchmarks).
func (d *Dispatcher) Directory() *Directory { return d.dir }

// CaughtUp reports whether the dispatcher has read the log up to now once.
func (d *Dispatcher) CaughtUp() bool { return d.caught.Load() }

func (d *Dispatcher) init() {
	if d.Buckets == 0 {
		d.Buckets = 64
	}
	if d.Concurrency == 0 {
		d.Concurrency = 64
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.dir = NewDirectory()
	d.sem = make(chan struct{}, d.Concurrency)
	d.alerts = map[string]*tracked{}
	d.wake = make(chan struct{}, 1)
	d.handler = &command.Handler[*alert.Alert]{Store: d.Store, Registry: d.Registry, Now: d.Now, New: func() *alert.Alert { return &alert.Alert{} }}
}

// Run follows the log and dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		err := d.Store.Subscribe(ctx, nil, store.Filter{StreamPrefixes: []string{"resident-", "residentkey-", "alert-", CategoryDispatch + "-"}}, store.HandlerFuncs{
			OnEvent:    d.observe,
			OnCaughtUp: func(context.Context) { d.caught.Store(true); d.poke() },
		})
		cancel(err)
	}()
	// Expiries fall due with time, not with an event: look every few seconds.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return ctx.Err()
		case <-d.wake:
		case <-tick.C:
		}
		if !d.caught.Load() {
			continue
		}
		for _, id := range d.pending() {
			if err := d.dispatch(ctx, id); err != nil && ctx.Err() == nil {
				d.Log.Warn("dispatch: will retry", "alert", id, "err", err)
				time.AfterFunc(time.Second, d.poke)
			}
		}
	}
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// observe keeps the directory and the alerts' states current.
func (d *Dispatcher) observe(_ context.Context, r store.Recorded) error {
	e, _, err := d.Registry.Decode(r.Type, r.Data, r.Metadata)
	if err != nil {
		if errors.Is(err, events.ErrUnknownEventType) {
			return nil
		}
		return err
	}
	switch ev := e.(type) {
	case resident.ResidentKeyIssued:
		d.dir.key(ev)
		return nil
	case resident.ResidentRegistered:
		d.dir.register(ev)
		return nil
	case resident.ResidentErased:
		d.dir.erase(strings.TrimPrefix(r.StreamID, events.CategoryResident+"-"))
		return nil
	}
	cat := events.Category(r.StreamID)
	id := strings.TrimPrefix(r.StreamID, cat+"-")
	d.mu.Lock()
	t := d.alerts[id]
	if t == nil {
		t = &tracked{state: &alert.Alert{}, started: map[string]bool{}, sent: map[string]bool{}, failed: map[string]bool{}, done: map[string]bool{}, journal: -1}
		d.alerts[id] = t
	}
	if cat == CategoryDispatch {
		t.journal = max(t.journal, int64(r.Revision))
	} else {
		t.state.Apply(e)
	}
	t.note(e)
	d.mu.Unlock()
	d.poke()
	return nil
}

func (t *tracked) note(e events.Event) {
	switch ev := e.(type) {
	case alert.AlertDispatchStarted:
		t.started[ev.Identifier] = true
	case alert.AlertSent:
		t.sent[ev.Identifier] = true
	case alert.AlertDispatchFailed:
		t.failed[ev.Identifier+"/"+string(ev.Channel)] = true
	case alert.DeliveriesRecorded:
		t.done[doneKey(ev.Identifier, string(ev.Channel), ev.Bucket)] = true
	}
}

func doneKey(identifier, ch string, bucket int) string {
	return fmt.Sprintf("%s/%s/%d", identifier, ch, bucket)
}

// pending lists the alerts with something left to send, oldest first.
func (d *Dispatcher) pending() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id, t := range d.alerts {
		if len(d.work(t)) > 0 || d.needsStart(t) || d.needsSent(t) || d.dueToExpire(t) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// message is the latest approved message of the alert when it is to be sent.
func message(t *tracked) (alert.Message, bool) {
	s := t.state
	if !s.Exists() || s.Cancelled() || s.Expired() {
		return alert.Message{}, false
	}
	m, ok := s.LatestMessage()
	if !ok || m.MsgType == alert.MsgTypeCancel {
		return alert.Message{}, false
	}
	return m, true
}

// dueToExpire: the alert's expiry has passed and is not recorded yet.
func (d *Dispatcher) dueToExpire(t *tracked) bool {
	s := t.state
	if !s.Exists() || s.Cancelled() || s.Expired() {
		return false
	}
	exp := s.Content().Expires
	return exp != nil && !exp.After(d.Now())
}

func (d *Dispatcher) needsStart(t *tracked) bool {
	m, ok := message(t)
	return ok && !t.started[m.Identifier]
}

func (d *Dispatcher) needsSent(t *tracked) bool {
	m, ok := message(t)
	return ok && t.started[m.Identifier] && !t.sent[m.Identifier] && len(d.communeWork(t, m)) == 0
}

type unit struct {
	channel string
	bucket  int
}

// work lists the channel buckets of the latest message not recorded yet.
func (d *Dispatcher) work(t *tracked) []unit {
	m, ok := message(t)
	if !ok || !t.started[m.Identifier] {
		return nil
	}
	out := d.communeWork(t, m)
	// Cell broadcast is the State's: it goes once the prefecture validated, and
	// never for an exercise.
	if t.state.Has(alert.ChannelFrAlert) && t.state.FrAlert() == alert.FrAlertStateValidated && !t.state.Exercise() &&
		!t.done[doneKey(m.Identifier, string(alert.ChannelFrAlert), 0)] && !t.failed[m.Identifier+"/"+string(alert.ChannelFrAlert)] {
		out = append(out, unit{string(alert.ChannelFrAlert), 0})
	}
	return out
}

// communeWork is the commune's own channels left to send for m.
func (d *Dispatcher) communeWork(t *tracked, m alert.Message) []unit {
	var out []unit
	for _, c := range t.state.Channels() {
		ch := string(c)
		if ch == string(alert.ChannelFrAlert) || t.failed[m.Identifier+"/"+ch] {
			continue
		}
		n := d.Buckets
		if slices.Contains(perMessage, ch) {
			n = 1
		}
		for b := range n {
			if !t.done[doneKey(m.Identifier, ch, b)] {
				out = append(out, unit{ch, b})
			}
		}
	}
	return out
}

// snapshot copies what dispatch needs of an alert, under the lock.
type snapshot struct {
	id, domain string
	content    alert.Content
	channels   []alert.Channel
	exercise   bool
	message    alert.Message
	start      bool
	units      []unit
	finish     bool
	journal    int64
}

func (d *Dispatcher) snapshot(id string) (snapshot, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.alerts[id]
	m, ok := message(t)
	if !ok {
		return snapshot{}, false
	}
	s := t.state
	return snapshot{id: id, domain: s.Domain(), content: s.Content(), channels: s.Channels(), exercise: s.Exercise(), message: m,
		start: !t.started[m.Identifier], units: d.work(t), finish: d.needsSent(t), journal: t.journal}, true
}

func (d *Dispatcher) dispatch(ctx context.Context, id string) error {
	d.mu.Lock()
	expire := d.dueToExpire(d.alerts[id])
	d.mu.Unlock()
	if expire {
		// What has not gone out by its expiry must not go out after it.
		return d.onAlert(ctx, id, "ExpireAlert", "expire", func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.Expire(by, at)
		})
	}
	snap, ok := d.snapshot(id)
	if !ok {
		return nil
	}
	if snap.start {
		counts := map[string]int{}
		for _, c := range snap.channels {
			if slices.Contains(perMessage, string(c)) {
				counts[string(c)] = 1
			} else {
				counts[string(c)] = d.dir.Count(snap.domain, snap.content.Polygon, string(c))
			}
		}
		if err := d.onAlert(ctx, id, "StartDispatch", "start-"+snap.message.Identifier, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.StartDispatch(snap.message.Identifier, counts, by, at)
		}); err != nil {
			return err
		}
		// The journal's view comes back through the subscription; go on from there.
		return d.waitAndRetry()
	}
	if err := d.sendAll(ctx, snap); err != nil {
		return err
	}
	if snap.finish || len(snap.units) > 0 {
		snap, ok = d.snapshot(id)
		if ok && snap.finish {
			return d.onAlert(ctx, id, "MarkAlertSent", "sent-"+snap.message.Identifier, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
				return a.MarkSent(snap.message.Identifier, by, at)
			})
		}
	}
	return nil
}

// waitAndRetry asks for another pass once the subscription has delivered what
// the dispatcher just appended.
func (d *Dispatcher) waitAndRetry() error {
	time.AfterFunc(20*time.Millisecond, d.poke)
	return nil
}

// onAlert runs one of the dispatcher's commands on the alert's stream; a refusal
// means someone else (a cancellation, another dispatcher) got there first.
func (d *Dispatcher) onAlert(ctx context.Context, id, name, commandID string, decide func(*alert.Alert, events.Actor, time.Time) ([]events.Event, error)) error {
	_, err := d.handler.Handle(ctx, command.Command[*alert.Alert]{
		Name: name, Stream: events.StreamID(events.CategoryAlert, id), CommandID: commandID,
		Authorize: func(a *alert.Alert) (events.Actor, string, error) { return System, a.Domain(), nil },
		Decide:    decide,
	})
	var refused *command.RefusedError
	if errors.As(err, &refused) {
		d.Log.Info("dispatch: not applicable any more", "alert", id, "command", name, "reason", refused.Err.Error())
		return nil
	}
	return err
}

// unitsInFlight bounds the buckets sent at once: enough to keep every provider busy
// while one bucket waits for its slowest messages, few enough that a crash resends
// little.
const unitsInFlight = 8

// sendAll sends the snapshot's buckets, several at once, every channel together.
func (d *Dispatcher) sendAll(ctx context.Context, snap snapshot) error {
	lim := make(chan struct{}, unitsInFlight)
	errs := make(chan error, len(snap.units))
	var wg sync.WaitGroup
	for _, u := range interleave(snap.units) {
		select {
		case lim <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-lim; wg.Done() }()
			if err := d.send(ctx, snap, u); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := ctx.Err(); err != nil {
		return err
	}
	return <-errs // nil when none failed
}

// interleave orders the buckets channel by channel in turn (SMS 0, EMAIL 0, SMS 1…),
// so that every provider works at once and every channel progresses together.
func interleave(units []unit) []unit {
	by := map[string][]unit{}
	var order []string
	for _, u := range units {
		if by[u.channel] == nil {
			order = append(order, u.channel)
		}
		by[u.channel] = append(by[u.channel], u)
	}
	out := make([]unit, 0, len(units))
	for i := 0; len(out) < len(units); i++ {
		for _, ch := range order {
			if i < len(by[ch]) {
				out = append(out, by[ch][i])
			}
		}
	}
	return out
}

// send sends one bucket of one channel and records it.
func (d *Dispatcher) send(ctx context.Context, snap snapshot, u unit) error {
	sender := d.Senders[u.channel]
	if u.channel == string(alert.ChannelCAPFeed) {
		// Publishing is the board's: the alert is in the feed once approved.
		return d.record(ctx, snap, u, 1, 1, 0)
	}
	if sender == nil {
		return d.onAlert(ctx, snap.id, "RecordDispatchFailure", "fail-"+snap.message.Identifier+"-"+u.channel, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.RecordDispatchFailure(snap.message.Identifier, alert.Channel(u.channel), "no provider configured for "+u.channel, by, at)
		})
	}
	var msgs []channel.Message
	if slices.Contains(perMessage, u.channel) {
		msgs = []channel.Message{d.compose(snap, u.channel, "", nil)}
	} else {
		for _, r := range d.dir.Targets(snap.domain, snap.content.Polygon, u.channel, u.bucket, d.Buckets) {
			msgs = append(msgs, d.compose(snap, u.channel, r.ID, r))
		}
	}
	var sent, delivered, failed atomic.Int64
	var wg sync.WaitGroup
	for _, m := range msgs {
		select {
		case d.sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-d.sem; wg.Done() }()
			res, err := sender.Send(ctx, m)
			sent.Add(1)
			outcome := "delivered"
			switch {
			case err != nil:
				failed.Add(1)
				outcome = "failed"
			case res.Delivered:
				delivered.Add(1)
			default:
				outcome = "accepted"
			}
			deliveries.Add(ctx, 1, metric.WithAttributes(attribute.String("channel", u.channel), attribute.String("outcome", outcome)))
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err // the bucket is sent again on the next run, with the same ids
	}
	return d.record(ctx, snap, u, int(sent.Load()), int(delivered.Load()), int(failed.Load()))
}

// compose writes the message a resident (or a partner, for per-message channels)
// receives. An exercise's texts already start with EXERCICE (the domain adds it).
func (d *Dispatcher) compose(snap snapshot, ch, residentID string, r *Recipient) channel.Message {
	c := snap.content
	m := channel.Message{
		DeliveryID: DeliveryID(snap.message.Identifier, ch, residentID),
		Channel:    ch, Language: c.Language, AlertID: snap.id, Identifier: snap.message.Identifier, Exercise: snap.exercise,
		Subject: c.Headline,
	}
	switch ch {
	case string(alert.ChannelEmail):
		m.Body = c.Headline + "\n\n" + c.Description + "\n\n" + c.Instruction + "\n"
	default:
		m.Body = strings.TrimSpace(c.Headline + ". " + c.Instruction)
	}
	if r != nil {
		m.Language = r.Language
		switch ch {
		case string(alert.ChannelEmail):
			m.To = r.Contact.Email
		case string(alert.ChannelSMS), string(alert.ChannelVoice):
			m.To = r.Contact.Phone
		default:
			m.To = r.ID
		}
	}
	return m
}

// record appends the bucket's counts to the journal at its exact revision: if
// another dispatcher recorded it meanwhile, the conflict tells, and it is not
// counted twice.
func (d *Dispatcher) record(ctx context.Context, snap snapshot, u unit, sent, delivered, failed int) error {
	ev := alert.DeliveriesRecorded{AlertID: snap.id, Domain: snap.domain, Identifier: snap.message.Identifier, Channel: alert.Channel(u.channel),
		Bucket: u.bucket, Sent: sent, Delivered: delivered, Failed: failed, At: d.Now()}
	commandID := doneKey(snap.message.Identifier, u.channel, u.bucket)
	stream := events.StreamID(CategoryDispatch, snap.id)
	md := events.NewMetadata(commandID, System, snap.domain, ev.At)
	md.EventID = command.EventID(stream, System.Subject, commandID, 0).String()
	env, err := d.Registry.Encode(ctx, ev, md)
	if err != nil {
		return err
	}
	data := store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
	d.journal.Lock()
	defer d.journal.Unlock()
	for range 10 {
		d.mu.Lock()
		t := d.alerts[snap.id]
		if t.done[commandID] {
			d.mu.Unlock()
			return nil
		}
		rev := t.journal
		d.mu.Unlock()
		expected := store.NoStream()
		if rev >= 0 {
			expected = store.Exact(uint64(rev))
		}
		res, err := d.Store.Append(ctx, stream, expected, data)
		if err == nil {
			d.mu.Lock()
			t.done[commandID] = true
			t.journal = max(t.journal, int64(res.NextRevision))
			d.mu.Unlock()
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err := d.refreshJournal(ctx, snap.id); err != nil {
			return err
		}
	}
	return fmt.Errorf("dispatch: journal of %s: %w", snap.id, command.ErrTooManyConflicts)
}

// refreshJournal reads the journal from the store, ahead of the subscription.
func (d *Dispatcher) refreshJournal(ctx context.Context, id string) error {
	recs, err := d.Store.ReadStream(ctx, events.StreamID(CategoryDispatch, id), store.Start, store.Forwards, store.NoLimit)
	if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.alerts[id]
	for _, r := range recs {
		e, _, err := d.Registry.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			continue
		}
		t.note(e)
		t.journal = max(t.journal, int64(r.Revision))
	}
	return nil
}
