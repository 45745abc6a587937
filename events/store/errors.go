package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	// ErrConflict: the expected revision did not hold; nothing was written. Reload and
	// decide again.
	ErrConflict = errors.New("wrong expected revision")
	// ErrStreamNotFound: the stream has no events (never written, or soft-deleted).
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamDeleted: the stream was tombstoned; it can never be read or written again.
	ErrStreamDeleted = errors.New("stream deleted")
	// ErrUnavailable: the event store could not be reached or did not answer. The
	// outcome of an append that fails so is unknown: retry it with the same event IDs
	// and expected revision, which the server answers idempotently.
	ErrUnavailable = errors.New("event store unavailable")
	// ErrAccessDenied: the store refused the operation to this client's user (a stream
	// ACL or stream policy, e.g. a service writing another service's category).
	ErrAccessDenied = errors.New("access denied")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("store client closed")
)

// Error is an operation's failure: errors.Is matches both its kind (one of the Err
// values above, when one applies) and its cause.
type Error struct {
	Op     string // "append", "read stream", …
	Stream string // empty for $all
	Kind   error  // ErrConflict, ErrStreamNotFound, …; nil when none applies
	Err    error  // the cause
}

func (e *Error) Error() string {
	msg := "store: " + e.Op
	if e.Stream != "" {
		msg += " " + e.Stream
	}
	if e.Kind != nil {
		msg += ": " + e.Kind.Error()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// kindOf classifies an error of the official client. It uses errors.As and Code(),
// never esdb.FromError, which turns any wrapped error into ErrorCodeUnknown.
func kindOf(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrClosed):
		return ErrClosed
	case errors.Is(err, errPanicked):
		return ErrUnavailable
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorCodeWrongExpectedVersion:
			return ErrConflict
		case esdb.ErrorCodeStreamDeleted:
			return ErrStreamDeleted
		case esdb.ErrorCodeResourceNotFound:
			return ErrStreamNotFound
		case esdb.ErrorCodeAccessDenied:
			return ErrAccessDenied
		case esdb.ErrorCodeConnectionClosed, esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader,
			esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted:
			return ErrUnavailable
		}
	}
	// Some paths of the client hand back raw gRPC errors (a read that fails to start, a
	// dropped subscription), and a delete refused for its expected revision comes back
	// as a bare FailedPrecondition status (the client reads no trailer for it).
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted:
		return ErrUnavailable
	case codes.PermissionDenied:
		return ErrAccessDenied
	case codes.FailedPrecondition:
		if op == opDelete || op == opTombstone {
			return ErrConflict
		}
	}
	return nil
}

// wrap turns err into an *Error. Unless the server gave a definite answer, an ended
// caller context wins over what the official client made of it, so that
// errors.Is(err, context.Canceled or context.DeadlineExceeded) holds.
func wrap(ctx context.Context, op, stream string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	kind := kindOf(op, err)
	definitive := kind == ErrConflict || kind == ErrStreamNotFound || kind == ErrStreamDeleted || kind == ErrAccessDenied
	if cerr := ctx.Err(); cerr != nil && !definitive {
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		// Out of time: the store did not answer in time, which callers treat like any
		// other unavailability. A cancelled call is just cancelled.
		kind = nil
		if errors.Is(cerr, context.DeadlineExceeded) {
			kind = ErrUnavailable
		}
	}
	return &Error{Op: op, Stream: stream, Kind: kind, Err: err}
}

func isCode(err error, code esdb.ErrorCode) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == code
}

// errPanicked marks a panic of the official client caught by the wrapper (a dead
// client's channel closed under a caller, or a protocol surprise).
var errPanicked = errors.New("event store client panicked")
