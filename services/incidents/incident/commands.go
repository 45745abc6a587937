package incident

import (
	"fmt"
	"time"

	"vigie/events"
)

// Each command below checks the actor and time it is given, then the rules,
// and returns the events it decides without changing the incident: the
// caller appends them and applies them.

// Report is what a report gives: the contract's ReportIncidentInput plus the
// id the caller chose for the incident.
type Report struct {
	IncidentID  string
	Domain      string
	Kind        Kind
	Title       string
	Description string
	Severity    Severity // optional
	Location    *Point   // optional
}

// Report opens the incident.
func (i *Incident) Report(cmd Report, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := actor(by, at); err != nil {
		return nil, err
	}
	if i.Exists() {
		return nil, ErrAlreadyReported
	}
	if err := validID("incidentId", cmd.IncidentID); err != nil {
		return nil, err
	}
	if err := ValidateDomain(cmd.Domain); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, invalid("kind", fmt.Sprintf("nature inconnue %q", cmd.Kind))
	}
	title, err := text("title", cmd.Title, 1, MaxTitleLen, false)
	if err != nil {
		return nil, err
	}
	description, err := text("description", cmd.Description, 0, MaxDescriptionLen, true)
	if err != nil {
		return nil, err
	}
	if cmd.Severity != "" && !cmd.Severity.Valid() {
		return nil, invalid("severity", fmt.Sprintf("gravité inconnue %q", cmd.Severity))
	}
	if cmd.Location != nil {
		if err := validatePoint(*cmd.Location); err != nil {
			return nil, err
		}
	}
	return []events.Event{IncidentReported{
		IncidentID:  cmd.IncidentID,
		Domain:      cmd.Domain,
		Kind:        cmd.Kind,
		Title:       title,
		Description: description,
		Severity:    cmd.Severity,
		Location:    clonePoint(cmd.Location),
		ReportedBy:  by.Subject,
		At:          at,
	}}, nil
}

// Qualify is a qualification: kind and severity, and optionally where the
// incident is and the zone it affects. A nil Location or an empty Zone keeps
// the incident's current one.
type Qualify struct {
	Kind     Kind
	Severity Severity
	Location *Point
	Zone     []Point
}

// Qualify qualifies the incident, or requalifies it.
func (i *Incident) Qualify(cmd Qualify, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := i.directing(by, at); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, invalid("kind", fmt.Sprintf("nature inconnue %q", cmd.Kind))
	}
	if !cmd.Severity.Valid() {
		return nil, invalid("severity", fmt.Sprintf("gravité inconnue %q", cmd.Severity))
	}
	location := i.location
	if cmd.Location != nil {
		if err := validatePoint(*cmd.Location); err != nil {
			return nil, err
		}
		location = cmd.Location
	}
	z := i.zone
	if len(cmd.Zone) > 0 {
		if err := zone(cmd.Zone); err != nil {
			return nil, err
		}
		z = cmd.Zone
	}
	return []events.Event{IncidentQualified{
		Kind:     cmd.Kind,
		Severity: cmd.Severity,
		Location: clonePoint(location),
		Zone:     clonePoints(z),
		By:       by.Subject,
		At:       at,
	}}, nil
}

// AddLogEntry is one entry for the main courante. EntryID is chosen by the
// caller and unique within the incident; Corrects, when set, names the entry
// this one corrects.
type AddLogEntry struct {
	EntryID  string
	Text     string
	Corrects string
}

// AddLogEntry appends to the main courante. Anyone may, the commune's roles
// included after escalation.
func (i *Incident) AddLogEntry(cmd AddLogEntry, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := i.open(by, at); err != nil {
		return nil, err
	}
	if err := validID("entryId", cmd.EntryID); err != nil {
		return nil, err
	}
	if _, dup := i.entries[cmd.EntryID]; dup {
		return nil, ErrDuplicateEntry
	}
	if cmd.Corrects != "" {
		if _, ok := i.entries[cmd.Corrects]; !ok {
			return nil, ErrUnknownEntry
		}
	}
	t, err := text("text", cmd.Text, 1, MaxLogTextLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{LogEntryAdded{EntryID: cmd.EntryID, Text: t, Corrects: cmd.Corrects, Author: by.Subject, At: at}}, nil
}

// Escalate passes the direction of the incident to the prefecture, at the
// mayor's request or on the prefecture's own decision.
func (i *Incident) Escalate(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := i.open(by, at); err != nil {
		return nil, err
	}
	if by.Role != events.RoleMayor && by.Role != events.RolePrefecture {
		return nil, ErrEscalationRole
	}
	if i.byPrefecture {
		return nil, ErrAlreadyEscalated
	}
	if !i.qualified {
		return nil, ErrNotQualified
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{IncidentEscalated{Reason: r, By: by.Subject, At: at}}, nil
}

// Stabilize records that the situation is under control.
func (i *Incident) Stabilize(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := i.directing(by, at); err != nil {
		return nil, err
	}
	switch i.status {
	case StatusReported:
		return nil, ErrNotQualified
	case StatusStabilized:
		return nil, ErrAlreadyStabilized
	}
	return []events.Event{IncidentStabilized{By: by.Subject, At: at}}, nil
}

// Close closes the incident from any open status, with a summary.
func (i *Incident) Close(summary string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := i.directing(by, at); err != nil {
		return nil, err
	}
	s, err := text("summary", summary, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{IncidentClosed{Summary: s, By: by.Subject, At: at}}, nil
}

// Reopen reopens a closed incident; whoever directed it still does.
func (i *Incident) Reopen(reason string, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := actor(by, at); err != nil {
		return nil, err
	}
	if !i.Exists() {
		return nil, ErrNotFound
	}
	if i.status != StatusClosed {
		return nil, ErrNotClosed
	}
	if err := i.director(by); err != nil {
		return nil, err
	}
	r, err := text("reason", reason, 1, MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []events.Event{IncidentReopened{Reason: r, By: by.Subject, At: at}}, nil
}

// open checks the command's actor and time, and that the incident exists and
// is not closed.
func (i *Incident) open(by events.Actor, at time.Time) error {
	if err := actor(by, at); err != nil {
		return err
	}
	if !i.Exists() {
		return ErrNotFound
	}
	if i.status == StatusClosed {
		return ErrIncidentClosed
	}
	return nil
}

// directing is open plus the rule that only whoever directs the incident
// decides its course.
func (i *Incident) directing(by events.Actor, at time.Time) error {
	if err := i.open(by, at); err != nil {
		return err
	}
	return i.director(by)
}

// director: the commune directs until escalation, the prefecture after.
func (i *Incident) director(by events.Actor) error {
	prefecture := by.Role == events.RolePrefecture
	switch {
	case i.byPrefecture && !prefecture:
		return ErrDirectedByPrefecture
	case !i.byPrefecture && prefecture:
		return ErrNotDirector
	}
	return nil
}

func clonePoints(z []Point) []Point {
	if len(z) == 0 {
		return nil
	}
	return append([]Point(nil), z...)
}
