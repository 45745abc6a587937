package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"strconv"
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

// CategoryDispatch is the category of the dispatch journals, dispatch-<alertId>
// (the alert's contract names it).
const CategoryDispatch = alert.DispatchCategory

// Dispatcher sends approved alerts to the residents of their area over every
// channel of the alert, and records what it did:
//   - AlertDispatchStarted, AlertSent and AlertDispatchFailed in the alert's stream;
//   - one DeliveriesRecorded per channel and bucket of recipients in the alert's
//     dispatch journal (dispatch-<alertId>), appended at the journal's exact
//     revision, so a bucket is counted once however many times it was sent.
//
// It sends only the published content (the last approved version), never a
// revision waiting for approval. A message goes to the residents registered
// before its dispatch started (and, for an exercise, only to those who agreed
// to exercises): who received what is thus known from the log alone, and when
// the alert is cancelled, the cancellation goes to exactly them, minus those
// the provider refused, through the same journal and delivery ids.
//
// After a crash it resumes at the buckets not recorded yet. A bucket interrupted
// mid-send is sent again with the same delivery ids, which providers take as
// idempotency keys (and e-mail as its Message-ID): a resident gets one message.
type Dispatcher struct {
	Store    *store.Client
	Registry *events.Registry
	// Senders by channel name (SMS, VOICE, EMAIL, PUSH, WEBHOOK, FR_ALERT); a
	// channel without one fails, recorded. CAP_FEED needs none: the gateway
	// publishes the feed from the alerts board. Without a FR_ALERT sender (no
	// intake), the prefecture broadcasts on the State's platform and confirms:
	// the dispatcher leaves FR_ALERT to it.
	Senders     map[string]channel.Sender
	Buckets     int // recipients are split in this many buckets; 64 when zero
	Concurrency int // messages in flight; 64 when zero
	Log         *slog.Logger
	Now         func() time.Time
	// Keys unwraps the residents' keys (the KEK of `vigie serve`/`serve alerts`);
	// nil is the process's ephemeral KEK, good for tests only.
	Keys resident.KeyWrapper

	dirOnce sync.Once
	dir     *Directory
	sem     chan struct{} // messages in flight, over every bucket being sent
	journal sync.Mutex    // this process's appends to journals, one at a time: no self-conflicts
	mu      sync.Mutex
	alerts  map[string]*tracked
	wake    chan struct{}
	handler *command.Handler[*alert.Alert]
	caught  atomic.Bool

	keyEvents  *events.Registry // decodes residentkey streams
	unknownKEK map[string]bool  // KEK ids already reported missing (observe's goroutine only)
}

// tracked is what the dispatcher knows of one alert: its state, and its journal.
type tracked struct {
	state     *alert.Alert
	starts    map[string]*start          // identifiers whose dispatch started
	sent      map[string]bool            // identifiers recorded sent
	failed    map[string]bool            // identifier/channel failures recorded
	done      map[string]bool            // identifier/channel/bucket recorded
	delivered map[string]bool            // identifier/channel: a bucket delivered at least one message
	refused   map[string]map[string]bool // identifier/channel → residents the provider refused
	// cancelID is the CAP Cancel's identifier once the alert is cancelled after
	// a message went out; reason is why.
	cancelID, reason string
	journal          int64 // last revision of dispatch-<id> seen, -1 none
}

// start is one message whose dispatch started, as it was then: the alert's
// state moves on (a revision, a cancellation), the message's recipients do not.
type start struct {
	position   uint64 // commit position of its AlertDispatchStarted
	content    alert.Content
	channels   []alert.Channel
	exercise   bool
	manual     []alert.Channel
	recipients map[string]int
}

