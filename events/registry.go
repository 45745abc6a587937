package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// Event is one fact of the crisis. EventType is its name in the log:
// past-tense PascalCase (IncidentReported), and never renamed once written.
type Event interface {
	EventType() string
}

// Upcaster rewrites the JSON data of version From into version From+1, so old
// events in the immutable log still decode into today's Go type.
type Upcaster struct {
	From int
	Up   func(json.RawMessage) (json.RawMessage, error)
}

var (
	ErrUnknownEventType   = errors.New("events: unknown event type")
	ErrDuplicateEventType = errors.New("events: event type already registered")
	ErrInvalidEventType   = errors.New("events: invalid event type")
	ErrInvalidVersion     = errors.New("events: schema version must be 1 or more")
	ErrUpcasterChain      = errors.New("events: upcasters must cover every version from 1 to the current one")
	ErrFutureSchema       = errors.New("events: event written with a newer schema than this program knows")
	ErrUpcast             = errors.New("events: upcast failed")
	ErrMalformed          = errors.New("events: malformed event")
)

// Registry knows every event type a program reads or writes, with its current
// schema version and how to upcast older ones. Build it explicitly at start-up
// (no init, no global): what a program understands is then visible in main.
// A Registry is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]*registration
	byType map[reflect.Type]*registration
}

type registration struct {
	name      string
	version   int
	upcasters []Upcaster // upcasters[i] turns version i+1 into i+2
	decode    func([]byte) (Event, error)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byName: make(map[string]*registration),
		byType: make(map[reflect.Type]*registration),
	}
}

