package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"vigie/events/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Current returns the keys of the version of a read model that queries should read
// in space ("" for the live read models), and how far in the log it has applied: the
// gateway waits on it for read-your-writes.
func Current(ctx context.Context, rdb redis.Cmdable, space, name string) (Keys, store.Position, error) {
	v, err := versionIn(ctx, rdb, space, name)
	if err != nil {
		return Keys{}, store.Position{}, err
	}
	k := KeysIn(space, name, v)
	pos, err := readCheckpoint(ctx, rdb, k)
	return k, pos, err
}

// Read runs query on the keys of the read model's current version, and again on the
// new version's if a rebuild switched versions meanwhile: a rebuild deletes the old
// version's keys right after the switch, so a query that straddles it may have read
// some keys already deleted, and seen the board partial or empty. Every reader goes
// through it. It tries three versions at the most (two rebuilds within one query are
// not worth more), keeping the last try's answer. query may run more than once: it
// must set its results afresh on each run, never add to those of an earlier run.
// It reads the read models of space ("" for the live ones).
func Read(ctx context.Context, rdb redis.Cmdable, space, name string, query func(Keys) error) error {
	v, err := versionIn(ctx, rdb, space, name)
	for attempt := 0; err == nil; attempt++ {
		if err = query(KeysIn(space, name, v)); err != nil {
			return err
		}
		var now int64
		if now, err = versionIn(ctx, rdb, space, name); err == nil && (now == v || attempt == 2) {
			return nil
		}
		v = now
	}
	return err
}

// version is the read model's current version (1 before any rebuild).
func version(ctx context.Context, rdb redis.Cmdable, name string) (int64, error) {
	return versionIn(ctx, rdb, "", name)
}

// versionIn is version in a key space.
func versionIn(ctx context.Context, rdb redis.Cmdable, space, name string) (int64, error) {
	v, err := rdb.HGet(ctx, metaKeyIn(space, name), "version").Int64()
	if errors.Is(err, redis.Nil) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("projections: %s version: %w", name, err)
	}
	return v, nil
}

// readCheckpoint: the zero position means nothing applied yet.
func readCheckpoint(ctx context.Context, rdb redis.Cmdable, k Keys) (store.Position, error) {
	vals, err := rdb.HMGet(ctx, k.checkpoint(), "commit", "prepare").Result()
	if err != nil {
		return store.Position{}, fmt.Errorf("projections: checkpoint: %w", err)
	}
	var p store.Position
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			return store.Position{}, nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return store.Position{}, fmt.Errorf("projections: checkpoint %q: %w", s, err)
		}
		if i == 0 {
			p.Commit = n
		} else {
			p.Prepare = n
		}
	}
	return p, nil
}

func writeCheckpoint(ctx context.Context, w redis.Pipeliner, k Keys, p store.Position) {
	w.HSet(ctx, k.checkpoint(), "commit", strconv.FormatUint(p.Commit, 10), "prepare", strconv.FormatUint(p.Prepare, 10))
}
