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
	ErrNotFound          = fmt.Errorf("habitant %w (jamais inscrit)", events.ErrNotFound)
	ErrAlreadyRegistered = errors.New("habitant déjà inscrit")
	ErrAlreadyErased     = errors.New("habitant déjà effacé")
	ErrNoConsent         = errors.New("l'inscription demande le consentement de l'habitant")
	ErrMissingContact    = errors.New("un canal demande des coordonnées qui n'ont pas été données")
	ErrErased            = errors.New("habitant effacé : sa clé n'existe plus")
	ErrUnreadable        = errors.New("les données scellées ne s'ouvrent pas avec cette clé pour cet habitant")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("%w", events.ErrInvalidInput)
)

// InputError says which field of a command is wrong and why. It matches
// ErrInvalidInput with errors.Is; errors.As gives the field. Its Problem
// never quotes the personal data it refuses.
type InputError = input.Error

func invalid(field, problem string) error { return input.Invalid(ErrInvalidInput, field, problem) }
