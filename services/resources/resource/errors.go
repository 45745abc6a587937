package resource

import (
	"errors"
	"fmt"

	"vigie/events"
)

// ErrInvalidInput is the family of malformed commands; each input error below
// wraps it, so the gateway answers INVALID_INPUT for all of them with one errors.Is.
var ErrInvalidInput = fmt.Errorf("resource: %w", events.ErrInvalidInput)

// Input errors.
var (
	ErrInvalidResourceID = fmt.Errorf("%w: resource id must be 1 to %d bytes of printable UTF-8", ErrInvalidInput, MaxIDLen)
	ErrInvalidIncidentID = fmt.Errorf("%w: incident id must be 1 to %d bytes of printable UTF-8", ErrInvalidInput, MaxIDLen)
	ErrInvalidDomain     = fmt.Errorf("%w: domain must be a commune's, like dep:30/com:30189", ErrInvalidInput)
	ErrInvalidName       = fmt.Errorf("%w: name must be 1 to %d printable characters", ErrInvalidInput, MaxNameLen)
	ErrUnknownKind       = fmt.Errorf("%w: unknown resource kind", ErrInvalidInput)
	ErrUnknownStatus     = fmt.Errorf("%w: unknown resource status", ErrInvalidInput)
	ErrCapacity          = fmt.Errorf("%w: a shelter needs a capacity of 1 to %d, other kinds none", ErrInvalidInput, MaxCapacity)
	ErrNegativeOccupancy = fmt.Errorf("%w: occupancy cannot be negative", ErrInvalidInput)
)

// Rules.
var (
	ErrNotFound         = fmt.Errorf("resource: %w", events.ErrNotFound)
	ErrIncidentNotFound = fmt.Errorf("resource: incident %w", events.ErrNotFound)
	// ErrIncidentOfAnotherCommune is read by the commune's crisis cell as it is.
	ErrIncidentOfAnotherCommune = errors.New("l'incident relève d'une autre commune : l'aide entre communes passe par une demande de renfort à la préfecture")
	ErrAlreadyRegistered        = errors.New("resource: already registered")
	ErrAlreadyEngaged           = errors.New("resource: already engaged on an incident")
	ErrNotAvailable             = errors.New("resource: not available")
	ErrNotEngaged               = errors.New("resource: not engaged")
	ErrUseEngageRelease         = errors.New("resource: engaged status is set by engaging and releasing")
	ErrNotAShelter              = errors.New("resource: not a shelter")
	ErrShelterFull              = errors.New("resource: shelter full")
	ErrOccupiedShelter          = errors.New("resource: shelter still has occupants")
)
