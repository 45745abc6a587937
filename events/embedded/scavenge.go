package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// A scavenge erases, physically, the events that reads of their stream no longer show:
// those before the stream's `$tb` (set by SetStreamMetadata, or by a soft delete),
// beyond its `$maxCount`, older than its `$maxAge`, every event of a soft-deleted
// stream, and every metadata event but the last. Until then, as on EventStoreDB,
// those events stay in `$all` (which does not look at metadata); after it they are
// gone from `$all` and subscriptions too, and, once the erased key ranges are
// compacted, from the files. The erasure and its compaction are the tombstone's
// (erase.go): one batch per stream deletes the log records and index keys and marks
// the compaction owed under `E`, resumed at the next Open if cut short.
//
// Unlike EventStoreDB, the last event of a stream is not kept: the stream's state
// (`S` key) already records its last revision.

// DefaultScavengeEvery is how often a store scavenges when Config.ScavengeEvery is 0.
const DefaultScavengeEvery = 24 * time.Hour

// ScavengeResult says what a scavenge erased.
type ScavengeResult struct {
	Streams int // streams that lost events
	Events  int // events erased
}

// Scavenge erases the events that stream reads no longer show (see above). It goes
// stream by stream through the writer, so appends go on meanwhile; the compactions
// that remove the bytes from the files run in the background (Close waits for them).
func (s *Store) Scavenge(ctx context.Context) (ScavengeResult, error) {
	var res ScavengeResult
	names, err := s.streamNames()
	if err != nil {
		return res, err
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r := s.write(&writeReq{op: opScavenge, stream: name})
		if r.err != nil {
			return res, r.err
		}
		if r.scavenged > 0 {
			res.Streams++
			res.Events += r.scavenged
		}
	}
	return res, nil
}

// streamNames lists every stream the store has a state for.
func (s *Store) streamNames() ([]string, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixStream}, UpperBound: []byte{prefixStream + 1}})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	defer it.Close()
	var names []string
	for valid := it.First(); valid; valid = it.Next() {
		names = append(names, string(it.Key()[1:]))
	}
	return names, it.Error()
}

// scavengeStream runs in the writer: it decides what to erase against the state and
// the metadata seen through the batch, so no append can slip in between.
func scavengeStream(b *pebble.Batch, stream string, next *uint64, created int64) writeResult {
	st, err := getState(b, stream)
	if err != nil {
		return writeResult{err: err}
	}
	if st.Tombstoned || st.LastRevision < 0 {
		return writeResult{}
	}
	w, err := streamWindow(b, stream, st, time.Unix(0, created*100))
	if err != nil {
		return writeResult{err: err}
	}
	last := uint64(st.LastRevision)
	to := min(w.from, last+1) // erase revisions before to
	if st.Deleted || w.deleted {
		to = last + 1
	} else if w.minCreated > 0 {
		if to, err = firstUnexpired(b, stream, to, w); err != nil {
			return writeResult{err: err}
		}
	}
	if to == 0 {
		return writeResult{}
	}
	e, err := eraseRevisions(b, stream, 0, to, true, *next-1)
	if err != nil || e == nil {
		return writeResult{err: err}
	}
	return writeResult{erased: []erasure{*e}, scavenged: len(e.positions)}
}

// firstUnexpired is the first revision at or after from whose event is not older than
// the window's maxAge (events of a stream are in commit order, so their times rise).
func firstUnexpired(b *pebble.Batch, stream string, from uint64, w window) (uint64, error) {
	prefix := indexPrefix(stream)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: indexKey(stream, from), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, fmt.Errorf("embedded: %w", err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		rev := binary.BigEndian.Uint64(it.Key()[len(prefix):])
		pos := binary.BigEndian.Uint64(it.Value())
		raw, err := get(b, logKey(pos))
		if err != nil {
			return 0, err
		}
		if raw == nil {
			return 0, fmt.Errorf("%w: position %d indexed but absent", errCorruptRecord, pos)
		}
		rec, err := decodeRecord(pos, raw)
		if err != nil {
			return 0, err
		}
		if !w.expired(rec) {
			return rev, nil
		}
		from = rev + 1
	}
	return from, it.Error()
}

// scavengeOnSchedule scavenges every cfg.ScavengeEvery until Close.
func (s *Store) scavengeOnSchedule(every time.Duration) {
	defer close(s.scavengerDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stopScavenger:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := s.Scavenge(ctx); err != nil && ctx.Err() == nil {
				// Kept for whoever asks (ScavengeError); the next run tries again.
				s.scavengeErr.Store(err)
			}
		case <-s.stopScavenger:
			return
		}
	}
}

// ScavengeError is the error of the last scheduled scavenge that failed, if any.
func (s *Store) ScavengeError() error {
	err, _ := s.scavengeErr.Load().(error)
	return err
}
