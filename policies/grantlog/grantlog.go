// Package grantlog reads the role grants from the event log for an Authorizer
// (policies.Follow): the one part of authorization that knows the event store.
package grantlog

import (
	"context"
	"fmt"

	"vigie/events"
	"vigie/events/role"
	"vigie/events/store"
	"vigie/policies"
)

// Source is the role streams of the log: a policies.GrantSource.
type Source struct {
	Client *store.Client
	// Registry decodes the role events; nil: one that knows only them.
	Registry *events.Registry
}

// FollowRoles subscribes to the role streams from the start of $all (grants are few),
// then live.
func (s Source) FollowRoles(ctx context.Context, apply func(context.Context, policies.RoleEvent) error, caughtUp func()) error {
	if s.Client == nil {
		return fmt.Errorf("grantlog: no store client")
	}
	reg := s.Registry
	if reg == nil {
		reg = events.NewRegistry()
		if err := role.Register(reg); err != nil {
			return err
		}
	}
	filter := store.Filter{StreamPrefixes: []string{events.CategoryRole + "-"}}
	return s.Client.Subscribe(ctx, nil, filter, store.HandlerFuncs{
		OnEvent: func(ctx context.Context, rec store.Recorded) error {
			e, _, err := reg.Decode(rec.Type, rec.Data, rec.Metadata)
			if err != nil {
				return fmt.Errorf("policies: follow %s@%d: %w", rec.StreamID, rec.Revision, err)
			}
			return apply(ctx, policies.RoleEvent{Event: e, Stream: rec.StreamID, Revision: rec.Revision})
		},
		OnCaughtUp: func(context.Context) { caughtUp() },
	})
}
