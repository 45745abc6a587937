package projectiontest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Notices gathers, per channel, the notices a test hears of its own streams.
type Notices struct {
	mu      sync.Mutex
	got     map[string][]projections.Notice
	changed chan struct{}
}

// Listen subscribes to channels until the test ends and keeps the notices of the
// streams mine accepts (Script.Mine): pub/sub is server-wide, other tests' notices
// come too. A payload that is not a notice fails the test.
func Listen(t testing.TB, rdb *redis.Client, mine func(stream string) bool, channels ...string) *Notices {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := rdb.Subscribe(ctx, channels...)
	for range channels {
		msg, err := ps.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := msg.(*redis.Subscription); !ok {
			t.Fatalf("subscribing: got %T", msg)
		}
	}
	n := &Notices{got: map[string][]projections.Notice{}, changed: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			var no projections.Notice
			if err := json.Unmarshal([]byte(msg.Payload), &no); err != nil {
				t.Errorf("notice on %s: %v", msg.Channel, err)
				continue
			}
			if !mine(no.StreamID) {
				continue // another test's
			}
			n.mu.Lock()
			n.got[msg.Channel] = append(n.got[msg.Channel], no)
			n.mu.Unlock()
			select {
			case n.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { ps.Close(); cancel(); <-done })
	return n
}

// On returns the notices heard on channel so far.
func (n *Notices) On(channel string) []projections.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got[channel])
}

// Wait returns the notices of channel once there are at least want of them, or those
// there are after 10 s: the caller checks how many.
func (n *Notices) Wait(channel string, want int) []projections.Notice {
	deadline := time.After(10 * time.Second)
	for {
		if got := n.On(channel); len(got) >= want {
			return got
		}
		select {
		case <-n.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			return n.On(channel)
		}
	}
}

// WaitFor returns the first notice on channel of stream with type typ; the test fails
// if none comes within 10 s.
func (n *Notices) WaitFor(t testing.TB, channel, stream, typ string) projections.Notice {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, no := range n.On(channel) {
			if no.StreamID == stream && no.Type == typ {
				return no
			}
		}
		select {
		case <-n.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s notice of %s on %s", typ, stream, channel)
		}
	}
}
