package embedded_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/events/storetest"
)

func revisions(t *testing.T, ctx context.Context, c *store.Client, stream string) []uint64 {
	t.Helper()
	recs, err := c.ReadStream(ctx, stream, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	out := []uint64{}
	for _, r := range recs {
		out = append(out, r.Revision)
	}
	return out
}

func sameRevs(a, b []uint64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// A scavenge erases what stream reads no longer show ($maxCount, $tb, $maxAge, soft
// deletes, superseded metadata): from $all, and from the files once compacted; what
// reads show is unchanged, and positions are never reused.
func TestScavengeErasesWhatReadsNoLongerShow(t *testing.T) {
	dir := t.TempDir()
	st, srv, c := openServed(t, dir)
	es := storetest.Official(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tag := uuid.NewString()[:8]
	gone := func(stream string, i int) string { return fmt.Sprintf("gone-%s-%s-%d", tag, stream, i) }
	kept := func(stream string, i int) string { return fmt.Sprintf("kept-%s-%s-%d", tag, stream, i) }
	appendN := func(stream string, n int, word func(string, int) string) {
		t.Helper()
		for i := 0; i < n; i++ {
			if _, err := c.Append(ctx, stream, store.Any(), event("E", `{"v":"`+word(stream, i)+`"}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	setMeta := func(stream string, set func(*esdb.StreamMetadata)) {
		t.Helper()
		var m esdb.StreamMetadata
		set(&m)
		if _, err := es.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
	}

	appendN("aged", 2, gone) // $maxAge 1 s, then waited for
	setMeta("aged", func(m *esdb.StreamMetadata) { m.SetMaxAge(time.Second) })
	time.Sleep(2 * time.Second)

	appendN("counted", 3, gone) // $maxCount 2: the first 3 of 5 go
	appendN("counted", 2, kept)
	setMeta("counted", func(m *esdb.StreamMetadata) { m.SetMaxCount(4); m.AddCustomProperty("old", gone("meta", 0)) })
	setMeta("counted", func(m *esdb.StreamMetadata) { m.SetMaxCount(2) })

	appendN("truncated", 2, gone) // $tb 2
	appendN("truncated", 1, kept)
	setMeta("truncated", func(m *esdb.StreamMetadata) { m.SetTruncateBefore(2) })

	appendN("deleted", 2, gone) // soft-deleted
	if err := c.Delete(ctx, "deleted", store.Any()); err != nil {
		t.Fatal(err)
	}
	appendN("plain", 2, kept)
	if err := st.Flush(); err != nil { // in the tables, not only the memtable and WAL
		t.Fatal(err)
	}

	// Before: $all still has everything (EventStoreDB's documented behaviour).
	all, err := c.ReadAll(ctx, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	before := len(all)
	readsBefore := map[string][]uint64{}
	for _, s := range []string{"aged", "counted", "truncated", "plain"} {
		readsBefore[s] = revisions(t, ctx, c, s)
	}
	if !sameRevs(readsBefore["counted"], []uint64{3, 4}) || !sameRevs(readsBefore["truncated"], []uint64{2}) || len(readsBefore["aged"]) != 0 {
		t.Fatalf("reads before the scavenge: %v", readsBefore)
	}

	res, err := st.Scavenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// aged 2, counted 3, truncated 2, deleted 2, and $$counted's first metadata event.
	if res.Events != 10 || res.Streams != 5 {
		t.Errorf("scavenge erased %d events of %d streams, want 10 of 5", res.Events, res.Streams)
	}
	all, err = c.ReadAll(ctx, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != before-10 {
		t.Errorf("$all after the scavenge: %d events, want %d", len(all), before-10)
	}
	for _, e := range all {
		if bytes.Contains(e.Data, []byte("gone-"+tag)) {
			t.Errorf("$all still holds %s/%d: %s", e.StreamID, e.Revision, e.Data)
		}
	}
	for s, want := range readsBefore {
		if got := revisions(t, ctx, c, s); !sameRevs(got, want) {
			t.Errorf("read of %s after the scavenge: %v, want %v as before", s, got, want)
		}
	}
	if _, err := c.ReadStream(ctx, "deleted", store.Start, store.Forwards, store.NoLimit); !errors.Is(err, store.ErrStreamNotFound) {
		t.Errorf("read of the soft-deleted stream after the scavenge: %v, want not found", err)
	}
	m, err := es.GetStreamMetadata(ctx, "counted", esdb.ReadStreamOptions{})
	if err != nil || m.MaxCount() == nil || *m.MaxCount() != 2 {
		t.Errorf("metadata after the scavenge: %+v, %v; want maxCount 2", m, err)
	}
	// A second scavenge finds nothing more.
	if res, err := st.Scavenge(ctx); err != nil || res.Events != 0 {
		t.Errorf("second scavenge: %+v, %v; want nothing erased", res, err)
	}
	head := st.Head()

	c.Close()
	srv.Close()
	if err := st.Close(); err != nil { // waits for the compactions
		t.Fatal(err)
	}
	grepDir(t, dir, "gone-"+tag)

	st, srv, c = openServed(t, dir)
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	if st.Head() != head {
		t.Errorf("head after reopening = %d, want %d", st.Head(), head)
	}
	for s, want := range readsBefore {
		if got := revisions(t, ctx, c, s); !sameRevs(got, want) {
			t.Errorf("read of %s after reopening: %v, want %v", s, got, want)
		}
	}
	r, err := c.Append(ctx, "deleted", store.Any(), event("E", `{}`))
	if err != nil || r.NextRevision != 2 || r.Position.Commit <= head {
		t.Errorf("append to the scavenged soft-deleted stream: %+v, %v; want revision 2 after position %d", r, err, head)
	}
}

// The store scavenges itself on a schedule.
func TestScavengeRunsOnSchedule(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir(), ScavengeEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	es := storetest.Official(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if _, err := c.Append(ctx, "s", store.Any(), event("E", `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	var m esdb.StreamMetadata
	m.SetMaxCount(1)
	if _, err := es.SetStreamMetadata(ctx, "s", esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	for {
		all, err := c.ReadAll(ctx, store.Start, store.Forwards, store.NoLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) == 2 { // the last event of s and the metadata
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("$all still holds %d events: no scheduled scavenge", len(all))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Only `$$<stream>` is open to clients among `$` names; metadata streams are not
// deleted on their own.
func TestWritesToOtherDollarStreamsAreRefused(t *testing.T) {
	st, srv, c := openServed(t, t.TempDir())
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"$ops", "$$", "$$$users", "$et-Incident", "$all"} {
		if _, err := c.Append(ctx, name, store.Any(), event("E", `{}`)); err == nil {
			t.Errorf("append to %q accepted, want it refused", name)
		}
	}
	if _, err := c.Append(ctx, "$$incident-1", store.Any(), event("$metadata", `{"$maxCount":3}`)); err != nil {
		t.Errorf("append to $$incident-1: %v", err)
	}
	if err := c.Delete(ctx, "$$incident-1", store.Any()); err == nil {
		t.Error("delete of a metadata stream accepted, want it refused")
	}
	if err := c.Tombstone(ctx, "$$incident-1", store.Any()); err == nil {
		t.Error("tombstone of a metadata stream accepted, want it refused")
	}
}

// Reads racing appends and scavenges of the same stream never fail, and always show a
// run of consecutive revisions.
func TestReadsDuringScavengesSeeNoHole(t *testing.T) {
	st, srv, c := openServed(t, t.TempDir())
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	es := storetest.Official(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var m esdb.StreamMetadata
	m.SetMaxCount(5)
	if _, err := es.SetStreamMetadata(ctx, "hot", esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, "hot", store.Any(), event("E", `{}`)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if _, err := c.Append(ctx, "hot", store.Any(), event("E", `{}`)); err != nil {
				errs <- err
				return
			}
			if i%10 == 0 {
				if _, err := st.Scavenge(ctx); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		for _, dir := range []store.Direction{store.Forwards, store.Backwards} {
			from := store.Start
			if dir == store.Backwards {
				from = store.End
			}
			recs, err := c.ReadStream(ctx, "hot", from, dir, store.NoLimit)
			if err != nil {
				t.Fatalf("read %v during scavenges: %v", dir, err)
			}
			if len(recs) == 0 {
				t.Fatalf("read %v during scavenges: no event", dir)
			}
			for i := 1; i < len(recs); i++ {
				d := int64(recs[i].Revision) - int64(recs[i-1].Revision)
				if (dir == store.Forwards && d != 1) || (dir == store.Backwards && d != -1) {
					t.Fatalf("read %v during scavenges: revisions %d then %d", dir, recs[i-1].Revision, recs[i].Revision)
				}
			}
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}
