package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Limits on input, so that no request can make the server misbehave.
const (
	maxStreamName = 1024
	maxEventType  = 1024
	maxRegex      = 1024
)

type streamsService struct {
	streams.UnimplementedStreamsServer
	store *Store
	stop  <-chan struct{}
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// validStreamName refuses what EventStoreDB would refuse, and names the store cannot
// index (NUL separates the stream from the revision in index keys). `$` streams are
// the server's own (system streams): Vigie's embedded store accepts no writes to
// them, except the metadata streams `$$<stream>` of the streams clients write
// (metadata.go) and the streams that configure access (access.go).
func validStreamName(id *shared.StreamIdentifier, write bool) (string, error) {
	if id == nil || len(id.StreamName) == 0 {
		return "", invalid("stream name is empty")
	}
	name := string(id.StreamName)
	switch {
	case len(name) > maxStreamName && !(isMetaStream(name) && len(name) <= maxStreamName+len(metaPrefix)):
		return "", invalid("stream name longer than %d bytes", maxStreamName)
	case !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0:
		return "", invalid("stream name must be UTF-8 without NUL")
	case write && strings.HasPrefix(name, "$") && !isMetaStream(name) && !isSettingsStream(name):
		return "", invalid("stream %q is reserved: names starting with '$' belong to the server", name)
	}
	return name, nil
}

// streamDeleted answers like EventStoreDB, whose clients read the trailer.
func streamDeleted(set func(metadata.MD), stream string) error {
	set(metadata.Pairs("exception", "stream-deleted", "stream-name", stream))
	return status.Errorf(codes.FailedPrecondition, "stream %q is deleted", stream)
}

func grpcTrailer(ctx context.Context) func(metadata.MD) {
	return func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }
}

func storeError(err error) error {
	if errors.Is(err, ErrClosed) {
		return status.Error(codes.Unavailable, "event store is shutting down")
	}
	return status.Errorf(codes.Internal, "event store: %v", err)
}

func expectationFrom(kind any) (expectation, error) {
	switch v := kind.(type) {
	case *streams.AppendReq_Options_Revision:
		return expectation{kind: expectExact, rev: v.Revision}, nil
	case *streams.AppendReq_Options_NoStream, *streams.DeleteReq_Options_NoStream, *streams.TombstoneReq_Options_NoStream:
		return expectation{kind: expectNoStream}, nil
	case *streams.AppendReq_Options_Any, *streams.DeleteReq_Options_Any, *streams.TombstoneReq_Options_Any:
		return expectation{kind: expectAny}, nil
	case *streams.AppendReq_Options_StreamExists, *streams.DeleteReq_Options_StreamExists, *streams.TombstoneReq_Options_StreamExists:
		return expectation{kind: expectExists}, nil
	case *streams.DeleteReq_Options_Revision:
		return expectation{kind: expectExact, rev: v.Revision}, nil
	case *streams.TombstoneReq_Options_Revision:
		return expectation{kind: expectExact, rev: v.Revision}, nil
	}
	return expectation{}, invalid("unknown expected stream revision")
}

func (e expectation) revisionValid() error {
	if e.kind == expectExact && e.rev > 1<<62 {
		return invalid("expected revision %d out of range", e.rev)
	}
	return nil
}

func uuidBytes(id *shared.UUID) ([16]byte, error) {
	var out [16]byte
	switch v := id.GetValue().(type) {
	case *shared.UUID_Structured_:
		binary.BigEndian.PutUint64(out[:8], uint64(v.Structured.MostSignificantBits))
		binary.BigEndian.PutUint64(out[8:], uint64(v.Structured.LeastSignificantBits))
		return out, nil
	case *shared.UUID_String_:
		u, err := uuid.Parse(v.String_)
		if err != nil {
			return out, invalid("event id %q is not a UUID", v.String_)
		}
		return u, nil
	}
	return out, invalid("event id is missing")
}

