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
	// versions are the latest version written and the last approved one,
	// the only one ever public or sent (the contract's Versions decides
	// them, as it does for the alerts board); approvalMessage is the CAP
	// message the last approval let out.
	versions        Versions
	approvalMessage Message
	exercise        bool
	draftedBy       string
	// authors wrote the current content: the drafter and every reviser since
	// the last approval. approvedContent says the content has been approved
	// since, so the next reviser starts a new list.
	authors         []string
	approvedContent bool
	approvedBy      string
	rejectReason    string
	messages        []Message
	progress        Progress
	started         []string  // identifiers of every message whose dispatch started
	startedOn       []Channel // every channel an earlier message went out on
	failures        []Failure
	draftedAt       time.Time
	submittedAt     time.Time
	approvedAt      time.Time
}

// Published is one approved version of the content: what the CAP document,
// the feed and every message carry.
type Published struct {
	Version  int
	Content  Content
	Channels []Channel
	By       string
	At       time.Time
	Message  Message // the CAP message its approval let out
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

// Content returns a copy of the content being written: the latest version,
// approved or not. Only Published is ever public or sent.
func (a *Alert) Content() Content { return CloneContent(a.versions.Latest.Content) }

// Version is the number of the latest version of the content: 1 when
// drafted, one more for each revision.
func (a *Alert) Version() int { return a.versions.Latest.Number }

// Published returns the last approved version; ok is false before the first
// approval.
func (a *Alert) Published() (p Published, ok bool) {
	if !a.versions.IsPublished() {
		return Published{}, false
	}
	r := a.versions.Published.Clone()
	return Published{Version: r.Number, Content: r.Content, Channels: r.Channels, By: a.approvedBy, At: a.approvedAt, Message: a.approvalMessage}, true
}

// PendingRevision reports whether the latest version waits for an approval
// (a first draft, or a revision of a published alert).
func (a *Alert) PendingRevision() bool {
	_, pending := a.versions.Pending()
	return pending
}

// Progress returns where the alert stands, channel by channel.
func (a *Alert) Progress() Progress { return a.progress.Clone() }

// LiveExpiry is the expiry that governs the alert: the published content's
// once there is one, the draft's before.
func (a *Alert) LiveExpiry() *time.Time {
	live := a.versions.Latest
	if a.versions.IsPublished() {
		live = a.versions.Published
	}
	return CloneContent(live.Content).Expires
}

// Channels returns a copy of the alert's channels.
func (a *Alert) Channels() []Channel { return slices.Clone(a.versions.Latest.Channels) }

// Has reports whether the alert goes out on channel c.
func (a *Alert) Has(c Channel) bool { return slices.Contains(a.versions.Latest.Channels, c) }

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
func (a *Alert) FrAlert() FrAlertState { return a.progress.FrAlert }

// FrAlertRefusal is the prefecture's reason when it refused FR-Alert.
func (a *Alert) FrAlertRefusal() string { return a.progress.FrReason }

func (a *Alert) Cancelled() bool        { return a.progress.Cancelled }
func (a *Alert) Expired() bool          { return a.progress.Expired }
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
	d := a.progress.Dispatch
	return d.Identifier, d.Done, d.RecipientsByName()
}

// Deliveries returns a copy of the delivery counts per channel of the latest
// message.
func (a *Alert) Deliveries() map[Channel]Delivery { return maps.Clone(a.progress.Dispatch.Counts) }

// Failures returns a copy of every technical failure recorded, oldest first.
func (a *Alert) Failures() []Failure { return slices.Clone(a.failures) }

// Status is the alert's status in the contract's terms (Progress.Status).
func (a *Alert) Status() Status { return a.progress.Status() }

// Apply evolves the alert by one event of its stream or of its dispatch
// journal. Events of other types are ignored. Apply copies what it keeps: the
// event's slices and maps may be reused afterwards.
func (a *Alert) Apply(e events.Event) {
	a.progress.Apply(e)
	a.versions, _ = a.versions.After(e)
	switch e := e.(type) {
	case AlertDrafted:
		a.id, a.domain, a.incidentID = e.AlertID, e.Domain, e.IncidentID
		a.exercise = e.Exercise
		a.draftedBy, a.draftedAt = e.By, e.At
		a.authors = []string{e.By}
	case AlertRevised:
		if a.approvedContent {
			a.authors, a.approvedContent = nil, false
		}
		if !slices.Contains(a.authors, e.By) {
			a.authors = append(a.authors, e.By)
		}
	case AlertSubmitted:
		a.submittedAt = e.At
	case AlertApproved:
		a.approvedBy, a.approvedAt = e.By, e.At
		a.approvedContent, a.rejectReason = true, ""
		a.messages = append(a.messages, e.Message)
		a.approvalMessage = e.Message
	case AlertRejected:
		a.rejectReason = e.Reason
	case AlertCancelled:
		if e.Message != nil {
			a.messages = append(a.messages, *e.Message)
		}
	case AlertDispatchStarted:
		a.started = append(a.started, e.Identifier)
		if e.Identifier != a.progress.CancelID {
			for _, c := range a.progress.Channels {
				if !slices.Contains(a.startedOn, c) {
					a.startedOn = append(a.startedOn, c)
				}
			}
		}
	case AlertDispatchFailed:
		a.failures = append(a.failures, Failure{Identifier: e.Identifier, Channel: e.Channel, Reason: e.Reason, At: e.At})
	}
}
