package alert

import (
	"maps"
	"slices"
	"strconv"

	"vigie/events"
)

// Progress is where an alert stands: its approval lifecycle, the FR-Alert
// request and the dispatch of its latest approved message, channel by
// channel. It is the one place the alert's status and each channel's state
// are decided: the aggregate keeps one, and so does every read model that
// shows a status (the alerts board stores it in its documents as JSON), so
// the command side and the screens can never disagree.
type Progress struct {
	Phase     Status `json:"phase"` // draft, pending_approval, rejected or approved
	Cancelled bool   `json:"cancelled,omitempty"`
	Expired   bool   `json:"expired,omitempty"`
	// Working are the channels of the content being written; Channels those of
	// the published (last approved) content, which the dispatch follows.
	Working  []Channel `json:"working,omitempty"`
	Channels []Channel `json:"channels,omitempty"`
	Exercise bool      `json:"exercise,omitempty"`
	// Latest is the identifier of the latest approved message; Dispatch is its
	// dispatch, once started.
	Latest   string          `json:"latest,omitempty"`
	FrAlert  FrAlertState    `json:"frAlert,omitempty"`
	FrReason string          `json:"frReason,omitempty"`
	Dispatch MessageProgress `json:"dispatch"`
	// Cancellation is the dispatch of the cancellation message to the people
	// who received the alert.
	Cancellation MessageProgress `json:"cancellation"`
	// CancelID is the identifier of the CAP Cancel, when a message had gone out.
	CancelID string `json:"cancelId,omitempty"`
}

