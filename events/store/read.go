package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"go.opentelemetry.io/otel/trace"
)

// NoLimit as the max of a read reads to the end.
const NoLimit uint64 = 0

// readAhead bounds how many events a read holds beyond the one being handled.
const readAhead = 64

// count is what to ask the server for: real servers take "no limit" as the largest
// signed 64-bit count.
func count(max uint64) uint64 {
	if max == NoLimit || max > math.MaxInt64 {
		return math.MaxInt64
	}
	return max
}

// ReadStream returns up to max events (NoLimit: all) of stream from `from` (inclusive)
// in direction dir. A stream without events answers ErrStreamNotFound, a tombstoned one
// ErrStreamDeleted. For long streams use ReadStreamFunc, whose memory is bounded.
func (c *Client) ReadStream(ctx context.Context, stream string, from StreamFrom, dir Direction, max uint64) ([]Recorded, error) {
	var out []Recorded
	err := c.ReadStreamFunc(ctx, stream, from, dir, max, func(r Recorded) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ReadStreamFunc is ReadStream calling fn for each event in turn, holding only a few
// events at a time. An error of fn stops the read and is returned as is.
func (c *Client) ReadStreamFunc(ctx context.Context, stream string, from StreamFrom, dir Direction, max uint64, fn func(Recorded) error) error {
	if from == nil {
		from = Start
	}
	ctx, span := c.start(ctx, "eventstore.read_stream", opReadStream,
		keyCategory.String(Category(stream)), keyDirection.String(dir.String()), keyMax.Int64(int64(count(max))))
	opts := esdb.ReadStreamOptions{Direction: dir.esdb(), From: from.streamPosition()}
	n, fnErr, err := c.read(ctx, opReadStream, func(ctx context.Context, es *esdb.Client) (*esdb.ReadStream, error) {
		return es.ReadStream(ctx, stream, opts, count(max))
	}, fn)
	return finishRead(ctx, span, opReadStream, stream, n, fnErr, err)
}

// ReadAll returns up to max events (NoLimit: all) of $all from `from` in direction dir
// (forwards from a position includes the event at it). $all holds the server's own
// events too (Recorded.System). For long reads use ReadAllFunc.
func (c *Client) ReadAll(ctx context.Context, from AllFrom, dir Direction, max uint64) ([]Recorded, error) {
	var out []Recorded
	err := c.ReadAllFunc(ctx, from, dir, max, func(r Recorded) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ReadAllFunc is ReadAll calling fn for each event in turn, holding only a few events
// at a time. An error of fn stops the read and is returned as is.
func (c *Client) ReadAllFunc(ctx context.Context, from AllFrom, dir Direction, max uint64, fn func(Recorded) error) error {
	if from == nil {
		from = Start
	}
	ctx, span := c.start(ctx, "eventstore.read_all", opReadAll,
		keyAllStream, keyDirection.String(dir.String()), keyMax.Int64(int64(count(max))))
	opts := esdb.ReadAllOptions{Direction: dir.esdb(), From: from.allPosition()}
	n, fnErr, err := c.read(ctx, opReadAll, func(ctx context.Context, es *esdb.Client) (*esdb.ReadStream, error) {
		return es.ReadAll(ctx, opts, count(max))
	}, fn)
	return finishRead(ctx, span, opReadAll, "", n, fnErr, err)
}

func finishRead(ctx context.Context, span trace.Span, op, stream string, n int, fnErr, err error) error {
	span.SetAttributes(keyEventsRead.Int(n))
	if fnErr != nil {
		end(span, fnErr)
		return fnErr
	}
	err = wrap(ctx, op, stream, err)
	end(span, err)
	return err
}

type readItem struct {
	ev  *esdb.ResolvedEvent
	err error
}

// read is the one path of every read: open the official client's read stream, receive
// on a goroutine of its own (the official client can panic or block there), and hand
// the events to fn on the caller's goroutine. It returns how many events fn accepted,
// fn's error, or the read's error.
func (c *Client) read(ctx context.Context, op string, open func(context.Context, *esdb.Client) (*esdb.ReadStream, error), fn func(Recorded) error) (n int, fnErr, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rs *esdb.ReadStream
	err = c.call(ctx, op, func(es *esdb.Client) error {
		var err error
		rs, err = open(ctx, es)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	items := make(chan readItem, readAhead)
	go func() {
		defer close(items)
		defer rs.Close()
		defer func() {
			if r := recover(); r != nil {
				select {
				case items <- readItem{err: fmt.Errorf("%w: %v", errPanicked, r)}:
				case <-ctx.Done():
				}
			}
		}()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			select {
			case items <- readItem{ev: ev, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var it readItem
		var ok bool
		select {
		case it, ok = <-items:
		case <-ctx.Done():
			// The receiver may be stuck in the official client (see Client).
			return n, nil, ctx.Err()
		}
		if !ok {
			// The receiver stops early only when ctx ends.
			return n, nil, ctx.Err()
		}
		if it.err != nil {
			c.health.observe(op, it.err)
			return n, nil, it.err
		}
		rec, err := recordedFrom(it.ev)
		if err != nil {
			return n, nil, err
		}
		if err := fn(rec); err != nil {
			return n, err, nil
		}
		n++
	}
}
