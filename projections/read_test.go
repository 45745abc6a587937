package projections_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/projectiontest"
	"vigie/projections/resourceboard"
	"vigie/services/resources/resource"
)

// registerResources registers n vehicles in two communes of the Gard, v000 to v<n-1>
// of the returned script.
func registerResources(t *testing.T, st *store.Client, n int) *projectiontest.Script {
	t.Helper()
	s := projectiontest.NewScript(t, st, resource.Register)
	rac := events.Actor{Subject: "sub-rac", Role: events.RoleRAC}
	for i := range n {
		name, domain := fmt.Sprintf("v%03d", i), communes[i%2]
		projectiontest.Do(s, func() *resource.Resource { return &resource.Resource{} }, events.CategoryResource, name, rac, domain,
			func(r *resource.Resource, by events.Actor, at time.Time) ([]events.Event, error) {
				return r.Register(resource.Registration{ResourceID: s.ID(name), Domain: domain, Kind: resource.KindVehicle, Name: "VSAV " + name}, by, at)
			})
	}
	return s
}

// TestReadRunsAgainOnTheNewVersion: a query that a rebuild's switch overtakes, and
// that reads the old version's keys once they are deleted, runs again on the new
// version's, and its answer is the new version's.
func TestReadRunsAgainOnTheNewVersion(t *testing.T) {
	ctx := context.Background()
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	registerResources(t, st, 20)
	proj, err := resourceboard.New()
	if err != nil {
		t.Fatal(err)
	}
	stop := projectiontest.Run(t, &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: quietLog(t)})
	projectiontest.WaitCaughtUp(t, rdb, st, resourceboard.Name)
	stop()

	var versions []string
	var count int64
	err = projections.Read(ctx, rdb, "", resourceboard.Name, func(k projections.Keys) (err error) {
		versions = append(versions, k.Prefix())
		if len(versions) == 1 {
			// The rebuild switches versions and deletes the keys this query was to read.
			rebuilder := &projections.Projector{Redis: rdb, Store: st, Projection: proj, Log: quietLog(t)}
			if v, err := rebuilder.Rebuild(ctx); err != nil || v != 2 {
				t.Fatalf("Rebuild = %d, %v", v, err)
			}
		}
		count, err = rdb.ZCard(ctx, k.Key("all", "dep:30")).Result()
		return err
	})
	want := []string{projections.KeysOf(resourceboard.Name, 1).Prefix(), projections.KeysOf(resourceboard.Name, 2).Prefix()}
	if err != nil || count != 20 || fmt.Sprint(versions) != fmt.Sprint(want) {
		t.Errorf("Read = %v: %d resources, read from %v; want 20 from %v", err, count, versions, want)
	}
}

// TestResourceBoardStaysFullThroughRebuilds rebuilds the resource board several times
// while readers list, count and get its resources: once they have seen it full, they
// never see it empty nor partial, nor get an error.
func TestResourceBoardStaysFullThroughRebuilds(t *testing.T) {
	const n, rebuilds = 200, 5
	ctx := context.Background()
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	s := registerResources(t, st, n)
	live, err := resourceboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Run(t, &projections.Projector{Redis: clientOf(t, rdb), Store: st, Projection: live, Log: quietLog(t)})
	projectiontest.WaitCaughtUp(t, rdb, st, resourceboard.Name)

	r := resourceboard.Reader{Redis: clientOf(t, rdb)}
	if got, err := r.List(ctx, "dep:30", "", "", resourceboard.Page{}); err != nil || len(got) != n {
		t.Fatalf("List before the rebuilds: %d resources, %v", len(got), err)
	}
	done := make(chan struct{})
	var reads, failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				reads.Add(1)
				switch i % 3 {
				case 0:
					if got, err := r.List(ctx, "dep:30", "", "", resourceboard.Page{}); err != nil || len(got) != n {
						fail("List during a rebuild: %d resources, %v", len(got), err)
					}
				case 1:
					if c, err := r.Count(ctx, "dep:30", "vehicle", "available"); err != nil || c != n {
						fail("Count during a rebuild: %d, %v", c, err)
					}
				default:
					if doc, err := r.Get(ctx, s.ID("v007")); err != nil || doc.Name != "VSAV v007" {
						fail("Get during a rebuild: %+v, %v", doc, err)
					}
				}
			}
		})
	}
	stopReaders := sync.OnceFunc(func() { close(done); wg.Wait() })
	defer stopReaders()

	for i := range rebuilds {
		rebuilder, err := resourceboard.New()
		if err != nil {
			t.Fatal(err)
		}
		p := &projections.Projector{Redis: clientOf(t, rdb), Store: st, Projection: rebuilder, Log: quietLog(t)}
		if v, err := p.Rebuild(ctx); err != nil || v != int64(i+2) {
			t.Fatalf("Rebuild %d = %d, %v", i+1, v, err)
		}
	}
	stopReaders()
	t.Logf("%d reads during %d rebuilds, %d failed, empty or partial", reads.Load(), rebuilds, failures.Load())
	if k, _, err := projections.Current(ctx, rdb, "", resourceboard.Name); err != nil || k != projections.KeysOf(resourceboard.Name, rebuilds+1) {
		t.Errorf("current keys %v, %v; want version %d", k, err, rebuilds+1)
	}
	clean, err := resourceboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.SameModel(t, resourceboard.Name, rdb, rebuilds+1,
		projectiontest.CleanBuild(t, st, &projections.Projector{Projection: clean, Log: quietLog(t)}))
}
