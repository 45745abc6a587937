package timeline

import (
	"testing"

	"vigie/events"
	"vigie/events/incident"
	"vigie/events/role"
	"vigie/services/resources/resource"
)

// The summaries say the contract's values in the French of vigie/events/labels,
// the dashboard's: a resource is « une ressource », the RAC the coordinator.
func TestTheSummariesSayTheSharedLabels(t *testing.T) {
	for _, c := range []struct {
		ev   events.Event
		want string
	}{
		{resource.ResourceStatusChanged{Status: resource.StatusEngaged}, "Ressource engagée"},
		{resource.ResourceStatusChanged{Status: resource.StatusDemobilized}, "Ressource démobilisée"},
		{role.RoleGranted{Role: events.RoleRAC, Subject: "sub-1"}, "Rôle coordinateur (RAC) attribué à sub-1"},
		{role.RoleRevoked{Role: events.RoleField, Subject: "sub-2"}, "Rôle agent de terrain retiré à sub-2"},
		{incident.IncidentQualified{Kind: incident.KindFlashFlood, Severity: incident.SeverityExtreme}, "Incident qualifié : crue rapide, gravité extrême"},
		// A value the labels do not know shows as itself.
		{role.RoleGranted{Role: "king", Subject: "sub-3"}, "Rôle king attribué à sub-3"},
	} {
		if got := summary(c.ev); got != c.want {
			t.Errorf("summary(%T) = %q, want %q", c.ev, got, c.want)
		}
	}
}
