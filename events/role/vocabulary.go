package role

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"vigie/events"
	"vigie/events/input"
	"vigie/events/territory"
)

// MaxSubjectLen bounds a subject in bytes; subjects are opaque ids (an OIDC
// "sub" is at most 255 ASCII characters, Vigie's are far shorter).
const MaxSubjectLen = 128

// MaxNameLen bounds a display name in runes: enough for « Marie-Christine
// Delacroix-Villeneuve », short enough that a forged name cannot bloat every
// event its bearer records (each carries it in its metadata).
const MaxNameLen = 80

// SubjectRolePrefix marks casbin's role subjects ("role:mayor"); a user
// subject spelled that way would inherit the role's permissions by name.
const SubjectRolePrefix = "role:"

// Errors of the vocabulary: a grant or a subject that no decision may name.
var (
	ErrUnknownRole      = errors.New("rôle inconnu")
	ErrInvalidDomain    = errors.New("territoire invalide")
	ErrRoleNotForDomain = errors.New("ce rôle ne s'attribue pas sur ce type de territoire")
	ErrInvalidSubject   = errors.New("identifiant de personne invalide")
	ErrInvalidName      = errors.New("nom affiché invalide")
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
		return fmt.Errorf("%w : vide", ErrInvalidSubject)
	case len(s) > MaxSubjectLen:
		return fmt.Errorf("%w : plus de %d octets", ErrInvalidSubject, MaxSubjectLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w : UTF-8 invalide", ErrInvalidSubject)
	case strings.HasPrefix(s, SubjectRolePrefix):
		return fmt.Errorf("%w : %q est réservé aux rôles", ErrInvalidSubject, SubjectRolePrefix)
	}
	for _, r := range s {
		// Invisible: a right-to-left override or a zero-width character would make
		// one account's name read as another's on the screens and in the journal.
		if unicode.IsSpace(r) || unicode.IsControl(r) || input.Invisible(r) {
			return fmt.Errorf("%w : espace, caractère de contrôle ou invisible interdit", ErrInvalidSubject)
		}
	}
	return nil
}

// ValidName checks a person's display name (a token's "name" claim) as the
// texts of commands are checked, since it is shown beside their decisions: at
// most MaxNameLen runes of UTF-8, no control character nor invisible one (a
// right-to-left override would make one agent's name read as another's). It
// returns the name trimmed; an empty name is valid (none given).
func ValidName(s string) (string, error) {
	return input.Text(ErrInvalidName, "name", s, 0, MaxNameLen, false)
}

// ValidGrant checks that role is known, domain is a domain, and the role is
// one held on that kind of domain: the prefecture's role is the State's, held
// on a département, never granted on a commune (a commune admin could
// otherwise make someone validate the commune's own FR-Alert requests); the
// mayor and the RAC are the commune's own. The other roles fit both.
func ValidGrant(roleName, domain string) error {
	if !Known(roleName) {
		return fmt.Errorf("%w : %q", ErrUnknownRole, roleName)
	}
	d, err := territory.Parse(domain)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	switch roleName {
	case events.RolePrefecture:
		if !d.IsDepartement() {
			return fmt.Errorf("%w : %s s'attribue sur un département", ErrRoleNotForDomain, roleName)
		}
	case events.RoleMayor, events.RoleRAC:
		if d.IsDepartement() {
			return fmt.Errorf("%w : %s s'attribue sur une commune", ErrRoleNotForDomain, roleName)
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
