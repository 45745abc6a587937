package drill

import (
	"context"
	"strings"
	"time"

	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resource"
	"vigie/services/incidents"
)

// issue is one command to send: its operation, variables, the field of the answer,
// and what to remember of it.
type issue struct {
	op       string // mutation name
	query    string
	vars     map[string]any
	recordID string // the recorded aggregate id the answer's id maps, for creations
	after    func(ctx context.Context, tw twin, cmdID string)
}

func streamID(stream string) string {
	_, id, _ := strings.Cut(stream, "-")
	return id
}

func enumValue(s string) string { return strings.ToUpper(s) }

func points(ps []alert.Point) []map[string]float64 {
	if len(ps) == 0 {
		return nil
	}
	out := make([]map[string]float64, len(ps))
	for i, p := range ps {
		out[i] = map[string]float64{"lat": p.Lat, "lon": p.Lon}
	}
	return out
}

// translate turns a recorded event into the command that re-issues it, or nil with the
// reason it is skipped.
func (d *Drill) translate(r Recorded, shift func(time.Time) time.Time) (*issue, string) {
	rid := streamID(r.Stream)
	id, known := d.ids[rid]
	on := func(op, args, params string, vars map[string]any) *issue {
		if vars == nil {
			vars = map[string]any{}
		}
		vars["id"] = id
		q := "mutation($id: ID!, $c: ID" + params + ") { " + op + "(" + args + ", commandId: $c) { id } }"
		return &issue{op: op, query: q, vars: vars}
	}
	const (
		byID       = "id: $id"
		resourceID = "resourceId: $id"
	)
	plain := func(op string) *issue { return on(op, byID, "", nil) }
	because := func(op, reason string) *issue {
		return on(op, byID+", reason: $r", ", $r: String!", map[string]any{"r": reason})
	}
	if _, creates := openingDomain(r.Event); !creates && !known {
		return nil, "its " + r.Stream + " was not replayed"
	}
	switch e := r.Event.(type) {
	// Incidents.
	case incident.IncidentReported:
		in := map[string]any{"domain": d.to, "kind": enumValue(string(e.Kind)), "title": e.Title}
		if e.Description != "" {
			in["description"] = e.Description
		}
		if e.Severity != "" {
			in["severity"] = enumValue(string(e.Severity))
		}
		if e.Location != nil {
			in["location"] = map[string]float64{"lat": e.Location.Lat, "lon": e.Location.Lon}
		}
		return &issue{op: "reportIncident", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`}, ""
	case incident.IncidentQualified:
		return on("qualifyIncident", byID+", kind: $k, severity: $s", ", $k: IncidentKind!, $s: Severity!",
			map[string]any{"k": enumValue(string(e.Kind)), "s": enumValue(string(e.Severity))}), ""
	case incident.LogEntryAdded:
		var is *issue
		if e.Corrects != "" {
			entry, ok := d.entries[e.Corrects]
			if !ok {
				return nil, "the entry it corrects was not replayed"
			}
			is = &issue{op: "correctLogEntry", vars: map[string]any{"id": id, "e": entry, "t": e.Text},
				query: `mutation($id: ID!, $e: ID!, $t: String!, $c: ID) { correctLogEntry(incidentId: $id, entryId: $e, text: $t, commandId: $c) { id } }`}
		} else {
			is = &issue{op: "addLogEntry", vars: map[string]any{"id": id, "t": e.Text},
				query: `mutation($id: ID!, $t: String!, $c: ID) { addLogEntry(incidentId: $id, text: $t, commandId: $c) { id } }`}
		}
		// The service derives the entry's id (incidents.LogEntryID): remember it, so
		// that a later correction names the exercise's entry.
		is.after = func(_ context.Context, tw twin, cmdID string) {
			d.entries[e.EntryID] = incidents.LogEntryID(id, tw.subject, cmdID)
		}
		return is, ""
	case incident.IncidentEscalated:
		return because("escalateIncident", e.Reason), ""
	case incident.IncidentStabilized:
		return plain("stabilizeIncident"), ""
	case incident.IncidentClosed:
		return on("closeIncident", byID+", summary: $s", ", $s: String!", map[string]any{"s": e.Summary}), ""
	case incident.IncidentReopened:
		return because("reopenIncident", e.Reason), ""

	// Resources.
	case resource.ResourceRegistered:
		in := map[string]any{"domain": d.to, "kind": enumValue(string(e.Kind)), "name": e.Name}
		if e.Capacity > 0 {
			in["capacity"] = e.Capacity
		}
		return &issue{op: "registerResource", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`}, ""
	case resource.ResourceEngaged:
		inc, ok := d.ids[e.IncidentID]
		if !ok {
			return nil, "the incident it was engaged on was not replayed"
		}
		return on("engageResource", resourceID+", incidentId: $i", ", $i: ID!", map[string]any{"i": inc}), ""
	case resource.ResourceReleased:
		return on("releaseResource", resourceID, "", nil), ""
	case resource.ResourceStatusChanged:
		return on("setResourceStatus", resourceID+", status: $s", ", $s: ResourceStatus!", map[string]any{"s": enumValue(string(e.Status))}), ""
	case resource.ShelterOccupancyChanged:
		return on("setShelterOccupancy", resourceID+", occupancy: $n", ", $n: Int!", map[string]any{"n": e.Occupancy}), ""

	// Reinforcements.
	case reinforcement.ReinforcementRequested:
		inc, ok := d.ids[e.IncidentID]
		if !ok {
			return nil, "its incident was not replayed"
		}
		in := map[string]any{"domain": d.to, "incidentId": inc, "kind": enumValue(string(e.Kind)), "quantity": e.Quantity}
		if e.Reason != "" {
			in["reason"] = e.Reason
		}
		return &issue{op: "requestReinforcement", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id } }`}, ""
	case reinforcement.ReinforcementAccepted:
		vars := map[string]any{"q": e.Quantity}
		if e.Note != "" {
			vars["n"] = e.Note
		}
		return on("acceptReinforcement", byID+", quantity: $q, note: $n", ", $q: Int!, $n: String", vars), ""
	case reinforcement.ReinforcementRefused:
		return because("refuseReinforcement", e.Reason), ""
	case reinforcement.ReinforcementDispatched:
		return plain("dispatchReinforcement"), ""
	case reinforcement.ReinforcementArrived:
		return plain("confirmReinforcementArrival"), ""
	case reinforcement.ReinforcementReleased:
		return plain("releaseReinforcement"), ""

	// Alerts: drafted as exercises; the domain marks their texts.
	case alert.AlertDrafted:
		in := d.alertInput(e.Content, e.Channels, shift)
		if e.IncidentID != "" {
			inc, ok := d.ids[e.IncidentID]
			if !ok {
				return nil, "its incident was not replayed"
			}
			in["incidentId"] = inc
		}
		return &issue{op: "draftAlert", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: DraftAlertInput!, $c: ID) { draftAlert(input: $in, commandId: $c) { id } }`}, ""
	case alert.AlertRevised:
		return on("updateAlert", byID+", input: $in", ", $in: DraftAlertInput!", map[string]any{"in": d.alertInput(e.Content, e.Channels, shift)}), ""
	case alert.AlertSubmitted:
		return plain("submitAlert"), ""
	case alert.AlertApproved:
		return plain("approveAlert"), ""
	case alert.AlertRejected:
		return because("rejectAlert", e.Reason), ""
	case alert.FrAlertValidated, alert.FrAlertRefused:
		return nil, "FR-Alert n'est jamais utilisé en exercice"
	case alert.AlertCancelled:
		return because("cancelAlert", e.Reason), ""
	}
	return nil, ""
}

