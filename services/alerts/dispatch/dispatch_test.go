package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

const nimes = "dep:30/com:30189"

var (
	rac   = events.Actor{Subject: "rac-nimes", Role: events.RoleRAC}
	mayor = events.Actor{Subject: "maire-nimes", Role: events.RoleMayor}
)

// seedResidents writes n residents of Nîmes as the alerts service does (key stream,
// then the sealed registration), 32 writers at a time.
func seedResidents(tb testing.TB, c *store.Client, reg *events.Registry, n int) {
	tb.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := seedResident(ctx, c, reg, i); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		tb.Fatal(err)
	}
}

func seedResident(ctx context.Context, c *store.Client, reg *events.Registry, i int) error {
	id := "r" + strconv.Itoa(i)
	at := time.Now()
	// The key stream as KeyVault.Issue writes it, without its read-before-write.
	key, err := resident.NewKey()
	if err != nil {
		return err
	}
	if err := appendAll(ctx, c, reg, resident.KeyStreamID(id), "seed-"+id, rac, []events.Event{resident.ResidentKeyIssued{ResidentID: id, Key: key}}); err != nil {
		return err
	}
	var r resident.Resident
	evs, err := r.Register(resident.Registration{ResidentID: id, Domain: nimes, Consent: true, Channels: []string{"SMS", "EMAIL"},
		Contact: resident.Contact{Phone: fmt.Sprintf("+336%08d", i), Email: fmt.Sprintf("h%d@example.org", i), Location: resident.Point{Lat: 43.83, Lon: 4.35}}}, key, rac, at)
	if err != nil {
		return err
	}
	return appendAll(ctx, c, reg, resident.StreamID(id), "seed-"+id, rac, evs)
}

func appendAll(ctx context.Context, c *store.Client, reg *events.Registry, stream, commandID string, by events.Actor, evs []events.Event) error {
	data := make([]store.EventData, len(evs))
	for i, e := range evs {
		md := events.NewMetadata(commandID, by, nimes, time.Now())
		md.EventID = command.EventID(stream, by.Subject, commandID, i).String()
		env, err := reg.Encode(ctx, e, md)
		if err != nil {
			return err
		}
		data[i] = store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}
	}
	_, err := c.Append(ctx, stream, store.Any(), data...)
	return err
}

// approvedAlert drafts, submits and approves an alert through the domain's commands.
func approvedAlert(tb testing.TB, c *store.Client, reg *events.Registry, id string, channels ...alert.Channel) {
	tb.Helper()
	approvedAlertWith(tb, c, reg, id, nil, channels...)
}

func approvedAlertWith(tb testing.TB, c *store.Client, reg *events.Registry, id string, expires *time.Time, channels ...alert.Channel) {
	tb.Helper()
	var a alert.Alert
	now := time.Now()
	step := func(name string, by events.Actor, decide func() ([]events.Event, error)) {
		evs, err := decide()
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		for _, e := range evs {
			a.Apply(e)
		}
		if err := appendAll(context.Background(), c, reg, events.StreamID(events.CategoryAlert, id), name+"-"+id, by, evs); err != nil {
			tb.Fatal(err)
		}
	}
	step("draft", rac, func() ([]events.Event, error) {
		return a.Draft(alert.Draft{AlertID: id, Domain: nimes, Channels: channels, Content: alert.Content{
			Event: "Crue", Headline: "Crue du Vistre", Description: "Le Vistre déborde.", Instruction: "Montez à l'étage.",
			Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryMet, AreaDesc: "Nîmes", Expires: expires,
		}}, rac, now)
	})
	step("submit", rac, func() ([]events.Event, error) { return a.Submit(rac, now) })
	step("approve", mayor, func() ([]events.Event, error) { return a.Approve(nil, mayor, now) })
}

// sentAt waits for the alert's AlertSent and returns when it was recorded.
func waitSent(tb testing.TB, c *store.Client, id string, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		recs, err := c.ReadStream(context.Background(), events.StreamID(events.CategoryAlert, id), store.End, store.Backwards, 1)
		if err == nil && len(recs) == 1 && recs[0].Type == "AlertSent" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("alert %s not sent within %v", id, within)
}

