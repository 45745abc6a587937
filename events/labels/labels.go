// Package labels is the French of the contract's enums and of the roles, written
// once: the timeline's summaries read it, and the dashboard's labels module
// (graph/dashboard/static/assets/labels.gen.js) is generated from it.
//
// A set is keyed by the values as events store them ("flash_flood", "Severe",
// "engaged", "pending_approval", "mayor"); the gateway's GraphQL enums spell the
// same values in capitals (Set.Key: "FLASH_FLOOD", "SEVERE"). A label is written as
// it reads within a sentence, in lower case but for acronyms and names
// ("crue rapide", "FR-Alert", "coordinateur (RAC)"); Capitalize makes a heading of it.
//
// The words are a French mayor's: a resource is « une ressource », so its statuses
// agree in the feminine (« engagée »), a severity is « une gravité » (« modérée »),
// the RAC is the « coordinateur (RAC) ».
//
// Beyond the enums it writes what every French text needs alike: places by name
// (Place, from the communes' outlines that ship, communes.gen.go), counts with
// their plural (Plural, Set.Count), durations (Duration) and times in
// Europe/Paris with their offset (Time).
//
// It depends on the standard library only.
package labels

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry is one value of an enum and its French.
type Entry struct {
	// Value is the value as stored in events.
	Value string
	// Label is the French, as written within a sentence.
	Label string
	// Plural is the label in the plural, for the sets whose labels are counted
	// nouns (resource kinds); empty elsewhere.
	Plural string
	// Feminine tells a participle to agree with the label (« notification
	// envoyée »), for the sets whose labels are subjects of one (channels).
	Feminine bool
}

// Set is the labels of one enum, in the order a list offers them.
type Set struct {
	// Enum is the name of the gateway's GraphQL enum ("IncidentKind"), empty
	// for the roles, plain strings there too.
	Enum    string
	entries []Entry
}

// Entries returns the set's entries, in order (a copy).
func (s Set) Entries() []Entry { return append([]Entry(nil), s.entries...) }

// Lookup returns the entry of a stored value.
func (s Set) Lookup(v string) (Entry, bool) {
	for _, e := range s.entries {
		if e.Value == v {
			return e, true
		}
	}
	return Entry{}, false
}

// Of returns the label of a stored value, the value itself when the set does not
// know it (a value added later still shows).
func (s Set) Of(v string) string {
	if e, ok := s.Lookup(v); ok {
		return e.Label
	}
	return v
}

// Key is how the gateway spells a stored value: its GraphQL enum value, in
// capitals ("flash_flood" → "FLASH_FLOOD"); a role as it is.
func (s Set) Key(v string) string {
	if s.Enum == "" {
		return v
	}
	return GraphQL(v)
}

// GraphQL is the GraphQL spelling of an enum's stored value: "Severe" → "SEVERE".
func GraphQL(v string) string { return strings.ToUpper(v) }

// Capitalize puts the label's first letter in capitals, for a heading or a list:
// "échec de la diffusion" → "Échec de la diffusion".
func Capitalize(label string) string {
	r, n := utf8.DecodeRuneInString(label)
	if r == utf8.RuneError {
		return label
	}
	return string(unicode.ToUpper(r)) + label[n:]
}

func set(enum string, entries ...Entry) Set { return Set{Enum: enum, entries: entries} }

