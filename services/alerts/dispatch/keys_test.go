package dispatch_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"vigie/events/storetest"
	"vigie/services/alerts"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/dispatch"
	"vigie/services/alerts/resident"
)

// After a rotation the log holds each key after its registration (the new
// generation is written later): the dispatcher still opens every resident, at
// the registration's position, with the new KEK; with the old one only it
// reaches nobody, and says which KEK it lacks.
func TestTheDispatcherReadsKeysRewrappedAfterTheRegistrations(t *testing.T) {
	c, _ := storetest.Embedded(t)
	reg, err := alerts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	old, err := resident.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 5
	for i := range n {
		id := fmt.Sprintf("w%d", i)
		key, err := (alerts.KeyVault{Store: c, Keys: old}).Issue(ctx, id, nimes, "reg-"+id, rac, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var r resident.Resident
		evs, err := r.Register(resident.Registration{ResidentID: id, Domain: nimes, Consent: true, Channels: []string{"SMS"},
			Contact: resident.Contact{Phone: fmt.Sprintf("+336100000%02d", i), Location: resident.Point{Lat: 43.83, Lon: 4.35}}}, key, rac, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := appendAll(ctx, c, reg, resident.StreamID(id), "reg-"+id, rac, evs); err != nil {
			t.Fatal(err)
		}
	}
	rotated, err := old.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := (alerts.KeyVault{Store: c, Keys: rotated}).RewrapAll(ctx, "rot", time.Now()); err != nil || res.Rewrapped != n {
		t.Fatalf("rotation: %+v %v", res, err)
	}

	// The old KEK alone: nobody, and an error naming the KEK it lacks.
	var logs bytes.Buffer
	stale := &dispatch.Dispatcher{Store: c, Registry: reg, Keys: old, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	sctx, stop := context.WithCancel(ctx)
	go func() { _ = stale.Run(sctx) }()
	waitCaughtUp(t, stale)
	if got := stale.Directory().Count(dispatch.Selection{Domain: nimes, Channel: "SMS"}); got != 0 {
		t.Errorf("with the old KEK the dispatcher reaches %d residents, want 0", got)
	}
	stop()
	if !strings.Contains(logs.String(), rotated.Current()) {
		t.Errorf("the dispatcher did not say which KEK it lacks: %s", logs.String())
	}

	_, sms, senders := sinks(t)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &dispatch.Dispatcher{Store: c, Registry: reg, Senders: senders, Keys: rotated.Retired()}
	go func() { _ = d.Run(dctx) }()
	approvedAlert(t, c, reg, "after-rotation", alert.ChannelSMS)
	waitSent(t, c, "after-rotation", 20*time.Second)
	if sms.Count() != n {
		t.Errorf("%d SMS after the rotation, want %d", sms.Count(), n)
	}
}

func waitCaughtUp(t *testing.T, d *dispatch.Dispatcher) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !d.CaughtUp() {
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher did not catch up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
