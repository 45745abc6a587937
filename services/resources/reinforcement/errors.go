package reinforcement

import (
	"errors"
	"fmt"

	"vigie/events"
)

// ErrInvalidInput is the family of malformed commands; each input error below wraps it.
var ErrInvalidInput = fmt.Errorf("reinforcement: %w", events.ErrInvalidInput)

// Input errors.
var (
	ErrInvalidRequestID  = fmt.Errorf("%w: request id must be 1 to %d bytes of printable UTF-8", ErrInvalidInput, MaxIDLen)
	ErrInvalidIncidentID = fmt.Errorf("%w: incident id must be 1 to %d bytes of printable UTF-8", ErrInvalidInput, MaxIDLen)
	ErrInvalidDomain     = fmt.Errorf("%w: domain must be a commune's, like dep:30/com:30189", ErrInvalidInput)
	ErrUnknownKind       = fmt.Errorf("%w: unknown resource kind", ErrInvalidInput)
	ErrQuantity          = fmt.Errorf("%w: quantity must be 1 to %d, and no more than requested when accepting", ErrInvalidInput, MaxQuantity)
	ErrReasonRequired    = fmt.Errorf("%w: a refusal needs a reason", ErrInvalidInput)
	ErrInvalidText       = fmt.Errorf("%w: reason and note must be text of at most %d characters", ErrInvalidInput, MaxTextLen)
)

// Rules.
var (
	ErrNotFound         = fmt.Errorf("reinforcement: request %w", events.ErrNotFound)
	ErrIncidentNotFound = fmt.Errorf("reinforcement: incident %w", events.ErrNotFound)
	// ErrIncidentOfAnotherCommune is read by the commune's crisis cell as it is.
	ErrIncidentOfAnotherCommune = errors.New("l'incident relève d'une autre commune : une commune demande des renforts pour ses propres incidents")
	ErrAlreadyRequested         = errors.New("reinforcement: request already made")
	ErrPrefectureOnly           = errors.New("reinforcement: only the prefecture decides on and dispatches reinforcements")
	ErrCommuneOnly              = errors.New("reinforcement: only the commune's mayor or rac requests reinforcements and confirms their arrival")
	ErrCommuneOrPrefecture      = errors.New("reinforcement: only the commune's mayor or rac, or the prefecture, releases reinforcements")
	ErrWrongStep                = errors.New("reinforcement: not the request's next step")
)
