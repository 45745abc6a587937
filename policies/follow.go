package policies

import (
	"context"
	"errors"
	"log/slog"

	"vigie/events"
	"vigie/events/role"
)

// RoleEvent is one role event of the log, as a GrantSource delivers it: the event and
// where it was recorded.
type RoleEvent struct {
	Event    events.Event
	Stream   string
	Revision uint64
}

// GrantSource is where an Authorizer learns the role grants: it calls apply for each
// role event already recorded, in the log's order, then caughtUp once, then apply for
// each new one as it is recorded, until ctx ends or an event cannot be read (the error
// is returned). The event log is the production source (policies/grantlog); the
// authorization does not depend on how it is read.
type GrantSource interface {
	FollowRoles(ctx context.Context, apply func(context.Context, RoleEvent) error, caughtUp func()) error
}

// Follow applies the role grants and revocations of src to a, within moments of their
// append and without a restart. It blocks until ctx ends, returning ctx.Err(), or until
// an event cannot be read (returning why): a program older than the log stops rather
// than guess what an unknown role event meant. After such an error a's grants are
// stale; the caller should stop serving. Ready is closed once src caught up.
//
// A role event that is invalid or recorded in another domain's stream is skipped and
// logged: it grants (or revokes) nothing. A grant of mayor or prefecture takes effect
// at its confirmation by a second person (role.RoleGrantConfirmed), not at its request.
func Follow(ctx context.Context, src GrantSource, a *Authorizer) error {
	if src == nil || a == nil {
		return errors.New("policies: follow needs a grant source and an authorizer")
	}
	return src.FollowRoles(ctx, a.applyRoleEvent, a.markReady)
}

func (a *Authorizer) applyRoleEvent(ctx context.Context, re RoleEvent) error {
	if domain, ok := role.DomainOf(re.Event); ok {
		// The stream is the domain the admin was authorized on; a grant (or a
		// confirmation, a revocation) naming another domain did not pass that check.
		if stream, err := role.StreamID(domain); err != nil || stream != re.Stream {
			slog.WarnContext(ctx, "policies: role event skipped: its domain is not its stream's",
				"stream", re.Stream, "revision", re.Revision)
			return nil
		}
	}
	if err := a.Apply(re.Event); err != nil {
		slog.WarnContext(ctx, "policies: role event skipped", "stream", re.Stream, "revision", re.Revision, "error", err)
	}
	return nil
}
