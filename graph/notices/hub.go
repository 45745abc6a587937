// Package notices fans the projector's change notices out to the gateway's
// subscribers. One Redis subscription per gateway (a pattern over every domain's
// channel) feeds any number of websocket subscribers, so a thousand open boards cost
// one Redis connection, and every gateway replica sees every notice.
package notices

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Hub distributes notices by domain.
type Hub struct {
	rdb redis.UniversalClient
	log *slog.Logger
	// Namespace is the projectors' (projections.NoticeChannelIn); set before Run.
	Namespace string

	mu   sync.Mutex
	subs map[string]map[chan projections.Notice]struct{}
}

// New returns a hub; Run must be running for it to deliver.
func New(rdb redis.UniversalClient, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{rdb: rdb, log: log, subs: map[string]map[chan projections.Notice]struct{}{}}
}

// Run receives notices until ctx ends, resubscribing after a lost connection.
func (h *Hub) Run(ctx context.Context) {
	prefix := projections.NoticeChannelIn(h.Namespace, "")
	for ctx.Err() == nil {
		ps := h.rdb.PSubscribe(ctx, prefix+"*")
		ch := ps.Channel(redis.WithChannelSize(1024))
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case m, ok := <-ch:
				if !ok {
					break loop
				}
				var n projections.Notice
				if err := json.Unmarshal([]byte(m.Payload), &n); err != nil {
					continue
				}
				h.deliver(strings.TrimPrefix(m.Channel, prefix), n)
			}
		}
		_ = ps.Close()
		if ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// deliver hands a notice to the domain's subscribers; a subscriber too slow to keep a
// buffer of notices loses some rather than holding up everyone (a notice only says
// "refresh").
func (h *Hub) deliver(domain string, n projections.Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[domain] {
		select {
		case c <- n:
		default:
		}
	}
}

// Subscribe returns the notices of a domain until ctx ends.
func (h *Hub) Subscribe(ctx context.Context, domain string) <-chan projections.Notice {
	c := make(chan projections.Notice, 64)
	h.mu.Lock()
	if h.subs[domain] == nil {
		h.subs[domain] = map[chan projections.Notice]struct{}{}
	}
	h.subs[domain][c] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs[domain], c)
		if len(h.subs[domain]) == 0 {
			delete(h.subs, domain)
		}
		h.mu.Unlock()
	}()
	return c
}
