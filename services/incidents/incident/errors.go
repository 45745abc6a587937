package incident

import (
	"errors"
	"fmt"
	"time"

	"vigie/events"
	"vigie/events/input"
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
type InputError = input.Error

func invalid(field, problem string) error { return input.Invalid(ErrInvalidInput, field, problem) }

// Bounds of the inputs, in characters (runes) for texts and bytes for ids.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 4000
	MaxLogTextLen     = 4000
	MaxReasonLen      = 1000 // escalation and reopening reasons, closing summaries
	MaxIDLen          = 128
)

func text(field, s string, least, most int, multiLine bool) (string, error) {
	return input.Text(ErrInvalidInput, field, s, least, most, multiLine)
}

// validID checks an incident or log entry id: it names a stream or a log entry
// for ever, so incident-<id> must always be a valid stream name.
func validID(field, s string) error { return input.ID(ErrInvalidInput, field, s, MaxIDLen) }

func actor(by events.Actor, at time.Time) error { return input.Actor(ErrInvalidInput, by, at) }
