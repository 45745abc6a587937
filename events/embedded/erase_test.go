package embedded_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/store"
)

// openServed opens the log in dir and serves it to the store client (events/store).
func openServed(t *testing.T, dir string) (*embedded.Store, *embedded.Server, *store.Client) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: dir})
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
	return st, srv, c
}

func event(typ string, data string) store.EventData {
	return store.EventData{ID: uuid.New(), Type: typ, Data: []byte(data), Metadata: []byte(`{}`)}
}

// A resident's key stream is tombstoned to erase the person: the key's bytes must be
// gone from every read at once, and from every file of the log once it is compacted.
func TestTombstoneErasesTheStreamsBytesFromReadsAndFiles(t *testing.T) {
	dir := t.TempDir()
	st, srv, c := openServed(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	secret := "k3y-" + uuid.NewString() // the bytes that must disappear
	mustAppend := func(stream string, evs ...store.EventData) {
		t.Helper()
		if _, err := c.Append(ctx, stream, store.Any(), evs...); err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
	}
	mustAppend("incident-1", event("IncidentReported", `{"n":1}`))
	mustAppend("residentkey-42", event("ResidentKeyCreated", `{"key":"`+secret+`"}`), event("ResidentKeyRotated", `{"key":"`+secret+`-2"}`))
	mustAppend("incident-1", event("IncidentQualified", `{"n":2}`))
	// The key's events reach a table, not only the memtable and the write-ahead log.
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	mustAppend("incident-1", event("IncidentClosed", `{"n":3}`))
	// The tombstoned stream's last events are the log's last ones: positions must not be reused.
	mustAppend("residentkey-43", event("ResidentKeyCreated", `{"key":"other"}`))
	if err := c.Tombstone(ctx, "residentkey-43", store.Any()); err != nil {
		t.Fatal(err)
	}
	if err := c.Tombstone(ctx, "residentkey-42", store.Exact(1)); err != nil {
		t.Fatal(err)
	}
	head := st.Head()

	all, err := c.ReadAll(ctx, store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range all {
		if bytes.Contains(e.Data, []byte(secret)) {
			t.Errorf("$all still returns the erased event %s at %v", e.Type, e.Position)
		}
		types = append(types, e.StreamID+"/"+e.Type)
	}
	if want := []string{"incident-1/IncidentReported", "incident-1/IncidentQualified", "incident-1/IncidentClosed"}; !equal(types, want) {
		t.Errorf("$all = %v, want %v", types, want)
	}
	back, err := c.ReadAll(ctx, store.End, store.Backwards, store.NoLimit)
	if err != nil || len(back) != 3 {
		t.Errorf("$all backwards: %d events, %v; want 3", len(back), err)
	}
	if _, err := c.ReadStream(ctx, "residentkey-42", store.Start, store.Forwards, store.NoLimit); !errors.Is(err, store.ErrStreamDeleted) {
		t.Errorf("read of the tombstoned stream: %v, want ErrStreamDeleted", err)
	}
	// A subscription from the start steps over the gap and goes live.
	got := make(chan store.Recorded, 16)
	subCtx, stopSub := context.WithCancel(ctx)
	go func() {
		_ = c.Subscribe(subCtx, nil, store.Filter{}, store.HandlerFuncs{OnEvent: func(_ context.Context, e store.Recorded) error {
			got <- e
			return nil
		}})
	}()
	res, err := c.Append(ctx, "incident-2", store.NoStream(), event("IncidentReported", `{"n":4}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Position.Commit <= head {
		t.Errorf("append after erasing the log's last events got position %d, at or before the head %d", res.Position.Commit, head)
	}
	for i := 0; i < 4; i++ {
		select {
		case e := <-got:
			if bytes.Contains(e.Data, []byte(secret)) || e.StreamID == "residentkey-42" {
				t.Errorf("subscription delivered the erased event %s/%s", e.StreamID, e.Type)
			}
		case <-ctx.Done():
			t.Fatalf("subscription delivered %d of 4 events", i)
		}
	}
	stopSub()

	c.Close()
	srv.Close()
	if err := st.Close(); err != nil { // waits for the erasure's compaction
		t.Fatal(err)
	}
	grepDir(t, dir, secret)

	// Reopened, the head is where it was (no position reused) and the stream stays deleted.
	st, srv, c = openServed(t, dir)
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	if st.Head() != res.Position.Commit {
		t.Errorf("head after reopening = %d, want %d", st.Head(), res.Position.Commit)
	}
	if _, err := c.Append(ctx, "residentkey-42", store.Any(), event("ResidentKeyCreated", `{}`)); !errors.Is(err, store.ErrStreamDeleted) {
		t.Errorf("append to the tombstoned stream: %v, want ErrStreamDeleted", err)
	}
}

// A soft delete keeps its behaviour: the events stay in $all and the stream can be
// recreated, its revisions going on.
func TestSoftDeleteKeepsTheEventsInAll(t *testing.T) {
	st, srv, c := openServed(t, t.TempDir())
	defer func() { c.Close(); srv.Close(); _ = st.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Append(ctx, "s-1", store.NoStream(), event("A", `{"v":"kept"}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "s-1", store.Exact(0)); err != nil {
		t.Fatal(err)
	}
	// As on EventStoreDB, the delete is recorded as the stream's new metadata ($tb).
	all, err := c.ReadAll(ctx, store.Start, store.Forwards, store.NoLimit)
	if err != nil || len(all) != 2 || string(all[0].Data) != `{"v":"kept"}` ||
		all[1].StreamID != "$$s-1" || all[1].Type != "$metadata" || string(all[1].Data) != `{"$tb":9223372036854775807}` {
		t.Fatalf("$all after a soft delete = %v, %v; want the event, then the metadata event", all, err)
	}
	if _, err := c.ReadStream(ctx, "s-1", store.Start, store.Forwards, store.NoLimit); !errors.Is(err, store.ErrStreamNotFound) {
		t.Errorf("read after a soft delete: %v, want ErrStreamNotFound", err)
	}
	res, err := c.Append(ctx, "s-1", store.NoStream(), event("B", `{}`))
	if err != nil || res.NextRevision != 1 {
		t.Errorf("recreate after a soft delete: revision %d, %v; want 1", res.NextRevision, err)
	}
}

// grepDir fails if any file under dir holds needle.
func grepDir(t *testing.T, dir, needle string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&os.ModeSocket != 0 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s still holds the erased bytes", filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
