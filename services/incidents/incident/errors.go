package incident

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
)

// The rules of the incident lifecycle; each refusal is one of these, possibly
// wrapped with detail, so callers test them with errors.Is.
var (
	ErrNotFound             = fmt.Errorf("incident: %w (never reported)", events.ErrNotFound)
	ErrAlreadyReported      = errors.New("incident: already reported")
	ErrIncidentClosed       = errors.New("incident: closed, reopen it first")
	ErrNotQualified         = errors.New("incident: not qualified yet")
	ErrAlreadyEscalated     = errors.New("incident: already escalated to the prefecture")
	ErrEscalationRole       = errors.New("incident: only the mayor or the prefecture may escalate")
	ErrDirectedByPrefecture = errors.New("incident: directed by the prefecture since its escalation")
	ErrNotDirector          = errors.New("incident: directed by the mayor until it is escalated")
	ErrAlreadyStabilized    = errors.New("incident: already stabilized")
	ErrNotClosed            = errors.New("incident: not closed")
	ErrUnknownEntry         = errors.New("incident: a correction must reference an existing log entry")
	ErrDuplicateEntry       = errors.New("incident: log entry id already used")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("incident: %w", events.ErrInvalidInput)
)

// InputError says which field of a command is wrong and why. It matches
// ErrInvalidInput with errors.Is; errors.As gives the field.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string {
	return ErrInvalidInput.Error() + ": " + e.Field + ": " + e.Problem
}

func (e *InputError) Unwrap() error { return ErrInvalidInput }

func invalid(field, problem string) error {
	return &InputError{Field: field, Problem: problem}
}

// Bounds of the inputs, in characters (runes) for texts and bytes for ids.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 4000
	MaxLogTextLen     = 4000
	MaxReasonLen      = 1000 // escalation and reopening reasons, closing summaries
	MaxIDLen          = 128
)

// text trims s and checks it has least..most runes of valid UTF-8 without
// control characters; multiLine texts may hold newlines and tabs.
func text(field, s string, least, most int, multiLine bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < least || n > most {
		if least == 0 {
			return "", invalid(field, "longer than "+strconv.Itoa(most)+" characters")
		}
		return "", invalid(field, "must be "+strconv.Itoa(least)+" to "+strconv.Itoa(most)+" characters")
	}
	for _, r := range s {
		if multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "", invalid(field, "contains a control character")
		}
	}
	return s, nil
}

// validID checks an incident or log entry id: it names a stream or a log entry
// for ever, so it is taken as given, never trimmed. It is stricter than
// events.ValidateStreamID, so incident-<id> is always a valid stream name.
func validID(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "empty")
	case len(s) > MaxIDLen:
		return invalid(field, "longer than "+strconv.Itoa(MaxIDLen)+" bytes")
	case !utf8.ValidString(s):
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return invalid(field, "contains a space or a control character")
		}
	}
	return nil
}

// actor checks what the runtime passes with every command: a programming
// error there must not become an event.
func actor(by events.Actor, at time.Time) error {
	if by.Subject == "" {
		return invalid("by", "no subject")
	}
	if !slices.Contains(events.Roles, by.Role) {
		return invalid("by", "unknown role "+strconv.Quote(by.Role))
	}
	if at.IsZero() {
		return invalid("at", "zero time")
	}
	return nil
}