func newTracked() *tracked {
	return &tracked{state: &alert.Alert{}, starts: map[string]*start{}, sent: map[string]bool{}, failed: map[string]bool{},
		done: map[string]bool{}, delivered: map[string]bool{}, refused: map[string]map[string]bool{}, journal: -1}
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

// Directory returns the dispatcher's residents. It exists before Run, so that
// the alerts service can count an audience with it (alerts.Service.Audience);
// it counts nobody until the dispatcher has read the log once.
func (d *Dispatcher) Directory() *Directory {
	d.dirOnce.Do(func() { d.dir = NewDirectory() })
	return d.dir
}

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
	d.Directory()
	d.keyEvents = d.Registry
	if _, ok := d.Registry.Version(resident.ResidentKeyWrapped{}.EventType()); !ok {
		d.keyEvents, _ = resident.KeyRegistry() // fails only on a programming error, caught by every test
	}
	d.unknownKEK = map[string]bool{}
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
		err := d.Store.Subscribe(ctx, nil, store.Filter{StreamPrefixes: []string{events.Prefix(events.CategoryResident), events.Prefix(events.CategoryResidentKey), events.Prefix(events.CategoryAlert), events.Prefix(events.CategoryDispatch)}}, store.HandlerFuncs{
			OnEvent: d.observe,
			OnCaughtUp: func(context.Context) {
				d.caught.Store(true)
				d.dir.caught.Store(true)
				d.poke()
			},
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
		// One alert at a time: when a cancellation is computed, nothing of the
		// alert's earlier messages is still being sent by this process.
		for _, id := range d.pending() {
			if err := d.dispatch(ctx, id); err != nil && ctx.Err() == nil {
				d.Log.Warn("dispatch: will retry", "alert", id, "err", err)
				time.AfterFunc(time.Second, d.poke)
			}
		}
	}
}

// observeKey unwraps a resident's key (or takes the clear key of a log written
// before keys were wrapped) for the directory. A key this process cannot
// unwrap leaves the resident out, and says so once per KEK: it is the mark of
// a KEK file missing (a restore without it, another installation's file).
func (d *Dispatcher) observeKey(r store.Recorded) {
	e, _, err := d.keyEvents.Decode(r.Type, r.Data, r.Metadata)
	if err != nil {
		d.Log.Error("dispatch: unreadable key event", "stream", r.StreamID, "type", r.Type, "err", err)
		return
	}
	keys := d.Keys
	if keys == nil {
		ring, err := resident.EphemeralKeyring()
		if err != nil {
			d.Log.Error("dispatch: no key-encryption key", "err", err)
			return
		}
		keys = ring
	}
	id, key, kekID, err := resident.OpenKey(keys, e)
	if err != nil {
		if d.dir.Still(id) {
			return // already open: a rotation re-wrapped a key this process read before
		}
		if !d.unknownKEK[kekID] {
			d.unknownKEK[kekID] = true
			d.Log.Error("dispatch: residents' keys this process cannot unwrap: they will not be contacted; is the right KEK file given (VIGIE_RESIDENT_KEK_FILE, README)?",
				"kek", kekID, "first", r.StreamID, "err", err)
		}
		return
	}
	d.dir.key(id, key)
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// observe keeps the directory and the alerts' states current.
func (d *Dispatcher) observe(_ context.Context, r store.Recorded) error {
	if events.Category(r.StreamID) == resident.KeyCategory {
		d.observeKey(r)
		return nil
	}
	e, _, err := d.Registry.Decode(r.Type, r.Data, r.Metadata)
	if err != nil {
		if errors.Is(err, events.ErrUnknownEventType) {
			return nil
		}
		return err
	}
	if d.observeResident(e, r) {
		return nil
	}
	cat := events.Category(r.StreamID)
	id := strings.TrimPrefix(r.StreamID, cat+"-")
	d.mu.Lock()
	t := d.alerts[id]
	if t == nil {
		t = newTracked()
		d.alerts[id] = t
	}
	if cat == CategoryDispatch {
		t.journal = max(t.journal, int64(r.Revision))
	} else {
		t.state.Apply(e)
	}
	t.note(e, r.Position.Commit)
	d.mu.Unlock()
	d.poke()
	return nil
}

// observeResident keeps the directory current with an event of the residents'
// contract, and reports whether e is one: every event type of it is named below,
// handled or left out on purpose, so that a new one is never taken for an
// alert's (an exhaustiveness test walks the contract's list).
func (d *Dispatcher) observeResident(e events.Event, r store.Recorded) bool {
	switch ev := e.(type) {
	case resident.ResidentRegistered:
		d.dir.register(ev, r.Position.Commit)
	case resident.ResidentErased:
		d.dir.erase(strings.TrimPrefix(r.StreamID, events.CategoryResident+"-"))
	case resident.ResidentKeyIssued, resident.ResidentKeyWrapped:
		// The keys are read from their own streams by observeKey, before any
		// decoding here; one found elsewhere opens nothing.
	default:
		return false
	}
	return true
}

// note records what the dispatcher needs of e, whose commit position is
// position. The alert's state has already applied e: at an
// AlertDispatchStarted, its published content is that of the message
// starting (the domain starts only the latest approved message). It reports
// whether e is an event of the alert's contract: every event type of it is named
// below, noted or left to the state on purpose.
func (t *tracked) note(e events.Event, position uint64) bool {
	switch ev := e.(type) {
	case alert.AlertDispatchStarted:
		if t.starts[ev.Identifier] != nil {
			return true
		}
		st := &start{position: position, exercise: t.state.Exercise(), manual: slices.Clone(ev.Manual), recipients: maps.Clone(ev.Recipients)}
		if p, ok := t.state.Published(); ok {
			st.content, st.channels = p.Content, p.Channels
		}
		t.starts[ev.Identifier] = st
	case alert.AlertSent:
		t.sent[ev.Identifier] = true
	case alert.AlertDispatchFailed:
		t.failed[ev.Identifier+"/"+string(ev.Channel)] = true
	case alert.AlertCancelled:
		if ev.Message != nil {
			t.cancelID, t.reason = ev.Message.Identifier, ev.Reason
		}
	case alert.DeliveriesRecorded:
		t.done[doneKey(ev.Identifier, string(ev.Channel), ev.Bucket)] = true
		key := ev.Identifier + "/" + string(ev.Channel)
		if ev.Delivered > 0 {
			t.delivered[key] = true
		}
		if len(ev.FailedRecipients) > 0 && t.refused[key] == nil {
			t.refused[key] = map[string]bool{}
		}
		for _, r := range ev.FailedRecipients {
			t.refused[key][r] = true
		}
	case alert.AlertDrafted, alert.AlertRevised, alert.AlertSubmitted, alert.AlertApproved, alert.AlertRejected,
		alert.FrAlertRequested, alert.FrAlertValidated, alert.FrAlertRefused, alert.FrAlertBroadcastConfirmed,
		alert.AlertExpired:
		// The alert's state holds all the dispatcher reads of them: the
		// published version, the expiry, where FR-Alert stands.
	default:
		return false
	}
	return true
}

func doneKey(identifier, ch string, bucket int) string {
	return fmt.Sprintf("%s/%s/%d", identifier, ch, bucket)
}

// pending lists the alerts with something left to do, oldest first.
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

// job is the message the dispatcher has to send for the alert: the latest
// approved one while the alert is live, or, once it is cancelled after a
// message went out, the cancellation to those who received it.
func job(t *tracked) (identifier string, cancel, ok bool) {
	s := t.state
	if !s.Exists() {
		return "", false, false
	}
	if s.Cancelled() {
		if t.cancelID == "" || !t.startedBefore(t.cancelID) {
			return "", false, false
		}
		return t.cancelID, true, true
	}
	if s.Expired() {
		return "", false, false
	}
	p, ok := s.Published()
	if !ok {
		return "", false, false
	}
	return p.Message.Identifier, false, true
}

// startedBefore: a message other than the cancellation started going out.
func (t *tracked) startedBefore(cancelID string) bool {
	for id := range t.starts {
		if id != cancelID {
			return true
		}
	}
	return false
}

// dueToExpire: the alert's expiry (its published content's) has passed and is
// not recorded yet.
func (d *Dispatcher) dueToExpire(t *tracked) bool {
	s := t.state
	if !s.Exists() || s.Cancelled() || s.Expired() {
		return false
	}
	exp := s.LiveExpiry()
	return exp != nil && !exp.After(d.Now())
}

func (d *Dispatcher) needsStart(t *tracked) bool {
	id, _, ok := job(t)
	return ok && t.starts[id] == nil
}

func (d *Dispatcher) needsSent(t *tracked) bool {
	id, _, ok := job(t)
	return ok && t.starts[id] != nil && !t.sent[id] && len(d.ownWork(t, id)) == 0
}

type unit struct {
	channel string
	bucket  int
}

// work lists the channel buckets of the job not recorded yet.
func (d *Dispatcher) work(t *tracked) []unit {
	id, cancel, ok := job(t)
	if !ok || t.starts[id] == nil {
		return nil
	}
	out := d.ownWork(t, id)
	st := t.starts[id]
	// Cell broadcast is the State's: it goes once the prefecture validated,
	// never for an exercise, and only through an intake: without one the
	// prefecture broadcasts it itself (the message's Manual says so).
	if !cancel && slices.Contains(st.channels, alert.ChannelFrAlert) && t.state.FrAlert() == alert.FrAlertStateValidated && !st.exercise &&
		!slices.Contains(st.manual, alert.ChannelFrAlert) &&
		!t.done[doneKey(id, string(alert.ChannelFrAlert), 0)] && !t.failed[id+"/"+string(alert.ChannelFrAlert)] {
		out = append(out, unit{string(alert.ChannelFrAlert), 0})
	}
	return out
}

// ownWork is what the dispatcher sends of the message without waiting for
// anyone: every channel of an alert message but FR_ALERT; every channel of
// the cancellation (those its start counted).
func (d *Dispatcher) ownWork(t *tracked, id string) []unit {
	st := t.starts[id]
	if st == nil {
		return nil
	}
	channels := st.channels
	if id == t.cancelID {
		channels = nil
		for _, c := range alert.Channels() {
			if _, ok := st.recipients[string(c)]; ok {
				channels = append(channels, c)
			}
		}
	}
	var out []unit
	for _, c := range channels {
		ch := string(c)
		if (c == alert.ChannelFrAlert && id != t.cancelID) || t.failed[id+"/"+ch] {
			continue
		}
		n := d.Buckets
		if slices.Contains(perMessage, ch) || (d.Senders[ch] == nil && c != alert.ChannelCAPFeed) {
			// Without a provider the channel fails as a whole: one unit records it.
			n = 1
		}
		for b := range n {
			if !t.done[doneKey(id, ch, b)] {
				out = append(out, unit{ch, b})
			}
		}
	}
	return out
}

// earlier is one message that went out before a cancellation: who it reached.
type earlier struct {
	start
	done    map[string]bool            // channel/bucket recorded
	refused map[string]map[string]bool // channel → residents the provider refused
	perMsg  map[string]bool            // per-message channels delivered
}

// snapshot copies what dispatch needs of an alert, under the lock.
type snapshot struct {
	id, domain string
	identifier string
	// content is what the message says: the published content.
	content  alert.Content
	channels []alert.Channel
	exercise bool
	// cancel: the message is the cancellation, to the recipients of earlier.
	cancel  bool
	reason  string
	earlier []earlier
	// before is the commit position at which the dispatch started, once it has.
	before uint64
	start  bool
	units  []unit
	finish bool
}

func (d *Dispatcher) snapshot(id string) (snapshot, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.alerts[id]
	identifier, cancel, ok := job(t)
	if !ok {
		return snapshot{}, false
	}
	s := t.state
	p, _ := s.Published()
	snap := snapshot{id: id, domain: s.Domain(), identifier: identifier, content: p.Content, channels: p.Channels, exercise: s.Exercise(),
		cancel: cancel, start: t.starts[identifier] == nil, units: d.work(t), finish: d.needsSent(t)}
	if st := t.starts[identifier]; st != nil && !cancel {
		// What started goes out, even if a later approval changed the
		// published content meanwhile (the next pass starts the new message).
		snap.content, snap.channels, snap.exercise, snap.before = st.content, st.channels, st.exercise, st.position
	}
	if cancel {
		snap.reason = t.reason
		for mid, st := range t.starts {
			if mid == identifier {
				continue
			}
			e := earlier{start: *st, done: map[string]bool{}, refused: map[string]map[string]bool{}, perMsg: map[string]bool{}}
			for _, c := range st.channels {
				ch := string(c)
				for b := range d.Buckets {
					if t.done[doneKey(mid, ch, b)] {
						e.done[ch+"/"+strconv.Itoa(b)] = true
					}
				}
				e.refused[ch] = maps.Clone(t.refused[mid+"/"+ch])
				e.perMsg[ch] = t.delivered[mid+"/"+ch]
			}
			snap.earlier = append(snap.earlier, e)
		}
	}
	return snap, true
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
		if err := d.begin(ctx, snap); err != nil {
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
			return d.onAlert(ctx, id, "MarkAlertSent", "sent-"+snap.identifier, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
				return a.MarkSent(snap.identifier, by, at)
			})
		}
	}
	return nil
}

