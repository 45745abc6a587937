package incident

import (
	"errors"
	"time"

	"vigie/events"
)

// The events of an incident's stream. Their names and JSON keys are written in
// the log for ever: add fields, never rename them (a change of meaning is a
// new schema version with an upcaster). By, ReportedBy and Author are the
// actor's pseudonymous subject; the role is in the event's metadata.

// IncidentReported opens the stream. Severity is empty when the reporter did
// not assess it; Location is nil when the report gave none.
type IncidentReported struct {
	IncidentID  string    `json:"incidentId"`
	Domain      string    `json:"domain"`
	Kind        Kind      `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Severity    Severity  `json:"severity,omitempty"`
	Location    *Point    `json:"location,omitempty"`
	ReportedBy  string    `json:"reportedBy"`
	At          time.Time `json:"at"`
}

// IncidentQualified carries the whole qualification as it stands after the
// command, including the location and zone kept from before.
type IncidentQualified struct {
	Kind     Kind      `json:"kind"`
	Severity Severity  `json:"severity"`
	Location *Point    `json:"location,omitempty"`
	Zone     []Point   `json:"zone,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// LogEntryAdded is one entry of the main courante. Corrects, when set, is the
// id of the earlier entry this one corrects; that entry stays as it was.
type LogEntryAdded struct {
	EntryID  string    `json:"entryId"`
	Text     string    `json:"text"`
	Corrects string    `json:"corrects,omitempty"`
	Author   string    `json:"author"`
	At       time.Time `json:"at"`
}

// IncidentEscalated passes the direction of the incident to the prefecture.
type IncidentEscalated struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

type IncidentStabilized struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

type IncidentClosed struct {
	Summary string    `json:"summary"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

type IncidentReopened struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

func (IncidentReported) EventType() string   { return "IncidentReported" }
func (IncidentQualified) EventType() string  { return "IncidentQualified" }
func (LogEntryAdded) EventType() string      { return "LogEntryAdded" }
func (IncidentEscalated) EventType() string  { return "IncidentEscalated" }
func (IncidentStabilized) EventType() string { return "IncidentStabilized" }
func (IncidentClosed) EventType() string     { return "IncidentClosed" }
func (IncidentReopened) EventType() string   { return "IncidentReopened" }

// Events lists one value of every event type of an incident's stream: the list every
// consumer's exhaustiveness test walks, so that a new event type fails the test of
// each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{
		IncidentReported{}, IncidentQualified{}, LogEntryAdded{}, IncidentEscalated{},
		IncidentStabilized{}, IncidentClosed{}, IncidentReopened{},
	}
}

// Register adds every incident event to r, at schema version 1.
func Register(r *events.Registry) error {
	return errors.Join(
		events.Register[IncidentReported](r, 1),
		events.Register[IncidentQualified](r, 1),
		events.Register[LogEntryAdded](r, 1),
		events.Register[IncidentEscalated](r, 1),
		events.Register[IncidentStabilized](r, 1),
		events.Register[IncidentClosed](r, 1),
		events.Register[IncidentReopened](r, 1),
	)
}
