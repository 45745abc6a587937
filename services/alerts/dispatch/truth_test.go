package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/storetest"
	"vigie/services/alerts"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
	"vigie/services/alerts/dispatch"
	"vigie/services/alerts/resident"
)

// What residents, the mayor and the prefecture can rely on: only approved
// content goes out, exercises reach only those who agreed, nothing is
// reported sent that was not, and a cancellation reaches exactly those who
// were alerted. Every test runs the dispatcher against the embedded event
// store and local providers; the alert's commands go through the command
// handler, as the service runs them.

var prefecture = events.Actor{Subject: "cod-30", Role: events.RolePrefecture}

// world is one test's store, providers and dispatcher.
type world struct {
	t    *testing.T
	c    *store.Client
	reg  *events.Registry
	sms  *channeltest.HTTPSink
	mail *channeltest.SMTPSink
	hook *channeltest.HTTPSink
	d    *dispatch.Dispatcher
	stop func() // stops the dispatcher and waits for it
}

// newWorld starts the sinks; the dispatcher starts with run, so that a test
// can prepare the log first.
func newWorld(t *testing.T) *world {
	c, _ := storetest.Embedded(t)
	reg, err := alerts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, c: c, reg: reg, sms: channeltest.StartHTTP(t), mail: channeltest.StartSMTP(t),
		hook: channeltest.StartHTTP(t, channeltest.WithSecret("s3cret"))}
}

// senders are SMS, e-mail and webhook providers; with an FR-Alert intake when
// intake is not nil. No retries: a refused message is refused.
func (w *world) senders(intake *channeltest.HTTPSink) map[string]channel.Sender {
	cfg := channel.Config{SMTPAddr: w.mail.Addr(), SMSURL: w.sms.URL(), WebhookURL: w.hook.URL(), WebhookSecret: "s3cret",
		Retry: channel.Retry{Attempts: 1}}
	if intake != nil {
		cfg.FRAlertURL = intake.URL()
	}
	return cfg.Senders()
}

