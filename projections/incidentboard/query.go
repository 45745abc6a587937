package incidentboard

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Reader answers the board's queries from the current version of the read model.
type Reader struct {
	Redis redis.Cmdable
	Space string // the key space read: "" for the live read models, a replay's otherwise
}

// Page bounds a listing.
type Page struct{ Offset, Limit int64 }

func (p Page) bounds() (int64, int64) {
	limit := p.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	return p.Offset, p.Offset + limit - 1
}

// List returns the incidents of a domain (a commune, or a département: all its
// communes), most severe then most recent first: the active ones when statuses is
// empty, else those in the given statuses.
func (r Reader) List(ctx context.Context, domain string, statuses []string, page Page) ([]Incident, error) {
	var out []Incident
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		from, to := page.bounds()
		var ids []string
		var err error
		if len(statuses) == 0 {
			ids, err = r.Redis.ZRevRange(ctx, k.Key("board", domain), from, to).Result()
		} else {
			ids, err = r.byStatus(ctx, k, domain, statuses, from, to)
		}
		if err != nil {
			return err
		}
		out, err = r.docs(ctx, k, ids)
		return err
	})
	return out, err
}

// byStatus merges the status zsets: a page of each, merged by score, is enough to
// cut the page of the union.
func (r Reader) byStatus(ctx context.Context, k projections.Keys, domain string, statuses []string, from, to int64) ([]string, error) {
	var all []redis.Z
	for _, st := range statuses {
		zs, err := r.Redis.ZRevRangeWithScores(ctx, k.Key("status", domain, st), 0, to).Result()
		if err != nil {
			return nil, err
		}
		all = append(all, zs...)
	}
	slices.SortStableFunc(all, func(a, b redis.Z) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	var ids []string
	for i := from; i <= to && i < int64(len(all)); i++ {
		ids = append(ids, all[i].Member.(string))
	}
	return ids, nil
}

func (r Reader) docs(ctx context.Context, k projections.Keys, ids []string) ([]Incident, error) {
	return projections.Docs[Incident](ctx, r.Redis, k, "incident", ids)
}

// Get returns one incident.
func (r Reader) Get(ctx context.Context, id string) (Incident, error) {
	var docs []Incident
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		docs, err = r.docs(ctx, k, []string{id})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	if len(docs) == 0 {
		return Incident{}, ErrNotFound
	}
	return docs[0], nil
}

// Log returns a page of an incident's main courante, oldest first.
func (r Reader) Log(ctx context.Context, id string, page Page) ([]Entry, error) {
	from, to := page.bounds()
	var vals []string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		vals, err = r.Redis.LRange(ctx, k.Key("log", id), from, to).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Counts returns the counters of a domain's active incidents (kind:…, severity:…,
// status:…, active).
func (r Reader) Counts(ctx context.Context, domain string) (map[string]int64, error) {
	var vals map[string]string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		vals, err = r.Redis.HGetAll(ctx, k.Key("counts", domain)).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(vals))
	for f, v := range vals {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		if n != 0 {
			out[f] = n
		}
	}
	return out, nil
}
