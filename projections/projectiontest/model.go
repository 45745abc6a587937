package projectiontest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events/store"
	"vigie/projections"
)

// Run runs p until the test ends or stop is called, whichever comes first; Run must
// return nil.
func Run(t testing.TB, p *projections.Projector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Project runs a projector of proj on rdb, applying batches of up to batch events (0:
// the projector's default), until the test ends.
func Project(t testing.TB, rdb *redis.Client, st *store.Client, proj projections.Projection, batch int) *projections.Projector {
	t.Helper()
	p := &projections.Projector{Redis: rdb, Store: st, Projection: proj, BatchSize: batch}
	Run(t, p)
	return p
}

// LastPosition is where the log ends.
func LastPosition(t testing.TB, st *store.Client) store.Position {
	t.Helper()
	last, err := st.ReadAll(context.Background(), store.End, store.Backwards, 1)
	if err != nil || len(last) != 1 {
		t.Fatalf("last event: %v (%d)", err, len(last))
	}
	return last[0].Position
}

// WaitCheckpoint waits until the current version of the read model has applied the log
// up to pos, or fails at the deadline.
func WaitCheckpoint(t testing.TB, rdb redis.Cmdable, name string, pos store.Position, deadline time.Time) {
	t.Helper()
	for {
		_, at, err := projections.Current(context.Background(), rdb, "", name)
		if err == nil && !at.Less(pos) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s at %s (%v), log at %s", name, at, err, pos)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitCaughtUp waits (15 s at the most) until the read model has applied the last
// event of the store.
func WaitCaughtUp(t testing.TB, rdb redis.Cmdable, st *store.Client, name string) {
	t.Helper()
	WaitCheckpoint(t, rdb, name, LastPosition(t, st), time.Now().Add(15*time.Second))
}

// Model is one version of a read model, key by key, under version-free names (the
// keys without the version's prefix), with values as Dump gives them.
func Model(t testing.TB, rdb *redis.Client, name string, version int64) map[string]string {
	t.Helper()
	prefix := projections.KeysOf(name, version).Prefix()
	out := map[string]string{}
	for k, v := range Dump(t, rdb, prefix+"*") {
		out[strings.TrimPrefix(k, prefix)] = v
	}
	return out
}

// SameModel fails the test unless got's version of the read model equals want's
// version 1 (typically a clean build from the log) key by key, value by value. want
// must hold more than a checkpoint.
func SameModel(t testing.TB, name string, got *redis.Client, version int64, want *redis.Client) {
	t.Helper()
	g, w := Model(t, got, name, version), Model(t, want, name, 1)
	if len(w) < 2 {
		t.Fatalf("the model to compare with is empty: %v", w)
	}
	var diffs []string
	for k, v := range g {
		if wv, ok := w[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s only in the model: %.300s", k, v))
		} else if wv != v {
			diffs = append(diffs, fmt.Sprintf("%s:\n   got  %s\n   want %s", k, excerpt(v, wv), excerpt(wv, v)))
		}
	}
	for k, v := range w {
		if _, ok := g[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s only in the model compared with: %.300s", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("… %d more", len(diffs)-10))
		}
		t.Errorf("%s v%d differs from the model compared with in %d of its %d keys:\n%s", name, version, len(diffs), len(w), strings.Join(diffs, "\n"))
	}
}

// excerpt is a around where it starts to differ from b.
func excerpt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from, to := max(0, i-60), min(len(a), i+120)
	return fmt.Sprintf("…%s…", a[from:to])
}

// CleanBuild builds a read model from the whole log into a Redis database of its own
// with p, whose Redis and Store it sets: it runs p until p has applied the last event
// of the log (30 s at the most), stops it and returns the database.
func CleanBuild(t testing.TB, st *store.Client, p *projections.Projector) *redis.Client {
	t.Helper()
	clean := Redis(t)
	p.Redis, p.Store = clean, st
	stop := Run(t, p)
	WaitCheckpoint(t, clean, p.Projection.Name(), LastPosition(t, st), time.Now().Add(30*time.Second))
	stop()
	return clean
}

// BatchesAlike builds the read model from the whole log twice, each into a Redis
// database of its own: one event per batch, then 512 per batch. It fails the test
// unless the two builds are the same model, key by key: how the log is cut into
// batches must not change what a projection makes of it.
func BatchesAlike[P projections.Projection](t testing.TB, st *store.Client, fresh func() (P, error)) {
	t.Helper()
	var builds []*redis.Client
	var name string
	for _, batch := range []int{1, 512} {
		proj, err := fresh()
		if err != nil {
			t.Fatal(err)
		}
		name = proj.Name()
		builds = append(builds, CleanBuild(t, st, &projections.Projector{Projection: proj, BatchSize: batch}))
	}
	SameModel(t, name, builds[0], 1, builds[1])
}
