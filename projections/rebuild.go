package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrRebuildRunning: another rebuild of the same read model holds its lock.
var ErrRebuildRunning = errors.New("projections: a rebuild of this read model is already running")

var errStop = errors.New("stop")

// Rebuild builds a new version of the read model from the start of the log into new
// keys while the current version keeps serving; once it has caught up it takes the
// lease (fencing out the live instance), applies the last events, switches the
// current version atomically, hands the lease back and deletes the old keys. The live
// instance, standing by meanwhile, takes the lease again and follows the new version.
func (p *Projector) Rebuild(ctx context.Context) (int64, error) {
	p.setDefaults()
	p.silent = true
	defer func() { p.silent = false }()
	name := p.Projection.Name()
	lock := "vigie:{" + name + "}:rebuild"
	ok, err := p.Redis.SetNX(ctx, lock, "1", time.Hour).Result()
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrRebuildRunning
	}
	defer p.Redis.Del(context.WithoutCancel(ctx), lock)

	old, err := version(ctx, p.Redis, name)
	if err != nil {
		return 0, err
	}
	k := KeysOf(name, old+1)
	// Leftovers of an interrupted rebuild of the same version must not leak into it.
	if err := deletePrefix(ctx, p.Redis, k.Prefix()); err != nil {
		return 0, err
	}
	noGuard := func(*redis.Tx, context.Context) error { return nil }
	noKeepAlive := func(context.Context) error { return nil }
	stopWhenCaughtUp := func(context.Context) error { return errStop }
	if err := p.apply(ctx, k, noKeepAlive, noGuard, nil, stopWhenCaughtUp); !errors.Is(err, errStop) {
		return 0, fmt.Errorf("projections: rebuild %s: %w", name, err)
	}

	token, err := steal(ctx, p.Redis, name, p.LeaseTTL)
	if err != nil {
		return 0, err
	}
	defer release(context.WithoutCancel(ctx), p.Redis, name, token)
	holdsLease := func(tx *redis.Tx, ctx context.Context) error {
		cur, err := tx.Get(ctx, leaseKey(name)).Result()
		if err != nil || cur != token {
			return errLeaseLost
		}
		return nil
	}
	switchVersion := func(ctx context.Context) error {
		err := p.Redis.Watch(ctx, func(tx *redis.Tx) error {
			if err := holdsLease(tx, ctx); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(w redis.Pipeliner) error {
				w.HSet(ctx, metaKey(name), "version", k.version)
				return nil
			})
			return err
		}, leaseKey(name))
		if err != nil {
			return err
		}
		return errStop
	}
	renewLease := func(ctx context.Context) error { return renew(ctx, p.Redis, name, token, p.LeaseTTL) }
	if err := p.apply(ctx, k, renewLease, holdsLease, []string{leaseKey(name)}, switchVersion); !errors.Is(err, errStop) {
		return 0, fmt.Errorf("projections: rebuild %s: switching: %w", name, err)
	}
	p.active.Store(false)
	if err := deletePrefix(ctx, p.Redis, KeysOf(name, old).Prefix()); err != nil {
		return k.version, fmt.Errorf("projections: rebuild %s: switched to v%d, old keys remain: %w", name, k.version, err)
	}
	return k.version, nil
}

// deletePrefix removes every key under prefix, a bounded number per round trip.
func deletePrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
