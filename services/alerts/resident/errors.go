package resident

import (
	"errors"
	"fmt"

	"vigie/events"
	"vigie/events/input"
)

// The rules of registration; each refusal is one of these, possibly wrapped
// with detail, so callers test them with errors.Is.
var (
	ErrNotFound          = fmt.Errorf("resident: %w (never registered)", events.ErrNotFound)
	ErrAlreadyRegistered = errors.New("resident: already registered")
	ErrAlreadyErased     = errors.New("resident: already erased")
	ErrNoConsent         = errors.New("resident: registration needs the resident's consent")
	ErrMissingContact    = errors.New("resident: a channel needs contact details that were not given")
	ErrErased            = errors.New("resident: erased, the key is gone")
	ErrUnreadable        = errors.New("resident: sealed data does not open with this key for this resident")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("resident: %w", events.ErrInvalidInput)
)

// InputError says which field of a command is wrong and why. It matches
// ErrInvalidInput with errors.Is; errors.As gives the field. Its Problem
// never quotes the personal data it refuses.
type InputError = input.Error

func invalid(field, problem string) error { return input.Invalid(ErrInvalidInput, field, problem) }