func (svc *streamsService) Append(stream streams.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return invalid("append must start with its options")
	}
	name, err := validStreamName(opts.StreamIdentifier, true)
	if err != nil {
		return err
	}
	expect, err := expectationFrom(opts.ExpectedStreamRevision)
	if err != nil {
		return err
	}
	if err := expect.revisionValid(); err != nil {
		return err
	}
	if err := svc.authorize(stream.Context(), name, AccessWrite); err != nil {
		stream.SetTrailer(accessDeniedTrailer)
		drainRequests(stream)
		return err
	}
	req := &writeReq{op: opAppend, stream: name, expect: expect}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return invalid("append options sent twice")
		}
		e, err := proposedFrom(pm)
		if err != nil {
			return err
		}
		// Counted as they arrive, so an oversized append is refused before it is held.
		req.size += len(e.Data) + len(e.Metadata) + len(e.Type)
		if req.size > svc.store.cfg.MaxAppendSize {
			stream.SetTrailer(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(svc.store.cfg.MaxAppendSize)))
			return invalid("append larger than the maximum of %d bytes", svc.store.cfg.MaxAppendSize)
		}
		req.events = append(req.events, e)
	}
	res := svc.store.write(req)
	switch {
	case errors.Is(res.err, errStreamDeleted):
		return streamDeleted(stream.SetTrailer, name)
	case res.err != nil:
		return storeError(res.err)
	case res.conflict:
		return stream.SendAndClose(wrongExpectedVersion(expect, res.revision))
	}
	success := &streams.AppendResp_Success{}
	if res.revision < 0 {
		success.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		success.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(res.revision)}
	}
	if res.positionOK {
		success.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{CommitPosition: res.position, PreparePosition: res.position}}
	} else {
		success.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	}
	return stream.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: success}})
}

func proposedFrom(pm *streams.AppendReq_ProposedMessage) (proposed, error) {
	id, err := uuidBytes(pm.Id)
	if err != nil {
		return proposed{}, err
	}
	typ := pm.Metadata["type"]
	if typ == "" {
		return proposed{}, invalid("event type is missing")
	}
	if len(typ) > maxEventType || !utf8.ValidString(typ) {
		return proposed{}, invalid("event type must be UTF-8 of at most %d bytes", maxEventType)
	}
	ct := pm.Metadata["content-type"]
	if ct == "" {
		ct = "application/octet-stream"
	}
	if len(ct) > 256 {
		return proposed{}, invalid("content type too long")
	}
	return proposed{ID: id, Type: typ, ContentType: ct, Metadata: pm.CustomMetadata, Data: pm.Data}, nil
}

func wrongExpectedVersion(expect expectation, current int64) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	if current < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	switch expect.kind {
	case expectExact:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: expect.rev}
	case expectNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func (svc *streamsService) Delete(ctx context.Context, req *streams.DeleteReq) (*streams.DeleteResp, error) {
	opts := req.GetOptions()
	if opts == nil {
		return nil, invalid("delete options are missing")
	}
	pos, err := svc.deleteStream(ctx, opDelete, opts.StreamIdentifier, opts.ExpectedStreamRevision)
	if err != nil {
		return nil, err
	}
	return &streams.DeleteResp{PositionOption: &streams.DeleteResp_Position_{Position: &streams.DeleteResp_Position{CommitPosition: pos, PreparePosition: pos}}}, nil
}

func (svc *streamsService) Tombstone(ctx context.Context, req *streams.TombstoneReq) (*streams.TombstoneResp, error) {
	opts := req.GetOptions()
	if opts == nil {
		return nil, invalid("tombstone options are missing")
	}
	pos, err := svc.deleteStream(ctx, opTombstone, opts.StreamIdentifier, opts.ExpectedStreamRevision)
	if err != nil {
		return nil, err
	}
	return &streams.TombstoneResp{PositionOption: &streams.TombstoneResp_Position_{Position: &streams.TombstoneResp_Position{CommitPosition: pos, PreparePosition: pos}}}, nil
}

func (svc *streamsService) deleteStream(ctx context.Context, op opKind, id *shared.StreamIdentifier, rev any) (uint64, error) {
	name, err := validStreamName(id, true)
	if err != nil {
		return 0, err
	}
	if isMetaStream(name) {
		return 0, invalid("stream %q is a metadata stream: delete the stream %q instead", name, name[len(metaPrefix):])
	}
	expect, err := expectationFrom(rev)
	if err != nil {
		return 0, err
	}
	if err := svc.authorize(ctx, name, AccessDelete); err != nil {
		_ = grpc.SetTrailer(ctx, accessDeniedTrailer)
		return 0, err
	}
	res := svc.store.write(&writeReq{op: op, stream: name, expect: expect})
	switch {
	case errors.Is(res.err, errStreamDeleted):
		return 0, streamDeleted(grpcTrailer(ctx), name)
	case res.err != nil:
		return 0, storeError(res.err)
	case res.conflict:
		// Delete has no wrong-expected-version message: real servers answer with
		// this status, which the clients report as an error.
		return 0, status.Errorf(codes.FailedPrecondition, "wrong expected version for stream %q: current %s", name, revisionText(res.revision))
	}
	return res.position, nil
}

