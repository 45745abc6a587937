package resolver

import (
	"context"

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
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-in:
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
