package events

import "errors"

// Families of domain errors, so that every service maps them the same way (invalid
// input, not found) without knowing each domain package. A domain package's own
// sentinel wraps one of these; any other error of a decision is a refused rule. Their
// words are French: they lead the messages the services send back to the people who
// typed the command; code tells them apart with errors.Is, never by their words.
var (
	ErrInvalidInput = errors.New("saisie invalide")
	ErrNotFound     = errors.New("introuvable")
)