// authorize refuses, as the real server does (PermissionDenied "Access Denied", the
// access-denied trailer set by the caller), an operation the caller's roles do not
// grant (access.go).
func (svc *streamsService) authorize(ctx context.Context, stream string, a Access) error {
	ok, err := svc.store.allowed(principalOf(ctx), stream, a)
	switch {
	case err != nil:
		return storeError(err)
	case !ok:
		return errAccessDenied
	}
	return nil
}

func revisionText(rev int64) string {
	if rev < 0 {
		return "no stream"
	}
	return strconv.FormatInt(rev, 10)
}

// readRequest is a validated ReadReq.
type readRequest struct {
	all       bool
	stream    string
	backwards bool
	count     uint64
	subscribe bool
	stringIDs bool
	filter    *filter

	// Where to start: for a stream a revision, for $all a position.
	fromStart, fromEnd bool
	from               uint64
}

func parseRead(req *streams.ReadReq) (*readRequest, error) {
	o := req.GetOptions()
	if o == nil {
		return nil, invalid("read options are missing")
	}
	r := &readRequest{backwards: o.ReadDirection == streams.ReadReq_Options_Backwards}
	if o.ReadDirection != streams.ReadReq_Options_Forwards && o.ReadDirection != streams.ReadReq_Options_Backwards {
		return nil, invalid("unknown read direction")
	}
	_, r.stringIDs = o.GetUuidOption().GetContent().(*streams.ReadReq_Options_UUIDOption_String_)
	switch c := o.CountOption.(type) {
	case *streams.ReadReq_Options_Count:
		r.count = c.Count
	case *streams.ReadReq_Options_Subscription:
		if r.backwards {
			return nil, invalid("a subscription reads forwards")
		}
		r.subscribe = true
	default:
		return nil, invalid("read needs a count or subscription options")
	}
	switch s := o.StreamOption.(type) {
	case *streams.ReadReq_Options_Stream:
		name, err := validStreamName(s.Stream.GetStreamIdentifier(), false)
		if err != nil {
			return nil, err
		}
		r.stream = name
		switch rev := s.Stream.RevisionOption.(type) {
		case *streams.ReadReq_Options_StreamOptions_Start:
			r.fromStart = true
		case *streams.ReadReq_Options_StreamOptions_End:
			r.fromEnd = true
		case *streams.ReadReq_Options_StreamOptions_Revision:
			r.from = rev.Revision
		default:
			return nil, invalid("stream read needs a start, an end or a revision")
		}
	case *streams.ReadReq_Options_All:
		r.all = true
		switch p := s.All.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Start:
			r.fromStart = true
		case *streams.ReadReq_Options_AllOptions_End:
			r.fromEnd = true
		case *streams.ReadReq_Options_AllOptions_Position:
			if p.Position.CommitPosition != p.Position.PreparePosition {
				return nil, invalid("position: commit %d and prepare %d differ; this store's positions have them equal", p.Position.CommitPosition, p.Position.PreparePosition)
			}
			r.from = p.Position.CommitPosition
		default:
			return nil, invalid("$all read needs a start, an end or a position")
		}
	default:
		return nil, invalid("read needs a stream or $all")
	}
	if f, ok := o.FilterOption.(*streams.ReadReq_Options_Filter); ok && f.Filter != nil {
		if !r.all {
			return nil, invalid("filters apply to $all only")
		}
		flt, err := parseFilter(f.Filter)
		if err != nil {
			return nil, err
		}
		r.filter = flt
	}
	return r, nil
}

func (svc *streamsService) Read(req *streams.ReadReq, stream streams.Streams_ReadServer) error {
	r, err := parseRead(req)
	if err != nil {
		return err
	}
	target := r.stream
	if r.all {
		target = "$all"
	}
	if err := svc.authorize(stream.Context(), target, AccessRead); err != nil {
		stream.SetTrailer(accessDeniedTrailer)
		return err
	}
	if r.subscribe {
		return svc.subscribe(r, stream)
	}
	send := func(rec record) error { return stream.Send(eventMessage(rec, r.stringIDs)) }
	if r.all {
		return svc.readAll(r, send)
	}
	st, w, err := svc.store.stateAndWindow(r.stream)
	if err != nil {
		return storeError(err)
	}
	if st.Tombstoned {
		return streamDeleted(stream.SetTrailer, r.stream)
	}
	if !st.exists() || w.deleted {
		return stream.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)}}}})
	}
	from := r.from
	switch {
	case r.fromStart:
		from = 0
	case r.fromEnd && r.backwards:
		from = uint64(st.LastRevision)
	case r.fromEnd:
		return nil
	}
	for left := r.count; left > 0; {
		want := int(min(left, readChunk))
		if w.minCreated > 0 {
			want = readChunk // some may be too old to send
		}
		chunk, err := svc.store.readStream(r.stream, w.from, from, r.backwards, want)
		if err != nil {
			return storeError(err)
		}
		for _, rec := range chunk.recs {
			if w.expired(rec) { // older than the stream's $maxAge
				continue
			}
			if err := send(rec); err != nil {
				return err
			}
			if left--; left == 0 {
				return nil
			}
		}
		if !chunk.more || (r.backwards && chunk.last == 0) {
			return nil
		}
		if r.backwards {
			from = chunk.last - 1
		} else {
			from = chunk.last + 1
		}
	}
	return nil
}

