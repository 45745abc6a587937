package channel_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"vigie/services/alerts/channel"
)

func TestRetryStops(t *testing.T) {
	temp := errors.New("temporary")
	var calls atomic.Int32
	failing := channel.SenderFunc(func(context.Context, channel.Message) (channel.Result, error) {
		calls.Add(1)
		return channel.Result{}, temp
	})
	_, err := channel.WithRetry(failing, channel.Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}).Send(context.Background(), channel.Message{})
	if !errors.Is(err, temp) || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls; want the last error after 3", err, calls.Load())
	}

	// A cancelled context ends the waits.
	calls.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = channel.WithRetry(failing, channel.Retry{Attempts: 100, Base: time.Second, Max: time.Second}).Send(ctx, channel.Message{})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, temp) || time.Since(start) > 2*time.Second || calls.Load() != 1 {
		t.Fatalf("err %v after %v and %d calls", err, time.Since(start), calls.Load())
	}
}

func TestBackoff(t *testing.T) {
	r := channel.Retry{Attempts: 10, Base: 100 * time.Millisecond, Max: time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			if d := r.Backoff(n); d < want/2 || d > want {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}
