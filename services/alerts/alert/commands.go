package alert

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"vigie/events"
	"vigie/events/input"
)

// Each command below checks the actor and time it is given, then the rules,
// and returns the events it decides without changing the alert: the caller
// appends them and applies them.

// Draft is what a draft gives: the contract's DraftAlertInput plus the id the
// caller chose for the alert and the incident it is about, if any.
type Draft struct {
	AlertID    string
	Domain     string
	IncidentID string // optional
	Content    Content
	Channels   []Channel
	Exercise   bool
	// Offered are the channels that can go out: those with a provider
	// configured, CAP_FEED and FR_ALERT; nil offers every channel.
	Offered []Channel
}

// Draft opens the alert. An exercise's headline, description and instruction
// are marked with ExercisePrefix in the event itself, so every later reader
// (CAP, SMS, the after-action review) sees the mark.
func (a *Alert) Draft(cmd Draft, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := actor(by, at); err != nil {
		return nil, err
	}
	if a.Exists() {
		return nil, ErrAlreadyDrafted
	}
	if err := validID("alertId", cmd.AlertID); err != nil {
		return nil, err
	}
	if err := ValidateDomain(cmd.Domain); err != nil {
		return nil, err
	}
	if cmd.IncidentID != "" {
		if err := validID("incidentId", cmd.IncidentID); err != nil {
			return nil, err
		}
	}
	r, err := Revision{Content: cmd.Content, Channels: cmd.Channels, Offered: cmd.Offered}.checked(cmd.Exercise, at)
	if err != nil {
		return nil, err
	}
	return []events.Event{AlertDrafted{
		AlertID: cmd.AlertID, Domain: cmd.Domain, IncidentID: cmd.IncidentID,
		Content: r.Content, Channels: r.Channels, Exercise: cmd.Exercise, By: by.Subject, At: at,
	}}, nil
}

// Revision replaces the whole content and channels.
type Revision struct {
	Content  Content
	Channels []Channel
	Offered  []Channel // as in Draft
}

// Revise writes a new version of the content: of a draft or a rejected
// alert, or of an alert that went out (its dispatch finished, whatever its
// outcome). The published version stays public and untouched until the
// mayor approves the revision, which then goes out as a CAP Update.
func (a *Alert) Revise(cmd Revision, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.open(by, at); err != nil {
		return nil, err
	}
	switch s := a.Status(); s {
	case StatusPendingApproval:
		return nil, fmt.Errorf("%w du maire", ErrAwaitingApproval)
	case StatusFrAlertRequested:
		return nil, fmt.Errorf("%w de la préfecture pour FR-Alert", ErrAwaitingApproval)
	case StatusDispatching:
		return nil, ErrBeingDispatched
	case StatusApproved:
		// Approved and not going out: only when the prefecture refused the
		// FR-Alert that was all it had to do.
		if a.progress.FrAlert != FrAlertStateRefused {
			return nil, ErrBeingDispatched
		}
	}
	r, err := cmd.checked(a.exercise, at)
	if err != nil {
		return nil, err
	}
	return []events.Event{AlertRevised{Content: r.Content, Channels: r.Channels, By: by.Subject, At: at}}, nil
}

// checked returns the content and channels as the events carry them, or the
// first invalid field.
func (r Revision) checked(exercise bool, at time.Time) (Revision, error) {
	c, err := content(r.Content, exercise, at)
	if err != nil {
		return Revision{}, err
	}
	chs, err := channels(r.Channels, r.Offered)
	if err != nil {
		return Revision{}, err
	}
	if exercise && slices.Contains(chs, ChannelFrAlert) {
		return Revision{}, invalid("channels", "FR-Alert n'est jamais utilisé pour un exercice : la diffusion cellulaire atteint tous les téléphones de la zone")
	}
	return Revision{Content: c, Channels: chs}, nil
}

// Submit asks the mayor for approval.
func (a *Alert) Submit(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.open(by, at); err != nil {
		return nil, err
	}
	if p := a.progress.Phase; p != StatusDraft && p != StatusRejected {
		return nil, ErrNotDraft
	}
	return []events.Event{AlertSubmitted{By: by.Subject, At: at}}, nil
}

