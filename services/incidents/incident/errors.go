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
	ErrNotFound             = fmt.Errorf("incident %w (jamais signalé)", events.ErrNotFound)
	ErrAlreadyReported      = errors.New("incident déjà signalé")
	ErrIncidentClosed       = errors.New("incident clos : rouvrez-le d'abord")
	ErrNotQualified         = errors.New("l'incident n'est pas encore qualifié")
	ErrAlreadyEscalated     = errors.New("incident déjà remonté à la préfecture")
	ErrEscalationRole       = errors.New("seuls le maire et la préfecture remontent un incident à la préfecture")
	ErrDirectedByPrefecture = errors.New("incident dirigé par la préfecture depuis sa remontée")
	ErrNotDirector          = errors.New("incident dirigé par le maire tant qu'il n'est pas remonté à la préfecture")
	ErrAlreadyStabilized    = errors.New("incident déjà stabilisé")
	ErrNotClosed            = errors.New("l'incident n'est pas clos")
	ErrUnknownEntry         = errors.New("une correction renvoie à une entrée existante de la main courante")
	ErrDuplicateEntry       = errors.New("identifiant d'entrée de main courante déjà utilisé")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("%w", events.ErrInvalidInput)
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
