package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// DefaultMaxAppendSize is EventStoreDB's default limit for one append.
const DefaultMaxAppendSize = 1 << 20

// Config configures the durable log.
type Config struct {
	Dir           string // directory of the log (created if missing); required
	MaxAppendSize int    // bytes per append: data, metadata and type of all its events; 0 = DefaultMaxAppendSize (1 MiB)
	CacheSize     int64  // storage engine block cache; 0 = DefaultCacheSize (64 MiB)

	// NoAdminSocket: do not answer backup requests on Dir/admin.sock (see admin.go).
	NoAdminSocket bool

	// ScavengeEvery: how often the store scavenges itself while open (scavenge.go);
	// 0 = DefaultScavengeEvery (daily), negative = never.
	ScavengeEvery time.Duration
}

// DefaultCacheSize is the storage engine's block cache when Config.CacheSize is 0.
const DefaultCacheSize = 64 << 20

// setDefaults fills the zero fields that have a default, and only those: a
// negative size is Validate's to refuse, not to replace.
func (c *Config) setDefaults() {
	if c.MaxAppendSize == 0 {
		c.MaxAppendSize = DefaultMaxAppendSize
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.ScavengeEvery == 0 {
		c.ScavengeEvery = DefaultScavengeEvery
	}
}

// Validate reports every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("embedded: Config.Dir is required"))
	}
	if c.MaxAppendSize < 0 {
		errs = append(errs, fmt.Errorf("embedded: Config.MaxAppendSize: %d is negative (0 means DefaultMaxAppendSize)", c.MaxAppendSize))
	}
	if c.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("embedded: Config.CacheSize: %d is negative (0 means DefaultCacheSize)", c.CacheSize))
	}
	return errors.Join(errs...)
}

// Errors the store reports to the protocol layer.
var (
	ErrClosed        = errors.New("embedded: store closed")
	errStreamDeleted = errors.New("embedded: stream deleted")
)

// Store is the durable log. All writes go through one writer goroutine, which decides
// each append against the current stream state and commits many appends in one fsync'd
// batch; reads go straight to the engine.
type Store struct {
	cfg  Config
	db   *pebble.DB
	reqs chan *writeReq
	quit chan struct{}
	done chan struct{}

	closeOnce sync.Once
	admin     *adminServer
	access    accessCache // what the settings streams say (access.go)

	erasing  sync.WaitGroup // compactions owed to tombstones (erase.go)
	eraseMu  sync.Mutex     // one such compaction at a time
	eraseErr atomic.Value   // the last one's error, if any

	stopScavenger chan struct{} // closed by Close: ends the scheduled scavenges
	scavengerDone chan struct{} // closed when they have ended
	scavengeErr   atomic.Value  // the last scheduled scavenge's error, if any

	mu      sync.Mutex
	head    uint64        // last committed position
	changed chan struct{} // closed (and replaced) at every commit that moves head
}

// Open opens or recovers the log in cfg.Dir. The engine's write-ahead log makes every
// acknowledged batch survive a crash whole, and a batch never acknowledged leaves nothing.
func Open(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	cache := pebble.NewCache(cfg.CacheSize)
	defer cache.Unref()
	db, err := pebble.Open(cfg.Dir, &pebble.Options{
		Cache:        cache,
		Logger:       quietLogger{},
		MemTableSize: 32 << 20,
		Cleaner:      eraseCleaner{},
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", cfg.Dir, err)
	}
	s := &Store{
		cfg:     cfg,
		db:      db,
		reqs:    make(chan *writeReq, 1024),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		changed: make(chan struct{}),

		stopScavenger: make(chan struct{}),
		scavengerDone: make(chan struct{}),
	}
	if s.head, err = s.lastPosition(); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.writer()
	if cfg.ScavengeEvery > 0 {
		go s.scavengeOnSchedule(cfg.ScavengeEvery)
	} else {
		close(s.scavengerDone)
	}
	if err := s.resumeErasures(); err != nil {
		_ = s.Close()
		return nil, err
	}
	if !cfg.NoAdminSocket {
		// Best effort: a store without its socket still serves; a backup then says why
		// it cannot reach it (see adminServer).
		s.admin = s.listenAdmin()
	}
	return s, nil
}

func (s *Store) lastPosition() (uint64, error) {
	return lastPosition(s.db)
}

// lastPosition is the head: the last record's position, or the one a tombstone kept
// under `H` when it erased the last records (positions are never reused).
func lastPosition(db pebble.Reader) (uint64, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return 0, fmt.Errorf("embedded: %w", err)
	}
	defer it.Close()
	var head uint64
	if it.Last() {
		head = binary.BigEndian.Uint64(it.Key()[1:])
	} else if err := it.Error(); err != nil {
		return 0, err
	}
	v, err := get(db, headKey)
	if err != nil {
		return 0, err
	}
	if len(v) == 8 {
		head = max(head, binary.BigEndian.Uint64(v))
	}
	return head, nil
}

