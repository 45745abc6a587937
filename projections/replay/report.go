package replay

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"regexp"
	"strings"
	"time"

	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/labels"
	"vigie/events/resource"
	"vigie/projections"
	"vigie/projections/timeline"
)

// Report is the after-action report of a domain over a period: every decision of the
// timeline, the decision delays, and the boards at the chosen instants. It is built
// from the log alone (the timeline and the boards by their own projections, in
// disposable key spaces), so it says the same whatever state the live read models
// are in. It holds no resident's contact data: the timeline and the boards never
// have any (sealed in the log, and unreadable for good once a resident's key is
// shredded).
//
// It is written for a person, in French (vigie/events/labels): places, incidents,
// resources and alerts by their names, durations in French, times in Europe/Paris
// with their offset (in the JSON too). The identifiers stay, for the audit and
// for programs, beside the names.
type Report struct {
	Domain      string        `json:"domain"`
	Place       string        `json:"place"` // the domain's name: « Nîmes », « Gard (30) »
	From        *time.Time    `json:"from,omitempty"`
	To          time.Time     `json:"to"`
	Stream      string        `json:"stream,omitempty"`
	GeneratedAt time.Time     `json:"generatedAt"`
	Timeline    []ReportEntry `json:"timeline"`
	Delays      Delays        `json:"delays"`
	Boards      []*Boards     `json:"boards"`
	// Names are the titles of the incidents, the names of the resources and the
	// headlines of the alerts the report refers to by id, by id.
	Names map[string]string `json:"names"`
}

// ReportEntry is a timeline entry as the report says it.
type ReportEntry struct {
	timeline.Entry
	TypeLabel string `json:"typeLabel"` // the event's type in French: « incident signalé »
	RoleLabel string `json:"roleLabel"` // the actor's role in French
	Place     string `json:"place"`     // the entry's domain by name
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
	rep := &Report{Domain: o.Domain, Place: labels.Place(o.Domain), To: to.UTC(), Stream: o.Stream, GeneratedAt: time.Now().UTC(),
		Timeline: []ReportEntry{}, Boards: []*Boards{}, Names: map[string]string{}}
	if !o.From.IsZero() {
		f := o.From.UTC()
		rep.From = &f
	}
	reg, err := Registry()
	if err != nil {
		return nil, err
	}
	tracker := NewTracker()
	// The log's names and main-courante lines, which the timeline's index does
	// not keep (see vigie/projections/timeline): the report says them.
	names, lines := map[string]string{}, map[string]string{}
	observe := func(e projections.Event) {
		tracker.Add(e)
		switch ev := e.Event.(type) {
		case incident.IncidentReported:
			names[ev.IncidentID] = ev.Title
		case resource.ResourceRegistered:
			names[ev.ResourceID] = ev.Name
		case alert.AlertDrafted:
			names[ev.AlertID] = ev.Content.Headline
		case incident.LogEntryAdded:
			lines[e.Meta.EventID] = timeline.LogLine(ev)
		}
	}
	err = r.Run(ctx, Options{At: to, Boards: []string{timeline.Name}, Observe: observe, Registry: reg}, func(ctx context.Context, res Result) error {
		entries, err := readTimeline(ctx, r.Redis, res.Space, o.Domain, o.From, to, o.Stream)
		for _, e := range entries {
			if l, ok := lines[e.EventID]; ok && e.Type == "LogEntryAdded" {
				e.Summary = l
			}
			rep.Timeline = append(rep.Timeline, ReportEntry{Entry: e, TypeLabel: labels.EventTypes.Of(e.Type),
				RoleLabel: labels.Roles.Of(e.Role), Place: labels.Place(e.Domain)})
		}
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
	rep.name(names)
	return rep, nil
}

// name fills Names with the names of what the report refers to by id (and of
// nothing else: the log's other communes are not the report's business).
func (rep *Report) name(names map[string]string) {
	add := func(id string) {
		if n, ok := names[id]; ok && id != "" {
			rep.Names[id] = n
		}
	}
	if _, id, ok := strings.Cut(rep.Stream, "-"); ok {
		add(id)
	}
	for _, s := range rep.Delays.Summary {
		add(s.Worst)
	}
	for _, b := range rep.Boards {
		for _, r := range b.Resources {
			add(r.IncidentID)
		}
		for _, a := range b.Alerts {
			add(a.IncidentID)
		}
	}
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

// WriteJSON writes the report as indented JSON, its times in Europe/Paris with
// their offset ("2026-10-17T08:01:00+02:00"): the same instants as the log's UTC,
// as the crisis cell lived them.
func (rep *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, inParis(b), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// utcTime is a JSON string that is a time.Time marshalled in UTC. An escaped quote
// (\") cannot end it, so a free text quoting a time is left alone.
var utcTime = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"`)

// inParis rewrites the UTC times of a JSON document in Europe/Paris: every time of
// the report (its own, the timeline's, the delays', the boards' deep inside) goes
// through here, whoever's type holds it.
func inParis(b []byte) []byte {
	return utcTime.ReplaceAllFunc(b, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339Nano, string(m[1:len(m)-1]))
		if err != nil {
			return m
		}
		return []byte(`"` + t.In(labels.Paris).Format(time.RFC3339Nano) + `"`)
	})
}

//go:embed report.html
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(v any) string {
		switch t := v.(type) {
		case time.Time:
			return labels.Time(t)
		case *time.Time:
			if t != nil {
				return labels.Time(*t)
			}
		}
		return ""
	},
	"duration": func(s *Span) string {
		if s == nil {
			return "—"
		}
		return labels.Seconds(s.Seconds)
	},
	"seconds":      labels.Seconds,
	"delayLabel":   func(name string) string { return delayLabels[name] },
	"statusLabel":  func(s string) string { return labels.Capitalize(labels.AlertStatuses.Of(s)) },
	"stateLabel":   func(s string) string { return labels.Capitalize(labels.ChannelStates.Of(s)) },
	"channelLabel": func(c string) string { return labels.Capitalize(labels.Channels.Of(c)) },
	"frAlertLabel": labels.FrAlertDecisions.Of,
	"incStatus":    func(s string) string { return labels.Capitalize(labels.IncidentStatuses.Of(s)) },
	"severity":     func(s string) string { return labels.Capitalize(labels.Severities.Of(s)) },
	"resKind":      func(s string) string { return labels.Capitalize(labels.ResourceKinds.Of(s)) },
	"resStatus":    func(s string) string { return labels.Capitalize(labels.ResourceStatuses.Of(s)) },
	"capitalize":   labels.Capitalize,
	"place":        labels.Place,
	"plural":       labels.Plural,
	// streamID is the id of a stream's aggregate: "incident-<id>" → "<id>".
	"streamID": func(stream string) string { _, id, _ := strings.Cut(stream, "-"); return id },
}).Parse(reportHTML))

var delayLabels = map[string]string{
	ReportToQualification:     "Signalement → qualification",
	QualificationToEngagement: "Qualification → premier moyen engagé",
	DraftToApproval:           "Rédaction de l'alerte → approbation",
	ApprovalToFirstDelivery:   "Approbation → première remise",
	FrAlertRequestToDecision:  "Demande FR-Alert → décision de la préfecture",
}

// WriteHTML writes the report as a printable HTML page.
func (rep *Report) WriteHTML(w io.Writer) error { return reportTemplate.Execute(w, rep) }
