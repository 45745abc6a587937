package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/services/alerts/resident"
)

// KeyVault keeps each resident's encryption key in a stream of its own,
// residentkey-<id>, apart from the resident's events: erasing a resident
// tombstones that one stream (crypto-shredding) and leaves the rest of the log
// as it was. The embedded store deletes a tombstoned stream's events for good;
// on a real EventStoreDB/KurrentDB cluster a scavenge does (see the README).
// Projections never subscribe to residentkey-, so no read model holds a key.
type KeyVault struct {
	Store    *store.Client
	Registry *events.Registry
}

func keyStream(residentID string) string {
	return resident.KeyStreamID(residentID)
}

// Issue returns the resident's key, creating it on first use. Two concurrent
// registrations of one resident agree on the first key written.
func (v KeyVault) Issue(ctx context.Context, residentID, domain, commandID string, by events.Actor, at time.Time) ([]byte, error) {
	for range 3 {
		key, err := v.Get(ctx, residentID)
		if err == nil || !errors.Is(err, resident.ErrNotFound) {
			return key, err
		}
		if key, err = resident.NewKey(); err != nil {
			return nil, err
		}
		md := events.NewMetadata(commandID, by, domain, at)
		md.EventID = command.EventID(keyStream(residentID), by.Subject, commandID, 0).String()
		env, err := v.Registry.Encode(ctx, resident.ResidentKeyIssued{ResidentID: residentID, Key: key}, md)
		if err != nil {
			return nil, err
		}
		_, err = v.Store.Append(ctx, keyStream(residentID), store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata})
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
	recs, err := v.Store.ReadStream(ctx, keyStream(residentID), store.Start, store.Forwards, 1)
	switch {
	case errors.Is(err, store.ErrStreamDeleted):
		return nil, resident.ErrErased
	case errors.Is(err, store.ErrStreamNotFound):
		return nil, resident.ErrNotFound
	case err != nil:
		return nil, err
	case len(recs) == 0:
		return nil, resident.ErrNotFound
	}
	e, _, err := v.Registry.Decode(recs[0].Type, recs[0].Data, recs[0].Metadata)
	if err != nil {
		return nil, err
	}
	k, ok := e.(resident.ResidentKeyIssued)
	if !ok {
		return nil, fmt.Errorf("alerts: %s holds a %s", keyStream(residentID), recs[0].Type)
	}
	return k.Key, nil
}

// Shred deletes the resident's key for good; shredding twice is fine.
func (v KeyVault) Shred(ctx context.Context, residentID string) error {
	err := v.Store.Tombstone(ctx, keyStream(residentID), store.Any())
	if errors.Is(err, store.ErrStreamDeleted) {
		return nil
	}
	return err
}
