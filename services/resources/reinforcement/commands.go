package reinforcement

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
	"vigie/events/input"
	"vigie/services/resources/resource"
)

// Limits of the inputs.
const (
	MaxIDLen    = 128  // bytes, for request and incident ids
	MaxQuantity = 1000 // means of one kind in one request
	MaxTextLen  = 1000 // characters (runes) of a reason or a note
)

// Submission is the command that makes a request.
type Submission struct {
	RequestID  string
	Domain     string // the requesting commune's, e.g. dep:30/com:30189
	IncidentID string
	Kind       resource.Kind
	Quantity   int    // 1..MaxQuantity
	Reason     string // optional; trimmed
}

// SubmitFor makes a request for the incident of cmd, whose domain the service
// read from the incident's own stream: "" when no incident of that id exists
// for the caller (none at all, or one the caller may not read; both are
// answered ErrIncidentNotFound). A commune asks for its own incidents: the
// prefecture decides how communes help one another, from their own requests.
func (r *Request) SubmitFor(cmd Submission, incidentDomain string, by events.Actor, at time.Time) ([]events.Event, error) {
	decided, err := r.Submit(cmd, by, at)
	switch {
	case err != nil:
		return nil, err
	case incidentDomain == "":
		return nil, ErrIncidentNotFound
	case incidentDomain != cmd.Domain:
		return nil, ErrIncidentOfAnotherCommune
	}
	return decided, nil
}

// Submit makes a request; only the commune's mayor or rac may. It does not
// look at the incident: commands from people go through SubmitFor, which
// does; Submit remains for building histories (tests, projections' fixtures).
func (r *Request) Submit(cmd Submission, by events.Actor, at time.Time) ([]events.Event, error) {
	if !commune(by) {
		return nil, ErrCommuneOnly
	}
	if r.Exists() {
		return nil, ErrAlreadyRequested
	}
	reason, terr := text(cmd.Reason)
	switch {
	case !validID(cmd.RequestID):
		return nil, ErrInvalidRequestID
	case resource.ValidateCommuneDomain(cmd.Domain) != nil:
		return nil, fmt.Errorf("%w : %q", ErrInvalidDomain, cmd.Domain)
	case !validID(cmd.IncidentID):
		return nil, ErrInvalidIncidentID
	case !cmd.Kind.Valid():
		return nil, fmt.Errorf("%w : %q", ErrUnknownKind, cmd.Kind)
	case cmd.Quantity < 1 || cmd.Quantity > MaxQuantity:
		return nil, fmt.Errorf("%w (%d demandés)", ErrQuantity, cmd.Quantity)
	case terr != nil:
		return nil, terr
	}
	return []events.Event{ReinforcementRequested{
		RequestID:  cmd.RequestID,
		Domain:     cmd.Domain,
		IncidentID: cmd.IncidentID,
		Kind:       cmd.Kind,
		Quantity:   cmd.Quantity,
		Reason:     reason,
		By:         by,
		At:         at,
	}}, nil
}

// Accept is the prefecture's yes to a request: in full with the quantity
// requested, in part with less.
func (r *Request) Accept(quantity int, note string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := r.step("acceptée", prefecture, ErrPrefectureOnly, by, StatusRequested); err != nil {
		return nil, err
	}
	note, terr := text(note)
	switch {
	case quantity < 1 || quantity > r.quantity:
		return nil, fmt.Errorf("%w (%d acceptés pour %d demandés)", ErrQuantity, quantity, r.quantity)
	case terr != nil:
		return nil, terr
	}
	return []events.Event{ReinforcementAccepted{Quantity: quantity, Note: note, By: by, At: at}}, nil
}

// Refuse is the prefecture's no to a request, with the reason the commune
// will read.
func (r *Request) Refuse(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := r.step("refusée", prefecture, ErrPrefectureOnly, by, StatusRequested); err != nil {
		return nil, err
	}
	reason, terr := text(reason)
	switch {
	case terr != nil:
		return nil, terr
	case reason == "":
		return nil, ErrReasonRequired
	}
	return []events.Event{ReinforcementRefused{Reason: reason, By: by, At: at}}, nil
}

// Dispatch records that the prefecture has sent what it accepted.
func (r *Request) Dispatch(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := r.step("envoyée", prefecture, ErrPrefectureOnly, by, StatusAccepted, StatusPartiallyAccepted); err != nil {
		return nil, err
	}
	return []events.Event{ReinforcementDispatched{By: by, At: at}}, nil
}

// ConfirmArrival records, for the commune, that the means are on site.
func (r *Request) ConfirmArrival(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := r.step("confirmée comme arrivée", commune, ErrCommuneOnly, by, StatusDispatched); err != nil {
		return nil, err
	}
	return []events.Event{ReinforcementArrived{By: by, At: at}}, nil
}

// Release sends the means back: the commune no longer needs them, or the
// prefecture recalls them for another emergency.
func (r *Request) Release(by events.Actor, at time.Time) ([]events.Event, error) {
	either := func(a events.Actor) bool { return commune(a) || prefecture(a) }
	if err := r.step("libérée", either, ErrCommuneOrPrefecture, by, StatusArrived); err != nil {
		return nil, err
	}
	return []events.Event{ReinforcementReleased{By: by, At: at}}, nil
}

// step checks, in this order, that the request exists, that by may take the
// step, and that the request is in one of the statuses the step follows.
func (r *Request) step(action string, may func(events.Actor) bool, forbidden error, by events.Actor, from ...Status) error {
	if !r.Exists() {
		return ErrNotFound
	}
	if !may(by) {
		return forbidden
	}
	for _, s := range from {
		if r.status == s {
			return nil
		}
	}
	return fmt.Errorf("%w : elle ne peut pas être %s quand elle est %s", ErrWrongStep, action, statusWords[r.status])
}

func commune(by events.Actor) bool {
	return by.Subject != "" && (by.Role == events.RoleMayor || by.Role == events.RoleRAC)
}

func prefecture(by events.Actor) bool {
	return by.Subject != "" && by.Role == events.RolePrefecture
}

// validID accepts the ids that make valid stream names and read-model keys.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen || !utf8.ValidString(id) {
		return false
	}
	return !strings.ContainsFunc(id, unicode.IsControl)
}

// text trims s and reports whether it is free text within MaxTextLen: line
// breaks and tabs are allowed, other control characters are not.
func text(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxTextLen || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) {
		return "", ErrInvalidText
	}
	// Invisible characters (bidi overrides, zero-width ones) would make a reason
	// read on screen otherwise than it was written; the error names the one found.
	if err := input.Visible(ErrInvalidInput, "reason", s); err != nil {
		return "", err
	}
	return s, nil
}
