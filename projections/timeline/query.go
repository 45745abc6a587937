package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Reader answers the timeline's queries from the current version of the read model.
type Reader struct {
	Redis redis.Cmdable
	Space string // the key space read: "" for the live read models, a replay's otherwise
}

// Page bounds a listing: Limit 0 (or more than 500) means 500.
type Page struct{ Offset, Limit int64 }

func (p Page) limits() (offset, limit int64) {
	limit = p.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	return max(p.Offset, 0), limit
}

// Range returns a page of a domain's entries (a commune's, or a département's: its
// own and all its communes') from from to to, both included, to the millisecond; a
// zero from or to leaves that end open. Oldest first; events of one millisecond in the
// order of the log.
func (r Reader) Range(ctx context.Context, domain string, from, to time.Time, page Page) ([]Entry, error) {
	offset, limit := page.limits()
	var members []string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		members, err = r.Redis.ZRangeByScore(ctx, k.Key("entries", canonical(domain)), &redis.ZRangeBy{
			Min: bound(from, "-inf"), Max: bound(to, "+inf"), Offset: offset, Count: limit,
		}).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	return decode(members)
}

// Latest returns a page of a domain's entries, the most recent first: the live
// timeline.
func (r Reader) Latest(ctx context.Context, domain string, page Page) ([]Entry, error) {
	offset, limit := page.limits()
	var members []string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		members, err = r.Redis.ZRevRange(ctx, k.Key("entries", canonical(domain)), offset, offset+limit-1).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	return decode(members)
}

// canonical writes a département "dep:30" whether it comes as that or "dep:30/*".
func canonical(domain string) string { return strings.TrimSuffix(domain, "/*") }

func bound(t time.Time, open string) string {
	if t.IsZero() {
		return open
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func decode(members []string) ([]Entry, error) {
	out := make([]Entry, len(members))
	for i, m := range members {
		_, js, ok := strings.Cut(m, "|")
		if !ok {
			return nil, fmt.Errorf("timeline: malformed member %q", m)
		}
		if err := json.Unmarshal([]byte(js), &out[i]); err != nil {
			return nil, fmt.Errorf("timeline: entry: %w", err)
		}
	}
	return out, nil
}

// Chain is the causal chain of the event eventID among entries (in log order): the
// event, then its cause, and so on back to the decision that started it. The cause of
// an entry is the event its causationId names when that is on the timeline; else the
// previous event of its own stream (the aggregate's history: an escalation follows
// the report); else, for the first event of a stream about an incident (About: an
// engagement, an alert drafted about it), the incident's latest event before it. The
// chain of an alert drafted about an incident thus leads back to the report.
func Chain(entries []Entry, eventID string) []Entry {
	at := -1
	byID := make(map[string]int, len(entries))
	for i, e := range entries {
		byID[e.EventID] = i
		if e.EventID == eventID {
			at = i
		}
	}
	var out []Entry
	seen := map[int]bool{}
	for at >= 0 && !seen[at] {
		seen[at] = true
		cur, e := at, entries[at]
		out = append(out, e)
		if c, ok := byID[e.CausationID]; ok && c < cur {
			at = c
			continue
		}
		if at = latestBefore(entries, cur, e.StreamID); at < 0 && e.About != "" {
			at = latestBefore(entries, cur, e.About)
		}
	}
	return out
}

// latestBefore is the index of the last entry of stream before index i, -1 if none.
func latestBefore(entries []Entry, i int, stream string) int {
	for j := i - 1; j >= 0; j-- {
		if entries[j].StreamID == stream {
			return j
		}
	}
	return -1
}

// Chain reads the causal chain of an event of a domain's timeline (see the function
// Chain): the domain's entries up to it, a page at a time.
func (r Reader) Chain(ctx context.Context, domain, eventID string) ([]Entry, error) {
	var all []Entry
	for off := int64(0); ; off += 500 {
		page, err := r.Range(ctx, domain, time.Time{}, time.Time{}, Page{Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		for _, e := range page {
			if e.EventID == eventID {
				return Chain(all, eventID), nil
			}
		}
		if len(page) < 500 {
			return nil, nil
		}
	}
}
