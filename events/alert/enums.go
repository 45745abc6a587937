package alert

import "slices"

// The enumerations of an alert. Each type is stored as CAP 1.2 spells it (or,
// for channels and statuses, as the contract does); the write side parses them in
// any letter case, so the contract's UPPER_SNAKE enum values read as well.

// Channel is a way an alert reaches residents; the values are the contract's
// AlertChannel enum. FR_ALERT is cell broadcast, operated by the State.
type Channel string

const (
	ChannelSMS     Channel = "SMS"
	ChannelVoice   Channel = "VOICE"
	ChannelEmail   Channel = "EMAIL"
	ChannelPush    Channel = "PUSH"
	ChannelWebhook Channel = "WEBHOOK"
	ChannelCAPFeed Channel = "CAP_FEED"
	ChannelFrAlert Channel = "FR_ALERT"
)

// Channels returns every channel, in the contract's order.
func Channels() []Channel {
	return []Channel{ChannelSMS, ChannelVoice, ChannelEmail, ChannelPush, ChannelWebhook, ChannelCAPFeed, ChannelFrAlert}
}

func (c Channel) Valid() bool { return slices.Contains(Channels(), c) }

// Severity is CAP's severity.
type Severity string

const (
	SeverityExtreme  Severity = "Extreme"
	SeveritySevere   Severity = "Severe"
	SeverityModerate Severity = "Moderate"
	SeverityMinor    Severity = "Minor"
)

// Severities returns every severity, most severe first, as CAP lists them.
func Severities() []Severity {
	return []Severity{SeverityExtreme, SeveritySevere, SeverityModerate, SeverityMinor}
}

func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Urgency is CAP's urgency.
type Urgency string

const (
	UrgencyImmediate Urgency = "Immediate"
	UrgencyExpected  Urgency = "Expected"
	UrgencyFuture    Urgency = "Future"
	UrgencyPast      Urgency = "Past"
	UrgencyUnknown   Urgency = "Unknown"
)

func Urgencies() []Urgency {
	return []Urgency{UrgencyImmediate, UrgencyExpected, UrgencyFuture, UrgencyPast, UrgencyUnknown}
}

func (u Urgency) Valid() bool { return slices.Contains(Urgencies(), u) }

// Certainty is CAP's certainty.
type Certainty string

const (
	CertaintyObserved Certainty = "Observed"
	CertaintyLikely   Certainty = "Likely"
	CertaintyPossible Certainty = "Possible"
	CertaintyUnlikely Certainty = "Unlikely"
	CertaintyUnknown  Certainty = "Unknown"
)

func Certainties() []Certainty {
	return []Certainty{CertaintyObserved, CertaintyLikely, CertaintyPossible, CertaintyUnlikely, CertaintyUnknown}
}

func (c Certainty) Valid() bool { return slices.Contains(Certainties(), c) }

// Category is CAP's category.
type Category string

const (
	CategoryGeo       Category = "Geo"
	CategoryMet       Category = "Met"
	CategorySafety    Category = "Safety"
	CategorySecurity  Category = "Security"
	CategoryRescue    Category = "Rescue"
	CategoryFire      Category = "Fire"
	CategoryHealth    Category = "Health"
	CategoryEnv       Category = "Env"
	CategoryTransport Category = "Transport"
	CategoryInfra     Category = "Infra"
	CategoryCBRNE     Category = "CBRNE"
	CategoryOther     Category = "Other"
)

func Categories() []Category {
	return []Category{
		CategoryGeo, CategoryMet, CategorySafety, CategorySecurity, CategoryRescue, CategoryFire,
		CategoryHealth, CategoryEnv, CategoryTransport, CategoryInfra, CategoryCBRNE, CategoryOther,
	}
}

func (c Category) Valid() bool { return slices.Contains(Categories(), c) }

// MsgType is CAP's msgType, for the messages Vigie sends (never Ack or Error).
type MsgType string

const (
	MsgTypeAlert  MsgType = "Alert"
	MsgTypeUpdate MsgType = "Update"
	MsgTypeCancel MsgType = "Cancel"
)

func MsgTypes() []MsgType { return []MsgType{MsgTypeAlert, MsgTypeUpdate, MsgTypeCancel} }

func (m MsgType) Valid() bool { return slices.Contains(MsgTypes(), m) }

// Status is where an alert is in its lifecycle; the values are the
// lower-case forms of the contract's AlertStatus enum.
type Status string

const (
	StatusDraft            Status = "draft"
	StatusPendingApproval  Status = "pending_approval"
	StatusApproved         Status = "approved"
	StatusFrAlertRequested Status = "fr_alert_requested"
	StatusDispatching      Status = "dispatching"
	StatusSent             Status = "sent"
	StatusRejected         Status = "rejected"
	StatusCancelled        Status = "cancelled"
	StatusExpired          Status = "expired"
	StatusFailed           Status = "failed"
	StatusPartiallySent    Status = "partially_sent"
	StatusFrAlertRefused   Status = "fr_alert_refused"
)

// Statuses returns every status, in the contract's order.
func Statuses() []Status {
	return []Status{
		StatusDraft, StatusPendingApproval, StatusApproved, StatusFrAlertRequested, StatusDispatching,
		StatusSent, StatusRejected, StatusCancelled, StatusExpired, StatusFailed,
		StatusPartiallySent, StatusFrAlertRefused,
	}
}

func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// FrAlertState is where the FR-Alert request of the latest approved message
// stands; the zero value is none (the alert has no FR_ALERT channel, or it
// has not been approved since its last revision).
type FrAlertState string

const (
	FrAlertStateNone      FrAlertState = ""
	FrAlertStateRequested FrAlertState = "requested"
	FrAlertStateValidated FrAlertState = "validated"
	FrAlertStateRefused   FrAlertState = "refused"
)
