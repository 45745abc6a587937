// Package timeline is the index of who did what and when, per commune and per
// département, for the timeline screen and the after-action review: every event of
// the crisis with its time, actor, role, type, stream, a one-line summary and its
// place in the causal chain (correlation and causation ids).
//
// Keys (under the projection's versioned prefix):
//
//	entries:<domain>   zset of the domain's entries; score = occurredAt of the event in
//	                   ms (its metadata's; the store's time only when that is missing)
//	alert:<id>         JSON of where an alert stands (alert.Progress): what the summary
//	                   of the end of a dispatch says, channel by channel
//
// Every event is indexed under its domain (the metadata's) and, for a commune's, its
// département's too. A member is "<commit>.<prepare>|<JSON entry>", the position of
// the event in the log zero-padded to 20 digits each: members of one score sort by
// bytes, so events of the same millisecond keep the order of the log, whatever the
// batches were. The JSON is an Entry.
//
// Summaries carry no personal data: identifiers, titles and resource names only,
// never the free text of a main-courante entry or a reason. Resident events are
// summarized as "Résident inscrit" and the like, never with their contact details
// (sealed in the event, and unreadable for good once the resident's key is shredded);
// an alert's summary names its headline, the public text residents receive.
//
// About names, for an event about an incident outside the incident's stream (a
// resource engaged on it, an alert drafted about it), the incident's stream: the
// causal chain (Chain) follows it back to the report.
package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resident"
	"vigie/events/resource"
	"vigie/events/role"
	"vigie/events/store"
	"vigie/projections"
)

// Name of the read model.
const Name = "timeline"

