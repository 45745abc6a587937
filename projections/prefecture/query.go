package prefecture

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Reader answers the overview's queries from the current version of the read model.
// Every query takes a département's domain, "dep:30" (or "dep:30/*").
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

func dep(domain string) string { return strings.TrimSuffix(domain, "/*") }

// Overview returns a page of the active incidents of every commune of the
// département, the most severe first (Extreme, Severe, Moderate, Minor, not assessed),
// then the most recently reported.
func (r Reader) Overview(ctx context.Context, departement string, page Page) ([]Incident, error) {
	return r.incidents(ctx, "active", departement, page)
}

// Escalated returns a page of the active incidents the prefecture directs, in the
// overview's order.
func (r Reader) Escalated(ctx context.Context, departement string, page Page) ([]Incident, error) {
	return r.incidents(ctx, "escalated", departement, page)
}

func (r Reader) incidents(ctx context.Context, index, departement string, page Page) ([]Incident, error) {
	offset, limit := page.limits()
	var out []Incident
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		ids, err := r.Redis.ZRevRange(ctx, k.Key(index, dep(departement)), offset, offset+limit-1).Result()
		if err != nil {
			return err
		}
		out = []Incident{}
		return docs(ctx, r.Redis, k, "incident", ids, &out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Incident returns the summary of one incident.
func (r Reader) Incident(ctx context.Context, id string) (Incident, error) {
	var out []Incident
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		out = nil
		return docs(ctx, r.Redis, k, "incident", []string{id}, &out)
	})
	if err != nil {
		return Incident{}, err
	}
	if len(out) == 0 {
		return Incident{}, ErrNotFound
	}
	return out[0], nil
}

// CommuneCounts returns, for each commune of the département with active incidents,
// how many it has.
func (r Reader) CommuneCounts(ctx context.Context, departement string) (map[string]int64, error) {
	var vals map[string]string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		vals, err = r.Redis.HGetAll(ctx, k.Key("communes", dep(departement))).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(vals))
	for c, v := range vals {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out[c] = n
		}
	}
	return out, nil
}

// Reinforcements returns a page of the département's reinforcement requests in the
// given statuses (all when statuses is empty): by status, requested first, then
// accepted, partially accepted, dispatched, arrived, released, refused; the oldest
// request first within a status. Statuses this model does not know match nothing.
func (r Reader) Reinforcements(ctx context.Context, departement string, statuses []string, page Page) ([]Reinforcement, error) {
	offset, limit := page.limits()
	var out []Reinforcement
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		key := k.Key("reinforcements", dep(departement))
		var ids []string
		var err error
		if len(statuses) == 0 {
			ids, err = r.Redis.ZRange(ctx, key, offset, offset+limit-1).Result()
		} else {
			ids, err = r.bands(ctx, key, statuses, offset, limit)
		}
		if err != nil {
			return err
		}
		out = []Reinforcement{}
		return docs(ctx, r.Redis, k, "request", ids, &out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reinforcement returns one request.
func (r Reader) Reinforcement(ctx context.Context, id string) (Reinforcement, error) {
	var out []Reinforcement
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		out = nil
		return docs(ctx, r.Redis, k, "request", []string{id}, &out)
	})
	if err != nil {
		return Reinforcement{}, err
	}
	if len(out) == 0 {
		return Reinforcement{}, ErrNotFound
	}
	return out[0], nil
}

// bands reads a page of the statuses' score bands, in rank order: it counts each band,
// then reads only the slices of the bands the page covers.
func (r Reader) bands(ctx context.Context, key string, statuses []string, offset, limit int64) ([]string, error) {
	var ranks []int
	for _, s := range statuses {
		if rank, ok := statusRanks[s]; ok && !slices.Contains(ranks, rank) {
			ranks = append(ranks, rank)
		}
	}
	slices.Sort(ranks)
	bounds := func(rank int) (string, string) {
		return strconv.FormatFloat(float64(rank)*band, 'f', -1, 64), "(" + strconv.FormatFloat(float64(rank+1)*band, 'f', -1, 64)
	}
	if len(ranks) == 0 {
		return nil, nil
	}
	pipe := r.Redis.Pipeline()
	counts := make([]*redis.IntCmd, len(ranks))
	for i, rank := range ranks {
		lo, hi := bounds(rank)
		counts[i] = pipe.ZCount(ctx, key, lo, hi)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	pipe = r.Redis.Pipeline()
	var reads []*redis.StringSliceCmd
	for i, rank := range ranks {
		if limit == 0 {
			break
		}
		n := counts[i].Val()
		if offset >= n {
			offset -= n
			continue
		}
		take := min(n-offset, limit)
		lo, hi := bounds(rank)
		reads = append(reads, pipe.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: lo, Max: hi, Offset: offset, Count: take}))
		offset, limit = 0, limit-take
	}
	if len(reads) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range reads {
		ids = append(ids, c.Val()...)
	}
	return ids, nil
}

// docs reads the JSON documents <kind>:<id> into out, skipping missing ones.
func docs[T any](ctx context.Context, rdb redis.Cmdable, k projections.Keys, kind string, ids []string, out *[]T) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = k.Key(kind, id)
	}
	vals, err := rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var doc T
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return err
		}
		*out = append(*out, doc)
	}
	return nil
}