// Register adds T at schema version, with one upcaster per older version (in
// any order). T must be a value type, not a pointer: Decode returns T itself,
// so a type switch on events read back and on events just decided sees the
// same types.
func Register[T Event](r *Registry, version int, upcasters ...Upcaster) error {
	goType := reflect.TypeFor[T]()
	if k := goType.Kind(); k == reflect.Pointer || k == reflect.Interface {
		return fmt.Errorf("%w: register the value type, not %v", ErrInvalidEventType, goType)
	}
	var zero T
	name := zero.EventType()
	if !isPascalCase(name) {
		return fmt.Errorf("%w: %q (%v) is not PascalCase", ErrInvalidEventType, name, goType)
	}
	if version < 1 {
		return fmt.Errorf("%w: %s v%d", ErrInvalidVersion, name, version)
	}
	chain, err := upcasterChain(name, version, upcasters)
	if err != nil {
		return err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.byName[name]; ok {
		return fmt.Errorf("%w: %s (v%d)", ErrDuplicateEventType, name, prev.version)
	}
	reg := &registration{
		name:      name,
		version:   version,
		upcasters: chain,
		decode: func(data []byte) (Event, error) {
			var e T
			if err := json.Unmarshal(data, &e); err != nil {
				return nil, err
			}
			return e, nil
		},
	}
	r.byName[name] = reg
	r.byType[goType] = reg
	return nil
}

// MustRegister is Register for program start-up, where a wrong registration is
// a programming error that must stop the program before it touches the log.
func MustRegister[T Event](r *Registry, version int, upcasters ...Upcaster) {
	if err := Register[T](r, version, upcasters...); err != nil {
		panic(err)
	}
}

// upcasterChain orders the upcasters by version and checks they leave no gap:
// a missing step would only surface when the first old event is read.
func upcasterChain(name string, version int, upcasters []Upcaster) ([]Upcaster, error) {
	chain := slices.Clone(upcasters)
	slices.SortFunc(chain, func(a, b Upcaster) int { return a.From - b.From })
	var errs []error
	for _, u := range chain {
		if u.Up == nil {
			errs = append(errs, fmt.Errorf("%w: %s upcaster from v%d has no function", ErrUpcasterChain, name, u.From))
		}
		if u.From < 1 || u.From >= version {
			errs = append(errs, fmt.Errorf("%w: %s is at v%d, upcaster from v%d is out of range", ErrUpcasterChain, name, version, u.From))
		}
	}
	have := make(map[int]int, len(chain))
	for _, u := range chain {
		have[u.From]++
	}
	for v := 1; v < version; v++ {
		switch have[v] {
		case 0:
			errs = append(errs, fmt.Errorf("%w: %s has no upcaster from v%d to v%d", ErrUpcasterChain, name, v, v+1))
		case 1:
		default:
			errs = append(errs, fmt.Errorf("%w: %s has %d upcasters from v%d", ErrUpcasterChain, name, have[v], v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return chain, nil
}

// isPascalCase accepts ASCII names starting with an upper-case letter; it
// also keeps out '$', which EventStoreDB reserves for its system events.
func isPascalCase(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Types returns the names of the registered event types, sorted: what a contract's
// exhaustiveness tests compare with its list of events.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.byName))
	for name := range r.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Version returns the current schema version of the event type typ.
func (r *Registry) Version(typ string) (int, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.byName[typ]
	if !ok {
		return 0, false
	}
	return reg.version, true
}

// Encode turns e into an envelope for the store. It stamps md with the
// registered schema version and with the trace context ctx carries (see
// WithTraceContext; none clears md's), then refuses metadata that fails Validate.
// command.Encode is Encode with the trace context of the span in ctx.
func (r *Registry) Encode(ctx context.Context, e Event, md Metadata) (Envelope, error) {
	goType := reflect.TypeOf(e)
	if goType == nil {
		return Envelope{}, fmt.Errorf("%w: nil event", ErrUnknownEventType)
	}
	r.mu.RLock()
	reg, ok := r.byType[goType]
	r.mu.RUnlock()
	if !ok {
		if goType.Kind() == reflect.Pointer {
			return Envelope{}, fmt.Errorf("%w: %v is a pointer; encode the registered value type", ErrUnknownEventType, goType)
		}
		return Envelope{}, fmt.Errorf("%w: %v is not registered", ErrUnknownEventType, goType)
	}

	md.Schema = reg.version
	stampTrace(ctx, &md)
	if err := md.Validate(); err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s: %w", reg.name, err)
	}
	id, ok := parseUUID(md.EventID)
	if !ok { // unreachable after Validate, kept so input can never panic
		return Envelope{}, fmt.Errorf("events: encode %s: %w", reg.name, ErrInvalidEventID)
	}
	// Stored in canonical form so the metadata's eventId and the store's event
	// id compare equal as strings in causation chains.
	md.EventID = formatUUID(id)

	data, err := json.Marshal(e)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s data: %w", reg.name, err)
	}
	meta, err := json.Marshal(md)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s metadata: %w", reg.name, err)
	}
	return Envelope{ID: id, Type: reg.name, Data: data, Metadata: meta}, nil
}

// Decode reads an event back from the store, upcasting older schema versions
// to the registered one. The event comes back as the registered value type;
// the metadata as recorded (its Schema is the version the event was written
// with). A missing schema reads as version 1, the first there is. When the
// metadata could be read it is returned with the error too, so the caller can
// say which event it could not read.
//
// Metadata is not validated here: the log is immutable, and refusing a past
// event would stall every projection behind it forever; Encode is the gate.
func (r *Registry) Decode(typ string, data, metadata []byte) (Event, Metadata, error) {
	r.mu.RLock()
	reg, ok := r.byName[typ]
	r.mu.RUnlock()
	if !ok {
		return nil, Metadata{}, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}

	var md Metadata
	if err := json.Unmarshal(metadata, &md); err != nil {
		return nil, Metadata{}, fmt.Errorf("%w: %s metadata: %w", ErrMalformed, typ, err)
	}
	schema := md.Schema
	if schema == 0 {
		schema = 1
	}
	switch {
	case schema < 0:
		return nil, md, fmt.Errorf("%w: %s schema %d", ErrMalformed, typ, schema)
	case schema > reg.version:
		// A newer program wrote this; guessing at its meaning could corrupt
		// a read model, so the reader stops until it is upgraded.
		return nil, md, fmt.Errorf("%w: %s v%d, this program knows up to v%d", ErrFutureSchema, typ, schema, reg.version)
	}

	raw := json.RawMessage(data)
	for v := schema; v < reg.version; v++ {
		up, err := reg.upcasters[v-1].Up(raw)
		if err != nil {
			return nil, md, fmt.Errorf("%w: %s v%d to v%d: %w", ErrUpcast, typ, v, v+1, err)
		}
		raw = up
	}
	e, err := reg.decode(raw)
	if err != nil {
		return nil, md, fmt.Errorf("%w: %s v%d data: %w", ErrMalformed, typ, schema, err)
	}
	return e, md, nil
}
