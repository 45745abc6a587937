package store

import (
	"context"
	"sync"
)

// health keeps callers out of the official client while the store is known to be down.
// There, a call waiting for a connection blocks on the client's internal channel,
// deaf to its context, until the server comes back: letting every caller in would pile
// up blocked goroutines for as long as the outage lasts. While down, one caller at a
// time (the probe) goes in; the others wait at the gate, with their context.
type health struct {
	mu    sync.Mutex
	down  bool
	up    chan struct{} // closed when the store is seen up again
	probe chan struct{} // one slot: the caller allowed in while down
}

func newHealth() *health {
	return &health{up: make(chan struct{}), probe: make(chan struct{}, 1)}
}

// enter waits until the caller may use the official client. probe reports that the
// caller holds the probe slot, to give back with release.
func (h *health) enter(ctx context.Context) (probe bool, err error) {
	for {
		h.mu.Lock()
		down, up := h.down, h.up
		h.mu.Unlock()
		if !down {
			return false, nil
		}
		select {
		case h.probe <- struct{}{}:
			return true, nil
		case <-up:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

func (h *health) release() { <-h.probe }

func (h *health) setDown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		h.down = true
		h.up = make(chan struct{})
	}
}

func (h *health) setUp() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.down = false
		close(h.up)
	}
}

// observe learns from the outcome of a call: an answer of the server means up, a
// connection problem means down; anything else (a cancelled call) says nothing.
func (h *health) observe(op string, err error) {
	switch kind := kindOf(op, err); {
	case err == nil, kind == ErrConflict, kind == ErrStreamNotFound, kind == ErrStreamDeleted:
		h.setUp()
	case kind == ErrUnavailable:
		h.setDown()
	}
}
