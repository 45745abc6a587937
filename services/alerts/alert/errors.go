package alert

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
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

	// ErrInvalidInput is what every *InputError is.
	ErrInvalidInput = fmt.Errorf("alert: %w", events.ErrInvalidInput)
)

// InputError says which field of a command is wrong and why. It matches
// ErrInvalidInput with errors.Is; errors.As gives the field.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string {
	return ErrInvalidInput.Error() + ": " + e.Field + ": " + e.Problem
}

func (e *InputError) Unwrap() error { return ErrInvalidInput }

func invalid(field, problem string) error {
	return &InputError{Field: field, Problem: problem}
}

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

// text trims s and checks it has least..most runes of valid UTF-8 without
// control characters; multiLine texts may hold newlines and tabs.
func text(field, s string, least, most int, multiLine bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < least || n > most {
		if least == 0 {
			return "", invalid(field, "longer than "+strconv.Itoa(most)+" characters")
		}
		return "", invalid(field, "must be "+strconv.Itoa(least)+" to "+strconv.Itoa(most)+" characters")
	}
	for _, r := range s {
		if multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "", invalid(field, "contains a control character")
		}
	}
	return s, nil
}

// validID checks an id that names a stream or a message for ever: it is
// taken as given, never trimmed, and stricter than events.ValidateStreamID.
func validID(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "empty")
	case len(s) > MaxIDLen:
		return invalid(field, "longer than "+strconv.Itoa(MaxIDLen)+" bytes")
	case !utf8.ValidString(s):
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return invalid(field, "contains a space or a control character")
		}
	}
	return nil
}

// actor checks what the runtime passes with every command: a programming
// error there must not become an event.
func actor(by events.Actor, at time.Time) error {
	if !slices.Contains(events.Roles, by.Role) {
		return invalid("by", "unknown role "+strconv.Quote(by.Role))
	}
	return subject(by, at)
}

// dispatcherActor is actor for the dispatcher's commands, which also accept
// RoleSystem.
func dispatcherActor(by events.Actor, at time.Time) error {
	if by.Role != RoleSystem && !slices.Contains(events.Roles, by.Role) {
		return invalid("by", "unknown role "+strconv.Quote(by.Role))
	}
	return subject(by, at)
}

func subject(by events.Actor, at time.Time) error {
	if by.Subject == "" {
		return invalid("by", "no subject")
	}
	if at.IsZero() {
		return invalid("at", "zero time")
	}
	return nil
}
