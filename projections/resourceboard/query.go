package resourceboard

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Reader answers the board's queries from the current version of the read model.
type Reader struct {
	Redis redis.Cmdable
	Space string // the key space read: "" for the live read models, a replay's otherwise
}

// Page bounds a listing: Limit 0 (or more than 500) means 500.
type Page struct{ Offset, Limit int64 }

func (p Page) bounds() (int64, int64) {
	limit := p.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	offset := max(p.Offset, 0)
	return offset, offset + limit - 1
}

// listKey is the zset that answers a listing of domain filtered by kind and status
// ("" for any).
func listKey(k projections.Keys, domain, kind, status string) string {
	switch {
	case kind != "" && status != "":
		return k.Key("kindstatus", domain, kind, status)
	case kind != "":
		return k.Key("kind", domain, kind)
	case status != "":
		return k.Key("status", domain, status)
	}
	return k.Key("all", domain)
}

// List returns a page of the resources of a domain (a commune, or a département: all
// its communes), of kind and in status when they are not empty (the values events
// write: "shelter", "available"), in name order then id.
func (r Reader) List(ctx context.Context, domain, kind, status string, page Page) ([]Resource, error) {
	var out []Resource
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		out, err = r.page(ctx, k, listKey(k, domain, kind, status), page)
		return err
	})
	return out, err
}

// Count returns how many resources List would list in all.
func (r Reader) Count(ctx context.Context, domain, kind, status string) (int64, error) {
	var n int64
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		n, err = r.Redis.ZCard(ctx, listKey(k, domain, kind, status)).Result()
		return err
	})
	return n, err
}

// EngagedOn returns a page of the resources engaged on an incident, in name order.
func (r Reader) EngagedOn(ctx context.Context, incidentID string, page Page) ([]Resource, error) {
	var out []Resource
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		out, err = r.page(ctx, k, k.Key("engaged", incidentID), page)
		return err
	})
	return out, err
}

func (r Reader) page(ctx context.Context, k projections.Keys, key string, page Page) ([]Resource, error) {
	from, to := page.bounds()
	members, err := r.Redis.ZRange(ctx, key, from, to).Result()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = idOf(m)
	}
	return r.docs(ctx, k, ids)
}

func (r Reader) docs(ctx context.Context, k projections.Keys, ids []string) ([]Resource, error) {
	return projections.Docs[Resource](ctx, r.Redis, k, "resource", ids)
}

// Get returns one resource.
func (r Reader) Get(ctx context.Context, id string) (Resource, error) {
	var docs []Resource
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		docs, err = r.docs(ctx, k, []string{id})
		return err
	})
	if err != nil {
		return Resource{}, err
	}
	if len(docs) == 0 {
		return Resource{}, ErrNotFound
	}
	return docs[0], nil
}

// ShelterTotals sums a domain's shelters.
type ShelterTotals struct {
	Shelters  int64 `json:"shelters"`  // registered shelters, whatever their status
	Open      int64 `json:"open"`      // available or engaged
	Capacity  int64 `json:"capacity"`  // of the open ones
	Occupancy int64 `json:"occupancy"` // people sheltered, in all of them
}

// Shelters returns the shelter totals of a domain (a commune or a département).
func (r Reader) Shelters(ctx context.Context, domain string) (ShelterTotals, error) {
	var vals map[string]string
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) (err error) {
		vals, err = r.Redis.HGetAll(ctx, k.Key("shelters", domain)).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return err
	})
	if err != nil {
		return ShelterTotals{}, err
	}
	var t ShelterTotals
	for f, dst := range map[string]*int64{"shelters": &t.Shelters, "open": &t.Open, "capacity": &t.Capacity, "occupancy": &t.Occupancy} {
		if v, ok := vals[f]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ShelterTotals{}, err
			}
			*dst = n
		}
	}
	return t, nil
}