func (w *world) run(senders map[string]channel.Sender) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.stop = sync.OnceFunc(func() { cancel(); <-done })
	w.t.Cleanup(w.stop)
	w.d = &dispatch.Dispatcher{Store: w.c, Registry: w.reg, Senders: senders, Buckets: 8, Concurrency: 4}
	go func() { defer close(done); _ = w.d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !w.d.CaughtUp() {
		if time.Now().After(deadline) {
			w.t.Fatal("the dispatcher did not catch up in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// resident registers a resident of Nîmes on SMS and e-mail at a point, as the
// service does (key, then the sealed registration); i makes the phone
// +336000000<i> and the address h<i>@example.org.
func (w *world) resident(id string, i int, exercises bool, at alert.Point) {
	w.t.Helper()
	ctx := context.Background()
	key, err := resident.NewKey()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := appendAll(ctx, w.c, w.reg, resident.KeyStreamID(id), "key-"+id, rac, []events.Event{resident.ResidentKeyIssued{ResidentID: id, Key: key}}); err != nil {
		w.t.Fatal(err)
	}
	var r resident.Resident
	evs, err := r.Register(resident.Registration{ResidentID: id, Domain: nimes, Consent: true, Exercises: exercises, Channels: []string{"SMS", "EMAIL"},
		Contact: resident.Contact{Phone: phoneOf(i), Email: mailOf(i), Location: at}}, key, rac, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	if err := appendAll(ctx, w.c, w.reg, resident.StreamID(id), "register-"+id, rac, evs); err != nil {
		w.t.Fatal(err)
	}
}

func phoneOf(i int) string { return fmt.Sprintf("+336%08d", i) }
func mailOf(i int) string  { return fmt.Sprintf("h%d@example.org", i) }

// erase forgets a resident as the service does: the erasure, then the key.
func (w *world) erase(id string) {
	w.t.Helper()
	ctx := context.Background()
	var r resident.Resident
	recs, err := w.c.ReadStream(ctx, resident.StreamID(id), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, rec := range recs {
		e, _, _ := w.reg.Decode(rec.Type, rec.Data, rec.Metadata)
		r.Apply(e)
	}
	evs, err := r.Erase(mayor, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	if err := appendAll(ctx, w.c, w.reg, resident.StreamID(id), "erase-"+id, mayor, evs); err != nil {
		w.t.Fatal(err)
	}
	if err := (alerts.KeyVault{Store: w.c, Registry: w.reg}).Shred(ctx, id); err != nil {
		w.t.Fatal(err)
	}
}

// act runs one command on the alert through the command handler.
func (w *world) act(id, name string, by events.Actor, decide func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error)) error {
	h := &command.Handler[*alert.Alert]{Store: w.c, Registry: w.reg, Now: time.Now, New: func() *alert.Alert { return &alert.Alert{} }}
	_, err := h.Handle(context.Background(), command.Command[*alert.Alert]{
		Name: name, Stream: events.StreamID(events.CategoryAlert, id), CommandID: name + "-" + id + "-" + fmt.Sprint(time.Now().UnixNano()),
		Authorize: func(a *alert.Alert) (events.Actor, string, error) { return by, nimes, nil },
		Decide:    decide,
	})
	return err
}

func (w *world) must(id, name string, by events.Actor, decide func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error)) {
	w.t.Helper()
	if err := w.act(id, name, by, decide); err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
}

// vistre is the content of the tests' alert; polygon nil is all of Nîmes.
func vistre(headline string, polygon []alert.Point) alert.Content {
	return alert.Content{
		Event: "Crue", Headline: headline, Description: "Le Vistre déborde.", Instruction: "Montez à l'étage.",
		Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryMet,
		AreaDesc: "Nîmes", Polygon: polygon,
	}
}

// draftAndApprove drafts (the coordinator), submits and approves (the mayor),
// two people as the rule wants.
func (w *world) draftAndApprove(id string, content alert.Content, exercise bool, channels ...alert.Channel) {
	w.t.Helper()
	w.must(id, "draft", rac, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Draft(alert.Draft{AlertID: id, Domain: nimes, Content: content, Channels: channels, Exercise: exercise}, by, at)
	})
	w.submitAndApprove(id)
}

func (w *world) submitAndApprove(id string) {
	w.t.Helper()
	w.must(id, "submit", rac, (*alert.Alert).Submit)
	w.must(id, "approve", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Approve(nil, by, at)
	})
}

// load is the alert as its stream and its dispatch journal tell it.
func (w *world) load(id string) *alert.Alert {
	w.t.Helper()
	var a alert.Alert
	for _, stream := range []string{events.StreamID(events.CategoryAlert, id), events.StreamID(dispatch.CategoryDispatch, id)} {
		recs, err := w.c.ReadStream(context.Background(), stream, store.Start, store.Forwards, store.NoLimit)
		if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
			w.t.Fatal(err)
		}
		for _, r := range recs {
			e, _, err := w.reg.Decode(r.Type, r.Data, r.Metadata)
			if err != nil {
				w.t.Fatal(err)
			}
			a.Apply(e)
		}
	}
	return &a
}

// events returns the alert stream's events of type T.
func eventsOf[T events.Event](w *world, id string) []T {
	w.t.Helper()
	stream := events.StreamID(events.CategoryAlert, id)
	var zero T
	if _, ok := any(zero).(alert.DeliveriesRecorded); ok {
		stream = events.StreamID(dispatch.CategoryDispatch, id)
	}
	recs, err := w.c.ReadStream(context.Background(), stream, store.Start, store.Forwards, store.NoLimit)
	if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
		w.t.Fatal(err)
	}
	var out []T
	for _, r := range recs {
		e, _, err := w.reg.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			w.t.Fatal(err)
		}
		if e, ok := e.(T); ok {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond for up to 20 s.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("not within 20 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMessageSent waits for the AlertSent of the alert's identifier.
func (w *world) waitMessageSent(id, identifier string) {
	w.t.Helper()
	w.waitFor(identifier+" sent", func() bool {
		return slices.ContainsFunc(eventsOf[alert.AlertSent](w, id), func(e alert.AlertSent) bool { return e.Identifier == identifier })
	})
}

// settle gives the dispatcher time to do what it should not.
func settle() { time.Sleep(300 * time.Millisecond) }

// smsTo and mailTo group what the providers received by recipient.
func (w *world) smsTo() map[string][]string {
	out := map[string][]string{}
	for _, p := range w.sms.Messages() {
		out[p.To] = append(out[p.To], p.Text)
	}
	return out
}

func (w *world) mailTo() map[string][]channeltest.Mail {
	out := map[string][]channeltest.Mail{}
	for _, m := range w.mail.Messages() {
		for _, to := range m.To {
			out[to] = append(out[to], m)
		}
	}
	return out
}

// west and east are two neighbourhoods of Nîmes; westSide covers only the
// first.
var (
	west     = alert.Point{Lat: 43.83, Lon: 4.33}
	east     = alert.Point{Lat: 43.83, Lon: 4.39}
	westSide = []alert.Point{{Lat: 43.80, Lon: 4.30}, {Lat: 43.86, Lon: 4.30}, {Lat: 43.86, Lon: 4.36}, {Lat: 43.80, Lon: 4.36}}
)

// TestAnExerciseInARealCommuneReachesOnlyResidentsWhoAgreed: a mayor's
// exercise in Nîmes goes to the residents who said yes to exercises, never
// to the others, and so does its cancellation; the count the mayor is shown
// is what the providers then receive.
func TestAnExerciseInARealCommuneReachesOnlyResidentsWhoAgreed(t *testing.T) {
	w := newWorld(t)
	for i := range 6 {
		w.resident(fmt.Sprintf("r%d", i), i, i%2 == 0, west) // r0, r2, r4 agreed
	}
	w.run(w.senders(nil))
	dir := w.d.Directory()
	audience := dir.Audience(nimes, nil, []alert.Channel{alert.ChannelSMS, alert.ChannelEmail, alert.ChannelCAPFeed}, true)
	if want := map[alert.Channel]int{alert.ChannelSMS: 3, alert.ChannelEmail: 3}; !maps.Equal(audience, want) {
		t.Errorf("the exercise's audience = %v, want %v (CAP_FEED uncounted)", audience, want)
	}
	if real := dir.Audience(nimes, nil, []alert.Channel{alert.ChannelSMS}, false); real[alert.ChannelSMS] != 6 {
		t.Errorf("a real alert's audience = %v, want 6 on SMS", real)
	}

	w.draftAndApprove("x1", vistre("Crue du Vistre", nil), true, alert.ChannelSMS, alert.ChannelEmail, alert.ChannelCAPFeed)
	w.waitMessageSent("x1", "x1.1")
	sms, mail := w.smsTo(), w.mailTo()
	for i := range 6 {
		agreed := i%2 == 0
		if got := len(sms[phoneOf(i)]); agreed && got != 1 || !agreed && got != 0 {
			t.Errorf("r%d (exercises %v) received %d SMS", i, agreed, got)
		}
		if got := len(mail[mailOf(i)]); agreed && got != 1 || !agreed && got != 0 {
			t.Errorf("r%d (exercises %v) received %d e-mails", i, agreed, got)
		}
	}
	for _, texts := range sms {
		if !strings.HasPrefix(texts[0], alert.ExercisePrefix) {
			t.Errorf("an exercise SMS does not say so: %q", texts[0])
		}
	}
	if w.sms.Count() != audience[alert.ChannelSMS] || w.mail.Count() != audience[alert.ChannelEmail] {
		t.Errorf("the mayor was shown %v, the providers received SMS %d, e-mail %d", audience, w.sms.Count(), w.mail.Count())
	}
	if rec := w.load("x1").Progress().Dispatch.Recipients; rec[alert.ChannelSMS] != 3 || rec[alert.ChannelEmail] != 3 {
		t.Errorf("the dispatch counts %v recipients, want 3 per channel", rec)
	}

	w.must("x1", "cancel", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("Fin de l'exercice", by, at)
	})
	w.waitMessageSent("x1", "x1.2")
	for to, texts := range w.smsTo() {
		if len(texts) != 2 || !strings.HasPrefix(texts[1], dispatch.CancellationPrefix+alert.ExercisePrefix) {
			t.Errorf("%s: %q, want the exercise then its cancellation", to, texts)
		}
	}
	if w.sms.Count() != 6 || w.mail.Count() != 6 {
		t.Errorf("SMS %d, e-mail %d: the cancellation went beyond the 3 residents who agreed", w.sms.Count(), w.mail.Count())
	}
}

// TestFrAlertWithoutAnIntakeIsLeftToThePrefecture: with no FR-Alert intake
// configured, the dispatch says FR_ALERT is the prefecture's to broadcast, and
// no failure is ever recorded for it, even once validated; with an intake,
// it goes out once, after validation.
func TestFrAlertWithoutAnIntakeIsLeftToThePrefecture(t *testing.T) {
	w := newWorld(t)
	w.resident("r0", 0, false, west)
	w.run(w.senders(nil))
	w.draftAndApprove("f1", vistre("Crue du Vistre", nil), false, alert.ChannelSMS, alert.ChannelFrAlert)
	w.waitMessageSent("f1", "f1.1")
	w.must("f1", "validate", prefecture, (*alert.Alert).ValidateFrAlert)
	settle()
	started := eventsOf[alert.AlertDispatchStarted](w, "f1")
	if len(started) != 1 || !slices.Equal(started[0].Manual, []alert.Channel{alert.ChannelFrAlert}) {
		t.Fatalf("dispatch started %+v, want FR_ALERT left to the prefecture", started)
	}
	if failed := eventsOf[alert.AlertDispatchFailed](w, "f1"); len(failed) != 0 {
		t.Errorf("failures recorded: %+v", failed)
	}
	for _, o := range w.load("f1").Progress().Outcomes() {
		if o.Channel == alert.ChannelFrAlert && (o.State != alert.ChannelPending || o.Reason != "à diffuser par la préfecture sur FR-Alert") {
			t.Errorf("FR_ALERT outcome %+v, want PENDING, à diffuser par la préfecture", o)
		}
	}

	// With the State's intake: sent once the prefecture validated, not before.
	intake := channeltest.StartHTTP(t)
	w2 := newWorld(t)
	w2.resident("r0", 0, false, west)
	w2.run(w2.senders(intake))
	w2.draftAndApprove("f2", vistre("Crue du Vistre", nil), false, alert.ChannelSMS, alert.ChannelFrAlert)
	w2.waitMessageSent("f2", "f2.1")
	settle()
	if intake.Count() != 0 {
		t.Fatalf("FR-Alert sent before the prefecture validated it")
	}
	if started := eventsOf[alert.AlertDispatchStarted](w2, "f2"); len(started) != 1 || len(started[0].Manual) != 0 {
		t.Errorf("dispatch started %+v, want nothing manual with an intake", started)
	}
	w2.must("f2", "validate", prefecture, (*alert.Alert).ValidateFrAlert)
	w2.waitFor("FR-Alert at the intake", func() bool { return intake.Count() == 1 })
	w2.waitFor("FR-Alert recorded", func() bool { return w2.load("f2").Progress().Dispatch.Counts[alert.ChannelFrAlert].Delivered == 1 })
}

// TestAChannelWithoutProviderIsAFailureNotASuccess: an old alert on a
// channel no provider serves records why, in French.
func TestAChannelWithoutProviderIsAFailureNotASuccess(t *testing.T) {
	w := newWorld(t)
	w.resident("r0", 0, false, west)
	senders := w.senders(nil)
	delete(senders, "SMS")
	w.run(senders)
	w.draftAndApprove("n1", vistre("Crue du Vistre", nil), false, alert.ChannelSMS, alert.ChannelEmail)
	w.waitMessageSent("n1", "n1.1")
	failed := eventsOf[alert.AlertDispatchFailed](w, "n1")
	if len(failed) != 1 || failed[0].Channel != alert.ChannelSMS || !strings.Contains(failed[0].Reason, "aucun fournisseur") {
		t.Errorf("failures %+v, want SMS without a provider", failed)
	}
	if w.mail.Count() != 1 {
		t.Errorf("e-mail %d, want 1", w.mail.Count())
	}
}

// TestOnlyThePublishedVersionGoesOut: a coordinator revises a sent alert; until
// the mayor approves the revision, nothing of it reaches anyone. Once approved,
// the update goes out, in its own area; cancelling then reaches everyone who
// received either message exactly once, and nobody else.
func TestOnlyThePublishedVersionGoesOut(t *testing.T) {
	w := newWorld(t)
	w.resident("west", 0, false, west)
	w.resident("east", 1, false, east)
	w.run(w.senders(nil))
	w.draftAndApprove("u1", vistre("Crue du Vistre à l'ouest", westSide), false, alert.ChannelSMS, alert.ChannelEmail)
	w.waitMessageSent("u1", "u1.1")
	if got := w.smsTo(); len(got) != 1 || len(got[phoneOf(0)]) != 1 {
		t.Fatalf("SMS %v, want the west resident only", got)
	}

	// The revision is drafted and submitted, not approved.
	w.must("u1", "revise", rac, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Revise(alert.Revision{Content: vistre("Rupture de digue : évacuez", nil), Channels: []alert.Channel{alert.ChannelSMS, alert.ChannelEmail}}, by, at)
	})
	w.must("u1", "submit", rac, (*alert.Alert).Submit)
	// A resident registers meanwhile.
	w.resident("late", 2, false, east)
	settle()
	for _, p := range w.sms.Messages() {
		if strings.Contains(p.Text, "digue") {
			t.Fatalf("an unapproved revision went out: %q to %s", p.Text, p.To)
		}
	}
	if w.sms.Count() != 1 || w.mail.Count() != 1 {
		t.Fatalf("SMS %d, e-mail %d after an unapproved revision, want 1 each", w.sms.Count(), w.mail.Count())
	}

	w.must("u1", "approve", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Approve(nil, by, at)
	})
	w.waitMessageSent("u1", "u1.2")
	sms := w.smsTo()
	for i, want := range map[int]int{0: 2, 1: 1, 2: 1} {
		if len(sms[phoneOf(i)]) != want {
			t.Errorf("resident %d received %q, want %d messages", i, sms[phoneOf(i)], want)
		}
	}
	// The gateway format carries no identifier: the texts tell the messages apart.
	if got := sms[phoneOf(0)]; len(got) == 2 && (!strings.HasPrefix(got[0], "Crue du Vistre") || !strings.HasPrefix(got[1], "Rupture de digue")) {
		t.Errorf("the west resident received %q, want the alert then its approved update", got)
	}

	// A resident registered after the update went out hears nothing of it,
	// nor of its cancellation.
	w.resident("after", 3, false, east)
	w.must("u1", "cancel", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("La digue tient", by, at)
	})
	w.waitMessageSent("u1", "u1.3")
	cancels := map[string]int{}
	for _, p := range w.sms.Messages() {
		if strings.HasPrefix(p.Text, dispatch.CancellationPrefix) {
			cancels[p.To]++
			if p.Text != dispatch.CancellationPrefix+"Rupture de digue : évacuez" {
				t.Errorf("cancellation SMS %q", p.Text)
			}
		}
	}
	if want := map[string]int{phoneOf(0): 1, phoneOf(1): 1, phoneOf(2): 1}; !maps.Equal(cancels, want) {
		t.Errorf("cancellations %v, want one to each resident who was alerted", cancels)
	}
	for _, m := range w.mail.Messages() {
		if m.Identifier == "u1.3" && (!strings.Contains(m.Body, "Motif : La digue tient") || !strings.HasPrefix(m.Subject, dispatch.CancellationPrefix)) {
			t.Errorf("cancellation e-mail %q: %q", m.Subject, m.Body)
		}
	}
	if c := w.load("u1").Progress().Cancellation; c.Recipients[alert.ChannelSMS] != 3 || c.Counts[alert.ChannelSMS].Delivered != 3 {
		t.Errorf("the cancellation's progress %+v, want 3 SMS recipients, 3 delivered", c)
	}
}

