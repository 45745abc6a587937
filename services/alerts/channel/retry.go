package channel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry is a retry policy: up to Attempts sends in all, waiting between them
// an exponential backoff from Base, capped at Max, with jitter (each wait is
// drawn in [d/2, d]). Zero fields take defaults: 5 attempts, 500 ms, 30 s.
type Retry struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// DefaultRetry is the policy of Config.Senders when Config.Retry is zero.
var DefaultRetry = Retry{Attempts: 5, Base: 500 * time.Millisecond, Max: 30 * time.Second}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Base <= 0 {
		r.Base = DefaultRetry.Base
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	if r.Max < r.Base {
		r.Max = r.Base
	}
	return r
}

// Backoff is the wait after the n-th failed attempt (n from 1), jitter
// included.
func (r Retry) Backoff(n int) time.Duration {
	r = r.withDefaults()
	d := r.Base
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return d/2 + rand.N(d/2+1)
}

// WithRetry retries s on temporary errors with r's backoff. It stops at the
// first success, on an ErrPermanent error, when the attempts are spent and
// when ctx ends; the error returned is the last one.
func WithRetry(s Sender, r Retry) Sender {
	return &retrying{s: s, r: r.withDefaults()}
}

type retrying struct {
	s Sender
	r Retry
}

func (rs *retrying) Send(ctx context.Context, m Message) (Result, error) {
	for n := 1; ; n++ {
		res, err := rs.s.Send(ctx, m)
		if err == nil || IsPermanent(err) {
			return res, err
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("%w (last error: %w)", context.Cause(ctx), err)
		}
		if n >= rs.r.Attempts {
			return res, fmt.Errorf("after %d attempts: %w", n, err)
		}
		t := time.NewTimer(rs.r.Backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("%w (last error: %w)", context.Cause(ctx), err)
		case <-t.C:
		}
	}
}
