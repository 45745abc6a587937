package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// readChunk bounds how many events one engine read holds: reads and subscriptions
// stream in chunks so a slow client never pins the engine or grows memory.
const readChunk = 512

func (s *Store) state(stream string) (streamState, error) {
	return getState(s.db, stream)
}

// stateAndWindow is a stream's state and what its reads show (a metadata stream's
// state reports the tombstone of the stream it describes).
func (s *Store) stateAndWindow(stream string) (streamState, window, error) {
	st, err := getState(s.db, stream)
	if err != nil || st.Tombstoned {
		return st, window{}, err
	}
	if isMetaStream(stream) {
		// Also for a stream tombstoned before its metadata stream was marked with it.
		orig, err := getState(s.db, stream[len(metaPrefix):])
		if err != nil || orig.Tombstoned {
			st.Tombstoned = orig.Tombstoned
			return st, window{}, err
		}
	}
	w, err := streamWindow(s.db, stream, st, time.Now())
	return st, w, err
}

// readAll returns up to max events of the log: forwards those at positions >= from,
// backwards those at positions < from (from 0 going backwards means from the head).
func (s *Store) readAll(from uint64, backwards bool, max int) ([]record, error) {
	opts := &pebble.IterOptions{LowerBound: logKey(from), UpperBound: []byte{prefixLog + 1}}
	if backwards {
		opts.LowerBound = []byte{prefixLog}
		opts.UpperBound = []byte{prefixLog + 1}
		if from > 0 {
			opts.UpperBound = logKey(from)
		}
	}
	it, err := s.db.NewIter(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	defer it.Close()
	var out []record
	valid := it.First()
	step := it.Next
	if backwards {
		valid, step = it.Last(), it.Prev
	}
	for ; valid && len(out) < max; valid = step() {
		rec, err := decodeRecord(binary.BigEndian.Uint64(it.Key()[1:]), bytes.Clone(it.Value()))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, it.Error()
}

// streamChunk is one engine read of a stream.
type streamChunk struct {
	recs []record
	more bool   // stopped at max: there may be more
	last uint64 // the last revision scanned, when more
}

// readStream returns up to max events of one stream from revision from (inclusive),
// none before revision lower (what a soft delete or the metadata truncated). Backwards
// reads go from `from` down.
func (s *Store) readStream(stream string, lower, from uint64, backwards bool, max int) (streamChunk, error) {
	if !backwards && from < lower {
		from = lower
	}
	prefix := indexPrefix(stream)
	opts := &pebble.IterOptions{LowerBound: indexKey(stream, from), UpperBound: append(bytes.Clone(prefix[:len(prefix)-1]), 1)}
	if backwards {
		if from < lower {
			return streamChunk{}, nil
		}
		opts.LowerBound = indexKey(stream, lower)
		opts.UpperBound = nil
		if from < ^uint64(0) {
			opts.UpperBound = indexKey(stream, from+1)
		} else {
			opts.UpperBound = append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		}
	}
	it, err := s.db.NewIter(opts)
	if err != nil {
		return streamChunk{}, fmt.Errorf("embedded: %w", err)
	}
	var chunk streamChunk
	positions := make([]uint64, 0, 16)
	valid := it.First()
	step := it.Next
	if backwards {
		valid, step = it.Last(), it.Prev
	}
	for ; valid && len(positions) < max; valid = step() {
		positions = append(positions, binary.BigEndian.Uint64(it.Value()))
		chunk.last = binary.BigEndian.Uint64(it.Key()[len(prefix):])
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return streamChunk{}, err
	}
	chunk.more = len(positions) == max
	chunk.recs = make([]record, 0, len(positions))
	for _, pos := range positions {
		raw, err := get(s.db, logKey(pos))
		if err != nil {
			return streamChunk{}, err
		}
		if raw == nil {
			// Erased since the index was read, by a scavenge (which erases only what
			// reads no longer show) or a tombstone. No engine snapshot is used to
			// avoid this: it would keep erased bytes through their compaction.
			continue
		}
		rec, err := decodeRecord(pos, raw)
		if err != nil {
			return streamChunk{}, err
		}
		chunk.recs = append(chunk.recs, rec)
	}
	return chunk, nil
}
