package storetest

import (
	"context"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"vigie/events/store"
)

// RunMetadata runs the stream-metadata part of the contract (`$$<stream>` streams, as
// the official clients' SetStreamMetadata/GetStreamMetadata use them) against the
// server at url. It talks to the server through the official client directly: Vigie's
// store client has no metadata calls. The expected behaviours are EventStoreDB's (its
// StreamMetadata parsing, StorageWriterService's soft delete, and its MaxAgeMaxCount and
// Metastreams tests), so that a real node passes it too.
func RunMetadata(t *testing.T, url string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, m *metaEnv)
	}{
		{"MetadataRoundTripsSystemAndCustomProperties", testMetadataRoundTrip},
		{"MetadataOfTheOfficialClientsTest", testMetadataLikeTheOfficialClient},
		{"MetadataStreamShowsOnlyItsLastEvent", testMetadataStreamKeepsLast},
		{"MetadataMissingIsStreamNotFound", testMetadataMissing},
		{"MaxCountKeepsTheLastEvents", testMaxCount},
		{"MaxAgeHidesOldEventsFromStreamReadsNotFromAll", testMaxAge},
		{"TruncateBeforeHidesEarlierRevisions", testTruncateBefore},
		{"InvalidMetadataIsAcceptedAndIgnored", testInvalidMetadata},
		{"SoftDeleteWritesTruncateBeforeIntoTheMetadata", testSoftDeleteMetadata},
		{"MetadataWriteBringsBackASoftDeletedStream", testMetadataUndeletes},
		{"TombstonedStreamsMetadataIsDeleted", testTombstoneMetadata},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newMetaEnv(t, url))
		})
	}
}

// metaEnv: the official client, and Vigie's store client for the plain operations.
type metaEnv struct {
	es  *esdb.Client
	c   *store.Client
	ctx context.Context
}

func newMetaEnv(t *testing.T, url string) *metaEnv {
	t.Helper()
	es := Official(t, url)
	c, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &metaEnv{es: es, c: c, ctx: testContext(t)}
}

func (m *metaEnv) set(t *testing.T, stream string, meta esdb.StreamMetadata) {
	t.Helper()
	if _, err := m.es.SetStreamMetadata(m.ctx, stream, esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatalf("SetStreamMetadata(%s): %v", stream, err)
	}
}

func (m *metaEnv) get(t *testing.T, stream string) esdb.StreamMetadata {
	t.Helper()
	got, err := m.es.GetStreamMetadata(m.ctx, stream, esdb.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("GetStreamMetadata(%s): %v", stream, err)
	}
	return *got
}

// revs reads the stream with the official client, as its tests do, and returns the
// revisions read; a missing stream fails the test.
func (m *metaEnv) revs(t *testing.T, stream string, dir esdb.Direction, from esdb.StreamPosition) []uint64 {
	t.Helper()
	rs, err := m.es.ReadStream(m.ctx, stream, esdb.ReadStreamOptions{Direction: dir, From: from}, 1000)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	defer rs.Close()
	var out []uint64
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		out = append(out, ev.OriginalEvent().EventNumber)
	}
}

// head is the position of the last event of $all (zero when empty): a test reads $all
// from there, not from the start of a shared server.
func (m *metaEnv) head(t *testing.T) store.Position {
	t.Helper()
	recs, err := m.c.ReadAll(m.ctx, store.End, store.Backwards, 1)
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	if len(recs) == 0 {
		return store.Position{}
	}
	return recs[0].Position
}

