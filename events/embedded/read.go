package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// readChunk bounds how many events one engine read holds: reads and subscriptions
// stream in chunks so a slow client never pins the engine or grows memory.
const readChunk = 512

func (s *Store) state(stream string) (streamState, error) {
	return getState(s.db, stream)
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

// readStream returns up to max events of one stream from revision from (inclusive),
// skipping what a soft delete truncated. Backwards reads go from `from` down.
func (s *Store) readStream(stream string, st streamState, from uint64, backwards bool, max int) ([]record, error) {
	if !backwards && from < st.TruncateBefore {
		from = st.TruncateBefore
	}
	prefix := indexPrefix(stream)
	opts := &pebble.IterOptions{LowerBound: indexKey(stream, from), UpperBound: append(bytes.Clone(prefix[:len(prefix)-1]), 1)}
	if backwards {
		if from < st.TruncateBefore {
			return nil, nil
		}
		opts.LowerBound = indexKey(stream, st.TruncateBefore)
		opts.UpperBound = nil
		if from < ^uint64(0) {
			opts.UpperBound = indexKey(stream, from+1)
		} else {
			opts.UpperBound = append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		}
	}
	it, err := s.db.NewIter(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	positions := make([]uint64, 0, 16)
	valid := it.First()
	step := it.Next
	if backwards {
		valid, step = it.Last(), it.Prev
	}
	for ; valid && len(positions) < max; valid = step() {
		positions = append(positions, binary.BigEndian.Uint64(it.Value()))
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return nil, err
	}
	out := make([]record, 0, len(positions))
	for _, pos := range positions {
		raw, err := get(s.db, logKey(pos))
		if err != nil {
			return nil, err
		}
		if raw == nil {
			return nil, fmt.Errorf("%w: position %d indexed but absent", errCorruptRecord, pos)
		}
		rec, err := decodeRecord(pos, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
