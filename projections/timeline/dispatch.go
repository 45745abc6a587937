package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/labels"
	"vigie/projections"
)

// The end of an alert's dispatch (AlertSent) says what happened on each channel:
// "diffusée sur tous ses canaux" only when every channel was delivered, otherwise
// which ones went out, in part, failed or wait. The event itself does not say it;
// the alert's progress (alert.Progress, the same that decides the boards' status)
// does, so the timeline keeps one per alert.

// alertState is what the timeline keeps of an alert: where it stands, and
// whether its latest approved message is an Update (its dispatch says so).
type alertState struct {
	Progress alert.Progress `json:"progress"`
	Update   bool           `json:"update,omitempty"`
}

// alertStates are the states of the alerts of a batch, evolved event by event.
type alertStates struct {
	order []string
	docs  map[string]*alertState
}

// alertOf is the alert an event of an alert's stream or of its dispatch journal
// is about.
func alertOf(e projections.Event) (string, bool) {
	cat, id, ok := strings.Cut(e.StreamID, "-")
	if !ok || id == "" || cat != events.CategoryAlert && cat != DispatchCategory {
		return "", false
	}
	return id, true
}

// loadAlerts reads the states of the alerts the batch touches.
func loadAlerts(ctx context.Context, m *projections.Model, batch []projections.Event) (*alertStates, error) {
	a := &alertStates{docs: map[string]*alertState{}}
	for _, e := range batch {
		if id, ok := alertOf(e); ok && a.docs[id] == nil {
			a.docs[id] = &alertState{}
			a.order = append(a.order, id)
		}
	}
	if len(a.order) == 0 {
		return a, nil
	}
	keys := make([]string, len(a.order))
	for i, id := range a.order {
		keys[i] = m.Key("alert", id)
	}
	vals, err := m.R.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if err := json.Unmarshal([]byte(s), a.docs[a.order[i]]); err != nil {
				return nil, fmt.Errorf("timeline: alert %s: %w", a.order[i], err)
			}
		}
	}
	return a, nil
}

// save writes each state of the batch once, in the batch's order.
func (a *alertStates) save(ctx context.Context, m *projections.Model) error {
	for _, id := range a.order {
		b, err := json.Marshal(a.docs[id])
		if err != nil {
			return err
		}
		m.W.Set(ctx, m.Key("alert", id), b, 0)
	}
	return nil
}

// summary evolves the state of e's alert, if any, and returns e's summary.
func (a *alertStates) summary(e projections.Event, n *names) string {
	id, ok := alertOf(e)
	if !ok {
		return describe(e.Event, e.StreamID, n)
	}
	st := a.docs[id]
	st.Progress.Apply(e.Event)
	switch ev := e.Event.(type) {
	case alert.AlertApproved:
		st.Update = ev.Message.MsgType == alert.MsgTypeUpdate
	case alert.AlertDispatchStarted:
		if ev.Identifier != "" && ev.Identifier == st.Progress.CancelID {
			return started("Envoi de l'annulation commencé", ev.Recipients)
		}
	case alert.AlertSent:
		p := st.Progress
		switch {
		case ev.Identifier != "" && ev.Identifier == p.CancelID:
			return cancellationSummary(p)
		case ev.Identifier != "" && ev.Identifier == p.Latest:
			return dispatchSummary(p, st.Update)
		}
	}
	return describe(e.Event, e.StreamID, n)
}

// dispatchSummary says how the latest approved message went out, channel by
// channel, e.g. « Alerte diffusée : SMS remis (12/12), courriel partiel (3 échecs
// sur 40), FR-Alert refusée par la préfecture ».
func dispatchSummary(p alert.Progress, update bool) string {
	what, of := "Alerte", "de l'alerte"
	if update {
		what, of = "Mise à jour", "de la mise à jour"
	}
	outcomes := p.Outcomes()
	if len(outcomes) == 0 {
		return what + " : diffusion terminée"
	}
	all, some, waiting := true, false, false
	for _, o := range outcomes {
		switch o.State {
		case alert.ChannelDelivered:
			some = true
		case alert.ChannelPartial:
			some, all = true, false
		case alert.ChannelPending, alert.ChannelSending:
			waiting, all = true, false
		default:
			all = false
		}
	}
	var head string
	switch {
	case all:
		head = what + " diffusée sur tous ses canaux"
	case some:
		head = what + " diffusée"
	case waiting:
		head = what + " pas encore diffusée"
	default:
		head = "Échec de la diffusion " + of
	}
	return head + " : " + phrases(p, outcomes)
}

