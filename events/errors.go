package events

import "errors"

// Families of domain errors, so that every service maps them the same way (invalid
// input, not found) without knowing each domain package. A domain package's own
// sentinel wraps one of these; any other error of a decision is a refused rule.
var (
	ErrInvalidInput = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
)
