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
// the residents targeted on each channel (contract channel names).
func (a *Alert) StartDispatch(identifier string, recipients map[string]int, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := dispatcherActor(by, at); err != nil {
		return nil, err
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	latest, _ := a.LatestMessage()
	if a.phase != StatusApproved || identifier != latest.Identifier {
		return nil, fmt.Errorf("%w: %q", ErrNotApproved, identifier)
	}
	if slices.Contains(a.started, identifier) {
		return nil, ErrAlreadyDispatching
	}
	counts := make(map[string]int, len(recipients))
	for name, n := range recipients {
		c := Channel(name)
		if !a.Has(c) {
			return nil, invalid("recipients", fmt.Sprintf("%q is not a channel of the alert", name))
		}
		if n < 0 {
			return nil, invalid("recipients", fmt.Sprintf("negative count for %s", c))
		}
		counts[name] = n
	}
	return []events.Event{AlertDispatchStarted{Identifier: identifier, Recipients: counts, At: at}}, nil
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
	if identifier == "" || identifier != a.dispatch.identifier || a.dispatch.sent {
		return nil, fmt.Errorf("%w: %q", ErrNotDispatching, identifier)
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
		return nil, fmt.Errorf("%w: %q", ErrNotDispatching, identifier)
	}
	if !channel.Valid() {
		return nil, invalid("channel", fmt.Sprintf("unknown channel %q", channel))
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{AlertDispatchFailed{Identifier: identifier, Channel: channel, Reason: r, At: at}}, nil
}
