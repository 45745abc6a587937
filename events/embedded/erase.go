package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// A tombstone erases the stream's events physically, not only from reads: residents'
// personal data is encrypted with per-person keys kept in `residentkey-<id>` streams,
// and erasing a person (crypto-shredding) is tombstoning that stream. So the key bytes
// must leave the log, not merely become unreadable. EventStoreDB gets there with a
// scavenge; here it happens with the tombstone:
//
//  1. The tombstone's batch deletes the stream's log records (`L`+position) and index
//     keys (`I`+stream+…), and records the erased positions under `E`+stream — in the
//     same batch, so after a crash either the stream is live and whole, or it is
//     tombstoned, unreadable and marked for compaction. $all reads and subscriptions
//     iterate the log keys, so they step over the gap.
//  2. After the commit, a manual compaction of exactly those key ranges flushes the
//     memtable that holds them and rewrites every table holding them down to the
//     bottom level, where the deletion and the value it shadows both disappear; then
//     the `E` key is deleted. A compaction cut short (crash, Close) is resumed at the
//     next Open from the `E` keys.
//  3. Obsolete files are deleted, never recycled (eraseCleaner): Pebble would otherwise
//     reuse old write-ahead-log files, whose stale tail could still hold the bytes.
//
// What this does not reach: backups taken before the tombstone (they keep the key until
// they are destroyed: keep backups no longer than the erasure policy allows), and the
// blocks of deleted files on the disk itself (use an encrypted file system).
//
// The head is kept under `H` by the tombstone's batch, so that erasing the last events
// of the log never lets the next append reuse their positions.
const (
	prefixHead  = 'H' // 'H'                                           → head position (8 bytes)
	prefixErase = 'E' // 'E' + stream [+ NUL + first position (scavenge)] → erased positions (8 bytes each)
)

var headKey = []byte{prefixHead}

func eraseKey(stream string) []byte {
	return append([]byte{prefixErase}, stream...)
}

// eraseStream adds to b the deletion of every event of stream (those appended earlier
// in the same batch included: b is indexed) and returns the compaction it owes.
func eraseStream(b *pebble.Batch, stream string, head uint64) (*erasure, error) {
	return eraseRevisions(b, stream, 0, ^uint64(0), false, head)
}

// eraseRevisions adds to b the deletion of the stream's events of revisions in
// [from, to) and returns the compaction it owes (nil when there was nothing to erase).
// A tombstone's erasure is remembered under `E`+stream; a scavenge's under
// `E`+stream+NUL+first position, so that two scavenges of one stream, or a scavenge
// then a tombstone, each keep their own mark until their compaction is done.
func eraseRevisions(b *pebble.Batch, stream string, from, to uint64, scavenge bool, head uint64) (*erasure, error) {
	prefix := indexPrefix(stream)
	opts := &pebble.IterOptions{LowerBound: indexKey(stream, from), UpperBound: prefixEnd(prefix)}
	if to != ^uint64(0) {
		opts.UpperBound = indexKey(stream, to)
	}
	it, err := b.NewIter(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	var positions []uint64
	var keys [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		positions = append(positions, binary.BigEndian.Uint64(it.Value()))
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if len(positions) == 0 {
		return nil, nil
	}
	for i, pos := range positions {
		if err := b.Delete(logKey(pos), nil); err != nil {
			return nil, err
		}
		if err := b.Delete(keys[i], nil); err != nil {
			return nil, err
		}
	}
	v := make([]byte, 0, 8*len(positions))
	for _, pos := range positions {
		v = binary.BigEndian.AppendUint64(v, pos)
	}
	key := eraseKey(stream)
	if scavenge {
		key = binary.BigEndian.AppendUint64(append(key, 0), positions[0])
	}
	if err := b.Set(key, v, nil); err != nil {
		return nil, err
	}
	if err := b.Set(headKey, binary.BigEndian.AppendUint64(nil, head), nil); err != nil {
		return nil, err
	}
	return &erasure{stream: stream, key: key, positions: positions}, nil
}

// prefixEnd is the first key after every key that starts with prefix (prefix ends in
// NUL for index prefixes, so incrementing its last byte is enough).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	end[len(end)-1]++
	return end
}

// erasure is a compaction owed to a tombstone or a scavenge.
type erasure struct {
	stream    string
	key       []byte // its `E` key, deleted once the compaction is done
	positions []uint64
}

// compactErased runs in the background, one at a time per store; Close waits for it.
func (s *Store) compactErased(e erasure) {
	s.erasing.Add(1)
	go func() {
		defer s.erasing.Done()
		s.eraseMu.Lock()
		defer s.eraseMu.Unlock()
		if err := s.compact(e); err != nil {
			// Left marked under `E`: the next Open tries again. The bytes are already
			// unreadable through every read.
			s.eraseErr.Store(err)
		}
	}()
}

// maxEraseRanges bounds the number of manual compactions of one erasure: beyond it, the
// span from the first to the last erased position is compacted at once.
const maxEraseRanges = 64

func (s *Store) compact(e erasure) error {
	ctx := context.Background()
	prefix := indexPrefix(e.stream)
	if err := s.db.Compact(ctx, prefix, prefixEnd(prefix), false); err != nil {
		return err
	}
	for _, r := range positionRanges(e.positions, maxEraseRanges) {
		if err := s.db.Compact(ctx, logKey(r[0]), logKey(r[1]+1), false); err != nil {
			return err
		}
	}
	return s.db.Delete(e.key, pebble.Sync)
}

// positionRanges coalesces sorted positions into inclusive runs, at most max of them.
func positionRanges(positions []uint64, max int) [][2]uint64 {
	var out [][2]uint64
	for _, p := range positions {
		if n := len(out); n > 0 && out[n-1][1]+1 == p {
			out[n-1][1] = p
			continue
		}
		out = append(out, [2]uint64{p, p})
	}
	if len(out) > max {
		out = [][2]uint64{{out[0][0], out[len(out)-1][1]}}
	}
	return out
}

// resumeErasures restarts the compactions a crash or a Close cut short.
func (s *Store) resumeErasures() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixErase}, UpperBound: []byte{prefixErase + 1}})
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v := it.Value()
		key := bytes.Clone(it.Key())
		name := key[1:]
		if i := bytes.IndexByte(name, 0); i >= 0 { // a scavenge's mark
			name = name[:i]
		}
		e := erasure{stream: string(name), key: key}
		for ; len(v) >= 8; v = v[8:] {
			e.positions = append(e.positions, binary.BigEndian.Uint64(v))
		}
		s.compactErased(e)
	}
	return it.Error()
}

// eraseCleaner deletes obsolete files and keeps Pebble from recycling write-ahead-log
// files. Pebble turns recycling off for a cleaner that "needs the files' contents", a
// mark it gives only to its ArchiveCleaner; embedded one level deeper, that cleaner
// lends the mark while DeleteCleaner's Clean (shallower) is the one that runs.
type eraseCleaner struct {
	pebble.DeleteCleaner
	noRecycle
}

type noRecycle struct{ pebble.ArchiveCleaner }