// inAll is how many events of stream $all holds from position from on.
func (m *metaEnv) inAll(t *testing.T, stream string, from store.Position) int {
	t.Helper()
	n := 0
	err := m.c.ReadAllFunc(m.ctx, from, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		if r.StreamID == stream {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	return n
}

func esdbCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func testMetadataRoundTrip(t *testing.T, m *metaEnv) {
	stream := "ctmeta-" + unique()
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 1)...)
	var acl esdb.Acl
	acl.AddReadRoles("$admins")
	acl.AddWriteRoles("rac")
	acl.AddDeleteRoles("$admins")
	acl.AddMetaReadRoles("maire")
	acl.AddMetaWriteRoles("$admins")
	var meta esdb.StreamMetadata
	meta.SetMaxCount(1000)
	meta.SetMaxAge(48 * time.Hour)
	meta.SetTruncateBefore(0)
	meta.SetCacheControl(10 * time.Second)
	meta.SetAcl(acl)
	meta.AddCustomProperty("owner", "cellule de crise")
	meta.AddCustomProperty("retention", 30.0) // JSON numbers come back as float64
	meta.AddCustomProperty("exercise", true)
	meta.AddCustomProperty("where", map[string]interface{}{"dep": "30", "communes": []interface{}{"30189", "30007"}})
	m.set(t, stream, meta)
	if got := m.get(t, stream); !reflect.DeepEqual(got, meta) {
		t.Fatalf("GetStreamMetadata = %+v, want %+v", got, meta)
	}
	// The latest metadata replaces the previous one whole.
	var next esdb.StreamMetadata
	next.SetAcl(esdb.UserStreamAcl)
	next.AddCustomProperty("owner", "préfecture")
	m.set(t, stream, next)
	if got := m.get(t, stream); !reflect.DeepEqual(got, next) {
		t.Fatalf("GetStreamMetadata after a second write = %+v, want %+v", got, next)
	}
	// The stream itself is untouched.
	if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{0}) {
		t.Fatalf("stream after metadata writes: revisions %v, want [0]", got)
	}
}

// The official client's metadataOperation test, in our words: any expected revision,
// a read ACL and a max age, read back equal.
func testMetadataLikeTheOfficialClient(t *testing.T, m *metaEnv) {
	stream := "ctmetaclient-" + unique()
	if _, err := m.es.AppendToStream(m.ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}},
		esdb.EventData{ContentType: esdb.ContentTypeJson, EventType: "E", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var acl esdb.Acl
	acl.AddReadRoles("admin")
	var meta esdb.StreamMetadata
	meta.SetMaxAge(2 * time.Second)
	meta.SetAcl(acl)
	res, err := m.es.SetStreamMetadata(m.ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, meta)
	if err != nil || res == nil {
		t.Fatalf("SetStreamMetadata: %v, %v", res, err)
	}
	got, err := m.es.GetStreamMetadata(m.ctx, stream, esdb.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("GetStreamMetadata: %v", err)
	}
	if !reflect.DeepEqual(*got, meta) {
		t.Fatalf("GetStreamMetadata = %+v, want %+v", *got, meta)
	}
}

// A metadata stream keeps only its last event (the server's metastream $maxCount 1),
// which is why GetStreamMetadata can read it forwards from the start.
func testMetadataStreamKeepsLast(t *testing.T, m *metaEnv) {
	stream := "ctmetalast-" + unique()
	for i := uint64(1); i <= 3; i++ {
		var meta esdb.StreamMetadata
		meta.SetMaxCount(i)
		m.set(t, stream, meta)
	}
	if got := m.revs(t, "$$"+stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{2}) {
		t.Fatalf("$$%s forwards: revisions %v, want [2]", stream, got)
	}
	if got := m.revs(t, "$$"+stream, esdb.Backwards, esdb.End{}); !equal(got, []uint64{2}) {
		t.Fatalf("$$%s backwards: revisions %v, want [2]", stream, got)
	}
	last := m.get(t, stream)
	if got := last.MaxCount(); got == nil || *got != 3 {
		t.Fatalf("MaxCount = %v, want 3", got)
	}
}

// A stream without metadata has no `$$` stream: reading it is a plain "not found",
// which the official client's GetStreamMetadata passes on as an error.
func testMetadataMissing(t *testing.T, m *metaEnv) {
	stream := "ctmetanone-" + unique()
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 1)...)
	_, err := m.es.GetStreamMetadata(m.ctx, stream, esdb.ReadStreamOptions{})
	if code := esdbCode(err); code != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("GetStreamMetadata without metadata: %v (code %d), want resource not found", err, code)
	}
}

