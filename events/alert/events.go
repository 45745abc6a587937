package alert

import (
	"errors"
	"time"

	"vigie/events"
)

// The events of an alert's stream (alert-<id>) and of its dispatch journal
// (dispatch-<id>). Their names and JSON keys are written in the log for ever:
// add fields, never rename them. By is the actor's pseudonymous subject; the
// role is in the event's metadata.

// Point is a WGS 84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Content is what residents read: the CAP <info> block of the alert.
type Content struct {
	Event       string     `json:"event"`
	Headline    string     `json:"headline"`
	Description string     `json:"description"`
	Instruction string     `json:"instruction"`
	Severity    Severity   `json:"severity"`  // CAP: Extreme Severe Moderate Minor
	Urgency     Urgency    `json:"urgency"`   // CAP: Immediate Expected Future Past Unknown
	Certainty   Certainty  `json:"certainty"` // CAP: Observed Likely Possible Unlikely Unknown
	Category    Category   `json:"category"`  // CAP: Geo Met Safety Security Rescue Fire Health Env Transport Infra CBRNE Other
	AreaDesc    string     `json:"areaDesc"`
	Polygon     []Point    `json:"polygon,omitempty"` // empty: the whole commune
	Language    string     `json:"language"`          // RFC 3066, "fr-FR" by default
	Effective   *time.Time `json:"effective,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
}

// Message is one CAP message of the alert, as sent: Alert first, then an
// Update for each approved revision of a sent alert, and a Cancel. Its
// identity is what later messages' references name.
type Message struct {
	Identifier string    `json:"identifier"`
	Sent       time.Time `json:"sent"`
	MsgType    MsgType   `json:"msgType"` // Alert, Update or Cancel
}

// AlertDrafted opens the stream. IncidentID, when set, is the incident the
// alert is about (the causal chain of the after-action review follows it).
type AlertDrafted struct {
	AlertID    string    `json:"alertId"`
	Domain     string    `json:"domain"`
	IncidentID string    `json:"incidentId,omitempty"`
	Content    Content   `json:"content"`
	Channels   []Channel `json:"channels"`
	Exercise   bool      `json:"exercise"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// AlertRevised replaces the content and channels: of a draft (or a rejected
// one), or of a sent alert, which then needs approval again and goes out as a
// CAP Update.
type AlertRevised struct {
	Content  Content   `json:"content"`
	Channels []Channel `json:"channels"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// AlertSubmitted asks the mayor for approval.
type AlertSubmitted struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// AlertApproved is the mayor's approval of the content's latest version;
// Message is the CAP message it lets out. SelfApprovalWaived says the
// two-person rule was waived (only ever in an exercise commune). Audience is
// what the approver was shown: recipients per channel (contract channel
// names) counted from the residents' directory; FR-Alert reaches an area, it
// has no count.
type AlertApproved struct {
	By                 string         `json:"by"`
	SelfApprovalWaived bool           `json:"selfApprovalWaived,omitempty"`
	Version            int            `json:"version,omitempty"`
	Audience           map[string]int `json:"audience,omitempty"`
	Message            Message        `json:"message"`
	At                 time.Time      `json:"at"`
}

// AlertRejected sends the alert back to its author with the reason.
type AlertRejected struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// FrAlertRequested follows the approval of an alert with the FR_ALERT channel:
// the commune asks the prefecture for cell broadcast.
type FrAlertRequested struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// FrAlertValidated is the prefecture's go for cell broadcast.
type FrAlertValidated struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// FrAlertRefused is the prefecture's no; the commune's own channels are not
// affected.
type FrAlertRefused struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// FrAlertBroadcastConfirmed is the prefecture's word that it broadcast the
// validated FR-Alert on the State's own platform (no intake configured in
// Vigie): until then the channel is pending.
type FrAlertBroadcastConfirmed struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// AlertCancelled withdraws the alert; Message is the CAP Cancel when an
// earlier message was sent, zero otherwise.
type AlertCancelled struct {
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	Message *Message  `json:"message,omitempty"`
	At      time.Time `json:"at"`
}

// AlertExpired is recorded once the content's expiry has passed.
type AlertExpired struct {
	At time.Time `json:"at"`
}

// AlertDispatchStarted is written by the dispatcher when it begins sending a
// message (the alert, an update, or the cancellation sent to those who
// received them): Recipients counts the residents targeted on each channel;
// Manual lists the channels left to people (FR_ALERT without an intake: the
// prefecture broadcasts it and confirms).
type AlertDispatchStarted struct {
	Identifier string         `json:"identifier"`
	Recipients map[string]int `json:"recipients"`
	Manual     []Channel      `json:"manual,omitempty"`
	At         time.Time      `json:"at"`
}

// AlertSent is written by the dispatcher once every channel of a message is
// done (delivered or failed for good).
type AlertSent struct {
	Identifier string    `json:"identifier"`
	At         time.Time `json:"at"`
}

// AlertDispatchFailed records a technical failure of a channel for a message:
// never hidden, shown on the board.
type AlertDispatchFailed struct {
	Identifier string    `json:"identifier"`
	Channel    Channel   `json:"channel"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// DeliveriesRecorded is one finished batch of the dispatch journal
// (dispatch-<alertId>): counts for one channel and one bucket of recipients.
type DeliveriesRecorded struct {
	AlertID    string  `json:"alertId"`
	Domain     string  `json:"domain"`
	Identifier string  `json:"identifier"`
	Channel    Channel `json:"channel"`
	Bucket     int     `json:"bucket"`
	Sent       int     `json:"sent"`
	Delivered  int     `json:"delivered"`
	Failed     int     `json:"failed"`
	// FailedRecipients are the pseudonymous ids of the residents the provider
	// refused, so a cancellation goes to exactly those who received the alert.
	FailedRecipients []string  `json:"failedRecipients,omitempty"`
	At               time.Time `json:"at"`
}

func (AlertDrafted) EventType() string              { return "AlertDrafted" }
func (AlertRevised) EventType() string              { return "AlertRevised" }
func (AlertSubmitted) EventType() string            { return "AlertSubmitted" }
func (AlertApproved) EventType() string             { return "AlertApproved" }
func (AlertRejected) EventType() string             { return "AlertRejected" }
func (FrAlertRequested) EventType() string          { return "FrAlertRequested" }
func (FrAlertValidated) EventType() string          { return "FrAlertValidated" }
func (FrAlertRefused) EventType() string            { return "FrAlertRefused" }
func (FrAlertBroadcastConfirmed) EventType() string { return "FrAlertBroadcastConfirmed" }
func (AlertCancelled) EventType() string            { return "AlertCancelled" }
func (AlertExpired) EventType() string              { return "AlertExpired" }
func (AlertDispatchStarted) EventType() string      { return "AlertDispatchStarted" }
func (AlertSent) EventType() string                 { return "AlertSent" }
func (AlertDispatchFailed) EventType() string       { return "AlertDispatchFailed" }
func (DeliveriesRecorded) EventType() string        { return "DeliveriesRecorded" }

// DispatchCategory is the category of the alerts' dispatch journals:
// events.StreamID(DispatchCategory, alertID) is dispatch-<alertId>, where the
// dispatcher records DeliveriesRecorded.
const DispatchCategory = events.CategoryDispatch

// Events lists one value of every event type of an alert's stream and of its
// dispatch journal: the list every consumer's exhaustiveness test walks, so that a
// new event type fails the test of each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{
		AlertDrafted{}, AlertRevised{}, AlertSubmitted{}, AlertApproved{}, AlertRejected{},
		FrAlertRequested{}, FrAlertValidated{}, FrAlertRefused{}, FrAlertBroadcastConfirmed{},
		AlertCancelled{}, AlertExpired{}, AlertDispatchStarted{}, AlertSent{}, AlertDispatchFailed{},
		DeliveriesRecorded{},
	}
}

// Register adds every alert and dispatch event to r, at schema version 1.
func Register(r *events.Registry) error {
	return errors.Join(
		events.Register[AlertDrafted](r, 1),
		events.Register[AlertRevised](r, 1),
		events.Register[AlertSubmitted](r, 1),
		events.Register[AlertApproved](r, 1),
		events.Register[AlertRejected](r, 1),
		events.Register[FrAlertRequested](r, 1),
		events.Register[FrAlertValidated](r, 1),
		events.Register[FrAlertRefused](r, 1),
		events.Register[FrAlertBroadcastConfirmed](r, 1),
		events.Register[AlertCancelled](r, 1),
		events.Register[AlertExpired](r, 1),
		events.Register[AlertDispatchStarted](r, 1),
		events.Register[AlertSent](r, 1),
		events.Register[AlertDispatchFailed](r, 1),
		events.Register[DeliveriesRecorded](r, 1),
	)
}
