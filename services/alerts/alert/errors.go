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
	ErrNotFound              = fmt.Errorf("alert: %w (never drafted)", events.ErrNotFound)
	ErrAlreadyDrafted        = errors.New("alert: already drafted")
	ErrAlertClosed           = errors.New("alert: cancelled or expired")
	ErrAwaitingApproval      = errors.New("alert: awaiting approval")
	ErrBeingDispatched       = errors.New("alert: going out, revise it once it is sent")
	ErrNotDraft              = errors.New("alert: only a draft or a rejected alert can be submitted")
	ErrNotPending            = errors.New("alert: not pending approval")
	ErrApproverRole          = errors.New("alert: only the mayor approves or rejects alerts")
	ErrSelfApproval          = errors.New("alert: the approver may not be an author of the alert (two-person rule)")
	ErrNoFrAlertRequest      = errors.New("alert: no FR-Alert request awaits the prefecture")
	ErrFrAlertRole           = errors.New("alert: only the prefecture validates or refuses FR-Alert")
	ErrNotExpired            = errors.New("alert: has no expiry or has not expired yet")
	ErrExpiresBeforeApproval = errors.New("alert: its expiry has passed: revise the expiry before approving (a CAP message never expires before it is sent)")
	ErrNotApproved           = errors.New("alert: the message is not the latest approved one")
	ErrAlreadyDispatching    = errors.New("alert: the message's dispatch has already started")
	ErrNotDispatching        = errors.New("alert: the message is not being dispatched")
	ErrNoFrAlertToConfirm    = errors.New("alert: aucune diffusion FR-Alert validée n'attend la confirmation de la préfecture")
	ErrNoCancellation        = errors.New("alert: aucune annulation à diffuser pour ce message")

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("alert: %w", events.ErrInvalidInput)
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
