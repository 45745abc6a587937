package reinforcement

import (
	"errors"
	"fmt"

	"vigie/events"
)

// ErrInvalidInput is the family of malformed commands; each input error below wraps it.
var ErrInvalidInput = fmt.Errorf("%w", events.ErrInvalidInput)

// Input errors.
var (
	ErrInvalidRequestID  = fmt.Errorf("%w : l'identifiant d'une demande a de 1 à %d octets de texte imprimable", ErrInvalidInput, MaxIDLen)
	ErrInvalidIncidentID = fmt.Errorf("%w : l'identifiant d'un incident a de 1 à %d octets de texte imprimable", ErrInvalidInput, MaxIDLen)
	ErrInvalidDomain     = fmt.Errorf("%w : attendu le territoire d'une commune, comme dep:30/com:30189", ErrInvalidInput)
	ErrUnknownKind       = fmt.Errorf("%w : type de ressource inconnu", ErrInvalidInput)
	ErrQuantity          = fmt.Errorf("%w : la quantité va de 1 à %d, et une acceptation ne dépasse pas la demande", ErrInvalidInput, MaxQuantity)
	ErrReasonRequired    = fmt.Errorf("%w : un refus doit être motivé", ErrInvalidInput)
	ErrInvalidText       = fmt.Errorf("%w : le motif et la note sont des textes d'au plus %d caractères", ErrInvalidInput, MaxTextLen)
)

// Rules.
var (
	ErrNotFound         = fmt.Errorf("demande de renfort %w", events.ErrNotFound)
	ErrIncidentNotFound = fmt.Errorf("incident %w", events.ErrNotFound)
	// ErrIncidentOfAnotherCommune is read by the commune's crisis cell as it is.
	ErrIncidentOfAnotherCommune = errors.New("l'incident relève d'une autre commune : une commune demande des renforts pour ses propres incidents")
	ErrAlreadyRequested         = errors.New("demande de renfort déjà faite")
	ErrPrefectureOnly           = errors.New("seule la préfecture décide des renforts et les envoie")
	ErrCommuneOnly              = errors.New("seuls le maire et le coordinateur (RAC) de la commune demandent des renforts et confirment leur arrivée")
	ErrCommuneOrPrefecture      = errors.New("seuls le maire et le coordinateur (RAC) de la commune, ou la préfecture, libèrent des renforts")
	ErrWrongStep                = errors.New("ce n'est pas l'étape suivante de la demande")
)

// statusWords say a request's status in the words of a refusal (« quand elle est … »):
// the refusal is read by the crisis cell, the status values are the contract's.
var statusWords = map[Status]string{
	StatusRequested:         "demandée",
	StatusAccepted:          "acceptée",
	StatusPartiallyAccepted: "acceptée en partie",
	StatusRefused:           "refusée",
	StatusDispatched:        "envoyée",
	StatusArrived:           "arrivée",
	StatusReleased:          "libérée",
}
