package alert

import contract "vigie/events/alert"

// An alert's events, the enums they carry, its Progress (where it stands after
// each event: its status, each channel's state) and its Versions (which version
// is published, which waits for approval) are its contract, in
// vigie/events/alert, which the readers (boards, timeline, replay, drill) import
// without the write side. These names let the aggregate and its commands read as
// the domain they are.
type (
	AlertDrafted              = contract.AlertDrafted
	AlertRevised              = contract.AlertRevised
	AlertSubmitted            = contract.AlertSubmitted
	AlertApproved             = contract.AlertApproved
	AlertRejected             = contract.AlertRejected
	FrAlertRequested          = contract.FrAlertRequested
	FrAlertValidated          = contract.FrAlertValidated
	FrAlertRefused            = contract.FrAlertRefused
	FrAlertBroadcastConfirmed = contract.FrAlertBroadcastConfirmed
	AlertCancelled            = contract.AlertCancelled
	AlertExpired              = contract.AlertExpired
	AlertDispatchStarted      = contract.AlertDispatchStarted
	AlertSent                 = contract.AlertSent
	AlertDispatchFailed       = contract.AlertDispatchFailed
	DeliveriesRecorded        = contract.DeliveriesRecorded

	Point   = contract.Point
	Content = contract.Content
	Message = contract.Message

	Channel      = contract.Channel
	Severity     = contract.Severity
	Urgency      = contract.Urgency
	Certainty    = contract.Certainty
	Category     = contract.Category
	MsgType      = contract.MsgType
	Status       = contract.Status
	FrAlertState = contract.FrAlertState

	Progress        = contract.Progress
	MessageProgress = contract.MessageProgress
	Delivery        = contract.Delivery
	ChannelState    = contract.ChannelState
	ChannelOutcome  = contract.ChannelOutcome
	// Versions' Revision is not aliased: Revision is the command's input here.
	Versions = contract.Versions
)

// DispatchCategory is the category of the alerts' dispatch journals,
// dispatch-<alertId>.
const DispatchCategory = contract.DispatchCategory

const (
	ChannelSMS     = contract.ChannelSMS
	ChannelVoice   = contract.ChannelVoice
	ChannelEmail   = contract.ChannelEmail
	ChannelPush    = contract.ChannelPush
	ChannelWebhook = contract.ChannelWebhook
	ChannelCAPFeed = contract.ChannelCAPFeed
	ChannelFrAlert = contract.ChannelFrAlert

	SeverityExtreme  = contract.SeverityExtreme
	SeveritySevere   = contract.SeveritySevere
	SeverityModerate = contract.SeverityModerate
	SeverityMinor    = contract.SeverityMinor

	UrgencyImmediate = contract.UrgencyImmediate
	UrgencyExpected  = contract.UrgencyExpected
	UrgencyFuture    = contract.UrgencyFuture
	UrgencyPast      = contract.UrgencyPast
	UrgencyUnknown   = contract.UrgencyUnknown

	CertaintyObserved = contract.CertaintyObserved
	CertaintyLikely   = contract.CertaintyLikely
	CertaintyPossible = contract.CertaintyPossible
	CertaintyUnlikely = contract.CertaintyUnlikely
	CertaintyUnknown  = contract.CertaintyUnknown

	CategoryGeo       = contract.CategoryGeo
	CategoryMet       = contract.CategoryMet
	CategorySafety    = contract.CategorySafety
	CategorySecurity  = contract.CategorySecurity
	CategoryRescue    = contract.CategoryRescue
	CategoryFire      = contract.CategoryFire
	CategoryHealth    = contract.CategoryHealth
	CategoryEnv       = contract.CategoryEnv
	CategoryTransport = contract.CategoryTransport
	CategoryInfra     = contract.CategoryInfra
	CategoryCBRNE     = contract.CategoryCBRNE
	CategoryOther     = contract.CategoryOther

	MsgTypeAlert  = contract.MsgTypeAlert
	MsgTypeUpdate = contract.MsgTypeUpdate
	MsgTypeCancel = contract.MsgTypeCancel

	StatusDraft            = contract.StatusDraft
	StatusPendingApproval  = contract.StatusPendingApproval
	StatusApproved         = contract.StatusApproved
	StatusFrAlertRequested = contract.StatusFrAlertRequested
	StatusDispatching      = contract.StatusDispatching
	StatusSent             = contract.StatusSent
	StatusRejected         = contract.StatusRejected
	StatusCancelled        = contract.StatusCancelled
	StatusExpired          = contract.StatusExpired
	StatusFailed           = contract.StatusFailed
	StatusPartiallySent    = contract.StatusPartiallySent
	StatusFrAlertRefused   = contract.StatusFrAlertRefused

	FrAlertStateNone      = contract.FrAlertStateNone
	FrAlertStateRequested = contract.FrAlertStateRequested
	FrAlertStateValidated = contract.FrAlertStateValidated
	FrAlertStateRefused   = contract.FrAlertStateRefused

	ChannelPending   = contract.ChannelPending
	ChannelSending   = contract.ChannelSending
	ChannelDelivered = contract.ChannelDelivered
	ChannelPartial   = contract.ChannelPartial
	ChannelFailed    = contract.ChannelFailed
	ChannelRefused   = contract.ChannelRefused
)

var (
	Channels    = contract.Channels
	Severities  = contract.Severities
	Urgencies   = contract.Urgencies
	Certainties = contract.Certainties
	Categories  = contract.Categories
	MsgTypes    = contract.MsgTypes
	Statuses    = contract.Statuses
	Register    = contract.Register
	// CloneContent copies a content, sharing nothing with it.
	CloneContent = contract.CloneContent
)
