package replay

import (
	"context"
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"strings"
	"time"

	"vigie/projections/timeline"
)

// Report is the after-action report of a domain over a period: every decision of the
// timeline, the decision delays, and the boards at the chosen instants. It is built
// from the log alone (the timeline and the boards by their own projections, in
// disposable key spaces), so it says the same whatever state the live read models
// are in. It holds no resident's contact data: the timeline and the boards never
// have any (sealed in the log, and unreadable for good once a resident's key is
// shredded).
type Report struct {
	Domain      string           `json:"domain"`
	From        *time.Time       `json:"from,omitempty"`
	To          time.Time        `json:"to"`
	Stream      string           `json:"stream,omitempty"`
	GeneratedAt time.Time        `json:"generatedAt"`
	Timeline    []timeline.Entry `json:"timeline"`
	Delays      Delays           `json:"delays"`
	Boards      []*Boards        `json:"boards"`
}

// ReportOptions choose what a report covers.
type ReportOptions struct {
	Domain string
	From   time.Time   // zero: from the start of the log
	To     time.Time   // zero: now
	At     []time.Time // the instants whose boards it shows; none: To
	// Stream, when set, keeps the timeline entries of that stream (and those about
	// it) and the boards' items of it.
	Stream string
}

// maxInstants bounds the boards a report shows (each is a replay).
const maxInstants = 12

// Report builds the after-action report.
func (r *Replayer) Report(ctx context.Context, o ReportOptions) (*Report, error) {
	r.init()
	to := o.To
	if to.IsZero() {
		to = time.Now().UTC()
	}
	rep := &Report{Domain: o.Domain, To: to.UTC(), Stream: o.Stream, GeneratedAt: time.Now().UTC(), Timeline: []timeline.Entry{}, Boards: []*Boards{}}
	if !o.From.IsZero() {
		f := o.From.UTC()
		rep.From = &f
	}
	reg, err := Registry()
	if err != nil {
		return nil, err
	}
	tracker := NewTracker()
	err = r.Run(ctx, Options{At: to, Boards: []string{timeline.Name}, Observe: tracker.Add, Registry: reg}, func(ctx context.Context, res Result) error {
		entries, err := readTimeline(ctx, r.Redis, res.Space, o.Domain, o.From, to, o.Stream)
		rep.Timeline = append(rep.Timeline, entries...)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Delays = tracker.Delays(o.Domain, o.From, to)
	ats := o.At
	if len(ats) == 0 {
		ats = []time.Time{to}
	}
	for _, at := range ats[:min(len(ats), maxInstants)] {
		b, err := r.Boards(ctx, o.Domain, at)
		if err != nil {
			return nil, err
		}
		rep.Boards = append(rep.Boards, b.Only(o.Stream))
	}
	return rep, nil
}

// Only is b restricted to the items of stream ("" for all of them).
func (b *Boards) Only(stream string) *Boards {
	if stream == "" {
		return b
	}
	out := *b
	cat, id, _ := strings.Cut(stream, "-")
	out.Incidents, out.Resources, out.Alerts = out.Incidents[:0:0], out.Resources[:0:0], out.Alerts[:0:0]
	for _, inc := range b.Incidents {
		if cat == "incident" && inc.ID == id {
			out.Incidents = append(out.Incidents, inc)
		}
	}
	for _, res := range b.Resources {
		if cat == "resource" && res.ID == id || cat == "incident" && res.IncidentID == id {
			out.Resources = append(out.Resources, res)
		}
	}
	for _, a := range b.Alerts {
		if cat == "alert" && a.ID == id || cat == "incident" && a.IncidentID == id {
			out.Alerts = append(out.Alerts, a)
		}
	}
	return &out
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

//go:embed report.html
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(v any) string {
		switch t := v.(type) {
		case time.Time:
			return t.In(paris).Format("02/01/2006 15:04:05")
		case *time.Time:
			if t != nil {
				return t.In(paris).Format("02/01/2006 15:04:05")
			}
		}
		return ""
	},
	"duration": func(s *Span) string {
		if s == nil {
			return "—"
		}
		return (time.Duration(s.Seconds) * time.Second).String()
	},
	"seconds":      func(s float64) string { return (time.Duration(s) * time.Second).String() },
	"delayLabel":   func(name string) string { return delayLabels[name] },
	"statusLabel":  func(s string) string { return label(alertStatuses, s) },
	"stateLabel":   func(s string) string { return label(channelStates, s) },
	"channelLabel": func(c string) string { return label(channels, c) },
	"frAlertLabel": func(s string) string { return label(frAlertStates, s) },
}).Parse(reportHTML))

// label is v in French, v itself when the report does not know it (a status
// added later still shows).
func label(labels map[string]string, v string) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return v
}

// The French labels of the report, the dashboard's (graph/dashboard's
// labels.js): the report says what the screens said.
var (
	alertStatuses = map[string]string{
		"draft": "Brouillon", "pending_approval": "En attente du maire", "approved": "Approuvée",
		"fr_alert_requested": "FR-Alert demandée à la préfecture", "dispatching": "Diffusion en cours", "sent": "Diffusée",
		"rejected": "Refusée", "cancelled": "Annulée", "expired": "Expirée", "failed": "Échec de la diffusion",
		"partially_sent": "Partiellement diffusée", "fr_alert_refused": "FR-Alert refusée par la préfecture",
	}
	channelStates = map[string]string{
		"PENDING": "En attente", "SENDING": "Envoi en cours", "DELIVERED": "Remis à tous", "PARTIAL": "Partiellement remis",
		"FAILED": "Échec", "REFUSED": "Refusé",
	}
	channels = map[string]string{
		"SMS": "SMS", "VOICE": "Appel vocal", "EMAIL": "Courriel", "PUSH": "Notification", "WEBHOOK": "Webhook",
		"CAP_FEED": "Flux CAP", "FR_ALERT": "FR-Alert",
	}
	frAlertStates = map[string]string{"requested": "demandée", "validated": "validée", "refused": "refusée"}
)

// paris is the time zone the report is printed in (the crisis cells' and the
// prefectures' of metropolitan France), UTC if the system has no zone database.
var paris = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}()

var delayLabels = map[string]string{
	ReportToQualification:     "Signalement → qualification",
	QualificationToEngagement: "Qualification → premier moyen engagé",
	DraftToApproval:           "Rédaction de l'alerte → approbation",
	ApprovalToFirstDelivery:   "Approbation → première remise",
	FrAlertRequestToDecision:  "Demande FR-Alert → décision de la préfecture",
}

// WriteHTML writes the report as a printable HTML page.
func (rep *Report) WriteHTML(w io.Writer) error { return reportTemplate.Execute(w, rep) }