func testMaxCount(t *testing.T, m *metaEnv) {
	stream := "ctmaxcount-" + unique()
	from := m.head(t)
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 5)...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(3)
	m.set(t, stream, meta)
	cases := []struct {
		dir  esdb.Direction
		from esdb.StreamPosition
		want []uint64
	}{
		{esdb.Forwards, esdb.Start{}, []uint64{2, 3, 4}},
		{esdb.Forwards, esdb.Revision(1), []uint64{2, 3, 4}},
		{esdb.Forwards, esdb.Revision(3), []uint64{3, 4}},
		{esdb.Backwards, esdb.End{}, []uint64{4, 3, 2}},
		{esdb.Backwards, esdb.Revision(3), []uint64{3, 2}},
		{esdb.Backwards, esdb.Revision(1), nil},
	}
	for _, tc := range cases {
		if got := m.revs(t, stream, tc.dir, tc.from); !equal(got, tc.want) {
			t.Errorf("maxCount 3, read %v from %v: revisions %v, want %v", tc.dir, tc.from, got, tc.want)
		}
	}
	mustAppend(t, m.ctx, m.c, stream, store.Exact(4), newEvents("E", 5, 1)...)
	if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{3, 4, 5}) {
		t.Errorf("maxCount 3 after one more append: revisions %v, want [3 4 5]", got)
	}
	// $all does not look at metadata: every event stays there until a scavenge.
	if n := m.inAll(t, stream, from); n != 6 {
		t.Errorf("$all holds %d events of the stream, want all 6", n)
	}
}

// The official client's readStreamWithMaxAge, in our words: once the max age has
// passed, the stream still reads (no "not found"), with no event.
func testMaxAge(t *testing.T, m *metaEnv) {
	stream := "ctmaxage-" + unique()
	from := m.head(t)
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 2)...)
	var meta esdb.StreamMetadata
	meta.SetMaxAge(time.Second)
	m.set(t, stream, meta)
	time.Sleep(2 * time.Second)

	rs, err := m.es.ReadStream(m.ctx, stream, esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := rs.Recv()
	rs.Close()
	if ev != nil || !errors.Is(err, io.EOF) {
		t.Fatalf("read after the max age: event %v, error %v; want none and io.EOF", ev, err)
	}
	if got := m.revs(t, stream, esdb.Backwards, esdb.End{}); len(got) != 0 {
		t.Fatalf("read backwards after the max age: revisions %v, want none", got)
	}
	mustAppend(t, m.ctx, m.c, stream, store.Exact(1), newEvents("E", 2, 1)...)
	if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{2}) {
		t.Fatalf("read after a new append: revisions %v, want [2]", got)
	}
	if n := m.inAll(t, stream, from); n != 3 {
		t.Errorf("$all holds %d events of the stream, want all 3 (expired ones stay until a scavenge)", n)
	}
}

func testTruncateBefore(t *testing.T, m *metaEnv) {
	stream := "cttb-" + unique()
	from := m.head(t)
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 5)...)
	var meta esdb.StreamMetadata
	meta.SetTruncateBefore(3)
	m.set(t, stream, meta)
	if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{3, 4}) {
		t.Errorf("$tb 3 forwards: revisions %v, want [3 4]", got)
	}
	if got := m.revs(t, stream, esdb.Backwards, esdb.End{}); !equal(got, []uint64{4, 3}) {
		t.Errorf("$tb 3 backwards: revisions %v, want [4 3]", got)
	}
	// Beyond the last revision: the stream is still there, empty.
	meta.SetTruncateBefore(10)
	m.set(t, stream, meta)
	if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); len(got) != 0 {
		t.Errorf("$tb 10 on a stream of 5: revisions %v, want none", got)
	}
	if n := m.inAll(t, stream, from); n != 5 {
		t.Errorf("$all holds %d events of the stream, want all 5", n)
	}
}

// The server accepts any data in a `$metadata` event; metadata it cannot parse
// strictly is ignored as a whole (EventStoreDB's with_invalid_metadata and
// with_invalid_max_age_and_normal_max_count tests).
func testInvalidMetadata(t *testing.T, m *metaEnv) {
	for _, data := range []string{`{"$maxCount":1,,"$maxAge":}`, `{"$maxAge":1.5,"$maxCount":1}`, `not json`} {
		stream := "ctbadmeta-" + unique()
		mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 3)...)
		_, err := m.es.AppendToStream(m.ctx, "$$"+stream, esdb.AppendToStreamOptions{},
			esdb.EventData{ContentType: esdb.ContentTypeJson, EventType: "$metadata", Data: []byte(data)})
		if err != nil {
			t.Fatalf("write of metadata %s: %v", data, err)
		}
		if got := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(got, []uint64{0, 1, 2}) {
			t.Errorf("metadata %s: revisions %v, want all of [0 1 2]", data, got)
		}
	}
}