// Entry is one event on the timeline.
type Entry struct {
	At            time.Time `json:"at"`
	Domain        string    `json:"domain"`
	Actor         string    `json:"actor"` // pseudonymous subject
	Role          string    `json:"role"`
	Type          string    `json:"type"`
	StreamID      string    `json:"streamId"`
	Summary       string    `json:"summary"`
	EventID       string    `json:"eventId"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	// About is the stream of the incident the event is about when that is another
	// stream than its own (an engagement, an alert drafted about the incident).
	About    string         `json:"about,omitempty"`
	Position store.Position `json:"position"`
}

// DispatchCategory is the category of alerts' dispatch journals (dispatch-<alertId>).
const DispatchCategory = alert.DispatchCategory

// Projection builds the timeline.
type Projection struct{ reg *events.Registry }

// New returns the projection.
func New() (*Projection, error) {
	// A projection must be able to decode every event of the streams it follows, or
	// it parks them: the registry and StreamPrefixes go together.
	reg, err := projections.Registry(incident.Register, resource.Register, reinforcement.Register, role.Register,
		alert.Register, resident.Register)
	if err != nil {
		return nil, err
	}
	return &Projection{reg: reg}, nil
}

func (*Projection) Name() string { return Name }
func (*Projection) StreamPrefixes() []string {
	return []string{
		events.CategoryIncident + "-",
		events.CategoryResource + "-",
		reinforcement.Category + "-",
		events.CategoryRole + "-",
		events.CategoryAlert + "-",
		DispatchCategory + "-",
		events.CategoryResident + "-", // not residentkey-: no read model holds a key
	}
}
func (p *Projection) Registry() *events.Registry { return p.reg }

// Apply indexes each event of the batch under its domain and département. An entry
// depends on its event alone, except the end of an alert's dispatch, which says what
// happened on each channel: for those, Apply reads where the alerts of the batch
// stand, evolves them in memory and writes each once.
func (p *Projection) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	type indexed struct {
		keys   []string
		score  float64
		member string
	}
	alerts, err := loadAlerts(ctx, m, batch)
	if err != nil {
		return err
	}
	out := make([]indexed, 0, len(batch))
	for _, e := range batch {
		domain := domainOf(e)
		if !strings.HasPrefix(domain, "dep:") {
			return fmt.Errorf("timeline: %s@%d (%s): no domain to file it under (%q)", e.StreamID, e.Revision, e.Type, domain)
		}
		at := e.Meta.OccurredAt
		if at.IsZero() {
			at = e.Created // the log's time: the same for a rebuild
		}
		entry := Entry{
			At: at.UTC(), Domain: domain, Actor: e.Meta.Actor, Role: e.Meta.Role, Type: e.Type, StreamID: e.StreamID,
			Summary: alerts.summary(e), EventID: e.Meta.EventID, CorrelationID: e.Meta.CorrelationID, CausationID: e.Meta.CausationID,
			About: about(e), Position: e.Position,
		}
		b, err := json.Marshal(entry)
		if err != nil {
			return err
		}
		var keys []string
		for _, scope := range projections.Scopes(domain) {
			keys = append(keys, m.Key("entries", scope))
		}
		out = append(out, indexed{keys: keys, score: float64(at.UnixMilli()), member: prefix(e.Position) + string(b)})
	}
	for _, x := range out {
		for _, k := range x.keys {
			m.W.ZAdd(ctx, k, redis.Z{Score: x.score, Member: x.member})
		}
	}
	return alerts.save(ctx, m)
}

// prefix orders the members of one millisecond by their position in the log.
func prefix(p store.Position) string { return fmt.Sprintf("%020d.%020d|", p.Commit, p.Prepare) }

// domainOf is the domain an event is filed under: its metadata's, or else the one its
// data names.
func domainOf(e projections.Event) string {
	if e.Meta.Domain != "" {
		return e.Meta.Domain
	}
	switch ev := e.Event.(type) {
	case incident.IncidentReported:
		return ev.Domain
	case resource.ResourceRegistered:
		return ev.Domain
	case reinforcement.ReinforcementRequested:
		return ev.Domain
	case role.RoleGranted:
		return ev.Domain
	case role.RoleRevoked:
		return ev.Domain
	case role.RoleGrantRequested:
		return ev.Domain
	case role.RoleGrantConfirmed:
		return ev.Domain
	case alert.AlertDrafted:
		return ev.Domain
	case alert.DeliveriesRecorded:
		return ev.Domain
	case resident.ResidentRegistered:
		return ev.Domain
	}
	return ""
}

// about is the incident's stream an event of another stream is about ("" for none).
func about(e projections.Event) string {
	var id string
	switch ev := e.Event.(type) {
	case resource.ResourceEngaged:
		id = ev.IncidentID
	case resource.ResourceReleased:
		id = ev.IncidentID
	case reinforcement.ReinforcementRequested:
		id = ev.IncidentID
	case alert.AlertDrafted:
		id = ev.IncidentID
	}
	if id == "" {
		return ""
	}
	return events.StreamID(events.CategoryIncident, id)
}

// summary is the one line the timeline shows of an event, in French, without
// personal data.
func summary(ev events.Event) string {
	switch ev := ev.(type) {
	case incident.IncidentReported:
		s := "Incident signalé : " + ev.Title + " (" + label(incidentKinds, string(ev.Kind))
		if ev.Severity != "" {
			s += ", gravité " + label(severities, string(ev.Severity))
		}
		return s + ")"
	case incident.IncidentQualified:
		return "Incident qualifié : " + label(incidentKinds, string(ev.Kind)) + ", gravité " + label(severities, string(ev.Severity))
	case incident.LogEntryAdded:
		if ev.Corrects != "" {
			return "Main courante : correction de l'entrée " + ev.Corrects
		}
		return "Main courante : entrée ajoutée"
	case incident.IncidentEscalated:
		return "Direction de l'incident transférée à la préfecture"
	case incident.IncidentStabilized:
		return "Incident stabilisé"
	case incident.IncidentClosed:
		return "Incident clos"
	case incident.IncidentReopened:
		return "Incident rouvert"

	case resource.ResourceRegistered:
		s := "Ressource enregistrée : " + ev.Name + " (" + label(resourceKinds, string(ev.Kind))
		if ev.Capacity > 0 {
			s += fmt.Sprintf(", %d places", ev.Capacity)
		}
		return s + ")"
	case resource.ResourceEngaged:
		return "Ressource engagée sur l'incident " + ev.IncidentID
	case resource.ResourceReleased:
		return "Ressource dégagée de l'incident " + ev.IncidentID
	case resource.ResourceStatusChanged:
		return "Ressource " + label(resourceStatuses, string(ev.Status))
	case resource.ShelterOccupancyChanged:
		return fmt.Sprintf("Centre d'hébergement : %d → %d personnes", ev.Previous, ev.Occupancy)

	case reinforcement.ReinforcementRequested:
		return fmt.Sprintf("Renfort demandé : %d × %s pour l'incident %s", ev.Quantity, label(resourceKinds, string(ev.Kind)), ev.IncidentID)
	case reinforcement.ReinforcementAccepted:
		return fmt.Sprintf("Renfort accepté : %d", ev.Quantity)
	case reinforcement.ReinforcementRefused:
		return "Renfort refusé"
	case reinforcement.ReinforcementDispatched:
		return "Renfort envoyé"
	case reinforcement.ReinforcementArrived:
		return "Renfort arrivé sur place"
	case reinforcement.ReinforcementReleased:
		return "Renfort libéré"

	case alert.AlertDrafted:
		s := "Alerte rédigée : « " + ev.Content.Headline + " »"
		if ev.IncidentID != "" {
			s += " pour l'incident " + ev.IncidentID
		}
		if ev.Exercise {
			s += " (EXERCICE)"
		}
		return s
	case alert.AlertRevised:
		return "Alerte révisée : « " + ev.Content.Headline + " »"
	case alert.AlertSubmitted:
		return "Alerte soumise à l'approbation du maire"
	case alert.AlertApproved:
		s := "Alerte approuvée"
		if ev.Version > 1 {
			s = fmt.Sprintf("Révision approuvée (version %d)", ev.Version)
		}
		if ev.SelfApprovalWaived {
			s += " (règle des deux personnes levée : exercice)"
		}
		return s
	case alert.AlertRejected:
		return "Alerte rejetée"
	case alert.FrAlertRequested:
		return "FR-Alert demandée à la préfecture"
	case alert.FrAlertValidated:
		return "FR-Alert validée par la préfecture"
	case alert.FrAlertRefused:
		return "FR-Alert refusée par la préfecture"
	case alert.FrAlertBroadcastConfirmed:
		return "Diffusion FR-Alert confirmée par la préfecture"
	case alert.AlertCancelled:
		return "Alerte annulée"
	case alert.AlertExpired:
		return "Alerte expirée"
	case alert.AlertDispatchStarted:
		return started("Diffusion commencée", ev.Recipients)
	case alert.AlertSent:
		// Without the alert's progress (alerts.summary has it) nothing more can
		// be said truthfully.
		return "Diffusion terminée"
	case alert.AlertDispatchFailed:
		return "Échec de diffusion sur le canal " + channelLabel(ev.Channel)
	case alert.DeliveriesRecorded:
		return fmt.Sprintf("Diffusion %s : %d envoyés, %d remis, %d échecs", channelLabel(ev.Channel), ev.Sent, ev.Delivered, ev.Failed)

	case resident.ResidentRegistered:
		return fmt.Sprintf("Résident inscrit (%d canaux)", len(ev.Channels))
	case resident.ResidentErased:
		return "Résident effacé : coordonnées détruites"

	case role.RoleGranted:
		return "Rôle " + label(roles, ev.Role) + " attribué à " + ev.Subject
	case role.RoleRevoked:
		return "Rôle " + label(roles, ev.Role) + " retiré à " + ev.Subject
	case role.RoleGrantRequested:
		return "Attribution du rôle " + label(roles, ev.Role) + " à " + ev.Subject + " demandée : en attente de la confirmation d'une autre personne"
	case role.RoleGrantConfirmed:
		return "Attribution du rôle " + label(roles, ev.Role) + " à " + ev.Subject + " confirmée (demandée par " + ev.RequestedBy + ")"
	}
	return ev.EventType()
}
