// Package channeltest has local sinks for the delivery channels: an SMTP
// server and an HTTP server (SMS, voice and FR-Alert gateways, webhooks) that
// record what they receive and de-duplicate it the way providers do, by
// Message-ID for e-mail and by Idempotency-Key over HTTP, while counting every
// reception. Tests start them with StartSMTP and StartHTTP; a process that
// wants to serve them (end-to-end tests, benchmarks) uses NewSMTPSink and
// NewHTTPSink with a fixed address, Stats, and StatsHandler.
//
// Both keep little per message (the headers that matter and at most
// BodyLimit bytes of the body), so that 100,000 receptions stay cheap.
package channeltest

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"sync"
)

// BodyLimit is how many bytes of a body the sinks keep; Size records the
// full length.
const BodyLimit = 2048

// Stats are a sink's counters.
type Stats struct {
	Count        int            `json:"count"`        // distinct messages
	Raw          int            `json:"raw"`          // every reception, duplicates included
	Duplicates   int            `json:"duplicates"`   // receptions of a message already received
	PerRecipient map[string]int `json:"perRecipient"` // distinct messages per recipient
}

// Counters de-duplicate a sink's receptions by key (Message-ID,
// Idempotency-Key) and count them; receptions without a key are always
// distinct. They also hold the sink's failure injection. Both sinks embed them.
type Counters struct {
	mu       sync.Mutex
	seen     map[string]struct{}
	raw      int
	dups     int
	per      map[string]int
	changed  chan struct{} // closed and replaced on every reception
	failN    int
	failCode int
}

func newCounters() *Counters {
	return &Counters{seen: map[string]struct{}{}, per: map[string]int{}, changed: make(chan struct{})}
}

// add records one reception; record runs (under the lock) for a first one.
// It reports whether the reception was a first one.
func (t *Counters) add(key string, recipients []string, record func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.raw++
	close(t.changed)
	t.changed = make(chan struct{})
	if key != "" {
		if _, ok := t.seen[key]; ok {
			t.dups++
			return false
		}
		t.seen[key] = struct{}{}
	}
	for _, r := range recipients {
		t.per[r]++
	}
	record()
	return true
}

// FailNext makes the sink refuse the next n messages with code, without
// recording them. SMTPSink answers the reply code after reading the data
// (421 or 451: temporary, 550 or 554: permanent); HTTPSink answers the HTTP
// status to authenticated POSTs (503: temporary, 400: permanent).
func (t *Counters) FailNext(n, code int) {
	t.mu.Lock()
	t.failN, t.failCode = n, code
	t.mu.Unlock()
}

// failure takes one injected failure, if any.
func (t *Counters) failure() (code int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failN <= 0 {
		return 0, false
	}
	t.failN--
	return t.failCode, true
}

// Stats returns all the counters at once.
func (t *Counters) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{Count: t.raw - t.dups, Raw: t.raw, Duplicates: t.dups, PerRecipient: maps.Clone(t.per)}
}

// Count is the number of distinct messages.
func (t *Counters) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw - t.dups
}

// Raw is the number of receptions, duplicates included (not those refused
// for authentication or by FailNext).
func (t *Counters) Raw() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw
}

// Duplicates is the number of receptions of a message already received
// (answered 409 by HTTPSink).
func (t *Counters) Duplicates() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dups
}

// PerRecipient counts the distinct messages of each recipient (SMTP envelope
// recipient, or the "to" of an HTTP request).
func (t *Counters) PerRecipient() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.per)
}

// Wait blocks until at least n distinct messages were received, or ctx ends.
func (t *Counters) Wait(ctx context.Context, n int) error {
	for {
		t.mu.Lock()
		got, ch := t.raw-t.dups, t.changed
		t.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// StatsHandler serves a sink's Stats as JSON on GET, for a test in another
// process.
func StatsHandler(sink interface{ Stats() Stats }) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(sink.Stats())
	})
}
