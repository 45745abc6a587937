package alerts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/services/alerts/resident"
)

// KeyVault keeps each resident's encryption key in a stream of its own,
// residentkey-<id>, apart from the resident's events: erasing a resident
// tombstones that stream (crypto-shredding) and leaves the rest of the log as
// it was. The embedded store deletes a tombstoned stream's events for good; on
// a real EventStoreDB/KurrentDB cluster a scavenge does (see the README).
// Projections never subscribe to residentkey-, so no read model holds a key.
//
// The key is written wrapped under a key-encryption key (Keys) that is neither
// in the log nor in its backups: a copy of either opens nothing. Logs written
// before keys were wrapped hold ResidentKeyIssued with the key in clear; they
// are still read, and Rewrap (`vigie keys rotate`) replaces them.
//
// A stream's events cannot be taken out one by one, only with the stream: so
// re-wrapping writes the key to the next generation's stream
// (resident.KeyStreamGen) and then tombstones the earlier one, which erases
// the old wrapped (or clear) key from the log.
type KeyVault struct {
	Store *store.Client
	// Registry decodes and encodes the key events when it knows
	// ResidentKeyWrapped; otherwise the vault uses resident.KeyRegistry.
	Registry *events.Registry
	// Keys wraps and unwraps; nil is the process's ephemeral KEK
	// (resident.EphemeralKeyring), good for tests only.
	Keys resident.KeyWrapper
}

// KeysActor is who rotations record the re-wrapped keys as.
var KeysActor = events.Actor{Subject: "vigie-keys", Role: "system"}

// maxKeyGenerations bounds the walk over a resident's key streams: one
// generation per rotation, so far more than any installation makes.
const maxKeyGenerations = 10_000

func (v KeyVault) keys() (resident.KeyWrapper, error) {
	if v.Keys != nil {
		return v.Keys, nil
	}
	return resident.EphemeralKeyring()
}

func (v KeyVault) registry() (*events.Registry, error) {
	if v.Registry != nil {
		if _, ok := v.Registry.Version(resident.ResidentKeyWrapped{}.EventType()); ok {
			return v.Registry, nil
		}
	}
	return resident.KeyRegistry()
}

// generation is one live key stream of a resident.
type generation struct {
	gen   int
	event events.Event
	md    events.Metadata
}

// generations reads the resident's key streams from generation 0 on, and
// returns the live ones (normally one; two after a rotation cut short between
// writing the new one and tombstoning the old) and the first generation never
// written (0: no key was ever issued). Tombstoned generations are rotated away
// or erased; the walk stops at the first stream that does not exist, or at the
// first live one when firstLive (next is then unknown: -1).
func (v KeyVault) generations(ctx context.Context, residentID string, firstLive bool) (live []generation, next int, err error) {
	reg, err := v.registry()
	if err != nil {
		return nil, 0, err
	}
	for g := 0; g < maxKeyGenerations; g++ {
		stream := resident.KeyStreamGen(residentID, g)
		recs, err := v.Store.ReadStream(ctx, stream, store.Start, store.Forwards, 1)
		switch {
		case errors.Is(err, store.ErrStreamDeleted):
			continue
		case errors.Is(err, store.ErrStreamNotFound) || (err == nil && len(recs) == 0):
			return live, g, nil
		case err != nil:
			return nil, 0, err
		}
		e, md, err := reg.Decode(recs[0].Type, recs[0].Data, recs[0].Metadata)
		if err != nil {
			return nil, 0, fmt.Errorf("alerts: %s: %w", stream, err)
		}
		live = append(live, generation{gen: g, event: e, md: md})
		if firstLive {
			return live, -1, nil
		}
	}
	return nil, 0, fmt.Errorf("alerts: key of resident: more than %d generations", maxKeyGenerations)
}

// Issue returns the resident's key, creating it on first use (wrapped, in
// generation 0). Two concurrent registrations of one resident agree on the
// first key written.
func (v KeyVault) Issue(ctx context.Context, residentID, domain, commandID string, by events.Actor, at time.Time) ([]byte, error) {
	keys, err := v.keys()
	if err != nil {
		return nil, err
	}
	reg, err := v.registry()
	if err != nil {
		return nil, err
	}
	for range 3 {
		key, err := v.Get(ctx, residentID)
		if err == nil || !errors.Is(err, resident.ErrNotFound) {
			return key, err
		}
		if key, err = resident.NewKey(); err != nil {
			return nil, err
		}
		wrapped, kekID, err := keys.Wrap(residentID, key)
		if err != nil {
			return nil, err
		}
		stream := resident.KeyStreamGen(residentID, 0)
		md := events.NewMetadata(commandID, by, domain, at)
		md.EventID = command.EventID(stream, by.Subject, commandID, 0).String()
		env, err := command.Encode(ctx, reg, resident.ResidentKeyWrapped{ResidentID: residentID, KEKID: kekID, Wrapped: wrapped}, md)
		if err != nil {
			return nil, err
		}
		_, err = v.Store.Append(ctx, stream, store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata})
		if errors.Is(err, store.ErrConflict) {
			continue // someone wrote it first: read theirs
		}
		if err != nil {
			return nil, err
		}
		return key, nil
	}
	return nil, fmt.Errorf("alerts: key of resident: %w", command.ErrTooManyConflicts)
}

