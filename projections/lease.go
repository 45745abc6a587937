package projections

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// errLeaseLost: another instance holds the projection now; this one must stop writing.
var errLeaseLost = errors.New("projections: lease lost")

// The lease's value is the fencing token: a number that only grows (INCR), so the
// holder of a newer lease always has a larger token than any stale one. A Redis that
// lost its data counts from 1 again, so the number gets a random suffix: a stale
// holder's token never equals a newer holder's.
func fencingToken(n int64) string {
	return strconv.FormatInt(n, 10) + "." + strconv.FormatUint(rand.Uint64(), 36)
}

func acquire(ctx context.Context, rdb redis.UniversalClient, name string, ttl time.Duration) (string, bool, error) {
	n, err := rdb.Incr(ctx, fenceKey(name)).Result()
	if err != nil {
		return "", false, err
	}
	token := fencingToken(n)
	ok, err := rdb.SetNX(ctx, leaseKey(name), token, ttl).Result()
	return token, ok, err
}

// steal takes the lease whoever holds it: a rebuild uses it to fence out the live
// instance before switching versions. The previous holder's next commit fails.
func steal(ctx context.Context, rdb redis.UniversalClient, name string, ttl time.Duration) (string, error) {
	n, err := rdb.Incr(ctx, fenceKey(name)).Result()
	if err != nil {
		return "", err
	}
	token := fencingToken(n)
	return token, rdb.Set(ctx, leaseKey(name), token, ttl).Err()
}

var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

func renew(ctx context.Context, rdb redis.UniversalClient, name, token string, ttl time.Duration) error {
	n, err := renewScript.Run(ctx, rdb, []string{leaseKey(name)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return err
	}
	if n != 1 {
		return errLeaseLost
	}
	return nil
}

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

func release(ctx context.Context, rdb redis.UniversalClient, name, token string) error {
	return releaseScript.Run(ctx, rdb, []string{leaseKey(name)}, token).Err()
}
