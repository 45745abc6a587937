package alertboard

import (
	"cmp"
	"context"
	"slices"

	"github.com/redis/go-redis/v9"

	"vigie/projections"
)

// Reader answers the board's queries from the current version of the read model.
type Reader struct {
	Redis redis.Cmdable
	Space string // the key space read: "" for the live read models, a replay's otherwise
}

// MaxList bounds a listing: a commune's alerts of a crisis are far fewer.
const MaxList = 500

// List returns the alerts of a domain (a commune, or a département: all its
// communes), the most recent first; those in the given statuses when any.
func (r Reader) List(ctx context.Context, domain string, statuses []string) ([]Alert, error) {
	var out []Alert
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		var ids []string
		if len(statuses) == 0 {
			var err error
			if ids, err = r.Redis.ZRevRange(ctx, k.Key("board", domain), 0, MaxList-1).Result(); err != nil {
				return err
			}
		} else {
			var all []redis.Z
			for _, st := range statuses {
				zs, err := r.Redis.ZRevRangeWithScores(ctx, k.Key("status", domain, st), 0, MaxList-1).Result()
				if err != nil {
					return err
				}
				all = append(all, zs...)
			}
			ids = newestFirst(all)
		}
		var err error
		out, err = projections.Docs[Alert](ctx, r.Redis, k, "alert", ids)
		return err
	})
	return out, err
}

// Get returns one alert; ok is false when the board has none with that id.
func (r Reader) Get(ctx context.Context, id string) (Alert, bool, error) {
	var out []Alert
	err := projections.Read(ctx, r.Redis, r.Space, Name, func(k projections.Keys) error {
		var err error
		out, err = projections.Docs[Alert](ctx, r.Redis, k, "alert", []string{id})
		return err
	})
	if err != nil || len(out) == 0 {
		return Alert{}, false, err
	}
	return out[0], true, nil
}

func newestFirst(zs []redis.Z) []string {
	slices.SortStableFunc(zs, func(a, b redis.Z) int { return cmp.Compare(b.Score, a.Score) })
	ids := make([]string, 0, min(len(zs), MaxList))
	for _, z := range zs[:min(len(zs), MaxList)] {
		ids = append(ids, z.Member.(string))
	}
	return ids
}
