package role

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigie/events"
	contract "vigie/events/role"
	"vigie/events/territory"
)

// Errors of the decisions: what the rules of the crisis organisation refuse.
var (
	ErrAlreadyGranted  = errors.New("rôle déjà attribué")
	ErrNotGranted      = errors.New("rôle non attribué")
	ErrSelfRevokeAdmin = errors.New("un administrateur ne peut pas se retirer son propre rôle d'administrateur")
	ErrNotAdmin        = errors.New("seul un administrateur attribue ou retire des rôles")
	ErrMissingTime     = errors.New("l'heure de la décision manque")

	// ErrSelfGrant and ErrOwnRequest keep duties separate; their words are
	// shown to the administrator as they are.
	ErrSelfGrant  = errors.New("nul ne peut s'attribuer un rôle à soi-même : un autre administrateur doit le faire")
	ErrOwnRequest = errors.New("cette attribution attend la confirmation d'une autre personne que celle qui l'a demandée")
)

// Assignment is one role held by one subject.
type Assignment struct {
	Subject, Role string
}

// Assignments is who holds which role on one domain: the state of the stream
// role-<domain>. Build it with New, fold the stream's events with Apply, then
// decide with Grant and Revoke.
type Assignments struct {
	domain  string
	held    map[Assignment]bool
	pending map[Assignment]string // a grant waiting for its confirmation → who asked for it
}

// New returns the empty assignments of domain (any accepted spelling; kept in
// canonical form).
func New(domain string) (*Assignments, error) {
	canonical, err := territory.Canonical(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	return &Assignments{domain: canonical, held: make(map[Assignment]bool), pending: make(map[Assignment]string)}, nil
}

// Domain is the canonical domain these assignments are on.
func (a *Assignments) Domain() string { return a.domain }

// Has reports whether subject holds role on this domain.
func (a *Assignments) Has(subject, roleName string) bool {
	return a.held[Assignment{subject, roleName}]
}

// Pending reports whether a grant of role to subject waits for its
// confirmation, and who asked for it.
func (a *Assignments) Pending(subject, roleName string) (requestedBy string, ok bool) {
	requestedBy, ok = a.pending[Assignment{subject, roleName}]
	return requestedBy, ok
}

// List returns the assignments ordered by subject, then role.
func (a *Assignments) List() []Assignment {
	out := make([]Assignment, 0, len(a.held))
	for as := range a.held {
		out = append(out, as)
	}
	slices.SortFunc(out, func(x, y Assignment) int {
		if c := strings.Compare(x.Subject, y.Subject); c != 0 {
			return c
		}
		return strings.Compare(x.Role, y.Role)
	})
	return out
}

// Apply folds one event of the stream into the state, as the contract's
// EffectOf says (the authorizer follows the same rule, so both agree on who holds
// what); other event types and confirmations that are not a second person's change
// nothing. Events are facts: they are applied, never re-decided.
func (a *Assignments) Apply(e events.Event) {
	eff, err := contract.EffectOf(e)
	if err != nil {
		return
	}
	key := Assignment{eff.Subject, eff.Role}
	switch eff.Change {
	case contract.Requests:
		a.pending[key] = eff.By
	case contract.Grants:
		delete(a.pending, key)
		a.held[key] = true
	case contract.Revokes:
		delete(a.pending, key)
		delete(a.held, key)
	}
}

// Grant decides that subject gets role on this domain. by must act as an
// admin; whether by's admin grant covers this domain is the policy's question
// (policies.Authorize with object role, action grant), asked before.
//
// Nobody grants a role to themselves. A role that contract.NeedsConfirmation is first
// only requested (RoleGrantRequested); the same grant decided again by another
// person confirms it (RoleGrantConfirmed), and only that makes it held: a
// second admin, or, for a commune's mayor, the prefecture (by acting as
// prefecture, whose policy lets it confirm: action confirm), which answers for
// the State's side of the commune's alerts. The prefecture grants nothing else.
func (a *Assignments) Grant(by events.Actor, subject, roleName string, at time.Time) ([]events.Event, error) {
	if by.Role != events.RoleAdmin && by.Role != events.RolePrefecture {
		return nil, fmt.Errorf("%w (rôle de l'appelant : %q)", ErrNotAdmin, by.Role)
	}
	if err := a.valid(by, subject, roleName, at); err != nil {
		return nil, err
	}
	if by.Subject == subject {
		return nil, ErrSelfGrant
	}
	key := Assignment{subject, roleName}
	requestedBy, pending := a.pending[key]
	if by.Role == events.RolePrefecture && (roleName != events.RoleMayor || !pending) {
		return nil, fmt.Errorf("%w : la préfecture confirme seulement l'attribution du rôle de maire qu'un administrateur a demandée", ErrNotAdmin)
	}
	if a.Has(subject, roleName) {
		return nil, fmt.Errorf("%w : %s a déjà le rôle %s", ErrAlreadyGranted, subject, roleName)
	}
	switch {
	case !contract.NeedsConfirmation(roleName):
		return []events.Event{RoleGranted{Subject: subject, Role: roleName, Domain: a.domain, By: by.Subject, At: at}}, nil
	case !pending:
		return []events.Event{RoleGrantRequested{Subject: subject, Role: roleName, Domain: a.domain, By: by.Subject, At: at}}, nil
	case requestedBy == by.Subject:
		return nil, ErrOwnRequest
	}
	return []events.Event{RoleGrantConfirmed{Subject: subject, Role: roleName, Domain: a.domain, RequestedBy: requestedBy, By: by.Subject, At: at}}, nil
}

// Revoke decides that subject no longer holds role on this domain; on a grant
// still waiting for its confirmation, it withdraws the request.
func (a *Assignments) Revoke(by events.Actor, subject, roleName string, at time.Time) ([]events.Event, error) {
	if by.Role != events.RoleAdmin {
		return nil, fmt.Errorf("%w (rôle de l'appelant : %q)", ErrNotAdmin, by.Role)
	}
	if err := a.valid(by, subject, roleName, at); err != nil {
		return nil, err
	}
	if by.Subject == subject && roleName == events.RoleAdmin {
		// Otherwise the last admin of a domain could lock everyone out of it.
		return nil, ErrSelfRevokeAdmin
	}
	if _, pending := a.Pending(subject, roleName); !pending && !a.Has(subject, roleName) {
		return nil, fmt.Errorf("%w : %s n'a pas le rôle %s", ErrNotGranted, subject, roleName)
	}
	return []events.Event{RoleRevoked{Subject: subject, Role: roleName, Domain: a.domain, By: by.Subject, At: at}}, nil
}

// valid checks what every decision needs: subjects, a role held on this kind
// of domain, a time.
func (a *Assignments) valid(by events.Actor, subject, roleName string, at time.Time) error {
	if err := contract.ValidSubject(by.Subject); err != nil {
		return fmt.Errorf("administrateur : %w", err)
	}
	if err := contract.ValidSubject(subject); err != nil {
		return err
	}
	if err := contract.ValidGrant(roleName, a.domain); err != nil {
		return err
	}
	if at.IsZero() {
		return ErrMissingTime
	}
	return nil
}
