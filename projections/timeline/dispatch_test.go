package timeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/projectiontest"
	"vigie/projections/timeline"
	"vigie/services/alerts/alert"
)

var system = events.Actor{Subject: "vigie-dispatcher", Role: alert.RoleSystem}

func alertContent(headline string) alert.Content {
	return alert.Content{Event: "Crue", Headline: headline, Description: "Le Vistre déborde.", Instruction: "Montez à l'étage.",
		Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryMet, AreaDesc: "Nîmes"}
}

// bucket is one batch of the dispatch journal.
type bucket struct {
	channel                 alert.Channel
	sent, delivered, failed int
}

func (s *script) alert(name string, by events.Actor, decide func(*alert.Alert, events.Actor, time.Time) ([]events.Event, error)) {
	s.T.Helper()
	projectiontest.Do(s.Script, func() *alert.Alert { return &alert.Alert{} }, events.CategoryAlert, name, by, nimes, decide)
}

// approved drafts an alert on channels, has it submitted and approved.
func (s *script) approved(name string, channels ...alert.Channel) {
	s.T.Helper()
	s.alert(name, rac, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Draft(alert.Draft{AlertID: s.ID(name), Domain: nimes, Content: alertContent("Crue du Vistre"), Channels: channels}, by, at)
	})
	s.alert(name, rac, (*alert.Alert).Submit)
	s.alert(name, mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Approve(nil, by, at)
	})
}

// start, record and done play the dispatcher.
func (s *script) start(name, identifier string, recipients map[string]int, manual ...alert.Channel) {
	s.T.Helper()
	s.alert(name, system, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		if a.Cancelled() {
			return a.StartCancellation(identifier, recipients, by, at)
		}
		return a.StartDispatch(identifier, recipients, manual, by, at)
	})
}

func (s *script) record(name, identifier string, buckets ...bucket) {
	s.T.Helper()
	for i, b := range buckets {
		s.Raw("dispatch-"+s.ID(name), system, nimes, alert.DeliveriesRecorded{AlertID: s.ID(name), Domain: nimes, Identifier: identifier,
			Channel: b.channel, Bucket: i, Sent: b.sent, Delivered: b.delivered, Failed: b.failed, At: s.Now()})
	}
}

func (s *script) done(name, identifier string) {
	s.T.Helper()
	s.alert(name, system, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.MarkSent(identifier, by, at)
	})
}

// dispatches scripts alerts whose dispatch ends every way there is.
func dispatches(s *script) {
	// Every channel delivered, then revised and approved again: the Update too.
	s.approved("sent", alert.ChannelSMS, alert.ChannelCAPFeed)
	s.start("sent", s.ID("sent")+".1", map[string]int{"SMS": 3, "CAP_FEED": 1})
	s.record("sent", s.ID("sent")+".1", bucket{alert.ChannelSMS, 3, 3, 0}, bucket{alert.ChannelCAPFeed, 1, 1, 0})
	s.done("sent", s.ID("sent")+".1")
	s.alert("sent", rac, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Revise(alert.Revision{Content: alertContent("Crue du Vistre : évacuez"), Channels: []alert.Channel{alert.ChannelSMS, alert.ChannelCAPFeed}}, by, at)
	})
	s.alert("sent", rac, (*alert.Alert).Submit)
	s.alert("sent", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Approve(nil, by, at)
	})
	s.start("sent", s.ID("sent")+".2", map[string]int{"SMS": 3, "CAP_FEED": 1})
	s.record("sent", s.ID("sent")+".2", bucket{alert.ChannelSMS, 3, 3, 0}, bucket{alert.ChannelCAPFeed, 1, 1, 0})
	s.done("sent", s.ID("sent")+".2")

	// SMS delivered, e-mail in part, FR-Alert refused.
	s.approved("mixed", alert.ChannelSMS, alert.ChannelEmail, alert.ChannelFrAlert)
	s.start("mixed", s.ID("mixed")+".1", map[string]int{"SMS": 12, "EMAIL": 40, "FR_ALERT": 1})
	s.alert("mixed", pref, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.RefuseFrAlert("Zone trop large selon M. Durand", by, at)
	})
	s.record("mixed", s.ID("mixed")+".1", bucket{alert.ChannelSMS, 12, 12, 0}, bucket{alert.ChannelEmail, 40, 37, 3})
	s.done("mixed", s.ID("mixed")+".1")

	// Nothing delivered.
	s.approved("failed", alert.ChannelSMS, alert.ChannelEmail)
	s.start("failed", s.ID("failed")+".1", map[string]int{"SMS": 4, "EMAIL": 4})
	s.alert("failed", system, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.RecordDispatchFailure(s.ID("failed")+".1", alert.ChannelSMS, "aucun fournisseur SMS configuré", by, at)
	})
	s.record("failed", s.ID("failed")+".1", bucket{alert.ChannelEmail, 4, 0, 4})
	s.done("failed", s.ID("failed")+".1")

	// FR-Alert left to the prefecture, which confirms its broadcast.
	s.approved("manual", alert.ChannelCAPFeed, alert.ChannelFrAlert)
	s.alert("manual", pref, (*alert.Alert).ValidateFrAlert)
	s.start("manual", s.ID("manual")+".1", map[string]int{"CAP_FEED": 1, "FR_ALERT": 1}, alert.ChannelFrAlert)
	s.record("manual", s.ID("manual")+".1", bucket{alert.ChannelCAPFeed, 1, 1, 0})
	s.done("manual", s.ID("manual")+".1")
	s.alert("manual", pref, (*alert.Alert).ConfirmFrAlertBroadcast)

	// Cancelled after it went out: the cancellation reaches those who received it.
	s.approved("cancelled", alert.ChannelSMS)
	s.start("cancelled", s.ID("cancelled")+".1", map[string]int{"SMS": 3})
	s.record("cancelled", s.ID("cancelled")+".1", bucket{alert.ChannelSMS, 3, 3, 0})
	s.done("cancelled", s.ID("cancelled")+".1")
	s.alert("cancelled", mayor, func(a *alert.Alert, by events.Actor, at time.Time) ([]events.Event, error) {
		return a.Cancel("Décrue amorcée", by, at)
	})
	s.start("cancelled", s.ID("cancelled")+".2", map[string]int{"SMS": 3})
	s.record("cancelled", s.ID("cancelled")+".2", bucket{alert.ChannelSMS, 3, 3, 0})
	s.done("cancelled", s.ID("cancelled")+".2")
}

