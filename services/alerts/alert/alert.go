package alert

import (
	"maps"
	"slices"
	"time"

	"vigie/events"
)

// Alert is the state of one alert as its stream (and its dispatch journal)
// tell it. The zero value is an alert not drafted yet; Apply each event, in
// order, to rebuild it. Commands read it and never change it.
type Alert struct {
	id         string
	domain     string
	incidentID string
	content    Content
	channels   []Channel
	exercise   bool
	draftedBy  string
	// authors wrote the current content: the drafter and every reviser since
	// the last approval. approvedContent says the content has been approved
	// since, so the next reviser starts a new list.
	authors         []string
	approvedContent bool
	phase           Status // draft, pending_approval, rejected or approved
	approvedBy      string
	rejectReason    string
	messages        []Message
	frAlert         FrAlertState
	frRefusal       string
	dispatch        dispatch
	started         []string // identifiers of every message whose dispatch started
	deliveries      map[Channel]Delivery
	failures        []Failure
	cancelled       bool
	expired         bool
	draftedAt       time.Time
	submittedAt     time.Time
	approvedAt      time.Time
}

// dispatch is the latest message the dispatcher started sending.
type dispatch struct {
	identifier string
	recipients map[string]int
	sent       bool
}

// Delivery counts what the dispatcher reports for one channel, over every
// message of the alert.
type Delivery struct {
	Sent      int
	Delivered int
	Failed    int
}

// Failure is one technical failure of a channel for a message.
type Failure struct {
	Identifier string
	Channel    Channel
	Reason     string
	At         time.Time
}

// Exists reports whether the alert has been drafted.
func (a *Alert) Exists() bool { return a.id != "" }

func (a *Alert) ID() string         { return a.id }
func (a *Alert) Domain() string     { return a.domain }
func (a *Alert) IncidentID() string { return a.incidentID }
func (a *Alert) Exercise() bool     { return a.exercise }

// Content returns a copy of the current content.
func (a *Alert) Content() Content { return cloneContent(a.content) }

// Channels returns a copy of the alert's channels.
func (a *Alert) Channels() []Channel { return slices.Clone(a.channels) }

// Has reports whether the alert goes out on channel c.
func (a *Alert) Has(c Channel) bool { return slices.Contains(a.channels, c) }

// DraftedBy is who drafted the alert: the contract's author.
func (a *Alert) DraftedBy() string { return a.draftedBy }

// Authors returns who wrote the current content: the drafter and every
// reviser since the last approval, or only the revisers after it.
func (a *Alert) Authors() []string { return slices.Clone(a.authors) }

// ApprovedBy is the mayor who approved the latest message, "" before any.
func (a *Alert) ApprovedBy() string { return a.approvedBy }

// RejectReason is the reason of the latest rejection, cleared by an approval.
func (a *Alert) RejectReason() string { return a.rejectReason }

// FrAlert is where the latest message's FR-Alert request stands.
func (a *Alert) FrAlert() FrAlertState { return a.frAlert }

// FrAlertRefusal is the prefecture's reason when it refused FR-Alert.
func (a *Alert) FrAlertRefusal() string { return a.frRefusal }

func (a *Alert) Cancelled() bool        { return a.cancelled }
func (a *Alert) Expired() bool          { return a.expired }
func (a *Alert) DraftedAt() time.Time   { return a.draftedAt }
func (a *Alert) SubmittedAt() time.Time { return a.submittedAt }
func (a *Alert) ApprovedAt() time.Time  { return a.approvedAt }

// Messages returns a copy of the CAP messages sent so far, oldest first.
func (a *Alert) Messages() []Message { return slices.Clone(a.messages) }

// LatestMessage is the latest CAP message: what the alert's CAP document
// renders.
func (a *Alert) LatestMessage() (Message, bool) {
	if len(a.messages) == 0 {
		return Message{}, false
	}
	return a.messages[len(a.messages)-1], true
}

// References returns the messages before the latest one: what an Update or a
// Cancel references.
func (a *Alert) References() []Message {
	if len(a.messages) < 2 {
		return nil
	}
	return slices.Clone(a.messages[:len(a.messages)-1])
}

// Dispatch reports the latest message whose dispatch started, whether the
// dispatcher has finished it, and how many recipients each channel targets.
func (a *Alert) Dispatch() (identifier string, sent bool, recipients map[string]int) {
	return a.dispatch.identifier, a.dispatch.sent, maps.Clone(a.dispatch.recipients)
}

