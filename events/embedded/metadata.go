package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
)

// Stream metadata, as EventStoreDB keeps it: the metadata of stream S is the last
// event of the stream `$$S` (type `$metadata`, JSON data), written by the clients'
// SetStreamMetadata as an ordinary append. The store reads its system properties
// (`$maxCount`, `$maxAge`, `$tb`) to decide what reads of S show; everything else
// (`$cacheControl`, `$acl`, custom properties) is kept as written, for the clients.
//
// What the server does, and so what this file does (EventStoreDB's StreamMetadata,
// StorageWriterService and its MaxAgeMaxCount/Metastreams tests):
//   - the data is parsed strictly: a JSON object whose `$maxCount`, `$maxAge`, `$tb`,
//     `$cacheControl` are JSON integers, `$tempStream` a boolean, `$acl` an object of
//     `$r $w $d $mr $mw` each a string or an array of strings. Anything else (not JSON,
//     a float, an unknown ACL key…) is accepted on write and the whole metadata is
//     then ignored, as if the stream had none. Non-positive `$maxCount`/`$maxAge` and
//     negative `$tb` are ignored one by one;
//   - a metadata stream keeps only its last event (the server's metastream maxCount 1);
//   - a soft delete writes `{"$tb":9223372036854775807}` (EventNumber.DeletedStream)
//     as the stream's new metadata; an append to the soft-deleted stream, or a
//     metadata write to it, rewrites the latest metadata with `$tb` set to the first
//     revision of the recreated stream;
//   - a tombstone deletes the metadata stream too: reads and writes of `$$S` then
//     answer "stream deleted".
const (
	metaPrefix    = "$$"
	metadataType  = "$metadata"
	deletedStream = math.MaxInt64 // $tb of a soft-deleted stream
)

func metaStreamOf(stream string) string { return metaPrefix + stream }

// isMetaStream: `$$` followed by the name of a stream a client may write.
func isMetaStream(stream string) bool {
	return len(stream) > len(metaPrefix) && strings.HasPrefix(stream, metaPrefix) && stream[len(metaPrefix)] != '$'
}

// streamMeta is what the store uses of a stream's metadata. Zero values: not set.
type streamMeta struct {
	maxCount int64
	maxAge   time.Duration
	tb       int64 // -1: not set
}

var noMeta = streamMeta{tb: -1}

// parseMeta reads metadata as the server does: strictly, and all or nothing.
func parseMeta(data []byte) streamMeta {
	m, _ := parseMetaValid(data)
	return m
}

// parseMetaValid is parseMeta, and whether the metadata is valid at all.
func parseMetaValid(data []byte) (streamMeta, bool) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return noMeta, false
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(data, &props); err != nil {
		return noMeta, false
	}
	m := noMeta
	for k, v := range props {
		switch k {
		case "$maxCount", "$maxAge", "$tb", "$cacheControl":
			n, ok := jsonInteger(v)
			if !ok {
				return noMeta, false
			}
			switch {
			case k == "$maxCount" && n > 0:
				m.maxCount = n
			case k == "$maxAge" && n > 0 && n <= math.MaxInt64/int64(time.Second):
				m.maxAge = time.Duration(n) * time.Second
			case k == "$tb" && n >= 0:
				m.tb = n
			}
		case "$tempStream":
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return noMeta, false
			}
		case "$acl":
			if _, ok := aclOf(v); !ok {
				return noMeta, false
			}
		}
	}
	return m, true
}

// jsonInteger: a JSON number without fraction or exponent that fits an int64.
func jsonInteger(v json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	return n, err == nil
}

// latestMetaData returns the data of the last event of stream's metadata stream, or nil.
func latestMetaData(r reader, stream string) ([]byte, error) {
	meta := metaStreamOf(stream)
	st, err := getState(r, meta)
	if err != nil || st.LastRevision < 0 || st.Tombstoned {
		return nil, err
	}
	v, err := get(r, indexKey(meta, uint64(st.LastRevision)))
	if err != nil || v == nil {
		return nil, err
	}
	pos := binary.BigEndian.Uint64(v)
	raw, err := get(r, logKey(pos))
	if err != nil || raw == nil {
		return nil, err
	}
	rec, err := decodeRecord(pos, raw)
	if err != nil {
		return nil, err
	}
	if rec.Data == nil {
		return []byte{}, nil
	}
	return rec.Data, nil
}

// window is what reads of a stream show: revisions from `from` on, of events created
// at or after minCreated (100 ns ticks; 0: any), unless the stream is deleted.
type window struct {
	from       uint64
	minCreated int64
	deleted    bool // soft-deleted through its metadata ($tb = DeletedStream)
}

func (w window) expired(rec record) bool { return rec.Created < w.minCreated }

// streamWindow applies the stream's soft-delete truncation and its latest metadata.
func streamWindow(r reader, stream string, st streamState, now time.Time) (window, error) {
	w := window{from: st.TruncateBefore}
	if st.LastRevision < 0 {
		return w, nil
	}
	last := uint64(st.LastRevision)
	if isMetaStream(stream) {
		w.from = max(w.from, last) // a metadata stream shows its last event only
		return w, nil
	}
	data, err := latestMetaData(r, stream)
	if err != nil || data == nil {
		return w, err
	}
	m := parseMeta(data)
	if m.tb == deletedStream {
		w.deleted = true
		return w, nil
	}
	if m.tb >= 0 {
		w.from = max(w.from, uint64(m.tb))
	}
	if m.maxCount > 0 && last+1 > uint64(m.maxCount) {
		w.from = max(w.from, last+1-uint64(m.maxCount))
	}
	if m.maxAge > 0 {
		w.minCreated = now.Add(-m.maxAge).UnixNano() / 100
	}
	return w, nil
}

// withTruncateBefore is raw metadata with `$tb` set to tb, or nil when raw is not a
// JSON object (the server then leaves the metadata as it is).
func withTruncateBefore(raw []byte, tb uint64) []byte {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(raw, &props) != nil {
		return nil
	}
	props["$tb"] = json.RawMessage(strconv.FormatUint(tb, 10))
	out, err := json.Marshal(props)
	if err != nil {
		return nil
	}
	return out
}

// appendMetadata adds a `$metadata` event with data to stream's metadata stream in b.
func appendMetadata(b *pebble.Batch, stream string, data []byte, next *uint64, created int64) (uint64, error) {
	meta := metaStreamOf(stream)
	st, err := getState(b, meta)
	if err != nil {
		return 0, err
	}
	return appendEvents(b, meta, &st, []proposed{{ID: uuid.New(), Type: metadataType, ContentType: "application/json", Data: data}}, next, created)
}

// truncateOnRecreate is what the server does when a soft-deleted stream comes back
// (an append, or a metadata write): its latest metadata is rewritten with `$tb` at
// the first revision of the recreated stream.
func truncateOnRecreate(b *pebble.Batch, stream string, from uint64, next *uint64, created int64) error {
	raw, err := latestMetaData(b, stream)
	if err != nil || raw == nil {
		return err
	}
	if data := withTruncateBefore(raw, from); data != nil {
		_, err = appendMetadata(b, stream, data, next, created)
	}
	return err
}