// Get returns the resident's key: resident.ErrErased when it has been shredded,
// resident.ErrNotFound when it was never issued.
func (v KeyVault) Get(ctx context.Context, residentID string) ([]byte, error) {
	keys, err := v.keys()
	if err != nil {
		return nil, err
	}
	// The first live generation: one read for a key never rotated. A later one
	// also live (a rotation cut short) holds the same key, and the KEK file keeps
	// the previous KEK until the rotation is finished.
	live, next, err := v.generations(ctx, residentID, true)
	switch {
	case err != nil:
		return nil, err
	case len(live) == 0 && next == 0:
		return nil, resident.ErrNotFound
	case len(live) == 0:
		return nil, resident.ErrErased
	}
	_, key, _, err := resident.OpenKey(keys, live[0].event)
	return key, err
}

// Shred deletes the resident's key for good, in every generation; shredding
// twice is fine. It also tombstones the first generation never written, so
// that a rotation running meanwhile cannot bring the key back: Rewrap writes
// only right after a live generation, so it either wrote before Shred got
// there (and Shred tombstones that too) or finds that stream deleted.
func (v KeyVault) Shred(ctx context.Context, residentID string) error {
	for g := 0; g < maxKeyGenerations; g++ {
		stream := resident.KeyStreamGen(residentID, g)
		err := v.Store.Tombstone(ctx, stream, store.StreamExists())
		switch {
		case err == nil, errors.Is(err, store.ErrStreamDeleted):
			continue
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrStreamNotFound):
			// Never written: block it, and stop.
			if err := v.Store.Tombstone(ctx, stream, store.Any()); err != nil && !errors.Is(err, store.ErrStreamDeleted) {
				return err
			}
			return nil
		default:
			return err
		}
	}
	return fmt.Errorf("alerts: shred: more than %d generations", maxKeyGenerations)
}

// Rewrapped says what Rewrap did to one resident's key.
type Rewrapped int

const (
	KeyAbsent  Rewrapped = iota // no live key: erased, or never issued
	KeyCurrent                  // already wrapped under the current KEK
	KeyRewrapped
)

// Rewrap wraps the resident's key under Keys' current KEK, in the next
// generation's stream, then tombstones the earlier generations, so that the
// key wrapped under an older KEK (or written in clear) is gone from the log.
// A key already under the current KEK is left alone (an older generation left
// live by a rotation cut short is tombstoned). If the resident is erased
// meanwhile, the erasure wins: the next generation is tombstoned by Shred and
// the append fails. commandID names the rotation: its retries write the same
// event ids.
func (v KeyVault) Rewrap(ctx context.Context, residentID, commandID string, at time.Time) (Rewrapped, error) {
	keys, err := v.keys()
	if err != nil {
		return 0, err
	}
	reg, err := v.registry()
	if err != nil {
		return 0, err
	}
	for range 3 {
		live, _, err := v.generations(ctx, residentID, false)
		if err != nil {
			return 0, err
		}
		if len(live) == 0 {
			return KeyAbsent, nil
		}
		newest := live[len(live)-1]
		_, key, oldKEK, err := resident.OpenKey(keys, newest.event)
		if err != nil {
			return 0, fmt.Errorf("resident %s (%s): %w", residentID, resident.KeyStreamGen(residentID, newest.gen), err)
		}
		wrapped, kekID, err := keys.Wrap(residentID, key)
		if err != nil {
			return 0, err
		}
		done := KeyCurrent
		if oldKEK != kekID {
			// The generation right after the newest live one, never the first
			// free one further up: if an erasure tombstoned the generations
			// meanwhile, it also blocked this one, and the append fails as
			// deleted. So generations are written one after another, each only
			// once the one before was live, and an erasure that walked past the
			// last one leaves nowhere to write.
			next := newest.gen + 1
			stream := resident.KeyStreamGen(residentID, next)
			md := events.NewMetadata(commandID, KeysActor, newest.md.Domain, at)
			md.EventID = command.EventID(stream, KeysActor.Subject, commandID, 0).String()
			env, err := command.Encode(ctx, reg, resident.ResidentKeyWrapped{ResidentID: residentID, KEKID: kekID, Wrapped: wrapped}, md)
			if err != nil {
				return 0, err
			}
			_, err = v.Store.Append(ctx, stream, store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata})
			switch {
			case errors.Is(err, store.ErrStreamDeleted):
				return KeyAbsent, nil // erased meanwhile
			case errors.Is(err, store.ErrConflict):
				continue // another rotation wrote it: look again
			case err != nil:
				return 0, err
			}
			done, newest = KeyRewrapped, generation{gen: next}
		}
		for _, g := range live {
			if g.gen == newest.gen {
				continue
			}
			if err := v.Store.Tombstone(ctx, resident.KeyStreamGen(residentID, g.gen), store.Any()); err != nil && !errors.Is(err, store.ErrStreamDeleted) {
				return 0, err
			}
		}
		return done, nil
	}
	return 0, fmt.Errorf("alerts: rewrap the key of %s: %w", residentID, command.ErrTooManyConflicts)
}