func (svc *streamsService) readAll(r *readRequest, send func(record) error) error {
	from := r.from
	switch {
	case r.fromStart && r.backwards:
		return nil
	case r.fromStart:
		from = 1
	case r.fromEnd && r.backwards:
		from = 0 // from the head
	case r.fromEnd:
		return nil
	}
	for left := r.count; left > 0; {
		recs, err := svc.store.readAll(from, r.backwards, readChunk)
		if err != nil {
			return storeError(err)
		}
		for _, rec := range recs {
			if r.filter != nil && !r.filter.match(rec) {
				continue
			}
			if err := send(rec); err != nil {
				return err
			}
			if left--; left == 0 {
				return nil
			}
		}
		if len(recs) < readChunk {
			return nil
		}
		from = recs[len(recs)-1].Position
		if !r.backwards {
			from++
		}
	}
	return nil
}

// eventMessage is a recorded event as the clients expect it, including the system
// metadata without which the Go client exits the process (created).
func eventMessage(rec record, stringIDs bool) *streams.ReadResp {
	id := &shared.UUID{}
	if stringIDs {
		id.Value = &shared.UUID_String_{String_: uuid.UUID(rec.ID).String()}
	} else {
		id.Value = &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
			MostSignificantBits:  int64(binary.BigEndian.Uint64(rec.ID[:8])),
			LeastSignificantBits: int64(binary.BigEndian.Uint64(rec.ID[8:])),
		}}
	}
	meta := rec.Metadata
	if meta == nil {
		meta = []byte{}
	}
	data := rec.Data
	if data == nil {
		data = []byte{}
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               id,
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(rec.Stream)},
			StreamRevision:   rec.Revision,
			PreparePosition:  rec.Position,
			CommitPosition:   rec.Position,
			Metadata: map[string]string{
				"type":         rec.Type,
				"content-type": rec.ContentType,
				"created":      strconv.FormatInt(rec.Created, 10),
			},
			CustomMetadata: meta,
			Data:           data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: rec.Position},
	}}}
}

// filter is a server-side $all filter: on the stream name or on the event type, by
// prefixes or by a regular expression.
type filter struct {
	onType   bool
	prefixes []string
	re       *regexp.Regexp
	interval uint64 // send a checkpoint after this many events scanned
}

func parseFilter(f *streams.ReadReq_Options_FilterOptions) (*filter, error) {
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	out := &filter{}
	switch v := f.Filter.(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = v.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		expr, out.onType = v.EventType, true
	}
	if expr == nil {
		return nil, invalid("filter needs a stream or an event-type expression")
	}
	if len(expr.Prefix) > 0 && expr.Regex != "" {
		return nil, invalid("filter takes prefixes or a regex, not both")
	}
	if len(expr.Prefix) > 256 {
		return nil, invalid("filter takes at most 256 prefixes")
	}
	out.prefixes = expr.Prefix
	if expr.Regex != "" {
		if len(expr.Regex) > maxRegex {
			return nil, invalid("filter regex longer than %d bytes", maxRegex)
		}
		re, err := regexp.Compile(expr.Regex)
		if err != nil {
			return nil, invalid("filter regex: %v", err)
		}
		out.re = re
	}
	window := uint64(32)
	if m, ok := f.Window.(*streams.ReadReq_Options_FilterOptions_Max); ok && m.Max > 0 {
		window = uint64(m.Max)
	}
	out.interval = window * max(uint64(f.CheckpointIntervalMultiplier), 1)
	return out, nil
}

func (f *filter) match(rec record) bool {
	s := rec.Stream
	if f.onType {
		s = rec.Type
	}
	if f.re != nil {
		return f.re.MatchString(s)
	}
	if len(f.prefixes) == 0 {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
