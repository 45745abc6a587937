package incident

import contract "vigie/events/incident"

// The incident's events and the enums they carry are its contract, in
// vigie/events/incident, which the readers (boards, timeline, replay, drill) import
// without the write side. These names let the aggregate and its commands read as
// the domain they are.
type (
	IncidentReported   = contract.IncidentReported
	IncidentQualified  = contract.IncidentQualified
	LogEntryAdded      = contract.LogEntryAdded
	IncidentEscalated  = contract.IncidentEscalated
	IncidentStabilized = contract.IncidentStabilized
	IncidentClosed     = contract.IncidentClosed
	IncidentReopened   = contract.IncidentReopened

	Kind     = contract.Kind
	Severity = contract.Severity
	Status   = contract.Status
	Point    = contract.Point
)

const (
	KindFlood           = contract.KindFlood
	KindFlashFlood      = contract.KindFlashFlood
	KindWildfire        = contract.KindWildfire
	KindAvalanche       = contract.KindAvalanche
	KindStorm           = contract.KindStorm
	KindHeatwave        = contract.KindHeatwave
	KindIndustrial      = contract.KindIndustrial
	KindHazmatTransport = contract.KindHazmatTransport
	KindEarthquake      = contract.KindEarthquake
	KindLandslide       = contract.KindLandslide
	KindPublicOrder     = contract.KindPublicOrder
	KindOther           = contract.KindOther

	SeverityMinor    = contract.SeverityMinor
	SeverityModerate = contract.SeverityModerate
	SeveritySevere   = contract.SeveritySevere
	SeverityExtreme  = contract.SeverityExtreme

	StatusReported   = contract.StatusReported
	StatusQualified  = contract.StatusQualified
	StatusEscalated  = contract.StatusEscalated
	StatusStabilized = contract.StatusStabilized
	StatusClosed     = contract.StatusClosed
)

var (
	Kinds           = contract.Kinds
	Severities      = contract.Severities
	Statuses        = contract.Statuses
	CompareSeverity = contract.CompareSeverity
	Register        = contract.Register
)