// journal sums the dispatch journal's counts per channel.
func journal(tb testing.TB, c *store.Client, reg *events.Registry, id string) map[alert.Channel]int {
	tb.Helper()
	recs, err := c.ReadStream(context.Background(), events.StreamID(dispatch.CategoryDispatch, id), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[alert.Channel]int{}
	seen := map[string]bool{}
	for _, r := range recs {
		e, _, err := reg.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			tb.Fatal(err)
		}
		d := e.(alert.DeliveriesRecorded)
		k := fmt.Sprintf("%s/%d", d.Channel, d.Bucket)
		if seen[k] {
			tb.Errorf("bucket %s recorded twice", k)
		}
		seen[k] = true
		out[d.Channel] += d.Sent
	}
	return out
}

func sinks(tb testing.TB) (*channeltest.SMTPSink, *channeltest.HTTPSink, map[string]channel.Sender) {
	mail, sms := channeltest.StartSMTP(tb), channeltest.StartHTTP(tb)
	return mail, sms, channel.Config{SMTPAddr: mail.Addr(), SMSURL: sms.URL()}.Senders()
}

// TestTwoDispatchersAndRestartsSendEachResidentOnce runs two dispatchers at once (two
// replicas of the alerts service) and stops one of them mid-dispatch: each resident
// receives the alert once per channel, and the journal counts each bucket once.
func TestTwoDispatchersAndRestartsSendEachResidentOnce(t *testing.T) {
	c, _ := storetest.Embedded(t)
	reg, err := alerts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	seedResidents(t, c, reg, n)
	mail, sms, senders := sinks(t)
	run := func(ctx context.Context) <-chan error {
		done := make(chan error, 1)
		d := &dispatch.Dispatcher{Store: c, Registry: reg, Senders: senders, Buckets: 16, Concurrency: 8}
		go func() { done <- d.Run(ctx) }()
		return done
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, stopFirst := context.WithCancel(ctx)
	firstDone := run(first)
	secondDone := run(ctx)
	approvedAlert(t, c, reg, "a1", alert.ChannelSMS, alert.ChannelEmail)
	for sms.Raw() < n/4 {
		time.Sleep(time.Millisecond)
	}
	stopFirst()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("first dispatcher: %v", err)
	}
	waitSent(t, c, "a1", 30*time.Second)
	cancel()
	<-secondDone

	counts := journal(t, c, reg, "a1")
	for ch, sink := range map[alert.Channel]interface {
		Count() int
		PerRecipient() map[string]int
	}{alert.ChannelSMS: sms, alert.ChannelEmail: mail} {
		if sink.Count() != n {
			t.Errorf("%s: %d residents reached, want %d", ch, sink.Count(), n)
		}
		for to, k := range sink.PerRecipient() {
			if k != 1 {
				t.Errorf("%s: %s got %d messages", ch, to, k)
			}
		}
		if counts[ch] != n {
			t.Errorf("%s: the journal counts %d sent, want %d", ch, counts[ch], n)
		}
	}
}