// A soft delete is recorded as new metadata holding only `$tb` = DeletedStream
// (the earlier properties go); an append brings the stream back with `$tb` at its
// first new revision.
func testSoftDeleteMetadata(t *testing.T, m *metaEnv) {
	stream := "ctdelmeta-" + unique()
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 2)...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(10)
	meta.AddCustomProperty("owner", "x")
	m.set(t, stream, meta)
	if err := m.c.Delete(m.ctx, stream, store.Exact(1)); err != nil {
		t.Fatal(err)
	}
	got := m.get(t, stream)
	if tb := got.TruncateBefore(); tb == nil || *tb < math.MaxInt64 || got.MaxCount() != nil || got.CustomProperty("owner") != nil {
		t.Fatalf("metadata after a soft delete = %+v, want only $tb = %d", got, int64(math.MaxInt64))
	}
	again := newEvents("Again", 2, 1)
	mustAppend(t, m.ctx, m.c, stream, store.Any(), again...)
	got = m.get(t, stream)
	if tb := got.TruncateBefore(); tb == nil || *tb != 2 {
		t.Fatalf("metadata after recreating the stream = %+v, want $tb 2", got)
	}
	if revs := m.revs(t, stream, esdb.Forwards, esdb.Start{}); !equal(revs, []uint64{2}) {
		t.Fatalf("recreated stream: revisions %v, want [2]", revs)
	}
}

// A metadata write to a soft-deleted stream brings it back, empty: the server sets
// the new metadata's `$tb` after the stream's last revision.
func testMetadataUndeletes(t *testing.T, m *metaEnv) {
	stream := "ctundelete-" + unique()
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 3)...)
	if err := m.c.Delete(m.ctx, stream, store.Any()); err != nil {
		t.Fatal(err)
	}
	var meta esdb.StreamMetadata
	meta.AddCustomProperty("owner", "y")
	m.set(t, stream, meta)
	got := m.get(t, stream)
	if tb := got.TruncateBefore(); tb == nil || *tb != 3 || got.CustomProperty("owner") != "y" {
		t.Fatalf("metadata written to a soft-deleted stream reads back %+v, want owner y and $tb 3", got)
	}
	if revs := m.revs(t, stream, esdb.Forwards, esdb.Start{}); len(revs) != 0 {
		t.Fatalf("stream brought back by its metadata: revisions %v, want none", revs)
	}
	res := mustAppend(t, m.ctx, m.c, stream, store.Exact(2), newEvents("E", 3, 1)...)
	if res.NextRevision != 3 {
		t.Fatalf("append after: revision %d, want 3", res.NextRevision)
	}
}

func testTombstoneMetadata(t *testing.T, m *metaEnv) {
	stream := "cttombmeta-" + unique()
	mustAppend(t, m.ctx, m.c, stream, store.NoStream(), newEvents("E", 0, 1)...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(5)
	m.set(t, stream, meta)
	if err := m.c.Tombstone(m.ctx, stream, store.Any()); err != nil {
		t.Fatal(err)
	}
	_, err := m.es.GetStreamMetadata(m.ctx, stream, esdb.ReadStreamOptions{})
	if code := esdbCode(err); code != esdb.ErrorCodeStreamDeleted {
		t.Errorf("GetStreamMetadata of a tombstoned stream: %v (code %d), want stream deleted", err, code)
	}
	_, err = m.es.SetStreamMetadata(m.ctx, stream, esdb.AppendToStreamOptions{}, meta)
	if code := esdbCode(err); code != esdb.ErrorCodeStreamDeleted {
		t.Errorf("SetStreamMetadata of a tombstoned stream: %v (code %d), want stream deleted", err, code)
	}
}
