package resolver

import (
	"context"
	"slices"

	"vigie/events/store"
	"vigie/graph/auth"
	"vigie/graph/model"
	"vigie/policies"
)

// boardChanged delivers the projector's notices of a domain (a commune, or a
// département: all its communes) to a caller allowed to read its incidents.
func (r *Resolver) boardChanged(ctx context.Context, domain string) (<-chan *model.BoardChange, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectIncident, policies.ActionRead); err != nil {
		return nil, err
	}
	in := r.Notices.Subscribe(ctx, domain)
	out := make(chan *model.BoardChange, 16)
	go func() {
		defer close(out)
		// Several read models announce the same event (the incident board and the
		// prefecture's overview both apply an incident's events): one change each.
		var recent [64]store.Position
		next := 0
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-in:
				if _, err := auth.FromContext(ctx); err != nil {
					// The caller's right ended (the token expired, a role was
					// revoked): not one more change. The session closes the socket
					// with the code that says why, which ends this subscription;
					// completing it here would tell the client it ended normally.
					<-ctx.Done()
					return
				}
				if slices.Contains(recent[:], n.Position) {
					continue
				}
				recent[next%len(recent)], next = n.Position, next+1
				select {
				case out <- &model.BoardChange{Domain: n.Domain, StreamID: n.StreamID, Type: n.Type, At: n.At}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
