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
type Reader struct{ Redis redis.Cmdable }

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
	err := projections.Read(ctx, r.Redis, Name, func(k projections.Keys) (err error) {
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
	err := projections.Read(ctx, r.Redis, Name, func(k projections.Keys) (err error) {
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