// Delivery counts what the dispatcher reports for one channel.
type Delivery struct {
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// MessageProgress is what the dispatcher recorded for one message.
type MessageProgress struct {
	Identifier string `json:"identifier,omitempty"`
	Started    bool   `json:"started,omitempty"`
	// Done: every channel the dispatcher sends itself is finished (AlertSent).
	Done bool `json:"done,omitempty"`
	// Recipients targeted per channel when the dispatch started.
	Recipients map[Channel]int `json:"recipients,omitempty"`
	// Manual are the channels the dispatcher leaves to people: FR_ALERT without
	// an intake configured, which the prefecture broadcasts on the State's
	// platform and then confirms.
	Manual []Channel `json:"manual,omitempty"`
	// Counts per channel, summed over the recorded buckets.
	Counts map[Channel]Delivery `json:"counts,omitempty"`
	// Failures: a channel that failed as a whole (no provider, say), with why.
	Failures map[Channel]string `json:"failures,omitempty"`
	// Confirmed: the prefecture confirmed the FR-Alert broadcast it made by hand.
	Confirmed bool `json:"confirmed,omitempty"`
}

// ChannelState is a channel's outcome for a message; the values are the
// contract's ChannelState enum.
type ChannelState string

const (
	ChannelPending   ChannelState = "PENDING"
	ChannelSending   ChannelState = "SENDING"
	ChannelDelivered ChannelState = "DELIVERED"
	ChannelPartial   ChannelState = "PARTIAL"
	ChannelFailed    ChannelState = "FAILED"
	ChannelRefused   ChannelState = "REFUSED"
)

// ChannelOutcome is one channel of a message as a person reads it: the state,
// why (in French) when it is not plainly delivered, and the counts.
// CountsKnown is false where nobody can know them: FR-Alert's cell broadcast
// reports no recipients.
type ChannelOutcome struct {
	Channel     Channel      `json:"channel"`
	State       ChannelState `json:"state"`
	Reason      string       `json:"reason,omitempty"`
	CountsKnown bool         `json:"countsKnown"`
	Recipients  int          `json:"recipients"`
	Sent        int          `json:"sent"`
	Delivered   int          `json:"delivered"`
	Failed      int          `json:"failed"`
}

// Apply evolves the progress by one event of the alert's stream or of its
// dispatch journal; other events are ignored.
func (p *Progress) Apply(e events.Event) {
	switch e := e.(type) {
	case AlertDrafted:
		p.Phase, p.Working, p.Exercise = StatusDraft, slices.Clone(e.Channels), e.Exercise
	case AlertRevised:
		p.Phase, p.Working = StatusDraft, slices.Clone(e.Channels)
	case AlertSubmitted:
		p.Phase = StatusPendingApproval
	case AlertRejected:
		p.Phase = StatusRejected
	case AlertApproved:
		p.Phase, p.Channels, p.Latest = StatusApproved, slices.Clone(p.Working), e.Message.Identifier
		p.FrAlert, p.FrReason, p.Dispatch = FrAlertStateNone, "", MessageProgress{}
	case FrAlertRequested:
		p.FrAlert = FrAlertStateRequested
	case FrAlertValidated:
		p.FrAlert = FrAlertStateValidated
	case FrAlertRefused:
		p.FrAlert, p.FrReason = FrAlertStateRefused, e.Reason
	case FrAlertBroadcastConfirmed:
		p.Dispatch.Confirmed = true
	case AlertCancelled:
		p.Cancelled = true
		if e.Message != nil {
			p.CancelID = e.Message.Identifier
		}
	case AlertExpired:
		p.Expired = true
	case AlertDispatchStarted, AlertSent, AlertDispatchFailed, DeliveriesRecorded:
		id := identifierOf(e)
		switch {
		case id != "" && id == p.CancelID:
			p.Cancellation.apply(e)
		case id != "" && id == p.Latest:
			p.Dispatch.apply(e)
		}
	}
}

func identifierOf(e events.Event) string {
	switch e := e.(type) {
	case AlertDispatchStarted:
		return e.Identifier
	case AlertSent:
		return e.Identifier
	case AlertDispatchFailed:
		return e.Identifier
	case DeliveriesRecorded:
		return e.Identifier
	}
	return ""
}

func (m *MessageProgress) apply(e events.Event) {
	switch e := e.(type) {
	case AlertDispatchStarted:
		m.Identifier, m.Started = e.Identifier, true
		m.Recipients = map[Channel]int{}
		for name, n := range e.Recipients {
			m.Recipients[Channel(name)] = n
		}
		m.Manual = slices.Clone(e.Manual)
	case AlertSent:
		m.Done = true
	case AlertDispatchFailed:
		if m.Failures == nil {
			m.Failures = map[Channel]string{}
		}
		m.Failures[e.Channel] = e.Reason
	case DeliveriesRecorded:
		if m.Counts == nil {
			m.Counts = map[Channel]Delivery{}
		}
		d := m.Counts[e.Channel]
		d.Sent += e.Sent
		d.Delivered += e.Delivered
		d.Failed += e.Failed
		m.Counts[e.Channel] = d
	}
}

// Status is the alert's status in the contract's terms. Closed wins; then
// the approval lifecycle; once approved, a pending FR-Alert request; then the
// dispatch of the latest message: SENT only when every channel is DELIVERED,
// FAILED when none delivered anything, PARTIALLY_SENT in between, and
// FR_ALERT_REFUSED when the prefecture refused cell broadcast (the commune's
// own channels say how they went).
func (p Progress) Status() Status {
	switch {
	case p.Cancelled:
		return StatusCancelled
	case p.Expired:
		return StatusExpired
	case p.Phase != StatusApproved:
		return p.Phase
	case p.FrAlert == FrAlertStateRequested:
		return StatusFrAlertRequested
	case !p.Dispatch.Started:
		return StatusApproved
	}
	outcomes := p.Outcomes()
	delivered, failed := 0, 0
	for _, o := range outcomes {
		switch o.State {
		case ChannelPending, ChannelSending:
			return StatusDispatching
		case ChannelDelivered:
			delivered++
		case ChannelPartial:
			delivered++
			failed++
		case ChannelFailed:
			failed++
		}
	}
	switch {
	case p.FrAlert == FrAlertStateRefused:
		return StatusFrAlertRefused
	case failed == 0:
		return StatusSent
	case delivered == 0:
		return StatusFailed
	}
	return StatusPartiallySent
}

// Outcomes is every channel of the latest approved message, in the alert's
// order, with its state; nil before the first approval.
func (p Progress) Outcomes() []ChannelOutcome {
	if p.Latest == "" {
		return nil
	}
	out := make([]ChannelOutcome, 0, len(p.Channels))
	for _, c := range p.Channels {
		if c == ChannelFrAlert {
			out = append(out, p.frAlertOutcome())
			continue
		}
		out = append(out, p.Dispatch.outcome(c, p.Cancelled))
	}
	return out
}

// CancellationOutcomes is every channel the cancellation went out on; nil
// when none had to (nothing had gone out, or it has not started yet).
func (p Progress) CancellationOutcomes() []ChannelOutcome {
	if !p.Cancellation.Started {
		return nil
	}
	var out []ChannelOutcome
	for _, c := range Channels() {
		if _, ok := p.Cancellation.Recipients[c]; ok {
			out = append(out, p.Cancellation.outcome(c, false))
		}
	}
	return out
}

func (p Progress) frAlertOutcome() ChannelOutcome {
	o := ChannelOutcome{Channel: ChannelFrAlert, State: ChannelPending}
	switch {
	case p.Exercise:
		o.State, o.Reason = ChannelRefused, "jamais diffusée pour un exercice"
		return o
	case p.FrAlert == FrAlertStateRequested || p.FrAlert == FrAlertStateNone:
		o.Reason = "en attente de la validation de la préfecture"
		return o
	case p.FrAlert == FrAlertStateRefused:
		o.State, o.Reason = ChannelRefused, "refusée par la préfecture : "+p.FrReason
		return o
	case p.Dispatch.Confirmed:
		o.State = ChannelDelivered
		return o
	case !p.Dispatch.Started, slices.Contains(p.Dispatch.Manual, ChannelFrAlert):
		o.Reason = "à diffuser par la préfecture sur FR-Alert"
		return o
	}
	// Sent through the State's intake: its counts are of requests, not of
	// people, so they stay unknown.
	o = p.Dispatch.outcome(ChannelFrAlert, p.Cancelled)
	o.CountsKnown, o.Recipients, o.Sent, o.Delivered, o.Failed = false, 0, 0, 0, 0
	return o
}

// outcome is one channel's state from the journal. CAP_FEED is published by
// the board once approved.
func (m MessageProgress) outcome(c Channel, cancelled bool) ChannelOutcome {
	d := m.Counts[c]
	o := ChannelOutcome{Channel: c, CountsKnown: true, Recipients: m.Recipients[c], Sent: d.Sent, Delivered: d.Delivered, Failed: d.Failed}
	if c == ChannelCAPFeed || c == ChannelWebhook {
		// One message per alert, not per person.
		o.Recipients = min(o.Recipients, 1)
	}
	reason, failedWhole := m.Failures[c]
	switch {
	case failedWhole:
		o.State, o.Reason = ChannelFailed, reason
	case !m.Started:
		o.State, o.Reason = ChannelPending, "en attente de diffusion"
	case !m.Done:
		o.State = ChannelSending
		if cancelled {
			o.State, o.Reason = ChannelFailed, "interrompue par l'annulation"
			if d.Delivered > 0 {
				o.State = ChannelPartial
			}
		}
	case d.Failed == 0:
		o.State = ChannelDelivered
		if m.Recipients[c] == 0 {
			o.Reason = "aucun destinataire inscrit sur ce canal"
		}
	case d.Delivered == 0:
		o.State, o.Reason = ChannelFailed, failures(d.Failed, d.Sent)
	default:
		o.State, o.Reason = ChannelPartial, failures(d.Failed, d.Sent)
	}
	return o
}

// failures says in French how many messages the provider refused.
func failures(failed, sent int) string {
	if failed == 1 {
		return "1 message sur " + strconv.Itoa(sent) + " n'a pas pu être remis"
	}
	return strconv.Itoa(failed) + " messages sur " + strconv.Itoa(sent) + " n'ont pas pu être remis"
}

// RecipientsByName returns the recipients counted per channel when the
// dispatch started, by contract channel name.
func (m MessageProgress) RecipientsByName() map[string]int {
	out := make(map[string]int, len(m.Recipients))
	for c, n := range m.Recipients {
		out[string(c)] = n
	}
	return out
}

// Clone returns a deep copy.
func (p Progress) Clone() Progress {
	p.Working, p.Channels = slices.Clone(p.Working), slices.Clone(p.Channels)
	p.Dispatch, p.Cancellation = p.Dispatch.clone(), p.Cancellation.clone()
	return p
}

func (m MessageProgress) clone() MessageProgress {
	m.Recipients, m.Counts, m.Failures = maps.Clone(m.Recipients), maps.Clone(m.Counts), maps.Clone(m.Failures)
	m.Manual = slices.Clone(m.Manual)
	return m
}
