package timeline

import (
	"testing"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resident"
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
		// Without its name, a thing is named by what it is, never by its id.
		{resource.ResourceEngaged{IncidentID: "43fa3da6-0000-4000-8000-000000000000"}, "Ressource engagée sur un incident"},
		// Counts agree: 0 and 1 in the singular.
		{alert.DeliveriesRecorded{Channel: alert.ChannelCAPFeed, Sent: 1, Delivered: 1}, "Diffusion flux CAP : 1 envoyé, 1 remis, 0 échec"},
		{alert.DeliveriesRecorded{Channel: alert.ChannelSMS, Sent: 40, Delivered: 38, Failed: 2}, "Diffusion SMS : 40 envoyés, 38 remis, 2 échecs"},
		{alert.AlertDispatchStarted{Recipients: map[string]int{"SMS": 1}}, "Diffusion commencée : 1 destinataire"},
		{resident.ResidentRegistered{Channels: []string{"SMS"}}, "Résident inscrit (1 canal)"},
		{reinforcement.ReinforcementRequested{Kind: "team", Quantity: 1}, "Renfort demandé : 1 équipe pour un incident"},
		// A value the labels do not know shows as itself.
		{role.RoleGranted{Role: "king", Subject: "sub-3"}, "Rôle king attribué à sub-3"},
	} {
		if got := summary(c.ev); got != c.want {
			t.Errorf("summary(%T) = %q, want %q", c.ev, got, c.want)
		}
	}
}