// alertInput is a DraftAlertInput for the exercise domain, marked exercise, with its
// times moved to the drill's clock.
func (d *Drill) alertInput(c alert.Content, channels []alert.Channel, shift func(time.Time) time.Time) map[string]any {
	// An exercise never goes out on FR-Alert: cell broadcast reaches every phone in
	// the area, registered for exercises or not (the domain refuses it).
	var chs []string
	for _, ch := range channels {
		if ch != alert.ChannelFrAlert {
			chs = append(chs, string(ch))
		}
	}
	if len(chs) == 0 {
		chs = []string{string(alert.ChannelCAPFeed)}
	}
	in := map[string]any{
		"domain": d.to, "exercise": true, "event": c.Event, "headline": c.Headline,
		"description": c.Description, "instruction": c.Instruction,
		"severity": enumValue(string(c.Severity)), "urgency": enumValue(string(c.Urgency)),
		"certainty": enumValue(string(c.Certainty)), "category": enumValue(string(c.Category)),
		"areaDesc": c.AreaDesc, "channels": chs,
	}
	if p := points(c.Polygon); p != nil {
		in["polygon"] = p
	}
	if c.Language != "" {
		in["language"] = c.Language
	}
	if c.Effective != nil {
		in["effective"] = shift(*c.Effective).UTC().Format(time.RFC3339Nano)
	}
	if c.Expires != nil {
		in["expires"] = shift(*c.Expires).UTC().Format(time.RFC3339Nano)
	}
	return in
}