// Close stops the writer (after the batch in flight) and closes the engine.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.admin != nil {
			s.admin.close()
		}
		// A scheduled scavenge ends after its current stream, while the writer still runs.
		close(s.stopScavenger)
		<-s.scavengerDone
		close(s.quit)
		<-s.done
		s.erasing.Wait()
		err = s.db.Close()
	})
	return err
}

// Head is the position of the last committed event (0 when the log is empty).
func (s *Store) Head() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// watch returns the head and a channel closed at the next commit, taken together so
// that a reader who finds nothing past head cannot miss the commit that follows.
func (s *Store) watch() (uint64, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head, s.changed
}

func (s *Store) publish(head uint64) {
	s.mu.Lock()
	s.head = head
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// expectation is the expected revision of an append, delete or tombstone.
type expectation struct {
	kind expectKind
	rev  uint64
}

type expectKind int

const (
	expectAny expectKind = iota
	expectNoStream
	expectExists
	expectExact
)

type opKind int

const (
	opAppend opKind = iota
	opDelete
	opTombstone
	opScavenge // erase what reads of the stream no longer show (scavenge.go)
)

// proposed is one event of an append, validated by the protocol layer.
type proposed struct {
	ID          [16]byte
	Type        string
	ContentType string
	Metadata    []byte
	Data        []byte
}

type writeReq struct {
	op     opKind
	stream string
	expect expectation
	events []proposed
	size   int
	reply  chan writeResult
}

// writeResult: either err, or the outcome of the expectation check.
type writeResult struct {
	err        error
	conflict   bool  // wrong expected version: nothing written
	revision   int64 // after success, or the current one on conflict; -1 = no stream
	position   uint64
	positionOK bool
	erased     []erasure // what a tombstone or a scavenge erased, to compact after the commit
	scavenged  int       // events a scavenge erased
}

// write queues a request for the writer and waits for its outcome. Once queued, a
// request is carried out even if the caller gives up: like a lost acknowledgement,
// the client's retry with the same event ids is then answered idempotently.
func (s *Store) write(r *writeReq) writeResult {
	r.reply = make(chan writeResult, 1)
	select {
	case s.reqs <- r:
	case <-s.quit:
		return writeResult{err: ErrClosed}
	}
	res := <-r.reply
	if isSettingsStream(r.stream) {
		s.access.invalidate() // the next check reads the new settings
	}
	return res
}

const (
	maxBatchRequests = 512
	maxBatchBytes    = 8 << 20
)

// writer is the only goroutine that writes. Requests that arrive while a batch is being
// fsync'd queue up and form the next batch: that is the group commit.
func (s *Store) writer() {
	defer close(s.done)
	for {
		var first *writeReq
		select {
		case first = <-s.reqs:
		case <-s.quit:
			return
		}
		batch := []*writeReq{first}
		size := first.size
	drain:
		for len(batch) < maxBatchRequests && size < maxBatchBytes {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
				size += r.size
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []*writeReq) {
	b := s.db.NewIndexedBatch()
	defer b.Close()
	head := s.Head()
	next := head + 1
	created := time.Now().UnixNano() / 100
	results := make([]writeResult, len(batch))
	for i, r := range batch {
		results[i] = s.apply(b, r, &next, created, head)
	}
	if !b.Empty() {
		if err := b.Commit(pebble.Sync); err != nil {
			for i := range results {
				results[i] = writeResult{err: fmt.Errorf("embedded: commit: %w", err)}
			}
		} else {
			if next-1 != head {
				s.publish(next - 1)
			}
			for i := range batch {
				for _, e := range results[i].erased {
					s.compactErased(e)
				}
			}
		}
	}
	for i, r := range batch {
		r.reply <- results[i]
	}
}

// apply decides one request against the state seen through the batch (which includes
// the earlier requests of the same batch) and adds its writes to the batch.
func (s *Store) apply(b *pebble.Batch, r *writeReq, next *uint64, created int64, head uint64) writeResult {
	if r.op == opScavenge {
		return scavengeStream(b, r.stream, next, created)
	}
	st, err := getState(b, r.stream)
	if err != nil {
		return writeResult{err: err}
	}
	if st.Tombstoned {
		return writeResult{err: errStreamDeleted}
	}
	if isMetaStream(r.stream) {
		// The metadata of a tombstoned stream is deleted with it (also for a stream
		// tombstoned before metadata streams were kept).
		orig, err := getState(b, r.stream[len(metaPrefix):])
		if err != nil {
			return writeResult{err: err}
		}
		if orig.Tombstoned {
			return writeResult{err: errStreamDeleted}
		}
	}
	met := expectationMet(st, r.expect)
	switch r.op {
	case opDelete, opTombstone:
		if !met {
			return conflictResult(st)
		}
		var res writeResult
		res.revision, res.position, res.positionOK = st.LastRevision, head, true
		if r.op == opDelete {
			if st.LastRevision < 0 {
				// As the server: nothing to delete unless the stream or its metadata exists.
				mst, err := getState(b, metaStreamOf(r.stream))
				if err != nil {
					return writeResult{err: err}
				}
				if mst.LastRevision < 0 {
					return conflictResult(st)
				}
			}
			st.Deleted = true
			st.TruncateBefore = uint64(st.LastRevision + 1)
			// The server records a soft delete as the stream's new metadata.
			pos, err := appendMetadata(b, r.stream, []byte(`{"$tb":`+strconv.FormatInt(deletedStream, 10)+`}`), next, created)
			if err != nil {
				return writeResult{err: err}
			}
			res.position = pos
		} else {
			st.Tombstoned = true
			// The head as of this request: events appended before it in the batch
			// count. The metadata stream goes with the stream, as on the server.
			for _, name := range []string{r.stream, metaStreamOf(r.stream)} {
				e, err := eraseStream(b, name, *next-1)
				if err != nil {
					return writeResult{err: err}
				}
				if e != nil {
					res.erased = append(res.erased, *e)
				}
			}
			mst, err := getState(b, metaStreamOf(r.stream))
			if err != nil {
				return writeResult{err: err}
			}
			mst.Tombstoned = true
			if err := b.Set(streamKey(metaStreamOf(r.stream)), mst.encode(), nil); err != nil {
				return writeResult{err: err}
			}
		}
		if err := b.Set(streamKey(r.stream), st.encode(), nil); err != nil {
			return writeResult{err: err}
		}
		return res
	}

	// EventStoreDB's idempotence: the same events re-sent at the same expected revision
	// (a retry after a lost acknowledgement) succeed without being written twice.
	if len(r.events) > 0 {
		var start int64 = -1
		switch {
		case !met && r.expect.kind == expectExact:
			start = int64(r.expect.rev) + 1
		case !met && r.expect.kind == expectNoStream:
			start = int64(st.TruncateBefore)
		case met && (r.expect.kind == expectAny || r.expect.kind == expectExists) && r.events[len(r.events)-1].ID == st.LastEventID:
			// Best effort, as on a real server: a retry of the stream's last append,
			// which must end with the stream's last event (checked first: it is cheap,
			// and reading the events back on every such append was half the writer's CPU).
			start = st.LastRevision - int64(len(r.events)) + 1
		}
		if start >= 0 && start+int64(len(r.events))-1 <= st.LastRevision {
			pos, same, err := sameEvents(b, r.stream, uint64(start), r.events)
			if err != nil {
				return writeResult{err: err}
			}
			if same {
				return writeResult{revision: start + int64(len(r.events)) - 1, position: pos, positionOK: true}
			}
		}
	}
	if !met {
		return conflictResult(st)
	}
	if len(r.events) == 0 {
		return writeResult{revision: st.LastRevision}
	}
	wasDeleted := st.Deleted
	pos, err := appendEvents(b, r.stream, &st, r.events, next, created)
	if err != nil {
		return writeResult{err: err}
	}
	res := writeResult{revision: st.LastRevision, position: pos, positionOK: true}
	switch {
	case wasDeleted:
		// A soft-deleted stream comes back: its metadata says from where.
		err = truncateOnRecreate(b, r.stream, st.TruncateBefore, next, created)
	case isMetaStream(r.stream):
		// A metadata write to a soft-deleted stream brings it back too, empty.
		name := r.stream[len(metaPrefix):]
		var orig streamState
		if orig, err = getState(b, name); err == nil && orig.Deleted {
			orig.Deleted = false
			orig.TruncateBefore = uint64(orig.LastRevision + 1)
			if err = b.Set(streamKey(name), orig.encode(), nil); err == nil {
				err = truncateOnRecreate(b, name, orig.TruncateBefore, next, created)
			}
		}
	}
	if err != nil {
		return writeResult{err: err}
	}
	return res
}

// appendEvents adds events to stream in b after the state st, which it updates and
// stores; it returns the position of the last event.
func appendEvents(b *pebble.Batch, stream string, st *streamState, events []proposed, next *uint64, created int64) (uint64, error) {
	var pos uint64
	for _, e := range events {
		st.LastRevision++
		pos = *next
		*next++
		rec := record{
			Stream: stream, Revision: uint64(st.LastRevision), Position: pos, ID: e.ID, Created: created,
			Type: e.Type, ContentType: e.ContentType, Metadata: e.Metadata, Data: e.Data,
		}
		if err := b.Set(logKey(pos), rec.encode(), nil); err != nil {
			return 0, err
		}
		if err := b.Set(indexKey(stream, rec.Revision), binary.BigEndian.AppendUint64(nil, pos), nil); err != nil {
			return 0, err
		}
	}
	st.Deleted = false
	st.LastEventID = events[len(events)-1].ID
	return pos, b.Set(streamKey(stream), st.encode(), nil)
}

func conflictResult(st streamState) writeResult {
	rev := st.LastRevision
	if !st.exists() {
		rev = -1
	}
	return writeResult{conflict: true, revision: rev}
}

func expectationMet(st streamState, e expectation) bool {
	switch e.kind {
	case expectNoStream:
		// A soft-deleted stream may be recreated; its revisions continue.
		return st.LastRevision < 0 || st.Deleted
	case expectExists:
		return st.exists()
	case expectExact:
		return st.LastRevision == int64(e.rev)
	default:
		return true
	}
}

// sameEvents reports whether the stream holds exactly these event ids from start on,
// and the position of the last of them.
func sameEvents(b *pebble.Batch, stream string, start uint64, events []proposed) (uint64, bool, error) {
	var pos uint64
	for i, e := range events {
		v, err := get(b, indexKey(stream, start+uint64(i)))
		if err != nil || v == nil {
			return 0, false, err
		}
		pos = binary.BigEndian.Uint64(v)
		raw, err := get(b, logKey(pos))
		if err != nil || raw == nil {
			return 0, false, err
		}
		rec, err := decodeRecord(pos, raw)
		if err != nil {
			return 0, false, err
		}
		if rec.ID != e.ID {
			return 0, false, nil
		}
	}
	return pos, true, nil
}

// reader is what both the database and an indexed batch offer.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// get returns a copy of the value, or nil when the key is absent.
func get(r reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func getState(r reader, stream string) (streamState, error) {
	v, err := get(r, streamKey(stream))
	if err != nil {
		return streamState{}, err
	}
	if v == nil {
		return streamState{LastRevision: -1}, nil
	}
	return decodeStreamState(v)
}

// quietLogger keeps the engine's routine messages out of Vigie's output; errors still
// reach the caller through returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf(format, args...))
}
