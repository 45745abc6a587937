package resolver

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"vigie/events/store"
	"vigie/graph/model"
	"vigie/projections"
)

// settle waits until the read model has applied the command's events, so a mutation
// answers with what the board shows after it (read-your-writes). Past the bound the
// answer says so in extensions.consistency = STALE: the change is recorded either way.
func (r *Resolver) settle(ctx context.Context, readModel string, pos store.Position) {
	wait := r.ConsistencyWait
	if wait <= 0 {
		wait = 2 * time.Second
	}
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for {
		_, applied, err := projections.Current(ctx, r.Redis, "", readModel)
		if err == nil && !applied.Less(pos) {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			graphql.RegisterExtension(ctx, "consistency", model.ConsistencyStale)
			return
		}
		time.Sleep(delay)
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// cmdID is the client's idempotency key, or a fresh one.
func cmdID(id *string) string {
	if id != nil && *id != "" {
		return *id
	}
	return uuid.NewString()
}

// waitFor polls cond until it holds or the consistency bound passes (then the answer
// says STALE).
func (r *Resolver) waitFor(ctx context.Context, cond func() bool) {
	wait := r.ConsistencyWait
	if wait <= 0 {
		wait = 2 * time.Second
	}
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			graphql.RegisterExtension(ctx, "consistency", model.ConsistencyStale)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
