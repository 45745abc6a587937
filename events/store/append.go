package store

import (
	"context"
	"errors"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Append appends events to stream if expected holds. A wrong expected revision gives an
// error matching ErrConflict, a tombstoned stream ErrStreamDeleted, an unreachable
// store ErrUnavailable (the append may or may not have happened: retry with the same
// event IDs and expected revision). Appending no events is refused: the official
// client reports a meaningless revision for it.
func (c *Client) Append(ctx context.Context, stream string, expected Expected, events ...EventData) (AppendResult, error) {
	if len(events) == 0 {
		return AppendResult{}, &Error{Op: opAppend, Stream: stream, Err: errors.New("no events to append")}
	}
	ctx, span := c.start(ctx, "eventstore.append", opAppend,
		keyCategory.String(Category(stream)), keyExpected.String(expected.kindName()), keyEvents.Int(len(events)))
	proposed := make([]esdb.EventData, len(events))
	for i, e := range events {
		proposed[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: e.Metadata}
	}
	var wr *esdb.WriteResult
	err := c.call(ctx, opAppend, func(es *esdb.Client) error {
		var err error
		wr, err = es.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected.esdb()}, proposed...)
		return err
	})
	if err != nil {
		err = wrap(ctx, opAppend, stream, err)
		end(span, err)
		return AppendResult{}, err
	}
	res := AppendResult{NextRevision: wr.NextExpectedVersion, Position: Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition}}
	span.SetAttributes(keyNextRev.Int64(int64(res.NextRevision)))
	end(span, nil)
	return res, nil
}

// Delete soft-deletes stream if expected holds: reads answer ErrStreamNotFound until
// the next append, which continues the revisions where they stopped.
func (c *Client) Delete(ctx context.Context, stream string, expected Expected) error {
	ctx, span := c.start(ctx, "eventstore.delete", opDelete,
		keyCategory.String(Category(stream)), keyExpected.String(expected.kindName()))
	err := c.call(ctx, opDelete, func(es *esdb.Client) error {
		_, err := es.DeleteStream(ctx, stream, esdb.DeleteStreamOptions{ExpectedRevision: expected.esdb()})
		return err
	})
	err = wrap(ctx, opDelete, stream, err)
	end(span, err)
	return err
}

// Tombstone deletes stream for good if expected holds: later reads and appends answer
// ErrStreamDeleted, and the name can never be used again.
func (c *Client) Tombstone(ctx context.Context, stream string, expected Expected) error {
	ctx, span := c.start(ctx, "eventstore.tombstone", opTombstone,
		keyCategory.String(Category(stream)), keyExpected.String(expected.kindName()))
	err := c.call(ctx, opTombstone, func(es *esdb.Client) error {
		_, err := es.TombstoneStream(ctx, stream, esdb.TombstoneStreamOptions{ExpectedRevision: expected.esdb()})
		return err
	})
	err = wrap(ctx, opTombstone, stream, err)
	end(span, err)
	return err
}
