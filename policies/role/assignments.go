package role

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
	"vigie/events/input"
	"vigie/events/territory"
)

// MaxSubjectLen bounds a subject in bytes; subjects are opaque ids (an OIDC
// "sub" is at most 255 ASCII characters, Vigie's are far shorter).
const MaxSubjectLen = 128

// SubjectRolePrefix marks casbin's role subjects ("role:mayor"); a user
// subject spelled that way would inherit the role's permissions by name.
const SubjectRolePrefix = "role:"

var (
	ErrUnknownRole      = errors.New("role: unknown role")
	ErrInvalidDomain    = errors.New("role: invalid domain")
	ErrRoleNotForDomain = errors.New("role: this role is not held on this kind of domain")
	ErrInvalidSubject   = errors.New("role: invalid subject")
	ErrAlreadyGranted   = errors.New("role: already granted")
	ErrNotGranted       = errors.New("role: not granted")
	ErrSelfRevokeAdmin  = errors.New("role: an admin cannot revoke their own admin grant")
	ErrNotAdmin         = errors.New("role: only an admin grants or revokes roles")
	ErrMissingTime      = errors.New("role: the time of the decision is missing")

	// ErrSelfGrant and ErrOwnRequest keep duties separate; their words are
	// shown to the administrator as they are.
	ErrSelfGrant  = errors.New("nul ne peut s'attribuer un rôle à soi-même : un autre administrateur doit le faire")
	ErrOwnRequest = errors.New("cette attribution attend la confirmation d'une autre personne que celle qui l'a demandée")
)

// NeedsConfirmation reports whether a grant of roleName takes effect only once
// a second person confirms it: the mayor approves alerts to the population and
// directs the commune's response, the prefecture validates FR-Alert for the
// whole département. One administrator alone, or one stolen administrator
// account, must not be enough to hand out those powers.
func NeedsConfirmation(roleName string) bool {
	return roleName == events.RoleMayor || roleName == events.RolePrefecture
}

// Known reports whether name is one of the roles (events.Roles, described in policy.csv).
func Known(name string) bool { return slices.Contains(events.Roles, name) }

// ValidSubject refuses subjects that are empty, longer than MaxSubjectLen
// bytes, not UTF-8, contain spaces or control characters, or start with
// "role:".
func ValidSubject(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	case len(s) > MaxSubjectLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidSubject, MaxSubjectLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidSubject)
	case strings.HasPrefix(s, SubjectRolePrefix):
		return fmt.Errorf("%w: %q is reserved for roles", ErrInvalidSubject, SubjectRolePrefix)
	}
	for _, r := range s {
		// Invisible: a right-to-left override or a zero-width character would make
		// one account's name read as another's on the screens and in the journal.
		if unicode.IsSpace(r) || unicode.IsControl(r) || input.Invisible(r) {
			return fmt.Errorf("%w: contains a space, a control or an invisible character", ErrInvalidSubject)
		}
	}
	return nil
}

// ValidGrant checks that role is known, domain is a domain, and the role is
// one held on that kind of domain: the prefecture's role is the State's, held
// on a département, never granted on a commune (a commune admin could
// otherwise make someone validate the commune's own FR-Alert requests); the
// mayor and the RAC are the commune's own. The other roles fit both.
func ValidGrant(roleName, domain string) error {
	if !Known(roleName) {
		return fmt.Errorf("%w: %q", ErrUnknownRole, roleName)
	}
	d, err := territory.Parse(domain)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	switch roleName {
	case events.RolePrefecture:
		if !d.IsDepartement() {
			return fmt.Errorf("%w: %s is granted on a département", ErrRoleNotForDomain, roleName)
		}
	case events.RoleMayor, events.RoleRAC:
		if d.IsDepartement() {
			return fmt.Errorf("%w: %s is granted on a commune", ErrRoleNotForDomain, roleName)
		}
	}
	return nil
}

// StreamID is the stream of the role assignments on domain, in its canonical
// form so "dep:30/*" and "dep:30" share one stream: role-dep:30,
// role-dep:30/com:30189.
func StreamID(domain string) (string, error) {
	canonical, err := territory.Canonical(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	id := events.StreamID(events.CategoryRole, canonical)
	if err := events.ValidateStreamID(id); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	return id, nil
}

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

// Apply folds one event of the stream into the state; other event types are
// ignored. Events are facts: they are applied, never re-validated.
func (a *Assignments) Apply(e events.Event) {
	switch e := e.(type) {
	case RoleGranted:
		a.held[Assignment{e.Subject, e.Role}] = true
	case RoleGrantRequested:
		a.pending[Assignment{e.Subject, e.Role}] = e.By
	case RoleGrantConfirmed:
		delete(a.pending, Assignment{e.Subject, e.Role})
		a.held[Assignment{e.Subject, e.Role}] = true
	case RoleRevoked:
		delete(a.pending, Assignment{e.Subject, e.Role})
		delete(a.held, Assignment{e.Subject, e.Role})
	}
}

// Grant decides that subject gets role on this domain. by must act as an
// admin; whether by's admin grant covers this domain is the policy's question
// (policies.Authorize with object role, action grant), asked before.
//
// Nobody grants a role to themselves. A role that NeedsConfirmation is first
// only requested (RoleGrantRequested); the same grant decided again by another
// person confirms it (RoleGrantConfirmed), and only that makes it held: a
// second admin, or, for a commune's mayor, the prefecture (by acting as
// prefecture, whose policy lets it confirm: action confirm), which answers for
// the State's side of the commune's alerts. The prefecture grants nothing else.
func (a *Assignments) Grant(by events.Actor, subject, roleName string, at time.Time) ([]events.Event, error) {
	if by.Role != events.RoleAdmin && by.Role != events.RolePrefecture {
		return nil, fmt.Errorf("%w: acting as %q", ErrNotAdmin, by.Role)
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
		return nil, fmt.Errorf("%w: the prefecture only confirms a mayor's grant an admin requested", ErrNotAdmin)
	}
	if a.Has(subject, roleName) {
		return nil, fmt.Errorf("%w: %s already holds %s", ErrAlreadyGranted, subject, roleName)
	}
	switch {
	case !NeedsConfirmation(roleName):
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
		return nil, fmt.Errorf("%w: acting as %q", ErrNotAdmin, by.Role)
	}
	if err := a.valid(by, subject, roleName, at); err != nil {
		return nil, err
	}
	if by.Subject == subject && roleName == events.RoleAdmin {
		// Otherwise the last admin of a domain could lock everyone out of it.
		return nil, ErrSelfRevokeAdmin
	}
	if _, pending := a.Pending(subject, roleName); !pending && !a.Has(subject, roleName) {
		return nil, fmt.Errorf("%w: %s does not hold %s", ErrNotGranted, subject, roleName)
	}
	return []events.Event{RoleRevoked{Subject: subject, Role: roleName, Domain: a.domain, By: by.Subject, At: at}}, nil
}

// valid checks what every decision needs: subjects, a role held on this kind
// of domain, a time.
func (a *Assignments) valid(by events.Actor, subject, roleName string, at time.Time) error {
	if err := ValidSubject(by.Subject); err != nil {
		return fmt.Errorf("acting admin: %w", err)
	}
	if err := ValidSubject(subject); err != nil {
		return err
	}
	if err := ValidGrant(roleName, a.domain); err != nil {
		return err
	}
	if at.IsZero() {
		return ErrMissingTime
	}
	return nil
}
