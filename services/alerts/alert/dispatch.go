package alert

import (
	"fmt"
	"slices"
	"time"

	"vigie/events"
)

// The dispatcher's commands. Its actor may have RoleSystem. What it records
// happened: a message already going out when the alert is cancelled may
// still be marked sent, and a failure is recorded whatever the alert became.

// StartDispatch begins sending the latest approved message; recipients counts
// the residents targeted on each channel (contract channel names); manual are
// the channels left to people (FR_ALERT without an intake).
func (a *Alert) StartDispatch(identifier string, recipients map[string]int, manual []Channel, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	if a.progress.Phase != StatusApproved || identifier != a.progress.Latest {
		return nil, ErrNotApproved
	}
	return a.start(identifier, recipients, manual, a.progress.Channels, at)
}

// StartCancellation begins sending the cancellation of a cancelled alert to
// the people who received it; recipients counts them per channel, on any
// channel an earlier message went out on (an update may have dropped one).
func (a *Alert) StartCancellation(identifier string, recipients map[string]int, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if !a.Exists() {
		return nil, ErrNotFound
	}
	if !a.progress.Cancelled || identifier == "" || identifier != a.progress.CancelID {
		return nil, ErrNoCancellation
	}
	return a.start(identifier, recipients, nil, a.startedOn, at)
}

func (a *Alert) start(identifier string, recipients map[string]int, manual, allowed []Channel, at time.Time) ([]events.Event, error) {
	if slices.Contains(a.started, identifier) {
		return nil, ErrAlreadyDispatching
	}
	counts := make(map[string]int, len(recipients))
	for name, n := range recipients {
		c := Channel(name)
		if !slices.Contains(allowed, c) {
			return nil, invalid("recipients", fmt.Sprintf("%q n'est pas un canal de l'alerte", name))
		}
		if n < 0 {
			return nil, invalid("recipients", fmt.Sprintf("nombre négatif pour %s", c))
		}
		counts[name] = n
	}
	for _, c := range manual {
		if c != ChannelFrAlert || !slices.Contains(allowed, c) {
			return nil, invalid("manual", fmt.Sprintf("%q ne peut pas être laissé à une personne", c))
		}
	}
	return []events.Event{AlertDispatchStarted{Identifier: identifier, Recipients: counts, Manual: slices.Clone(manual), At: at}}, nil
}

// MarkSent records that every channel of the message being dispatched is
// done, delivered or failed for good.
func (a *Alert) MarkSent(identifier string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if !a.Exists() {
		return nil, ErrNotFound
	}
	var m MessageProgress
	switch identifier {
	case a.progress.Latest:
		m = a.progress.Dispatch
	case a.progress.CancelID:
		m = a.progress.Cancellation
	}
	if identifier == "" || !m.Started || m.Identifier != identifier || m.Done {
		return nil, ErrNotDispatching
	}
	return []events.Event{AlertSent{Identifier: identifier, At: at}}, nil
}

// RecordDispatchFailure records a technical failure of one channel for a
// message whose dispatch has started: never hidden.
func (a *Alert) RecordDispatchFailure(identifier string, channel Channel, reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if !a.Exists() {
		return nil, ErrNotFound
	}
	if !slices.Contains(a.started, identifier) {
		return nil, ErrNotDispatching
	}
	if !channel.Valid() {
		return nil, invalid("channel", fmt.Sprintf("canal inconnu %q", channel))
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{AlertDispatchFailed{Identifier: identifier, Channel: channel, Reason: r, At: at}}, nil
}