// The sets, keyed by stored value.
var (
	// IncidentKinds: the risk of an incident (events/incident.Kind).
	IncidentKinds = set("IncidentKind",
		Entry{Value: "flood", Label: "inondation"},
		Entry{Value: "flash_flood", Label: "crue rapide"},
		Entry{Value: "wildfire", Label: "feu de forêt"},
		Entry{Value: "avalanche", Label: "avalanche"},
		Entry{Value: "storm", Label: "tempête"},
		Entry{Value: "heatwave", Label: "canicule"},
		Entry{Value: "industrial", Label: "accident industriel"},
		Entry{Value: "hazmat_transport", Label: "transport de matières dangereuses"},
		Entry{Value: "earthquake", Label: "séisme"},
		Entry{Value: "landslide", Label: "mouvement de terrain"},
		Entry{Value: "public_order", Label: "ordre public"},
		Entry{Value: "other", Label: "autre"},
	)
	// Severities: CAP's severity of an incident or an alert (« la gravité »),
	// the most severe first.
	Severities = set("Severity",
		Entry{Value: "Extreme", Label: "extrême"},
		Entry{Value: "Severe", Label: "sévère"},
		Entry{Value: "Moderate", Label: "modérée"},
		Entry{Value: "Minor", Label: "mineure"},
	)
	// IncidentStatuses: where an incident is (« l'incident est … »).
	IncidentStatuses = set("IncidentStatus",
		Entry{Value: "reported", Label: "signalé"},
		Entry{Value: "qualified", Label: "qualifié"},
		Entry{Value: "escalated", Label: "escaladé (préfecture)"},
		Entry{Value: "stabilized", Label: "stabilisé"},
		Entry{Value: "closed", Label: "clos"},
	)
	// ResourceKinds: what a resource is.
	ResourceKinds = set("ResourceKind",
		Entry{Value: "team", Label: "équipe", Plural: "équipes"},
		Entry{Value: "vehicle", Label: "véhicule", Plural: "véhicules"},
		Entry{Value: "equipment", Label: "matériel", Plural: "matériel"},
		Entry{Value: "drone", Label: "drone", Plural: "drones"},
		Entry{Value: "shelter", Label: "centre d'hébergement", Plural: "centres d'hébergement"},
		Entry{Value: "camera", Label: "caméra", Plural: "caméras"},
	)
	// ResourceStatuses: where a resource is (« la ressource est … », feminine).
	ResourceStatuses = set("ResourceStatus",
		Entry{Value: "available", Label: "disponible"},
		Entry{Value: "engaged", Label: "engagée"},
		Entry{Value: "unavailable", Label: "indisponible"},
		Entry{Value: "demobilized", Label: "démobilisée"},
	)
	// ReinforcementStatuses: where a reinforcement request is (« le renfort est … »,
	// events/reinforcement.Statuses, in the order of its path).
	ReinforcementStatuses = set("ReinforcementStatus",
		Entry{Value: "requested", Label: "demandé"},
		Entry{Value: "accepted", Label: "accordé"},
		Entry{Value: "partially_accepted", Label: "accordé en partie"},
		Entry{Value: "refused", Label: "refusé"},
		Entry{Value: "dispatched", Label: "en route"},
		Entry{Value: "arrived", Label: "arrivé"},
		Entry{Value: "released", Label: "libéré"},
	)
	// AlertStatuses: where an alert is (« l'alerte est … »).
	AlertStatuses = set("AlertStatus",
		Entry{Value: "draft", Label: "brouillon"},
		Entry{Value: "pending_approval", Label: "en attente du maire"},
		Entry{Value: "approved", Label: "approuvée"},
		Entry{Value: "fr_alert_requested", Label: "FR-Alert demandée à la préfecture"},
		Entry{Value: "dispatching", Label: "diffusion en cours"},
		Entry{Value: "sent", Label: "diffusée"},
		Entry{Value: "rejected", Label: "refusée"},
		Entry{Value: "cancelled", Label: "annulée"},
		Entry{Value: "expired", Label: "expirée"},
		Entry{Value: "failed", Label: "échec de la diffusion"},
		Entry{Value: "partially_sent", Label: "partiellement diffusée"},
		Entry{Value: "fr_alert_refused", Label: "FR-Alert refusée par la préfecture"},
	)
	// ChannelStates: a channel's outcome in an alert's progress (« l'envoi »).
	ChannelStates = set("ChannelState",
		Entry{Value: "PENDING", Label: "en attente"},
		Entry{Value: "SENDING", Label: "envoi en cours"},
		Entry{Value: "DELIVERED", Label: "remis à tous"},
		Entry{Value: "PARTIAL", Label: "partiellement remis"},
		Entry{Value: "FAILED", Label: "échec"},
		Entry{Value: "REFUSED", Label: "refusé"},
	)
	// Channels: how an alert reaches people.
	Channels = set("AlertChannel",
		Entry{Value: "SMS", Label: "SMS"},
		Entry{Value: "VOICE", Label: "appel vocal"},
		Entry{Value: "EMAIL", Label: "courriel"},
		Entry{Value: "PUSH", Label: "notification", Feminine: true},
		Entry{Value: "WEBHOOK", Label: "webhook"},
		Entry{Value: "CAP_FEED", Label: "flux CAP"},
		Entry{Value: "FR_ALERT", Label: "FR-Alert", Feminine: true},
	)
	// Urgencies: CAP's urgency of an alert (« l'urgence »).
	Urgencies = set("Urgency",
		Entry{Value: "Immediate", Label: "immédiate"},
		Entry{Value: "Expected", Label: "attendue"},
		Entry{Value: "Future", Label: "future"},
		Entry{Value: "Past", Label: "passée"},
		Entry{Value: "Unknown", Label: "inconnue"},
	)
	// Certainties: CAP's certainty of an alert.
	Certainties = set("Certainty",
		Entry{Value: "Observed", Label: "observé"},
		Entry{Value: "Likely", Label: "probable"},
		Entry{Value: "Possible", Label: "possible"},
		Entry{Value: "Unlikely", Label: "peu probable"},
		Entry{Value: "Unknown", Label: "inconnue"},
	)
	// Categories: CAP's category of an alert.
	Categories = set("AlertCategory",
		Entry{Value: "Geo", Label: "géophysique"},
		Entry{Value: "Met", Label: "météo"},
		Entry{Value: "Safety", Label: "sécurité"},
		Entry{Value: "Security", Label: "sûreté"},
		Entry{Value: "Rescue", Label: "secours"},
		Entry{Value: "Fire", Label: "incendie"},
		Entry{Value: "Health", Label: "santé"},
		Entry{Value: "Env", Label: "environnement"},
		Entry{Value: "Transport", Label: "transport"},
		Entry{Value: "Infra", Label: "infrastructures"},
		Entry{Value: "CBRNE", Label: "NRBC-E"},
		Entry{Value: "Other", Label: "autre"},
	)
	// Roles: the roles of the crisis cell and the prefecture (events.Roles).
	Roles = set("",
		Entry{Value: "mayor", Label: "maire"},
		Entry{Value: "rac", Label: "coordinateur (RAC)"},
		Entry{Value: "operator", Label: "opérateur"},
		Entry{Value: "field", Label: "agent de terrain"},
		Entry{Value: "observer", Label: "observateur"},
		Entry{Value: "prefecture", Label: "préfecture"},
		Entry{Value: "admin", Label: "administrateur"},
	)
)

// Sets returns every set of an enum or of the roles, which the dashboard receives
// (labels.gen.js), for generators and exhaustive tests. EventTypes and
// FrAlertDecisions are not among them: the gateway serves neither as an enum, and
// the dashboard does not say them.
func Sets() []Set {
	return []Set{
		IncidentKinds, Severities, IncidentStatuses, ResourceKinds, ResourceStatuses,
		ReinforcementStatuses, AlertStatuses, ChannelStates, Channels, Urgencies, Certainties, Categories, Roles,
	}
}
