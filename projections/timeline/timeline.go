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
//	name:<stream>      an incident's title or a resource's name, for the summaries of
//	                   the events about them in other streams
//
// Every event is indexed under its domain (the metadata's) and, for a commune's, its
// département's too. A member is "<commit>.<prepare>|<JSON entry>", the position of
// the event in the log zero-padded to 20 digits each: members of one score sort by
// bytes, so events of the same millisecond keep the order of the log, whatever the
// batches were. The JSON is an Entry.
//
// Summaries are French (vigie/events/labels, the dashboard's words) and name things
// as a person does: an incident by its title, a resource by its name (the
// projection keeps both, name:<stream>, for the events of other streams that are
// about them), never by an identifier. They carry no personal data: never the free
// text of a main-courante entry (« Mme Dupont, 06 … ») nor a reason, which this
// index, kept for the whole crisis at the département's level too, must not copy; the
// after-action report, which holds the main courante anyway, puts the entry's text
// on its line (LogLine). Resident events are summarized as "Résident inscrit" and the
// like, never with their contact details (sealed in the event, and unreadable for
// good once the resident's key is shredded); an alert's summary names its headline,
// the public text residents receive.
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
	"vigie/events/labels"
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
	At     time.Time `json:"at"`
	Domain string    `json:"domain"`
	Actor  string    `json:"actor"` // pseudonymous subject
	// ActorName is the display name the event's metadata records, empty for
	// events without one (those before names were, a token without a name).
	ActorName     string `json:"actorName,omitempty"`
	Role          string `json:"role"`
	Type          string `json:"type"`
	StreamID      string `json:"streamId"`
	Summary       string `json:"summary"`
	EventID       string `json:"eventId"`
	CorrelationID string `json:"correlationId,omitempty"`
	CausationID   string `json:"causationId,omitempty"`
	// About is the stream of the incident the event is about when that is another
	// stream than its own (an engagement, an alert drafted about the incident).
	About    string         `json:"about,omitempty"`
	Position store.Position `json:"position"`
}