// TestTheTimelineSaysWhatEachChannelDid: the end of a dispatch names each
// channel's outcome, "sur tous ses canaux" only when every one was delivered,
// and the cancellation says whom it reached.
func TestTheTimelineSaysWhatEachChannelDid(t *testing.T) {
	ctx := context.Background()
	rdb := projectiontest.Redis(t)
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, alert.Register)
	proj, err := timeline.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, proj, 3)
	dispatches(s)
	projectiontest.WaitCaughtUp(t, rdb, st, timeline.Name)
	all, err := timeline.Reader{Redis: rdb}.Range(ctx, nimes, time.Time{}, time.Time{}, timeline.Page{})
	if err != nil {
		t.Fatal(err)
	}
	byAlert := map[string][]string{}
	for _, e := range all {
		_, id, _ := strings.Cut(e.StreamID, "-")
		name, _, _ := strings.Cut(id, "-")
		byAlert[name] = append(byAlert[name], e.Summary)
	}
	for name, want := range map[string][]string{
		"sent": {
			"Diffusion commencée : 3 destinataires",
			"Alerte diffusée sur tous ses canaux : SMS remis (3/3), flux CAP publié",
			"Révision approuvée (version 2)",
			"Mise à jour diffusée sur tous ses canaux : SMS remis (3/3), flux CAP publié",
		},
		"mixed": {
			"FR-Alert refusée par la préfecture",
			"Alerte diffusée : SMS remis (12/12), courriel partiel (3 échecs sur 40), FR-Alert refusée par la préfecture",
		},
		"failed": {
			"Échec de diffusion sur le canal SMS",
			"Échec de la diffusion de l'alerte : SMS en échec, courriel en échec (4 échecs sur 4)",
		},
		"manual": {
			"Diffusion commencée",
			"Alerte diffusée : flux CAP publié, FR-Alert à diffuser par la préfecture",
			"Diffusion FR-Alert confirmée par la préfecture",
		},
		"cancelled": {
			"Alerte annulée",
			"Envoi de l'annulation commencé : 3 destinataires",
			"Annulation envoyée à 3 personnes : SMS remis (3/3)",
		},
	} {
		for _, w := range want {
			found := false
			for _, got := range byAlert[name] {
				found = found || got == w
			}
			if !found {
				t.Errorf("%s: no entry « %s » in\n%s", name, w, strings.Join(byAlert[name], "\n"))
			}
		}
	}
	for name, summaries := range byAlert {
		for _, sum := range summaries {
			if strings.Contains(sum, "tous ses canaux") && name != "sent" && name != "cancelled" {
				t.Errorf("%s: « %s », yet not every channel was delivered", name, sum)
			}
			// Reasons are free text: never on the timeline.
			if strings.Contains(sum, "Durand") || strings.Contains(sum, "fournisseur") {
				t.Errorf("%s: a reason on the timeline: « %s »", name, sum)
			}
		}
	}
}

// TestTheDispatchSummariesAreTheSameHoweverTheLogIsBatched: the summaries read the
// alerts' progress; one event per batch or 512, the same timeline.
func TestTheDispatchSummariesAreTheSameHoweverTheLogIsBatched(t *testing.T) {
	st, _ := projectiontest.Store(t)
	s := newScript(t, st, alert.Register)
	dispatches(s)
	projectiontest.BatchesAlike(t, st, timeline.New)
}
