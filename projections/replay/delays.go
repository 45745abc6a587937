package replay

import (
	"slices"
	"sort"
	"strings"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/resource"
	"vigie/projections"
)

// Decision delays of a crisis, for the after-action review: how long each decision
// took, per incident and per alert, and summarized (median, worst).
//
//	reportToQualification      IncidentReported → its first IncidentQualified
//	qualificationToEngagement  that qualification → the first ResourceEngaged naming
//	                           the incident (0 when a resource was engaged before)
//	draftToApproval            AlertDrafted → its first AlertApproved
//	approvalToFirstDelivery    that approval → the first DeliveriesRecorded of the alert
//	                           (dispatch-<alertId>) with a delivery, or the prefecture's
//	                           confirmation that it broadcast the FR-Alert, whichever
//	                           comes first; the cancellation's deliveries never count
//	frAlertRequestToDecision   FrAlertRequested → FrAlertValidated or FrAlertRefused
//
// Times are the events' occurredAt (the store's time when missing), as the timeline.

// The delays' names, in the order summaries list them.
const (
	ReportToQualification     = "reportToQualification"
	QualificationToEngagement = "qualificationToEngagement"
	DraftToApproval           = "draftToApproval"
	ApprovalToFirstDelivery   = "approvalToFirstDelivery"
	FrAlertRequestToDecision  = "frAlertRequestToDecision"
)

// DelayNames lists the delays in order.
var DelayNames = []string{ReportToQualification, QualificationToEngagement, DraftToApproval, ApprovalToFirstDelivery, FrAlertRequestToDecision}

// Span is one measured delay.
type Span struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Seconds float64   `json:"seconds"`
}

func span(from, to time.Time) *Span {
	if from.IsZero() || to.IsZero() {
		return nil
	}
	return &Span{From: from, To: to, Seconds: max(0, to.Sub(from).Seconds())}
}

// IncidentDelays are one incident's delays and those of the alerts drafted about it.
type IncidentDelays struct {
	IncidentID                string        `json:"incidentId"`
	Domain                    string        `json:"domain"`
	Title                     string        `json:"title"`
	ReportedAt                time.Time     `json:"reportedAt"`
	ReportToQualification     *Span         `json:"reportToQualification,omitempty"`
	QualificationToEngagement *Span         `json:"qualificationToEngagement,omitempty"`
	Alerts                    []AlertDelays `json:"alerts"`
}

// AlertDelays are one alert's delays.
type AlertDelays struct {
	AlertID                  string    `json:"alertId"`
	Domain                   string    `json:"domain"`
	IncidentID               string    `json:"incidentId,omitempty"`
	Headline                 string    `json:"headline"`
	Exercise                 bool      `json:"exercise"`
	DraftedAt                time.Time `json:"draftedAt"`
	DraftToApproval          *Span     `json:"draftToApproval,omitempty"`
	ApprovalToFirstDelivery  *Span     `json:"approvalToFirstDelivery,omitempty"`
	FrAlertRequestToDecision *Span     `json:"frAlertRequestToDecision,omitempty"`
	FrAlertDecision          string    `json:"frAlertDecision,omitempty"` // validated, refused
}