// Who is whom a person reads as the entry's actor: their display name when the
// event recorded one, else their subject. The role is shown beside it, never in it.
func (e Entry) Who() string {
	if e.ActorName != "" {
		return e.ActorName
	}
	return e.Actor
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
	names, err := loadNames(ctx, m, batch)
	if err != nil {
		return err
	}
	out := make([]indexed, 0, len(batch))
	for _, e := range batch {
		domain := domainOf(e)
		if !strings.HasPrefix(domain, "dep:") {
			return fmt.Errorf("timeline: %s@%d (%s): no domain to file it under (%q)", e.StreamID, e.Revision, e.Type, domain)
		}
		names.record(e)
		at := e.Meta.OccurredAt
		if at.IsZero() {
			at = e.Created // the log's time: the same for a rebuild
		}
		entry := Entry{
			At: at.UTC(), Domain: domain, Actor: e.Meta.Actor, ActorName: e.Meta.ActorName, Role: e.Meta.Role, Type: e.Type, StreamID: e.StreamID,
			Summary: alerts.summary(e, names), EventID: e.Meta.EventID, CorrelationID: e.Meta.CorrelationID, CausationID: e.Meta.CausationID,
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
	names.save(ctx, m)
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
// personal data, when nothing is known of the things it is about (their names).
func summary(ev events.Event) string { return describe(ev, "", nil) }

// quoted is a title or a name within a sentence: « Crue du Vistre ».
func quoted(s string) string { return "« " + s + " »" }

// describe is the summary of ev, of stream, naming what it is about from names.
func describe(ev events.Event, stream string, n *names) string {
	// theIncident names the incident of id: « l'incident « Crue A » », or
	// « un incident » when its title is unknown (never its id).
	theIncident := func(id string) string {
		if t := n.of(events.StreamID(events.CategoryIncident, id)); t != "" {
			return "l'incident " + quoted(t)
		}
		return "un incident"
	}
	// resource is the resource of the event's stream: « Ressource « Pompe 1 » ».
	theResource := func() string {
		if name := n.of(stream); name != "" {
			return "Ressource " + quoted(name)
		}
		return "Ressource"
	}
	switch ev := ev.(type) {
	case incident.IncidentReported:
		s := "Incident signalé : " + ev.Title + " (" + labels.IncidentKinds.Of(string(ev.Kind))
		if ev.Severity != "" {
			s += ", gravité " + labels.Severities.Of(string(ev.Severity))
		}
		return s + ")"
	case incident.IncidentQualified:
		return "Incident qualifié : " + labels.IncidentKinds.Of(string(ev.Kind)) + ", gravité " + labels.Severities.Of(string(ev.Severity))
	case incident.LogEntryAdded:
		// Not its text: see the package's doc (the report adds it, LogLine).
		if ev.Corrects != "" {
			return "Main courante : entrée corrigée"
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
		s := "Ressource enregistrée : " + ev.Name + " (" + labels.ResourceKinds.Of(string(ev.Kind))
		if ev.Capacity > 0 {
			s += ", " + labels.Plural(ev.Capacity, "place", "places")
		}
		return s + ")"
	case resource.ResourceEngaged:
		return theResource() + " engagée sur " + theIncident(ev.IncidentID)
	case resource.ResourceReleased:
		return theResource() + " dégagée de " + theIncident(ev.IncidentID)
	case resource.ResourceStatusChanged:
		return theResource() + " " + labels.ResourceStatuses.Of(string(ev.Status))
	case resource.ShelterOccupancyChanged:
		centre := "Centre d'hébergement"
		if name := n.of(stream); name != "" {
			centre += " " + quoted(name)
		}
		return fmt.Sprintf("%s : %d → %s", centre, ev.Previous, labels.Plural(ev.Occupancy, "personne", "personnes"))

	case reinforcement.ReinforcementRequested:
		return "Renfort demandé : " + labels.ResourceKinds.Count(ev.Quantity, string(ev.Kind)) + " pour " + theIncident(ev.IncidentID)
	case reinforcement.ReinforcementAccepted:
		return "Renfort accepté : " + labels.Plural(ev.Quantity, "moyen accordé", "moyens accordés")
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
			s += " pour " + theIncident(ev.IncidentID)
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
		return "Échec de diffusion sur le canal " + channelOf(ev.Channel).Label
	case alert.DeliveriesRecorded:
		// The counts are of messages (« un message envoyé »).
		return fmt.Sprintf("Diffusion %s : %s, %s, %s", channelOf(ev.Channel).Label, labels.Plural(ev.Sent, "envoyé", "envoyés"),
			labels.Plural(ev.Delivered, "remis", "remis"), labels.Plural(ev.Failed, "échec", "échecs"))

	case resident.ResidentRegistered:
		return "Résident inscrit (" + labels.Plural(len(ev.Channels), "canal", "canaux") + ")"
	case resident.ResidentErased:
		return "Résident effacé : coordonnées détruites"

	case role.RoleGranted:
		return "Rôle " + labels.Roles.Of(ev.Role) + " attribué à " + ev.Subject
	case role.RoleRevoked:
		return "Rôle " + labels.Roles.Of(ev.Role) + " retiré à " + ev.Subject
	case role.RoleGrantRequested:
		return "Attribution du rôle " + labels.Roles.Of(ev.Role) + " à " + ev.Subject + " demandée : en attente de la confirmation d'une autre personne"
	case role.RoleGrantConfirmed:
		return "Attribution du rôle " + labels.Roles.Of(ev.Role) + " à " + ev.Subject + " confirmée (demandée par " + ev.RequestedBy + ")"
	}
	return ev.EventType()
}

// LogLine is the line of a main-courante entry with its text, for the readers who
// hold the main courante anyway (the after-action report): « Main courante :
// Montée des eaux rue Jean-Jaurès », shortened to one line.
func LogLine(ev incident.LogEntryAdded) string {
	if ev.Corrects != "" {
		return "Main courante, correction : " + labels.Truncate(ev.Text, maxText)
	}
	return "Main courante : " + labels.Truncate(ev.Text, maxText)
}

// maxText bounds the text of a main-courante entry on its one line (the board
// has it whole).
const maxText = 200