// KeyHolders reads the log once and returns, sorted, the residents that have
// key streams, and among them those whose erasure is recorded (a key still
// live for them is an erasure cut short between its two steps).
func (v KeyVault) KeyHolders(ctx context.Context) (ids []string, erased map[string]bool, err error) {
	seen := map[string]bool{}
	erased = map[string]bool{}
	err = v.Store.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		switch events.Category(r.StreamID) {
		case resident.KeyCategory:
			if id, ok := resident.ResidentOfKeyStream(r.StreamID); ok {
				seen[id] = true
			}
		case events.CategoryResident:
			if r.Type == (resident.ResidentErased{}).EventType() {
				erased[r.StreamID[len(events.CategoryResident)+1:]] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, erased, nil
}

// Rotation counts what RewrapAll did.
type Rotation struct {
	Rewrapped, Current, Shredded int
	Failed                       map[string]error // resident id → why its key could not be re-wrapped
}

// RewrapAll re-wraps every resident's key under Keys' current KEK and
// finishes the erasures cut short (their keys are shredded, not re-wrapped).
// A key that cannot be unwrapped (a KEK not held) is reported in Failed and
// left as it is: the caller must then keep its previous KEKs.
func (v KeyVault) RewrapAll(ctx context.Context, commandID string, at time.Time) (Rotation, error) {
	ids, erased, err := v.KeyHolders(ctx)
	if err != nil {
		return Rotation{}, err
	}
	r := Rotation{Failed: map[string]error{}}
	for _, id := range ids {
		if erased[id] {
			if err := v.Shred(ctx, id); err != nil {
				return r, err
			}
			r.Shredded++
			continue
		}
		done, err := v.Rewrap(ctx, id, commandID, at)
		switch {
		case errors.Is(err, resident.ErrUnknownKEK) || errors.Is(err, resident.ErrUnreadable):
			r.Failed[id] = err
		case err != nil:
			return r, err
		case done == KeyRewrapped:
			r.Rewrapped++
		case done == KeyCurrent:
			r.Current++
		}
	}
	return r, nil
}

// The KEK file: a keyring (resident.Keyring.Marshal) readable by its owner only.

// KEKFileMode is the mode of a KEK file; a looser one is refused.
const KEKFileMode fs.FileMode = 0o600

// LoadKEKFile reads the KEK file at path. It refuses a file that anyone but
// its owner may read or write (mode looser than 0600): a KEK readable by
// others protects nothing, and refusing at start is when someone can fix it.
func LoadKEKFile(path string) (*resident.Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key-encryption key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&^KEKFileMode != 0 {
		return nil, fmt.Errorf("key-encryption key %s has mode %04o: others may read it; refused (chmod 600 %s, and consider it exposed)", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	k, err := resident.ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateKEKFile loads the KEK file at path, or creates it with a fresh
// KEK (mode 0600, its directory 0700) when there is none; created says which.
// Several processes starting at once on one data directory agree on one file:
// it appears whole under its name, and only once.
func LoadOrCreateKEKFile(path string) (k *resident.Keyring, created bool, err error) {
	k, err = LoadKEKFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = resident.NewKeyring(); err != nil {
		return nil, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	tmp, err := writeTemp(dir, filepath.Base(path), k.Marshal())
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp)
	// A link fails if the name exists: whoever links first wins, the others
	// read the winner's file.
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		k, err := LoadKEKFile(path)
		return k, false, err
	} else if err != nil {
		return nil, false, err
	}
	return k, true, syncDir(dir)
}

// SaveKEKFile replaces the KEK file at path with k, atomically: a crash leaves
// the old file or the new one, whole.
func SaveKEKFile(path string, k *resident.Keyring) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), k.Marshal())
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// writeTemp writes data to a new file of mode 0600 in dir, fsync'd.
func writeTemp(dir, base string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-")
	if err != nil {
		return "", err
	}
	// CreateTemp makes 0600 already; said again, since this file is a secret.
	err = f.Chmod(KEKFileMode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