// Summary of one delay over the crisis.
type Summary struct {
	Delay         string  `json:"delay"`
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"medianSeconds"`
	WorstSeconds  float64 `json:"worstSeconds"`
	Worst         string  `json:"worst"` // the incident's or alert's id
}

// Delays of a crisis.
type Delays struct {
	Incidents []IncidentDelays `json:"incidents"`
	// Alerts about no incident of the domain (those about one are under it).
	Alerts  []AlertDelays `json:"alerts"`
	Summary []Summary     `json:"summary"`
}

// Tracker follows the events of the log, in order, and keeps what the delays need:
// a few times per incident and per alert, whatever the length of the log.
type Tracker struct {
	incidents map[string]*IncidentDelays
	qualified map[string]time.Time
	engaged   map[string]time.Time
	alerts    map[string]*alertTrack
	incOrder  []string
	alOrder   []string
}

type alertTrack struct {
	AlertDelays
	approvedAt, requestedAt time.Time
	// cancelID is the CAP Cancel's identifier: its dispatch tells those who
	// received the alert that it is withdrawn, which is no delivery of the alert.
	cancelID string
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{incidents: map[string]*IncidentDelays{}, qualified: map[string]time.Time{}, engaged: map[string]time.Time{}, alerts: map[string]*alertTrack{}}
}

func timeOf(e projections.Event) time.Time {
	if !e.Meta.OccurredAt.IsZero() {
		return e.Meta.OccurredAt.UTC()
	}
	return e.Created.UTC()
}

// Add takes the next event of the log.
func (t *Tracker) Add(e projections.Event) { t.add(e) }

// add takes the next event of the log and reports whether its type is one the
// delays read (whether or not this one moved a delay).
func (t *Tracker) add(e projections.Event) bool {
	at := timeOf(e)
	_, id, _ := strings.Cut(e.StreamID, "-")
	switch ev := e.Event.(type) {
	case incident.IncidentReported:
		if _, ok := t.incidents[ev.IncidentID]; !ok {
			t.incidents[ev.IncidentID] = &IncidentDelays{IncidentID: ev.IncidentID, Domain: ev.Domain, Title: ev.Title, ReportedAt: at, Alerts: []AlertDelays{}}
			t.incOrder = append(t.incOrder, ev.IncidentID)
		}
	case incident.IncidentQualified:
		if _, ok := t.qualified[id]; !ok {
			t.qualified[id] = at
		}
	case resource.ResourceEngaged:
		if _, ok := t.engaged[ev.IncidentID]; !ok {
			t.engaged[ev.IncidentID] = at
		}
	case alert.AlertDrafted:
		if _, ok := t.alerts[ev.AlertID]; !ok {
			t.alerts[ev.AlertID] = &alertTrack{AlertDelays: AlertDelays{AlertID: ev.AlertID, Domain: ev.Domain, IncidentID: ev.IncidentID,
				Headline: ev.Content.Headline, Exercise: ev.Exercise, DraftedAt: at}}
			t.alOrder = append(t.alOrder, ev.AlertID)
		}
	case alert.AlertApproved:
		if a := t.alerts[id]; a != nil && a.approvedAt.IsZero() {
			a.approvedAt = at
			a.DraftToApproval = span(a.DraftedAt, at)
		}
	case alert.DeliveriesRecorded:
		if a := t.alerts[ev.AlertID]; a != nil && ev.Delivered > 0 && (ev.Identifier == "" || ev.Identifier != a.cancelID) {
			a.delivered(at)
		}
	case alert.FrAlertBroadcastConfirmed:
		if a := t.alerts[id]; a != nil {
			a.delivered(at)
		}
	case alert.AlertCancelled:
		if a := t.alerts[id]; a != nil && ev.Message != nil {
			a.cancelID = ev.Message.Identifier
		}
	case alert.FrAlertRequested:
		if a := t.alerts[id]; a != nil && a.requestedAt.IsZero() {
			a.requestedAt = at
		}
	case alert.FrAlertValidated:
		t.frDecision(id, "validated", at)
	case alert.FrAlertRefused:
		t.frDecision(id, "refused", at)
	default:
		return false
	}
	return true
}

// delivered records that the alert reached someone at at: the first time only.
func (a *alertTrack) delivered(at time.Time) {
	if a.ApprovalToFirstDelivery == nil {
		a.ApprovalToFirstDelivery = span(a.approvedAt, at)
	}
}

func (t *Tracker) frDecision(id, decision string, at time.Time) {
	if a := t.alerts[id]; a != nil && a.FrAlertDecision == "" && !a.requestedAt.IsZero() {
		a.FrAlertDecision = decision
		a.FrAlertRequestToDecision = span(a.requestedAt, at)
	}
}

// inScope says whether an object of domain d belongs to scope (a commune, or a
// département and all its communes); "" is every domain.
func inScope(d, scope string) bool {
	scope = strings.TrimSuffix(scope, "/*")
	if scope == "" || d == scope {
		return true
	}
	return !strings.Contains(scope, "/") && strings.HasPrefix(d, scope+"/")
}

func within(at, from, to time.Time) bool {
	return (from.IsZero() || !at.Before(from)) && (to.IsZero() || !at.After(to))
}

// Delays are the delays of the incidents of domain reported, and of its alerts
// drafted, between from and to (zero: open).
func (t *Tracker) Delays(domain string, from, to time.Time) Delays {
	out := Delays{Incidents: []IncidentDelays{}, Alerts: []AlertDelays{}}
	byIncident := map[string][]AlertDelays{}
	for _, id := range t.alOrder {
		a := t.alerts[id]
		if !inScope(a.Domain, domain) || !within(a.DraftedAt, from, to) {
			continue
		}
		if inc := t.incidents[a.IncidentID]; inc != nil && inScope(inc.Domain, domain) && within(inc.ReportedAt, from, to) {
			byIncident[a.IncidentID] = append(byIncident[a.IncidentID], a.AlertDelays)
		} else {
			out.Alerts = append(out.Alerts, a.AlertDelays)
		}
	}
	for _, id := range t.incOrder {
		inc := *t.incidents[id]
		if !inScope(inc.Domain, domain) || !within(inc.ReportedAt, from, to) {
			continue
		}
		if q, ok := t.qualified[id]; ok {
			inc.ReportToQualification = span(inc.ReportedAt, q)
			if e, ok := t.engaged[id]; ok {
				inc.QualificationToEngagement = span(q, e)
			}
		}
		inc.Alerts = append([]AlertDelays{}, byIncident[id]...)
		out.Incidents = append(out.Incidents, inc)
	}
	out.Summary = summarize(out)
	return out
}

// ComputeDelays is the delays of domain between from and to over a sequence of
// events in log order.
func ComputeDelays(evs []projections.Event, domain string, from, to time.Time) Delays {
	t := NewTracker()
	for _, e := range evs {
		t.Add(e)
	}
	return t.Delays(domain, from, to)
}

func summarize(d Delays) []Summary {
	type sample struct {
		s  float64
		id string
	}
	samples := map[string][]sample{}
	add := func(name, id string, s *Span) {
		if s != nil {
			samples[name] = append(samples[name], sample{s.Seconds, id})
		}
	}
	addAlert := func(a AlertDelays) {
		add(DraftToApproval, a.AlertID, a.DraftToApproval)
		add(ApprovalToFirstDelivery, a.AlertID, a.ApprovalToFirstDelivery)
		add(FrAlertRequestToDecision, a.AlertID, a.FrAlertRequestToDecision)
	}
	for _, inc := range d.Incidents {
		add(ReportToQualification, inc.IncidentID, inc.ReportToQualification)
		add(QualificationToEngagement, inc.IncidentID, inc.QualificationToEngagement)
		for _, a := range inc.Alerts {
			addAlert(a)
		}
	}
	for _, a := range d.Alerts {
		addAlert(a)
	}
	out := []Summary{}
	for _, name := range DelayNames {
		ss := samples[name]
		if len(ss) == 0 {
			continue
		}
		worst := slices.MaxFunc(ss, func(a, b sample) int {
			switch {
			case a.s < b.s:
				return -1
			case a.s > b.s:
				return 1
			}
			return 0
		})
		vals := make([]float64, len(ss))
		for i, s := range ss {
			vals[i] = s.s
		}
		sort.Float64s(vals)
		median := vals[len(vals)/2]
		if len(vals)%2 == 0 {
			median = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
		}
		out = append(out, Summary{Delay: name, Count: len(ss), MedianSeconds: median, WorstSeconds: worst.s, Worst: worst.id})
	}
	return out
}

// Registry decodes the events the delays and the report read.
func Registry() (*events.Registry, error) {
	return projections.Registry(incident.Register, resource.Register, alert.Register)
}