// TestCancellationReachesExactlyThoseWhoReceived: the residents whose delivery
// failed, who registered after the alert went out, or who were erased since,
// hear nothing; everyone else gets exactly one « ANNULATION » per channel
// they received the alert on; the webhook partner gets one too.
func TestCancellationReachesExactlyThoseWhoReceived(t *testing.T) {
	w := newWorld(t)
	const n = 12
	for i := range n {
		w.resident(fmt.Sprintf("r%02d", i), i, false, west)
	}
	w.run(w.senders(nil))
	// The SMS gateway refuses two numbers for good.
	w.sms.FailNext(2, 400)
	w.draftAndApprove("c1", vistre("Crue du Vistre", nil), false, alert.ChannelSMS, alert.ChannelEmail, alert.ChannelWebhook, alert.ChannelCAPFeed)
	w.waitMessageSent("c1", "c1.1")
	if w.sms.Count() != n-2 || w.mail.Count() != n || w.hook.Count() != 1 {
		t.Fatalf("SMS %d, e-mail %d, webhook %d, want %d, %d, 1", w.sms.Count(), w.mail.Count(), w.hook.Count(), n-2, n)
	}
	var refused []string
	for _, e := range eventsOf[alert.DeliveriesRecorded](w, "c1") {
		refused = append(refused, e.FailedRecipients...)
		if e.Failed != len(e.FailedRecipients) {
			t.Errorf("bucket %s/%d: %d failed, %v named", e.Channel, e.Bucket, e.Failed, e.FailedRecipients)
		}
	}
	if len(refused) != 2 {
		t.Fatalf("failed recipients %v, want the 2 the gateway refused", refused)
	}
	received := w.smsTo()
	for _, id := range refused {
		var i int
		fmt.Sscanf(id, "r%d", &i)
		if len(received[phoneOf(i)]) != 0 {
			t.Errorf("%s is recorded refused but received the SMS", id)
		}
	}
	if p := w.load("c1").Progress(); p.Dispatch.Counts[alert.ChannelSMS].Failed != 2 {
		t.Errorf("SMS counts %+v, want 2 failed", p.Dispatch.Counts[alert.ChannelSMS])
	}

	w.resident("late", 50, false, west)
	w.erase("r03")
	// A revision waits for the mayor when the alert is cancelled: the
	// cancellation quotes what residents received, not the unapproved text.
	w.must("c1", "revise", rac, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Revise(alert.Revision{Content: vistre("Texte non approuvé", nil), Channels: []alert.Channel{alert.ChannelSMS, alert.ChannelEmail, alert.ChannelWebhook, alert.ChannelCAPFeed}}, by, at)
	})
	w.must("c1", "cancel", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("Décrue amorcée", by, at)
	})
	w.waitMessageSent("c1", "c1.2")

	smsCancels, mailCancels := map[string]int{}, map[string]int{}
	for _, p := range w.sms.Messages() {
		if strings.HasPrefix(p.Text, dispatch.CancellationPrefix) {
			smsCancels[p.To]++
			if p.Text != dispatch.CancellationPrefix+"Crue du Vistre" {
				t.Errorf("cancellation SMS %q, want the published headline", p.Text)
			}
		}
	}
	for _, m := range w.mail.Messages() {
		if m.Identifier == "c1.2" {
			if want := "ANNULATION : Crue du Vistre\n\nMotif : Décrue amorcée\n\nAlerte annulée : Crue du Vistre\n"; m.Body != want {
				t.Errorf("cancellation e-mail %q, want %q", m.Body, want)
			}
			for _, to := range m.To {
				mailCancels[to]++
			}
		}
	}
	wantSMS, wantMail := map[string]int{}, map[string]int{}
	for i := range n {
		if i == 3 {
			continue // erased
		}
		wantMail[mailOf(i)] = 1
		if len(received[phoneOf(i)]) == 1 {
			wantSMS[phoneOf(i)] = 1
		}
	}
	if !maps.Equal(smsCancels, wantSMS) {
		t.Errorf("SMS cancellations %v,\nwant %v", smsCancels, wantSMS)
	}
	if !maps.Equal(mailCancels, wantMail) {
		t.Errorf("e-mail cancellations %v,\nwant %v", mailCancels, wantMail)
	}
	hooks := 0
	for _, p := range w.hook.Messages() {
		if p.Identifier == "c1.2" {
			hooks++
			if !strings.HasPrefix(p.Text, dispatch.CancellationPrefix) {
				t.Errorf("webhook cancellation %q", p.Text)
			}
		}
	}
	if hooks != 1 {
		t.Errorf("webhook cancellations %d, want 1", hooks)
	}
	p := w.load("c1").Progress()
	if want := map[alert.Channel]int{alert.ChannelSMS: len(wantSMS), alert.ChannelEmail: len(wantMail), alert.ChannelWebhook: 1, alert.ChannelCAPFeed: 1}; !maps.Equal(p.Cancellation.Recipients, want) {
		t.Errorf("cancellation recipients %v, want %v", p.Cancellation.Recipients, want)
	}
	for _, o := range p.CancellationOutcomes() {
		if o.State != alert.ChannelDelivered {
			t.Errorf("cancellation on %s: %+v", o.Channel, o)
		}
	}
	if w.sms.Duplicates() != 0 || w.mail.Duplicates() != 0 {
		t.Errorf("resends: SMS %d, e-mail %d", w.sms.Duplicates(), w.mail.Duplicates())
	}
}