// TestAnErasedResidentIsNotContacted: after erasure (the key shredded), the
// dispatcher can neither read nor reach the resident.
func TestAnErasedResidentIsNotContacted(t *testing.T) {
	c, _ := storetest.Embedded(t)
	reg, _ := alerts.Registry()
	seedResidents(t, c, reg, 3)
	// Erase r1 as the service does: the erasure, then the key shredded.
	var r resident.Resident
	recs, _ := c.ReadStream(context.Background(), resident.StreamID("r1"), store.Start, store.Forwards, store.NoLimit)
	for _, rec := range recs {
		e, _, _ := reg.Decode(rec.Type, rec.Data, rec.Metadata)
		r.Apply(e)
	}
	evs, err := r.Erase(mayor, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := appendAll(context.Background(), c, reg, resident.StreamID("r1"), "erase-r1", mayor, evs); err != nil {
		t.Fatal(err)
	}
	if err := (alerts.KeyVault{Store: c, Registry: reg}).Shred(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := (alerts.KeyVault{Store: c, Registry: reg}).Get(context.Background(), "r1"); !errors.Is(err, resident.ErrErased) {
		t.Fatalf("key after erasure: %v, want ErrErased", err)
	}
	mail, sms, senders := sinks(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &dispatch.Dispatcher{Store: c, Registry: reg, Senders: senders}
	go func() { _ = d.Run(ctx) }()
	approvedAlert(t, c, reg, "a2", alert.ChannelSMS, alert.ChannelEmail)
	waitSent(t, c, "a2", 20*time.Second)
	for _, to := range []string{"+33600000001", "h1@example.org"} {
		if sms.PerRecipient()[to]+mail.PerRecipient()[to] != 0 {
			t.Errorf("the erased resident was contacted at %s", to)
		}
	}
	if sms.Count() != 2 || mail.Count() != 2 {
		t.Errorf("SMS %d, e-mail %d: want the 2 residents still registered", sms.Count(), mail.Count())
	}
	// Nothing of the log still opens the erased resident's contact details.
	if key, err := (alerts.KeyVault{Store: c, Registry: reg}).Get(context.Background(), "r1"); err == nil {
		if _, err := resident.Open(key, "r1", r.Sealed()); err == nil {
			t.Error("the erased resident's data still opens")
		}
	}
	all, err := c.ReadAll(context.Background(), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range all {
		if strings.HasPrefix(rec.StreamID, resident.KeyCategory+"-r1") {
			t.Errorf("the erased resident's key is still in $all: %s", rec.StreamID)
		}
		if strings.Contains(string(rec.Data), "h1@example.org") || strings.Contains(string(rec.Data), "+33600000001") {
			t.Errorf("contact details in clear in %s/%s", rec.StreamID, rec.Type)
		}
	}
}

// BenchmarkDispatch100k sends one alert to VIGIE_BENCH_RESIDENTS (100,000) residents
// over SMS and e-mail sinks on loopback: the time from approval to the AlertSent
// event (every bucket of both channels recorded), and the process's peak memory.
func BenchmarkDispatch100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("VIGIE_BENCH_RESIDENTS")); err == nil {
		n = v
	}
	c, _ := storetest.Embedded(b)
	reg, _ := alerts.Registry()
	start := time.Now()
	seedResidents(b, c, reg, n)
	b.Logf("seeded %d residents in %v", n, time.Since(start))
	for i := 0; i < b.N; i++ {
		mail, sms, senders := sinks(b)
		ctx, cancel := context.WithCancel(context.Background())
		d := &dispatch.Dispatcher{Store: c, Registry: reg, Senders: senders}
		go func() { _ = d.Run(ctx) }()
		for !d.CaughtUp() {
			time.Sleep(time.Millisecond)
		}
		id := "bench-" + strconv.Itoa(i)
		var peak atomic.Uint64
		stopSampling := sampleHeap(&peak)
		t0 := time.Now()
		approvedAlert(b, c, reg, id, alert.ChannelSMS, alert.ChannelEmail)
		waitSent(b, c, id, 10*time.Minute)
		elapsed := time.Since(t0)
		stopSampling()
		cancel()
		if sms.Count() != n || mail.Count() != n {
			b.Fatalf("SMS %d, e-mail %d, want %d each", sms.Count(), mail.Count(), n)
		}
		b.ReportMetric(elapsed.Seconds(), "s/alert")
		b.ReportMetric(float64(2*n)/elapsed.Seconds(), "messages/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(vmHWM())/(1<<10), "peak-RSS-MiB")
	}
}

func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}

// vmHWM is the process's peak resident set in KiB (Linux), 0 elsewhere.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// TestAnAlertPastItsExpiryIsRecordedExpiredAndNotSent: the dispatcher records the
// expiry when it falls due; an approved alert not yet sent by then never goes out.
func TestAnAlertPastItsExpiryIsRecordedExpiredAndNotSent(t *testing.T) {
	c, _ := storetest.Embedded(t)
	reg, _ := alerts.Registry()
	seedResidents(t, c, reg, 3)
	expires := time.Now().Add(time.Minute)
	approvedAlertWith(t, c, reg, "a3", &expires, alert.ChannelSMS)
	_, sms, senders := sinks(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The dispatcher starts an hour later: past the expiry.
	d := &dispatch.Dispatcher{Store: c, Registry: reg, Senders: senders, Now: func() time.Time { return time.Now().Add(time.Hour) }}
	go func() { _ = d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := c.ReadStream(ctx, events.StreamID(events.CategoryAlert, "a3"), store.End, store.Backwards, 1)
		if err == nil && len(recs) == 1 && recs[0].Type == "AlertExpired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no AlertExpired within 10 s (last event: %v)", recs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if sms.Raw() != 0 {
		t.Errorf("%d messages sent after the expiry", sms.Raw())
	}
}
