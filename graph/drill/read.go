package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resource"
	"vigie/events/store"
	"vigie/projections"
)

// Recorded is one event of the crisis, decoded.
type Recorded struct {
	Stream string
	ID     string // the recorded event id: the drill's command ids derive from it
	Event  events.Event
	Meta   events.Metadata
	At     time.Time // when it happened: occurredAt, the store's time when missing
}

// crisisCategories are the streams a drill replays.
var crisisCategories = map[string]bool{"incident": true, "resource": true, "alert": true, "reinforcement": true}

// Read reads the log in order and keeps the events of the incident, resource, alert
// and reinforcement streams that belong to domain (a stream belongs to it when its
// opening event says so, in its data or its metadata), that a person's command
// produced, and that happened from since (zero: the start) and before until (zero:
// the end).
func Read(ctx context.Context, st *store.Client, domain string, since, until time.Time) ([]Recorded, error) {
	reg, err := projections.Registry(incident.Register, resource.Register, alert.Register, reinforcement.Register)
	if err != nil {
		return nil, err
	}
	member := map[string]bool{}
	var out []Recorded
	err = st.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		cat, _, ok := strings.Cut(r.StreamID, "-")
		if r.System() || !ok || !crisisCategories[cat] {
			return nil
		}
		e, md, err := reg.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			if errors.Is(err, events.ErrUnknownEventType) {
				return nil // the dispatcher's journal and such: not a command of the crisis
			}
			return fmt.Errorf("%s@%d: %w", r.StreamID, r.Revision, err)
		}
		if opening, ok := openingDomain(e); ok {
			member[r.StreamID] = opening == domain || md.Domain == domain
		}
		if !member[r.StreamID] || !replayable(e) || md.Role == "system" {
			return nil
		}
		at := md.OccurredAt
		if at.IsZero() {
			at = r.Created
		}
		if !since.IsZero() && at.Before(since) || !until.IsZero() && !at.Before(until) {
			return nil
		}
		id := md.EventID
		if id == "" {
			id = r.ID.String()
		}
		out = append(out, Recorded{Stream: r.StreamID, ID: id, Event: e, Meta: md, At: at})
		return nil
	})
	return out, err
}

// replayable says whether a person's command produced e: FrAlertRequested follows an
// approval, the dispatch's events and the expiry are the system's, and are not sent.
func replayable(e events.Event) bool {
	switch e.(type) {
	case incident.IncidentReported, incident.IncidentQualified, incident.LogEntryAdded, incident.IncidentEscalated,
		incident.IncidentStabilized, incident.IncidentClosed, incident.IncidentReopened,
		resource.ResourceRegistered, resource.ResourceEngaged, resource.ResourceReleased,
		resource.ResourceStatusChanged, resource.ShelterOccupancyChanged,
		reinforcement.ReinforcementRequested, reinforcement.ReinforcementAccepted, reinforcement.ReinforcementRefused,
		reinforcement.ReinforcementDispatched, reinforcement.ReinforcementArrived, reinforcement.ReinforcementReleased,
		alert.AlertDrafted, alert.AlertRevised, alert.AlertSubmitted, alert.AlertApproved, alert.AlertRejected,
		alert.FrAlertValidated, alert.FrAlertRefused, alert.AlertCancelled:
		return true
	}
	return false
}

// openingDomain is the domain of a stream's opening event, which decides whether the
// stream is the crisis'.
func openingDomain(e events.Event) (string, bool) {
	switch e := e.(type) {
	case incident.IncidentReported:
		return e.Domain, true
	case resource.ResourceRegistered:
		return e.Domain, true
	case alert.AlertDrafted:
		return e.Domain, true
	case reinforcement.ReinforcementRequested:
		return e.Domain, true
	}
	return "", false
}
