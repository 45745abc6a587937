package timeline

import "vigie/events/labels"

// The French of the summaries is vigie/events/labels', the dashboard's: a kind,
// a severity or a role reads the same on the timeline and on the screens.
var (
	incidentKinds    = labels.IncidentKinds
	severities       = labels.Severities
	resourceKinds    = labels.ResourceKinds
	resourceStatuses = labels.ResourceStatuses
	roles            = labels.Roles
)

// label is v in French, v itself when the set does not know it.
func label(set labels.Set, v string) string { return set.Of(v) }
