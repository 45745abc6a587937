package resolver

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"vigie/graph/model"
	"vigie/policies"
	"vigie/policies/journal"
)

// The security journal (policies/journal) as the gateway feeds and shows it.

// securityJournal answers an admin's view of their domain's journal, newest first.
func (r *Resolver) securityJournal(ctx context.Context, domain string, first *int) ([]model.SecurityEntry, error) {
	domain = canonical(domain)
	if _, err := r.authorize(ctx, domain, policies.ObjectJournal, policies.ActionRead); err != nil {
		return nil, err
	}
	n := 200
	if first != nil {
		if *first < 1 || *first > journal.MaxRecent {
			return nil, Error(CodeInvalidInput, "first doit être entre 1 et 1000")
		}
		n = *first
	}
	if r.Journal == nil {
		return nil, unconfigured("le journal de sécurité (il lui faut le journal des événements)")
	}
	entries, err := r.Journal.Recent(ctx, domain, n)
	if err != nil {
		return nil, Error(CodeUnavailable, "journal de sécurité indisponible, réessayez")
	}
	out := make([]model.SecurityEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, model.SecurityEntry{
			At: e.At, Last: timeOrNil(e.Last), Count: e.Count,
			Kind: model.SecurityEntryKind(e.Kind), Label: e.Kind.Label(),
			Domain: strOrNil(e.Domain), Actor: strOrNil(e.Actor), Subject: strOrNil(e.Subject),
			Action: strOrNil(e.Action), Code: strOrNil(e.Code), Reason: strOrNil(e.Reason),
		})
	}
	return out, nil
}

// Refused notes a refusal the caller of ctx met: the operation (the root field), its
// domain argument when it has one (else the caller's domains, journal.DomainsOf).
func (r *Resolver) Refused(ctx context.Context, code, reason string) {
	if r == nil || r.Journal == nil {
		return
	}
	e := journal.Entry{Kind: journal.Refused, Code: code, Reason: reason}
	if c, err := caller(ctx); err == nil {
		e.Actor = c.Principal.Subject
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		// The root field: the outermost context that names a field (list elements and
		// gqlgen's own contexts name none).
		root := fc
		for p := fc.Parent; p != nil; p = p.Parent {
			if p.Field.Field != nil {
				root = p
			}
		}
		if root.Field.Field != nil {
			e.Action = root.Field.Name
		}
		if d, ok := root.Args["domain"].(string); ok {
			e.Domain = validOrEmpty(canonical(d))
		}
	}
	r.Journal.Record(ctx, e)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// validOrEmpty is domain when it is one, else "": a caller's made-up domain is not
// where an entry is filed (journal.Entry.Domain).
func validOrEmpty(domain string) string {
	if policies.ValidDomain(domain) != nil {
		return ""
	}
	return domain
}
