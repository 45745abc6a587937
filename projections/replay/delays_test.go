package replay_test

import (
	"reflect"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections"
	"vigie/projections/replay"
	"vigie/services/alerts/alert"
	"vigie/services/incidents/incident"
	"vigie/services/resources/resource"
)

func TestDecisionDelaysOfAKnownSequence(t *testing.T) {
	t0 := time.Date(2026, 10, 17, 6, 0, 0, 0, time.UTC)
	min := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	ev := func(stream string, at time.Time, e events.Event) projections.Event {
		return projections.Event{StreamID: stream, Type: e.EventType(), Event: e, Meta: events.Metadata{OccurredAt: at}, Created: at.Add(time.Hour)}
	}
	evs := []projections.Event{
		// A in Nîmes: qualified after 4 min, first resource 6 min later (a second one later
		// does not count); an alert drafted 2 min after, approved in 3, first delivery 1.5
		// min after (a batch with nothing delivered before it does not count); FR-Alert
		// asked at once, validated 10 min later.
		ev("incident-A", min(0), incident.IncidentReported{IncidentID: "A", Domain: nimes, Title: "Crue du Vistre"}),
		ev("incident-A", min(4), incident.IncidentQualified{Kind: incident.KindFlood, Severity: incident.SeveritySevere}),
		ev("resource-p", min(10), resource.ResourceEngaged{IncidentID: "A"}),
		ev("resource-q", min(11), resource.ResourceEngaged{IncidentID: "A"}),
		ev("incident-A", min(11), incident.IncidentQualified{Kind: incident.KindFlood, Severity: incident.SeverityExtreme}),
		ev("alert-X", min(12), alert.AlertDrafted{AlertID: "X", Domain: nimes, IncidentID: "A", Content: alert.Content{Headline: "Évacuez"}}),
		ev("alert-X", min(15), alert.AlertApproved{}),
		ev("alert-X", min(15), alert.FrAlertRequested{}),
		ev("dispatch-X", min(16), alert.DeliveriesRecorded{AlertID: "X", Domain: nimes, Sent: 10, Failed: 10}),
		ev("dispatch-X", min(16.5), alert.DeliveriesRecorded{AlertID: "X", Domain: nimes, Sent: 10, Delivered: 9}),
		ev("dispatch-X", min(17), alert.DeliveriesRecorded{AlertID: "X", Domain: nimes, Sent: 10, Delivered: 10}),
		ev("alert-X", min(25), alert.FrAlertValidated{}),
		// B in Alès: qualified after 10 min, a resource engaged before that (0 s).
		ev("incident-B", min(20), incident.IncidentReported{IncidentID: "B", Domain: ales, Title: "Crue du Gardon"}),
		ev("resource-r", min(22), resource.ResourceEngaged{IncidentID: "B"}),
		ev("incident-B", min(30), incident.IncidentQualified{Kind: incident.KindFlood, Severity: incident.SeverityModerate}),
		// C in Alès, never qualified; an alert about no incident, approved after 20 min,
		// FR-Alert refused after 5.
		ev("incident-C", min(31), incident.IncidentReported{IncidentID: "C", Domain: ales, Title: "Route coupée"}),
		ev("alert-Y", min(32), alert.AlertDrafted{AlertID: "Y", Domain: ales}),
		ev("alert-Y", min(52), alert.AlertApproved{}),
		ev("alert-Y", min(53), alert.FrAlertRequested{}),
		ev("alert-Y", min(58), alert.FrAlertRefused{Reason: "non"}),
		// D in Marseille: another département.
		ev("incident-D", min(1), incident.IncidentReported{IncidentID: "D", Domain: "dep:13/com:13055"}),
		ev("incident-D", min(2), incident.IncidentQualified{}),
	}
	sp := func(from, to float64) *replay.Span {
		return &replay.Span{From: min(from), To: min(to), Seconds: (to - from) * 60}
	}
	d := replay.ComputeDelays(evs, gard, time.Time{}, time.Time{})
	want := replay.Delays{
		Incidents: []replay.IncidentDelays{
			{IncidentID: "A", Domain: nimes, Title: "Crue du Vistre", ReportedAt: min(0), ReportToQualification: sp(0, 4), QualificationToEngagement: sp(4, 10),
				Alerts: []replay.AlertDelays{{AlertID: "X", Domain: nimes, IncidentID: "A", Headline: "Évacuez", DraftedAt: min(12),
					DraftToApproval: sp(12, 15), ApprovalToFirstDelivery: sp(15, 16.5), FrAlertRequestToDecision: sp(15, 25), FrAlertDecision: "validated"}}},
			{IncidentID: "B", Domain: ales, Title: "Crue du Gardon", ReportedAt: min(20), ReportToQualification: sp(20, 30),
				QualificationToEngagement: &replay.Span{From: min(30), To: min(22), Seconds: 0}, Alerts: []replay.AlertDelays{}},
			{IncidentID: "C", Domain: ales, Title: "Route coupée", ReportedAt: min(31), Alerts: []replay.AlertDelays{}},
		},
		Alerts: []replay.AlertDelays{{AlertID: "Y", Domain: ales, DraftedAt: min(32), DraftToApproval: sp(32, 52),
			FrAlertRequestToDecision: sp(53, 58), FrAlertDecision: "refused"}},
		Summary: []replay.Summary{
			{Delay: replay.ReportToQualification, Count: 2, MedianSeconds: 7 * 60, WorstSeconds: 600, Worst: "B"},
			{Delay: replay.QualificationToEngagement, Count: 2, MedianSeconds: 180, WorstSeconds: 360, Worst: "A"},
			{Delay: replay.DraftToApproval, Count: 2, MedianSeconds: 690, WorstSeconds: 1200, Worst: "Y"},
			{Delay: replay.ApprovalToFirstDelivery, Count: 1, MedianSeconds: 90, WorstSeconds: 90, Worst: "X"},
			{Delay: replay.FrAlertRequestToDecision, Count: 2, MedianSeconds: 450, WorstSeconds: 600, Worst: "X"},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("delays:\n got  %+v\n want %+v", d, want)
	}

	// A commune, and a window on the report's time.
	inAles := replay.ComputeDelays(evs, ales, time.Time{}, time.Time{})
	if len(inAles.Incidents) != 2 || len(inAles.Alerts) != 1 || inAles.Summary[0].Count != 1 {
		t.Errorf("Alès: %+v", inAles)
	}
	late := replay.ComputeDelays(evs, gard, min(21), min(40))
	if len(late.Incidents) != 1 || late.Incidents[0].IncidentID != "C" || len(late.Alerts) != 1 {
		t.Errorf("from 06:21 to 06:40: %+v", late)
	}
}

// TestTheFirstDeliveryIsTheAlertsOwn: a cancellation's deliveries are no delivery
// of the alert; the prefecture's confirmation that it broadcast the FR-Alert is.
func TestTheFirstDeliveryIsTheAlertsOwn(t *testing.T) {
	t0 := time.Date(2026, 10, 17, 6, 0, 0, 0, time.UTC)
	min := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	ev := func(stream string, at time.Time, e events.Event) projections.Event {
		return projections.Event{StreamID: stream, Type: e.EventType(), Event: e, Meta: events.Metadata{OccurredAt: at}}
	}
	evs := []projections.Event{
		// X: every SMS failed, then cancelled; the cancellation reaches nobody new.
		ev("alert-X", min(0), alert.AlertDrafted{AlertID: "X", Domain: nimes}),
		ev("alert-X", min(2), alert.AlertApproved{Message: alert.Message{Identifier: "X.1"}}),
		ev("dispatch-X", min(3), alert.DeliveriesRecorded{AlertID: "X", Domain: nimes, Identifier: "X.1", Sent: 5, Failed: 5}),
		ev("alert-X", min(4), alert.AlertCancelled{Message: &alert.Message{Identifier: "X.2", MsgType: alert.MsgTypeCancel}}),
		ev("dispatch-X", min(5), alert.DeliveriesRecorded{AlertID: "X", Domain: nimes, Identifier: "X.2", Sent: 1, Delivered: 1}),
		// Y: FR-Alert only, broadcast by the prefecture by hand, confirmed 7 min
		// after the approval.
		ev("alert-Y", min(10), alert.AlertDrafted{AlertID: "Y", Domain: nimes}),
		ev("alert-Y", min(12), alert.AlertApproved{Message: alert.Message{Identifier: "Y.1"}}),
		ev("alert-Y", min(12), alert.FrAlertRequested{}),
		ev("alert-Y", min(15), alert.FrAlertValidated{}),
		ev("alert-Y", min(19), alert.FrAlertBroadcastConfirmed{}),
	}
	d := replay.ComputeDelays(evs, gard, time.Time{}, time.Time{})
	if len(d.Alerts) != 2 {
		t.Fatalf("alerts: %+v", d.Alerts)
	}
	if x := d.Alerts[0]; x.ApprovalToFirstDelivery != nil {
		t.Errorf("X reached nobody, yet its first delivery is %+v (the cancellation's)", x.ApprovalToFirstDelivery)
	}
	if y := d.Alerts[1]; y.ApprovalToFirstDelivery == nil || y.ApprovalToFirstDelivery.Seconds != 7*60 {
		t.Errorf("Y: first delivery %+v, want the confirmed broadcast 7 min after the approval", y.ApprovalToFirstDelivery)
	}
}
