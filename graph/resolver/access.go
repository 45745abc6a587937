package resolver

import (
	"context"
	"slices"

	"vigie/graph/model"
	"vigie/identity"
	"vigie/policies"
	"vigie/policies/journal"
	"vigie/services/roles/rolespb"
)

// me is the caller with every grant they hold: those of their token and those the
// log records.
func (r *Resolver) me(ctx context.Context) (*model.Actor, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	grants := append(slices.Clone(c.Principal.Grants), r.Authz.GrantsOf(c.Principal.Subject)...)
	out := &model.Actor{Subject: c.Principal.Subject, Roles: []model.RoleGrant{}}
	seen := map[policies.Grant]bool{}
	for _, g := range grants {
		if !seen[g] {
			seen[g] = true
			out.Roles = append(out.Roles, model.RoleGrant{Role: g.Role, Domain: g.Domain})
		}
	}
	return out, nil
}

// roleCommand grants or revokes a role; it answers with the subject's grants as the
// policies know them once the change is applied (bounded wait, like read-your-writes).
// A grant of mayor or prefecture is first only requested, then confirmed by a second
// person with the same grantRole (the prefecture may confirm a commune's mayor: it is
// let through on its confirm permission, and the Roles service refuses it anything
// else); until then the answer shows the subject without the role.
func (r *Resolver) roleCommand(ctx context.Context, action, subject, role, domain string, cmd *string) (*model.Actor, error) {
	domain = canonical(domain)
	c, err := r.authorize(ctx, domain, policies.ObjectRole, action)
	if err != nil && action == policies.ActionGrant {
		c, err = r.authorize(ctx, domain, policies.ObjectRole, policies.ActionConfirm)
	}
	if err != nil {
		return nil, err
	}
	req := &rolespb.RoleRequest{CommandId: cmdID(cmd), Subject: subject, Role: role, Domain: domain}
	call := r.Roles.Grant
	if action == policies.ActionRevoke {
		call = r.Roles.Revoke
	}
	reply, err := call(identity.WithToken(ctx, c.Forward), req)
	if err != nil {
		return nil, fromService(err)
	}
	kind := journal.RoleRevoked
	if action == policies.ActionGrant {
		kind = journal.RoleGranted
		if reply.Pending {
			kind = journal.RoleGrantRequested
		}
	}
	r.Journal.Record(ctx, journal.Entry{Kind: kind, Domain: domain, Actor: c.Principal.Subject, Subject: subject, Action: "role:" + action + " " + role})
	want := action == policies.ActionGrant && !reply.Pending
	r.waitFor(ctx, func() bool {
		return slices.Contains(r.Authz.GrantsOf(subject), policies.Grant{Role: role, Domain: domain}) == want
	})
	out := &model.Actor{Subject: subject, Roles: []model.RoleGrant{}}
	for _, g := range r.Authz.GrantsOf(subject) {
		out.Roles = append(out.Roles, model.RoleGrant{Role: g.Role, Domain: g.Domain})
	}
	return out, nil
}
