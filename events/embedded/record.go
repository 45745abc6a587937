package embedded

import (
	"encoding/binary"
	"errors"
)

// Keys of the log in the storage engine. One prefix byte per kind keeps each kind in
// its own contiguous key range, so a scan of the log or of one stream is one range read.
const (
	prefixLog    = 'L' // 'L' + position (8 bytes, big endian)           → record
	prefixIndex  = 'I' // 'I' + stream + 0x00 + revision (8 bytes, BE)   → position (8 bytes)
	prefixStream = 'S' // 'S' + stream                                   → stream state
)

func logKey(pos uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixLog
	binary.BigEndian.PutUint64(k[1:], pos)
	return k
}

func indexPrefix(stream string) []byte {
	k := make([]byte, 0, len(stream)+2)
	k = append(k, prefixIndex)
	k = append(k, stream...)
	return append(k, 0)
}

func indexKey(stream string, rev uint64) []byte {
	return binary.BigEndian.AppendUint64(indexPrefix(stream), rev)
}

func streamKey(stream string) []byte {
	return append([]byte{prefixStream}, stream...)
}

// record is one event as stored in the log.
type record struct {
	Stream      string
	Revision    uint64
	Position    uint64
	ID          [16]byte
	Created     int64 // .NET ticks (100 ns) since the Unix epoch, as the clients decode it
	Type        string
	ContentType string
	Metadata    []byte // the client's custom metadata
	Data        []byte
}

func (r *record) encode() []byte {
	n := 8 + 16 + 8 + 5*binary.MaxVarintLen64 + len(r.Stream) + len(r.Type) + len(r.ContentType) + len(r.Metadata) + len(r.Data)
	b := make([]byte, 0, n)
	b = appendBytes(b, []byte(r.Stream))
	b = binary.BigEndian.AppendUint64(b, r.Revision)
	b = append(b, r.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Created))
	b = appendBytes(b, []byte(r.Type))
	b = appendBytes(b, []byte(r.ContentType))
	b = appendBytes(b, r.Metadata)
	return appendBytes(b, r.Data)
}

var errCorruptRecord = errors.New("embedded: corrupt record")

// decodeRecord parses a stored record. The returned slices alias b only when b is
// owned by the caller; callers pass copies of engine memory.
func decodeRecord(pos uint64, b []byte) (record, error) {
	r := record{Position: pos}
	var s []byte
	var ok bool
	if s, b, ok = readBytes(b); !ok {
		return r, errCorruptRecord
	}
	r.Stream = string(s)
	if len(b) < 8+16+8 {
		return r, errCorruptRecord
	}
	r.Revision = binary.BigEndian.Uint64(b)
	copy(r.ID[:], b[8:24])
	r.Created = int64(binary.BigEndian.Uint64(b[24:32]))
	b = b[32:]
	if s, b, ok = readBytes(b); !ok {
		return r, errCorruptRecord
	}
	r.Type = string(s)
	if s, b, ok = readBytes(b); !ok {
		return r, errCorruptRecord
	}
	r.ContentType = string(s)
	if r.Metadata, b, ok = readBytes(b); !ok {
		return r, errCorruptRecord
	}
	if r.Data, _, ok = readBytes(b); !ok {
		return r, errCorruptRecord
	}
	return r, nil
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func readBytes(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// streamState is what the store knows of one stream.
type streamState struct {
	LastRevision   int64  // -1: no event ever appended
	Deleted        bool   // soft-deleted: reads answer "not found" until the next append
	Tombstoned     bool   // deleted for good: reads and appends answer "stream deleted"
	TruncateBefore uint64 // reads start here (set by a soft delete; the metadata may raise it, see metadata.go)
	LastEventID    [16]byte
}

func (s streamState) encode() []byte {
	b := make([]byte, 0, 33)
	b = binary.BigEndian.AppendUint64(b, uint64(s.LastRevision))
	var flags byte
	if s.Deleted {
		flags |= 1
	}
	if s.Tombstoned {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, s.TruncateBefore)
	return append(b, s.LastEventID[:]...)
}

func decodeStreamState(b []byte) (streamState, error) {
	if len(b) != 33 {
		return streamState{}, errCorruptRecord
	}
	st := streamState{
		LastRevision:   int64(binary.BigEndian.Uint64(b)),
		Deleted:        b[8]&1 != 0,
		Tombstoned:     b[8]&2 != 0,
		TruncateBefore: binary.BigEndian.Uint64(b[9:17]),
	}
	copy(st.LastEventID[:], b[17:])
	return st, nil
}

// exists reports whether reads of the stream find it (they may show no event: a
// truncation by its metadata hides events, not the stream).
func (s streamState) exists() bool {
	return s.LastRevision >= 0 && !s.Deleted && !s.Tombstoned
}
