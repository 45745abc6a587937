// Package projectiontest gives read-model tests what they run against: a real Redis
// (127.0.0.1:6379, or REDIS_URL) with a database of their own, and an embedded event
// store with its client. Test packages run in parallel, so each test takes one of the
// server's databases 1..15 under a lock kept in database 0, and empties it first.
//
// It also holds the harness every read model's tests share: a Script of domain
// commands (Do) and raw appends on the store, projectors run for the test's length
// (Project, Run), waits on a model's checkpoint (WaitCaughtUp, WaitCheckpoint), the
// comparison of two builds of a model (SameModel) and the notices a test hears
// (Listen). It imports no read model: their tests import it.
package projectiontest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events/store"
	"vigie/events/storetest"
)

// RedisURL is where the tests' Redis is.
func RedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis returns a client on a database of the test's own, emptied. The test fails
// (it does not skip) when no Redis answers: scripts/test starts one.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	locks := redis.NewClient(opts)
	t.Cleanup(func() { locks.Close() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for db := 1; db <= 15; db++ {
			lock := fmt.Sprintf("vigie:test:db:%d", db)
			ok, err := locks.SetNX(ctx, lock, t.Name(), 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("redis at %s: %v", RedisURL(), err)
			}
			if !ok {
				continue
			}
			o := *opts
			o.DB = db
			c := redis.NewClient(&o)
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				c.Close()
				locks.Del(context.Background(), lock)
			})
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("no free Redis database for the test")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Store runs an embedded event store and returns a client to it and its URL.
func Store(t testing.TB) (*store.Client, string) {
	t.Helper()
	return storetest.Embedded(t)
}

// Dump is every key of a database with its value in a comparable form: what two
// models must share to be called identical.
func Dump(t testing.TB, c *redis.Client, match string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := c.Scan(ctx, 0, match, 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			var m []string
			m, err = c.SMembers(ctx, k).Result()
			v = sortedCopy(m)
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprint(v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}