// cancellationSummary says how the cancellation reached those who received the
// alert: « Annulation envoyée à 12 personnes : SMS remis (12/12) ». The count of
// people is given only when one channel reaches people: a resident registered on
// two channels receives it on each, and counting messages would count them twice.
func cancellationSummary(p alert.Progress) string {
	outcomes := p.CancellationOutcomes()
	if len(outcomes) == 0 {
		return "Annulation envoyée"
	}
	var people []alert.ChannelOutcome
	some := false
	for _, o := range outcomes {
		if personal(o.Channel) {
			people = append(people, o)
		}
		if o.State == alert.ChannelDelivered || o.State == alert.ChannelPartial {
			some = true
		}
	}
	head := "Annulation envoyée"
	switch {
	case !some:
		head = "Échec de l'envoi de l'annulation"
	case len(people) == 1:
		head = fmt.Sprintf("Annulation envoyée à %s", labels.Plural(people[0].Delivered, "personne", "personnes"))
	}
	return head + " : " + phrases(p, outcomes)
}

func phrases(p alert.Progress, outcomes []alert.ChannelOutcome) string {
	out := make([]string, len(outcomes))
	for i, o := range outcomes {
		out[i] = phrase(p, o)
	}
	return strings.Join(out, ", ")
}

// phrase is one channel's outcome in French, without the free text of any reason
// (a prefecture's refusal, a provider's error): the timeline carries none.
func phrase(p alert.Progress, o alert.ChannelOutcome) string {
	l := channelOf(o.Channel)
	switch o.State {
	case alert.ChannelDelivered:
		switch {
		case o.Channel == alert.ChannelCAPFeed:
			return l.Label + " " + l.Agree("publié")
		case !o.CountsKnown:
			return l.Label + " " + l.Agree("diffusé")
		case o.Recipients == 0 && o.Sent == 0:
			return l.Label + " sans destinataire inscrit"
		}
		total := o.Recipients
		if total == 0 {
			total = o.Sent
		}
		return fmt.Sprintf("%s %s (%d/%d)", l.Label, l.Agree("remis"), o.Delivered, total)
	case alert.ChannelPartial:
		if !o.CountsKnown {
			return l.Label + " " + l.Agree("partiel")
		}
		return fmt.Sprintf("%s %s (%s sur %d)", l.Label, l.Agree("partiel"), labels.Plural(o.Failed, "échec", "échecs"), o.Sent)
	case alert.ChannelFailed:
		if o.CountsKnown && o.Failed > 0 {
			return fmt.Sprintf("%s en échec (%s sur %d)", l.Label, labels.Plural(o.Failed, "échec", "échecs"), o.Sent)
		}
		return l.Label + " en échec"
	case alert.ChannelRefused:
		if p.Exercise {
			return l.Label + " jamais " + l.Agree("diffusé") + " pour un exercice"
		}
		return l.Label + " " + l.Agree("refusé") + " par la préfecture"
	case alert.ChannelSending:
		return l.Label + " en cours d'envoi"
	}
	if o.Channel == alert.ChannelFrAlert {
		if p.FrAlert == alert.FrAlertStateValidated {
			return "FR-Alert à diffuser par la préfecture"
		}
		return "FR-Alert en attente de la préfecture"
	}
	return l.Label + " en attente"
}

// personal: the channel reaches people one by one (the others publish one
// message: the feed, a webhook, cell broadcast).
func personal(c alert.Channel) bool {
	switch c {
	case alert.ChannelSMS, alert.ChannelVoice, alert.ChannelEmail, alert.ChannelPush:
		return true
	}
	return false
}

// started summarizes the start of a dispatch with the recipients it targets on
// the channels that reach people one by one (the feed's or cell broadcast's one
// message each is nobody).
func started(what string, byChannel map[string]int) string {
	n, some := 0, false
	for c, k := range byChannel {
		if personal(alert.Channel(c)) {
			n, some = n+k, true
		}
	}
	if !some {
		return what
	}
	return what + " : " + labels.Plural(n, "destinataire", "destinataires")
}

// channelOf is a channel's entry in the shared labels (its name and whether its
// participles agree in the feminine), its own value for one they do not know.
func channelOf(c alert.Channel) labels.Entry {
	if e, ok := labels.Channels.Lookup(string(c)); ok {
		return e
	}
	return labels.Entry{Value: string(c), Label: string(c)}
}