// begin records the start of the snapshot's message with its recipients per
// channel: the alert's, or the cancellation's.
func (d *Dispatcher) begin(ctx context.Context, snap snapshot) error {
	if snap.cancel {
		counts := d.cancelCounts(snap)
		return d.onAlert(ctx, snap.id, "StartCancellation", "start-"+snap.identifier, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.StartCancellation(snap.identifier, counts, by, at)
		})
	}
	counts := map[string]int{}
	var manual []alert.Channel
	for _, c := range snap.channels {
		switch {
		case c == alert.ChannelFrAlert && !snap.exercise && d.Senders[string(c)] == nil:
			// No intake: the prefecture broadcasts on the State's platform and
			// confirms in Vigie. Not a failure of the dispatcher's.
			manual = append(manual, c)
			counts[string(c)] = 1
		case slices.Contains(perMessage, string(c)):
			counts[string(c)] = 1
		default:
			counts[string(c)] = d.dir.Count(Selection{Domain: snap.domain, Polygon: snap.content.Polygon, Channel: string(c), Exercise: snap.exercise})
		}
	}
	return d.onAlert(ctx, snap.id, "StartDispatch", "start-"+snap.identifier, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.StartDispatch(snap.identifier, counts, manual, by, at)
	})
}

// cancelCounts counts, per channel, who must hear of the cancellation: the
// residents who received an earlier message; WEBHOOK, FR_ALERT (through the
// intake) and CAP_FEED once when an earlier message was delivered on them. A
// channel nobody received is left out.
func (d *Dispatcher) cancelCounts(snap snapshot) map[string]int {
	counts := map[string]int{}
	for _, c := range alert.Channels() {
		ch := string(c)
		n := 0
		if slices.Contains(perMessage, ch) {
			for _, e := range snap.earlier {
				if e.perMsg[ch] {
					n = 1
				}
			}
		} else {
			n = len(d.cancelTargets(snap, ch, 0, 1))
		}
		if n > 0 {
			counts[ch] = n
		}
	}
	return counts
}