// Approve is the mayor's approval of the content's latest version: it
// publishes that version and lets out a CAP message, an Alert the first time
// and an Update after, and asks the prefecture for FR-Alert when the alert
// has that channel. Nobody approves content they wrote; the rule is waived
// only for an exercise in an exercise commune (com:<dep>999), where nobody
// is reached who did not register for exercises, and the event says so.
// audience is what the approver was shown (recipients per channel name).
func (a *Alert) Approve(audience map[string]int, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.mayorDecision(by, at); err != nil {
		return nil, err
	}
	if exp := a.versions.Latest.Content.Expires; exp != nil && !exp.After(at) {
		return nil, ErrExpiresBeforeApproval
	}
	waived := false
	if slices.Contains(a.authors, by.Subject) {
		if !a.exercise || !input.ExerciseCommune(a.domain) {
			return nil, ErrSelfApproval
		}
		waived = true
	}
	var seen map[string]int
	for name, n := range audience {
		if seen == nil {
			seen = map[string]int{}
		}
		if !a.Has(Channel(name)) || n < 0 {
			return nil, invalid("audience", fmt.Sprintf("%q n'est pas un canal de l'alerte", name))
		}
		seen[name] = n
	}
	msgType := MsgTypeAlert
	if len(a.messages) > 0 {
		msgType = MsgTypeUpdate
	}
	decided := []events.Event{AlertApproved{
		By: by.Subject, SelfApprovalWaived: waived, Version: a.Version(), Audience: seen, Message: a.nextMessage(msgType, at), At: at,
	}}
	if a.Has(ChannelFrAlert) {
		decided = append(decided, FrAlertRequested{By: by.Subject, At: at})
	}
	return decided, nil
}

// Reject sends the alert back to its authors; it is a draft again.
func (a *Alert) Reject(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.mayorDecision(by, at); err != nil {
		return nil, err
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{AlertRejected{Reason: r, By: by.Subject, At: at}}, nil
}

// ValidateFrAlert is the prefecture's go for cell broadcast.
func (a *Alert) ValidateFrAlert(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.frAlertDecision(by, at); err != nil {
		return nil, err
	}
	return []events.Event{FrAlertValidated{By: by.Subject, At: at}}, nil
}

// RefuseFrAlert is the prefecture's no; the commune's own channels go on.
func (a *Alert) RefuseFrAlert(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.frAlertDecision(by, at); err != nil {
		return nil, err
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{FrAlertRefused{Reason: r, By: by.Subject, At: at}}, nil
}

// mayorDecision: an approval or a rejection is the mayor's, on an alert
// pending approval.
func (a *Alert) mayorDecision(by events.Actor, at time.Time) error {
	if err := a.open(by, at); err != nil {
		return err
	}
	if a.progress.Phase != StatusPendingApproval {
		return ErrNotPending
	}
	if by.Role != events.RoleMayor {
		return ErrApproverRole
	}
	return nil
}

func (a *Alert) frAlertDecision(by events.Actor, at time.Time) error {
	if err := a.open(by, at); err != nil {
		return err
	}
	if a.progress.Phase != StatusApproved || a.progress.FrAlert != FrAlertStateRequested {
		return ErrNoFrAlertRequest
	}
	if by.Role != events.RolePrefecture {
		return ErrFrAlertRole
	}
	return nil
}

// ConfirmFrAlertBroadcast is the prefecture's word that it broadcast the
// validated FR-Alert on the State's own platform, where Vigie has no intake
// to send it to.
func (a *Alert) ConfirmFrAlertBroadcast(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.open(by, at); err != nil {
		return nil, err
	}
	p := a.progress
	if p.Phase != StatusApproved || p.FrAlert != FrAlertStateValidated || p.Dispatch.Confirmed ||
		p.Dispatch.Started && !slices.Contains(p.Dispatch.Manual, ChannelFrAlert) {
		return nil, ErrNoFrAlertToConfirm
	}
	if by.Role != events.RolePrefecture {
		return nil, ErrFrAlertRole
	}
	return []events.Event{FrAlertBroadcastConfirmed{By: by.Subject, At: at}}, nil
}

// Cancel withdraws the alert, whatever its status. Once a message has gone
// out, residents must hear of the cancellation: the event carries a CAP
// Cancel.
func (a *Alert) Cancel(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := a.open(by, at); err != nil {
		return nil, err
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	var cancel *Message
	if len(a.messages) > 0 {
		m := a.nextMessage(MsgTypeCancel, at)
		cancel = &m
	}
	return []events.Event{AlertCancelled{Reason: r, By: by.Subject, Message: cancel, At: at}}, nil
}

// Expire records that the content's expiry has passed.
//
// The dispatcher records expiries as they fall due, so it may act with RoleSystem.
func (a *Alert) Expire(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	if exp := a.LiveExpiry(); exp == nil || exp.After(at) {
		return nil, ErrNotExpired
	}
	return []events.Event{AlertExpired{At: at}}, nil
}

// open checks the command's actor and time, and that the alert exists and is
// neither cancelled nor expired.
func (a *Alert) open(by events.Actor, at time.Time) error {
	if err := actor(by, at); err != nil {
		return err
	}
	return a.live()
}

func (a *Alert) live() error {
	switch {
	case !a.Exists():
		return ErrNotFound
	case a.progress.Cancelled || a.progress.Expired:
		return ErrAlertClosed
	}
	return nil
}

// nextMessage is the alert's next CAP message: <alertId>.<n>, n counting
// from 1.
func (a *Alert) nextMessage(t MsgType, at time.Time) Message {
	return Message{Identifier: a.id + "." + strconv.Itoa(len(a.messages)+1), Sent: at, MsgType: t}
}
