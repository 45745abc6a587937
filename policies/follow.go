package policies

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"vigie/events"
	"vigie/events/store"
	"vigie/policies/role"
)

// Follow applies the role grants and revocations of the event log to a, from
// the start of $all (grants are few) and then live, within moments of their
// append and without a restart. It blocks until ctx ends, returning ctx.Err(),
// or until an event cannot be read (returning why): reg must know the role
// events (role.Register), and a program older than the log stops rather than
// guess what an unknown role event meant. After such an error a's grants are
// stale; the caller should stop serving.
//
// A role event that is invalid or recorded in another domain's stream is
// skipped and logged: it grants (or revokes) nothing. A grant of mayor or
// prefecture takes effect at its confirmation by a second person
// (role.RoleGrantConfirmed), not at its request.
func Follow(ctx context.Context, client *store.Client, a *Authorizer, reg *events.Registry) error {
	if client == nil || a == nil || reg == nil {
		return errors.New("policies: follow needs a store client, an authorizer and a registry")
	}
	filter := store.Filter{StreamPrefixes: []string{events.CategoryRole + "-"}}
	return client.Subscribe(ctx, nil, filter, store.HandlerFuncs{
		OnEvent: func(ctx context.Context, rec store.Recorded) error {
			return a.applyRecorded(ctx, reg, rec)
		},
		OnCaughtUp: func(context.Context) { a.markReady() },
	})
}

func (a *Authorizer) applyRecorded(ctx context.Context, reg *events.Registry, rec store.Recorded) error {
	e, _, err := reg.Decode(rec.Type, rec.Data, rec.Metadata)
	if err != nil {
		return fmt.Errorf("policies: follow %s@%d: %w", rec.StreamID, rec.Revision, err)
	}
	if domain, ok := role.DomainOf(e); ok {
		// The stream is the domain the admin was authorized on; a grant (or a
		// confirmation, a revocation) naming another domain did not pass that check.
		if stream, err := role.StreamID(domain); err != nil || stream != rec.StreamID {
			slog.WarnContext(ctx, "policies: role event skipped: its domain is not its stream's",
				"stream", rec.StreamID, "revision", rec.Revision)
			return nil
		}
	}
	if err := a.Apply(e); err != nil {
		slog.WarnContext(ctx, "policies: role event skipped", "stream", rec.StreamID, "revision", rec.Revision, "error", err)
	}
	return nil
}
