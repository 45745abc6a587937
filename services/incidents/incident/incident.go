package incident

import (
	"slices"
	"time"
	contract "vigie/events/incident"

	"vigie/events"
)

// Incident is the state of one incident as its stream tells it. The zero
// value is an incident not reported yet; Apply each event of the stream, in
// order, to rebuild it. Commands read it and never change it.
type Incident struct {
	id          string
	domain      string
	kind        Kind
	title       string
	description string
	severity    Severity
	status      Status
	location    *Point
	zone        []Point
	reportedBy  string
	reportedAt  time.Time
	qualified   bool
	// byPrefecture is set by the escalation and never cleared.
	byPrefecture bool
	log          []LogEntry
	entries      map[string]int // entry id → index in log
}

// LogEntry is one entry of the main courante.
type LogEntry struct {
	ID       string
	Text     string
	Corrects string // id of the entry this one corrects, or ""
	Author   string
	At       time.Time
}

// Exists reports whether the incident has been reported.
func (i *Incident) Exists() bool { return i.id != "" }

func (i *Incident) ID() string          { return i.id }
func (i *Incident) Domain() string      { return i.domain }
func (i *Incident) Kind() Kind          { return i.kind }
func (i *Incident) Title() string       { return i.title }
func (i *Incident) Description() string { return i.description }

// Severity is empty until the incident is assessed.
func (i *Incident) Severity() Severity { return i.severity }
func (i *Incident) Status() Status     { return i.status }

// Location reports where the incident is, if it has been located.
func (i *Incident) Location() (Point, bool) {
	if i.location == nil {
		return Point{}, false
	}
	return *i.location, true
}

// Zone returns a copy of the affected zone's polygon; nil when none is drawn.
func (i *Incident) Zone() []Point { return slices.Clone(i.zone) }

func (i *Incident) ReportedBy() string    { return i.reportedBy }
func (i *Incident) ReportedAt() time.Time { return i.reportedAt }

// Qualified reports whether the incident has ever been qualified.
func (i *Incident) Qualified() bool { return i.qualified }

// DirectedByPrefecture reports whether the incident has been escalated: the
// prefecture directs it from then on, even closed and reopened.
func (i *Incident) DirectedByPrefecture() bool { return i.byPrefecture }

// Log returns a copy of the main courante, oldest entry first.
func (i *Incident) Log() []LogEntry { return slices.Clone(i.log) }

// Entry returns the log entry with the given id.
func (i *Incident) Entry(id string) (LogEntry, bool) {
	n, ok := i.entries[id]
	if !ok {
		return LogEntry{}, false
	}
	return i.log[n], true
}

// Apply evolves the incident by one event of its stream. Events of other
// types are ignored, so a stream may carry events this package does not own.
// Apply copies what it keeps: the event's slices may be reused afterwards.
func (i *Incident) Apply(e events.Event) {
	i.status, _ = contract.StatusAfter(i.status, i.qualified, e)
	switch e := e.(type) {
	case IncidentReported:
		i.id = e.IncidentID
		i.domain = e.Domain
		i.kind = e.Kind
		i.title = e.Title
		i.description = e.Description
		i.severity = e.Severity
		i.location = clonePoint(e.Location)
		i.reportedBy = e.ReportedBy
		i.reportedAt = e.At
	case IncidentQualified:
		i.kind = e.Kind
		i.severity = e.Severity
		i.location = clonePoint(e.Location)
		i.zone = slices.Clone(e.Zone)
		i.qualified = true
	case LogEntryAdded:
		if i.entries == nil {
			i.entries = make(map[string]int)
		}
		i.entries[e.EntryID] = len(i.log)
		i.log = append(i.log, LogEntry{ID: e.EntryID, Text: e.Text, Corrects: e.Corrects, Author: e.Author, At: e.At})
	case IncidentEscalated:
		i.byPrefecture = true
	}
}

func clonePoint(p *Point) *Point {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