// TestACancellationInterruptedIsResumedWithoutResending: the dispatcher stops
// in the middle of a cancellation; the next one finishes it, each resident
// having one cancellation per channel, the journal counting each bucket once.
func TestACancellationInterruptedIsResumedWithoutResending(t *testing.T) {
	w := newWorld(t)
	const n = 200
	for i := range n {
		w.resident(fmt.Sprintf("r%03d", i), i, false, west)
	}
	w.run(w.senders(nil))
	w.draftAndApprove("k1", vistre("Crue du Vistre", nil), false, alert.ChannelSMS, alert.ChannelEmail)
	w.waitMessageSent("k1", "k1.1")
	w.stop()

	// The next dispatcher's SMS gateway is slow, so that it is stopped mid-way.
	gateway := w.senders(nil)["SMS"]
	slow := channel.SenderFunc(func(ctx context.Context, m channel.Message) (channel.Result, error) {
		time.Sleep(2 * time.Millisecond)
		return gateway.Send(ctx, m)
	})
	senders := w.senders(nil)
	senders["SMS"] = slow
	w.must("k1", "cancel", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("Décrue", by, at)
	})
	w.run(senders)
	w.waitFor("some cancellations sent", func() bool { return w.sms.Count() > n+20 })
	w.stop()
	if w.sms.Count() >= 2*n {
		t.Fatal("the cancellation finished before the stop: slow the gateway down")
	}
	w.run(w.senders(nil))
	w.waitMessageSent("k1", "k1.2")
	for to, k := range w.sms.PerRecipient() {
		if k != 2 {
			t.Errorf("%s: %d SMS, want the alert and one cancellation", to, k)
		}
	}
	for to, k := range w.mail.PerRecipient() {
		if k != 2 {
			t.Errorf("%s: %d e-mails, want the alert and one cancellation", to, k)
		}
	}
	if w.sms.Count() != 2*n || w.mail.Count() != 2*n {
		t.Errorf("SMS %d, e-mail %d, want %d each", w.sms.Count(), w.mail.Count(), 2*n)
	}
	seen := map[string]bool{}
	sent := map[alert.Channel]int{}
	for _, e := range eventsOf[alert.DeliveriesRecorded](w, "k1") {
		k := fmt.Sprintf("%s/%s/%d", e.Identifier, e.Channel, e.Bucket)
		if seen[k] {
			t.Errorf("bucket %s recorded twice", k)
		}
		seen[k] = true
		if e.Identifier == "k1.2" {
			sent[e.Channel] += e.Sent
		}
	}
	if sent[alert.ChannelSMS] != n || sent[alert.ChannelEmail] != n {
		t.Errorf("the journal counts %v cancellations sent, want %d per channel", sent, n)
	}
}

// TestTheAudienceIsUnknownUntilTheDirectoryIsRead: before the dispatcher has
// read the log, the directory counts nobody rather than too few.
func TestTheAudienceIsUnknownUntilTheDirectoryIsRead(t *testing.T) {
	d := &dispatch.Dispatcher{}
	if got := d.Directory().Audience(nimes, nil, []alert.Channel{alert.ChannelSMS}, false); got != nil {
		t.Errorf("audience before reading the log = %v, want unknown", got)
	}
	if d.Directory() != d.Directory() {
		t.Error("the directory changes between calls")
	}
}
