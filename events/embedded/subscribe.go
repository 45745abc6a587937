package embedded

import (
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
)

// subscribe serves a catch-up subscription: everything after the starting point read
// from the log in chunks, then live. Live events are read from the log too (woken by
// the commit notice), so the switch from catch-up to live can neither skip nor repeat.
func (svc *streamsService) subscribe(r *readRequest, stream streams.Streams_ReadServer) error {
	ctx := stream.Context()
	if err := stream.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()},
	}}); err != nil {
		return err
	}
	// next: the first position (for $all) or revision (for a stream) not yet sent.
	var next uint64
	if r.all {
		switch {
		case r.fromStart:
			next = 1
		case r.fromEnd:
			next = svc.store.Head() + 1
		default:
			next = r.from + 1 // a subscription's starting position is exclusive
		}
	} else {
		st, err := svc.store.state(r.stream)
		if err != nil {
			return storeError(err)
		}
		if st.Tombstoned {
			return streamDeleted(stream.SetTrailer, r.stream)
		}
		switch {
		case r.fromStart:
			next = 0
		case r.fromEnd:
			next = uint64(st.LastRevision + 1)
		default:
			next = r.from + 1
		}
	}
	caughtUp := false
	var scanned, lastScanned uint64 // for filter checkpoints
	for {
		_, changed := svc.store.watch()
		var recs []record
		var more bool
		var err error
		if r.all {
			recs, err = svc.store.readAll(next, false, readChunk)
			more = len(recs) == readChunk
		} else {
			var st streamState
			if st, err = svc.store.state(r.stream); err == nil {
				if st.Tombstoned {
					return streamDeleted(stream.SetTrailer, r.stream)
				}
				var chunk streamChunk
				chunk, err = svc.store.readStream(r.stream, st.TruncateBefore, next, false, readChunk)
				recs, more = chunk.recs, chunk.more
				if more {
					// Past what was scanned, even if some of it was erased meanwhile.
					next = chunk.last + 1
				}
			}
		}
		if err != nil {
			return storeError(err)
		}
		for _, rec := range recs {
			if r.all {
				next = rec.Position + 1
			} else {
				next = rec.Revision + 1
			}
			if r.filter != nil && !r.filter.match(rec) {
				scanned++
				lastScanned = rec.Position
				if scanned >= r.filter.interval {
					if err := sendCheckpoint(stream, lastScanned); err != nil {
						return err
					}
					scanned = 0
				}
				continue
			}
			if err := stream.Send(eventMessage(rec, r.stringIDs)); err != nil {
				return err
			}
			// The event's own position now stands for everything before it.
			scanned, lastScanned = 0, rec.Position
		}
		if more {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if err := stream.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		// Idle with unsent progress past filtered-out events: tell the client, so a
		// checkpointing consumer does not rescan them after a restart.
		if r.filter != nil && scanned > 0 {
			if err := sendCheckpoint(stream, lastScanned); err != nil {
				return err
			}
			scanned = 0
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-svc.stop:
			return errServerStopping
		}
	}
}

func sendCheckpoint(stream streams.Streams_ReadServer, pos uint64) error {
	return stream.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{
		Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos},
	}})
}
