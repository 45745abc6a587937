package input

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
)

// Error says which field of a command is wrong and why. It is its Family
// (a domain's ErrInvalidInput, which wraps events.ErrInvalidInput) for
// errors.Is; errors.As gives the field. Domain packages name it InputError
// (an alias: errors.As finds any domain's, errors.Is tells the families apart)
// and build it with Invalid, so that it carries their family.
type Error struct {
	Field   string
	Problem string
	Family  error
}

func (e *Error) Error() string {
	return e.Unwrap().Error() + ": " + e.Field + ": " + e.Problem
}

// Unwrap returns the family; an Error built without one is still invalid
// input, so the gateway never answers it as an internal error.
func (e *Error) Unwrap() error {
	if e.Family == nil {
		return events.ErrInvalidInput
	}
	return e.Family
}

// Invalid returns an *Error of family for field.
func Invalid(family error, field, problem string) error {
	return &Error{Field: field, Problem: problem, Family: family}
}

// Text trims s and checks it has least..most runes of valid UTF-8 without
// control characters; multiLine texts may hold newlines and tabs.
func Text(family error, field, s string, least, most int, multiLine bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", Invalid(family, field, "not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < least || n > most {
		if least == 0 {
			return "", Invalid(family, field, "longer than "+strconv.Itoa(most)+" characters")
		}
		return "", Invalid(family, field, "must be "+strconv.Itoa(least)+" to "+strconv.Itoa(most)+" characters")
	}
	for _, r := range s {
		if multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "", Invalid(family, field, "contains a control character")
		}
	}
	return s, nil
}

// ID checks an id of at most max bytes. An id names a stream or an entry for
// ever, so it is taken as given, never trimmed; refusing spaces and control
// characters makes it stricter than events.ValidateStreamID, so
// "<category>-<id>" is always a valid stream name.
func ID(family error, field, s string, max int) error {
	switch {
	case s == "":
		return Invalid(family, field, "empty")
	case len(s) > max:
		return Invalid(family, field, "longer than "+strconv.Itoa(max)+" bytes")
	case !utf8.ValidString(s):
		return Invalid(family, field, "not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return Invalid(family, field, "contains a space or a control character")
		}
	}
	return nil
}

// Actor checks what the runtime passes with every command, so that a
// programming error there never becomes an event: a subject, one of
// events.Roles or of extraRoles (a domain's own, such as a dispatcher's), and
// a time.
func Actor(family error, by events.Actor, at time.Time, extraRoles ...string) error {
	switch {
	case by.Subject == "":
		return Invalid(family, "by", "no subject")
	case !slices.Contains(events.Roles, by.Role) && !slices.Contains(extraRoles, by.Role):
		return Invalid(family, "by", "unknown role "+strconv.Quote(by.Role))
	case at.IsZero():
		return Invalid(family, "at", "zero time")
	}
	return nil
}
