package alert

import (
	"errors"
	"fmt"
	"time"

	"vigie/events"
	"vigie/events/input"
)

// The rules of an alert's lifecycle; each refusal is one of these, possibly
// wrapped with detail, so callers test them with errors.Is.
var (
	ErrNotFound              = fmt.Errorf("alerte %w (jamais rédigée)", events.ErrNotFound)
	ErrAlreadyDrafted        = errors.New("alerte déjà rédigée")
	ErrAlertClosed           = errors.New("alerte annulée ou expirée")
	ErrAwaitingApproval      = errors.New("l'alerte attend l'accord")
	ErrBeingDispatched       = errors.New("alerte en cours de diffusion : modifiez-la une fois diffusée")
	ErrNotDraft              = errors.New("seule une alerte en brouillon ou refusée se soumet au maire")
	ErrNotPending            = errors.New("l'alerte n'attend pas d'accord")
	ErrApproverRole          = errors.New("seul le maire accepte ou refuse les alertes")
	ErrSelfApproval          = errors.New("qui accepte une alerte ne peut pas en être l'auteur (règle des deux personnes)")
	ErrNoFrAlertRequest      = errors.New("aucune demande FR-Alert n'attend la préfecture")
	ErrFrAlertRole           = errors.New("seule la préfecture valide ou refuse une diffusion FR-Alert")
	ErrNotExpired            = errors.New("l'alerte n'a pas d'expiration ou n'a pas encore expiré")
	ErrExpiresBeforeApproval = errors.New("son expiration est passée : modifiez-la avant d'accepter l'alerte (un message CAP n'expire jamais avant d'être diffusé)")
	ErrNotApproved           = errors.New("ce message n'est pas le dernier accepté")
	ErrAlreadyDispatching    = errors.New("la diffusion de ce message a déjà commencé")
	ErrNotDispatching        = errors.New("ce message n'est pas en cours de diffusion")
	ErrNoFrAlertToConfirm    = errors.New("aucune diffusion FR-Alert validée n'attend la confirmation de la préfecture")
	ErrNoCancellation        = errors.New("aucune annulation à diffuser pour ce message")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("%w", events.ErrInvalidInput)
)

// InputError says which field of a command is wrong and why. It matches
// ErrInvalidInput with errors.Is; errors.As gives the field.
type InputError = input.Error

func invalid(field, problem string) error { return input.Invalid(ErrInvalidInput, field, problem) }

// Bounds of the inputs, in characters (runes) for texts and bytes for ids.
// The headline fits a notification; the description and instruction are what
// a CAP consumer shows in full.
const (
	MaxEventLen       = 100
	MaxHeadlineLen    = 160
	MaxDescriptionLen = 4000
	MaxInstructionLen = 2000
	MaxAreaDescLen    = 500
	MaxReasonLen      = 1000 // rejections, refusals, cancellations, failures
	MaxIDLen          = 128
)

// RoleSystem is the role of Vigie's own processes (the dispatcher), which act
// without a person behind them; only the dispatcher's commands accept it.
const RoleSystem = "system"

func text(field, s string, least, most int, multiLine bool) (string, error) {
	return input.Text(ErrInvalidInput, field, s, least, most, multiLine)
}

// validID checks an id that names a stream or a message for ever.
func validID(field, s string) error { return input.ID(ErrInvalidInput, field, s, MaxIDLen) }

func actor(by events.Actor, at time.Time) error { return input.Actor(ErrInvalidInput, by, at) }

// dispatcherActor is actor for the dispatcher's commands, which also accept
// RoleSystem.
func dispatcherActor(by events.Actor, at time.Time) error {
	return input.Actor(ErrInvalidInput, by, at, RoleSystem)
}
