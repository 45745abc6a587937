package resource

import (
	"errors"
	"fmt"

	"vigie/events"
)

// ErrInvalidInput is the family of malformed commands; each input error below
// wraps it, so the gateway answers INVALID_INPUT for all of them with one errors.Is.
var ErrInvalidInput = fmt.Errorf("%w", events.ErrInvalidInput)

// Input errors.
var (
	ErrInvalidResourceID = fmt.Errorf("%w : l'identifiant d'une ressource a de 1 à %d octets de texte imprimable", ErrInvalidInput, MaxIDLen)
	ErrInvalidIncidentID = fmt.Errorf("%w : l'identifiant d'un incident a de 1 à %d octets de texte imprimable", ErrInvalidInput, MaxIDLen)
	ErrInvalidDomain     = fmt.Errorf("%w : attendu le territoire d'une commune, comme dep:30/com:30189", ErrInvalidInput)
	ErrInvalidName       = fmt.Errorf("%w : le nom a de 1 à %d caractères imprimables", ErrInvalidInput, MaxNameLen)
	ErrUnknownKind       = fmt.Errorf("%w : type de ressource inconnu", ErrInvalidInput)
	ErrUnknownStatus     = fmt.Errorf("%w : état de ressource inconnu", ErrInvalidInput)
	ErrCapacity          = fmt.Errorf("%w : un hébergement a une capacité de 1 à %d places, les autres ressources aucune", ErrInvalidInput, MaxCapacity)
	ErrNegativeOccupancy = fmt.Errorf("%w : l'occupation ne peut être négative", ErrInvalidInput)
)

// Rules.
var (
	ErrNotFound         = fmt.Errorf("ressource %w", events.ErrNotFound)
	ErrIncidentNotFound = fmt.Errorf("incident %w", events.ErrNotFound)
	// ErrIncidentOfAnotherCommune is read by the commune's crisis cell as it is.
	ErrIncidentOfAnotherCommune = errors.New("l'incident relève d'une autre commune : l'aide entre communes passe par une demande de renfort à la préfecture")
	ErrAlreadyRegistered        = errors.New("ressource déjà enregistrée")
	ErrAlreadyEngaged           = errors.New("ressource déjà engagée sur un incident")
	ErrNotAvailable             = errors.New("la ressource n'est pas disponible")
	ErrNotEngaged               = errors.New("la ressource n'est pas engagée")
	ErrUseEngageRelease         = errors.New("l'état « engagée » s'obtient en engageant la ressource et se quitte en la désengageant")
	ErrNotAShelter              = errors.New("la ressource n'est pas un hébergement")
	ErrShelterFull              = errors.New("hébergement complet")
	ErrOccupiedShelter          = errors.New("l'hébergement a encore des occupants")
)