// Deliveries returns a copy of the delivery counts per channel.
func (a *Alert) Deliveries() map[Channel]Delivery { return maps.Clone(a.deliveries) }

// Failures returns a copy of every technical failure recorded, oldest first.
func (a *Alert) Failures() []Failure { return slices.Clone(a.failures) }

// Status is the alert's status in the contract's terms. Closed wins; then the
// approval lifecycle; once approved, a pending FR-Alert request wins over the
// dispatch of the commune's own channels, which goes on meanwhile.
func (a *Alert) Status() Status {
	switch {
	case a.cancelled:
		return StatusCancelled
	case a.expired:
		return StatusExpired
	case a.phase != StatusApproved:
		return a.phase
	case a.frAlert == FrAlertStateRequested:
		return StatusFrAlertRequested
	}
	latest, _ := a.LatestMessage()
	switch {
	case a.dispatch.identifier == "" || a.dispatch.identifier != latest.Identifier:
		return StatusApproved
	case a.everyChannelFailed():
		return StatusFailed
	case a.dispatch.sent:
		return StatusSent
	}
	return StatusDispatching
}

// everyChannelFailed: each channel the latest dispatch goes out on has
// failed. FR_ALERT goes out only once the prefecture validated it.
func (a *Alert) everyChannelFailed() bool {
	expected := 0
	for _, c := range a.channels {
		if c == ChannelFrAlert && a.frAlert != FrAlertStateValidated {
			continue
		}
		expected++
		if !slices.ContainsFunc(a.failures, func(f Failure) bool {
			return f.Identifier == a.dispatch.identifier && f.Channel == c
		}) {
			return false
		}
	}
	return expected > 0
}

// Apply evolves the alert by one event of its stream or of its dispatch
// journal. Events of other types are ignored. Apply copies what it keeps: the
// event's slices and maps may be reused afterwards.
func (a *Alert) Apply(e events.Event) {
	switch e := e.(type) {
	case AlertDrafted:
		a.id, a.domain, a.incidentID = e.AlertID, e.Domain, e.IncidentID
		a.content, a.channels = cloneContent(e.Content), slices.Clone(e.Channels)
		a.exercise = e.Exercise
		a.draftedBy, a.draftedAt = e.By, e.At
		a.authors = []string{e.By}
		a.phase = StatusDraft
	case AlertRevised:
		a.content, a.channels = cloneContent(e.Content), slices.Clone(e.Channels)
		if a.approvedContent {
			a.authors, a.approvedContent = nil, false
		}
		if !slices.Contains(a.authors, e.By) {
			a.authors = append(a.authors, e.By)
		}
		a.phase = StatusDraft
	case AlertSubmitted:
		a.phase, a.submittedAt = StatusPendingApproval, e.At
	case AlertApproved:
		a.phase, a.approvedBy, a.approvedAt = StatusApproved, e.By, e.At
		a.approvedContent, a.rejectReason = true, ""
		a.messages = append(a.messages, e.Message)
		a.frAlert, a.frRefusal = FrAlertStateNone, ""
	case AlertRejected:
		a.phase, a.rejectReason = StatusRejected, e.Reason
	case FrAlertRequested:
		a.frAlert = FrAlertStateRequested
	case FrAlertValidated:
		a.frAlert = FrAlertStateValidated
	case FrAlertRefused:
		a.frAlert, a.frRefusal = FrAlertStateRefused, e.Reason
	case AlertCancelled:
		a.cancelled = true
		if e.Message != nil {
			a.messages = append(a.messages, *e.Message)
		}
	case AlertExpired:
		a.expired = true
	case AlertDispatchStarted:
		a.dispatch = dispatch{identifier: e.Identifier, recipients: maps.Clone(e.Recipients)}
		a.started = append(a.started, e.Identifier)
	case AlertSent:
		if e.Identifier == a.dispatch.identifier {
			a.dispatch.sent = true
		}
	case AlertDispatchFailed:
		a.failures = append(a.failures, Failure{Identifier: e.Identifier, Channel: e.Channel, Reason: e.Reason, At: e.At})
	case DeliveriesRecorded:
		if a.deliveries == nil {
			a.deliveries = make(map[Channel]Delivery)
		}
		d := a.deliveries[e.Channel]
		d.Sent += e.Sent
		d.Delivered += e.Delivered
		d.Failed += e.Failed
		a.deliveries[e.Channel] = d
	}
}

func cloneContent(c Content) Content {
	c.Polygon = clonePoints(c.Polygon)
	c.Effective, c.Expires = cloneTime(c.Effective), cloneTime(c.Expires)
	return c
}