// cancelTargets are the residents of bucket b of n who received an earlier
// message on ch: registered before its dispatch started, in its area, on the
// channel (and agreeing to exercises for an exercise), still registered, in a
// bucket recorded and not refused by the provider. Sorted by id.
func (d *Dispatcher) cancelTargets(snap snapshot, ch string, b, n int) []*Recipient {
	seen := map[string]*Recipient{}
	for _, e := range snap.earlier {
		if !slices.Contains(e.channels, alert.Channel(ch)) {
			continue
		}
		sel := Selection{Domain: snap.domain, Polygon: e.content.Polygon, Channel: ch, Exercise: e.exercise, Before: e.position}
		d.dir.each(sel, b, n, func(r *Recipient) {
			if e.done[ch+"/"+strconv.Itoa(r.Bucket(d.Buckets))] && !e.refused[ch][r.ID] {
				seen[r.ID] = r
			}
		})
	}
	out := slices.Collect(maps.Values(seen))
	slices.SortFunc(out, func(x, y *Recipient) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// targets are the residents bucket u of the snapshot's message goes to.
func (d *Dispatcher) targets(snap snapshot, u unit) []*Recipient {
	if snap.cancel {
		return d.cancelTargets(snap, u.channel, u.bucket, d.Buckets)
	}
	return d.dir.Targets(Selection{Domain: snap.domain, Polygon: snap.content.Polygon, Channel: u.channel, Exercise: snap.exercise, Before: snap.before}, u.bucket, d.Buckets)
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

// cancelled reports whether the alert has been cancelled since the snapshot.
func (d *Dispatcher) cancelled(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.alerts[id].state.Cancelled()
}

// send sends one bucket of one channel and records it.
func (d *Dispatcher) send(ctx context.Context, snap snapshot, u unit) error {
	if !snap.cancel && d.cancelled(snap.id) {
		// A bucket not begun when the alert is cancelled is not sent: those
		// residents would otherwise get an alert that no longer holds.
		return nil
	}
	sender := d.Senders[u.channel]
	if u.channel == string(alert.ChannelCAPFeed) {
		// Publishing is the board's: the alert (or its CAP Cancel) is in the
		// feed once recorded.
		return d.record(ctx, snap, u, 1, 1, 0, nil)
	}
	if sender == nil {
		return d.onAlert(ctx, snap.id, "RecordDispatchFailure", "fail-"+snap.identifier+"-"+u.channel, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
			return a.RecordDispatchFailure(snap.identifier, alert.Channel(u.channel), "aucun fournisseur configuré pour le canal "+u.channel, by, at)
		})
	}
	var msgs []channel.Message
	var to []string // the resident each message goes to, "" for a per-message channel
	if slices.Contains(perMessage, u.channel) {
		msgs, to = []channel.Message{d.compose(snap, u.channel, nil)}, []string{""}
	} else {
		for _, r := range d.targets(snap, u) {
			msgs, to = append(msgs, d.compose(snap, u.channel, r)), append(to, r.ID)
		}
	}
	var sent, delivered, failed atomic.Int64
	var refusedMu sync.Mutex
	var refused []string
	var wg sync.WaitGroup
	for i, m := range msgs {
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
				if to[i] != "" {
					// Who did not receive it must not receive its cancellation.
					refusedMu.Lock()
					refused = append(refused, to[i])
					refusedMu.Unlock()
				}
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
	slices.Sort(refused)
	return d.record(ctx, snap, u, int(sent.Load()), int(delivered.Load()), int(failed.Load()), refused)
}

// compose writes the message a resident (or a partner, for per-message channels)
// receives: the published content, or its cancellation. An exercise's texts
// already start with EXERCICE (the domain adds it).
func (d *Dispatcher) compose(snap snapshot, ch string, r *Recipient) channel.Message {
	c := snap.content
	residentID := ""
	if r != nil {
		residentID = r.ID
	}
	m := channel.Message{
		DeliveryID: DeliveryID(snap.identifier, ch, residentID),
		Channel:    ch, Language: c.Language, AlertID: snap.id, Identifier: snap.identifier, Exercise: snap.exercise,
		Subject: c.Headline,
	}
	switch {
	case snap.cancel:
		line := CancellationPrefix + c.Headline
		m.Subject, m.Body = line, line
		if ch == string(alert.ChannelEmail) {
			m.Body = line + "\n\n"
			if snap.reason != "" {
				m.Body += "Motif : " + snap.reason + "\n\n"
			}
			m.Body += "Alerte annulée : " + c.Headline + "\n"
		}
	case ch == string(alert.ChannelEmail):
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

// CancellationPrefix starts every cancellation message, before the headline
// of the alert it cancels.
const CancellationPrefix = "ANNULATION : "

// record appends the bucket's counts to the journal at its exact revision: if
// another dispatcher recorded it meanwhile, the conflict tells, and it is not
// counted twice.
func (d *Dispatcher) record(ctx context.Context, snap snapshot, u unit, sent, delivered, failed int, refused []string) error {
	ev := alert.DeliveriesRecorded{AlertID: snap.id, Domain: snap.domain, Identifier: snap.identifier, Channel: alert.Channel(u.channel),
		Bucket: u.bucket, Sent: sent, Delivered: delivered, Failed: failed, FailedRecipients: refused, At: d.Now()}
	commandID := doneKey(snap.identifier, u.channel, u.bucket)
	stream := events.StreamID(CategoryDispatch, snap.id)
	md := events.NewMetadata(commandID, System, snap.domain, ev.At)
	md.EventID = command.EventID(stream, System.Subject, commandID, 0).String()
	env, err := command.Encode(ctx, d.Registry, ev, md)
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
			t.note(ev, res.Position.Commit)
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
		t.note(e, r.Position.Commit)
		t.journal = max(t.journal, int64(r.Revision))
	}
	return nil
}
