// Package prefecture is the prefecture's overview of its département: the active
// incidents of every commune, the most severe first, those whose direction passed to
// the prefecture, how many each commune has, and the communes' reinforcement
// requests. It keeps a small summary of each incident, not incidentboard's document:
// the detail of an incident is incidentboard's.
//
// Keys (under the projection's versioned prefix; <dep> is a département's domain,
// "dep:30"):
//
//	incident:<id>          JSON summary of an incident (kept when closed: a reopened
//	                       incident comes back with it)
//	active:<dep>           zset of the département's active (not closed) incidents;
//	                       score = severity rank × 1e13 + reportedAt in ms, read in
//	                       reverse: Extreme, Severe, … then not assessed, most recent
//	                       first; ties by id
//	escalated:<dep>        zset of the active incidents the prefecture directs (escalated),
//	                       same score
//	communes:<dep>         hash commune domain → number of active incidents (a commune
//	                       with none has no field)
//	request:<id>           JSON document of a reinforcement request
//	reinforcements:<dep>   zset of the département's requests; score = status rank ×
//	                       1e13 + requestedAt in ms, read in order: requested, accepted,
//	                       partially accepted, dispatched, arrived, released, refused,
//	                       the oldest first within a status (it has waited longest)
//
// Every score band of reinforcements:<dep> holds one status, so a listing filtered by
// statuses counts each band (ZCOUNT) and reads only the page (ZRANGEBYSCORE … LIMIT).
package prefecture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/territory"
	"vigie/projections"
)

// Name of the read model.
const Name = "prefecture"

// Incident is the overview's summary of one incident.
type Incident struct {
	ID         string    `json:"id"`
	Domain     string    `json:"domain"` // the commune's
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity,omitempty"` // empty: not assessed yet
	Status     string    `json:"status"`
	Qualified  bool      `json:"qualified"`
	Escalated  bool      `json:"escalated"` // the prefecture directs it
	ReportedAt time.Time `json:"reportedAt"`
	UpdatedAt  time.Time `json:"updatedAt"` // occurredAt of the last change shown here
}

func (i *Incident) active() bool { return i != nil && i.Status != string(incident.StatusClosed) }

// Reinforcement is one reinforcement request of a commune.
type Reinforcement struct {
	ID          string    `json:"id"`
	Domain      string    `json:"domain"` // the requesting commune's
	IncidentID  string    `json:"incidentId"`
	Kind        string    `json:"kind"` // of resource
	Quantity    int       `json:"quantity"`
	Accepted    int       `json:"accepted"` // 0 until accepted
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`  // the commune's
	Note        string    `json:"note,omitempty"`    // the prefecture's, on acceptance
	Refusal     string    `json:"refusal,omitempty"` // the prefecture's reason, on refusal
	RequestedAt time.Time `json:"requestedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Projection builds the overview.
type Projection struct{ reg *events.Registry }

// New returns the projection.
func New() (*Projection, error) {
	reg, err := projections.Registry(incident.Register, reinforcement.Register)
	if err != nil {
		return nil, err
	}
	return &Projection{reg: reg}, nil
}

func (*Projection) Name() string { return Name }
func (*Projection) StreamPrefixes() []string {
	return []string{events.CategoryIncident + "-", reinforcement.Category + "-"}
}
func (p *Projection) Registry() *events.Registry { return p.reg }

// target names the document an event changes: "incident:<id>" or "request:<id>", or
// "" for an event the overview does not show (a main-courante entry).
func target(e projections.Event) (kind, id string) {
	if _, ok := e.Event.(incident.LogEntryAdded); ok {
		return "", ""
	}
	if id, ok := strings.CutPrefix(e.StreamID, events.CategoryIncident+"-"); ok {
		return "incident", id
	}
	if id, ok := strings.CutPrefix(e.StreamID, reinforcement.Category+"-"); ok {
		return "request", id
	}
	return "", ""
}

// commune checks that domain is a commune's, "dep:<code>/com:<insee>".
func commune(stream, domain string) error {
	if !territory.IsCommune(domain) {
		return fmt.Errorf("prefecture: %s: %q is not a commune's domain", stream, domain)
	}
	return nil
}

// check refuses an event the overview could not index; the runtime parks it.
func check(e projections.Event) error {
	switch ev := e.Event.(type) {
	case incident.IncidentReported:
		return commune(e.StreamID, ev.Domain)
	case reinforcement.ReinforcementRequested:
		return commune(e.StreamID, ev.Domain)
	}
	return nil
}

// departement is the département's domain of a commune's ("dep:30/com:30189" →
// "dep:30").
func departement(domain string) string { return territory.DepartementOf(domain) }

// Apply projects a batch: it reads the documents the batch touches, applies the
// events to them in memory, then writes each changed document and its indexes once.
func (p *Projection) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	seen := map[string]bool{}
	var order []string // document keys, in first-touched order
	for _, e := range batch {
		if err := check(e); err != nil {
			return err
		}
		if kind, id := target(e); kind != "" && !seen[m.Key(kind, id)] {
			seen[m.Key(kind, id)] = true
			order = append(order, m.Key(kind, id))
		}
	}
	if len(order) == 0 {
		return nil
	}
	vals, err := m.R.MGet(ctx, order...).Result()
	if err != nil {
		return err
	}
	incBefore, incAfter := map[string]*Incident{}, map[string]*Incident{}
	reqBefore, reqAfter := map[string]*Reinforcement{}, map[string]*Reinforcement{}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if strings.HasPrefix(order[i], m.Key("incident", "")) {
			var old Incident
			if err := json.Unmarshal([]byte(s), &old); err != nil {
				return fmt.Errorf("prefecture: %s: %w", order[i], err)
			}
			cur := old
			incBefore[order[i]], incAfter[order[i]] = &old, &cur
		} else {
			var old Reinforcement
			if err := json.Unmarshal([]byte(s), &old); err != nil {
				return fmt.Errorf("prefecture: %s: %w", order[i], err)
			}
			cur := old
			reqBefore[order[i]], reqAfter[order[i]] = &old, &cur
		}
	}
	changed := map[string]bool{}
	for _, e := range batch {
		kind, id := target(e)
		if kind == "" {
			continue
		}
		key := m.Key(kind, id)
		var domain string
		var ok bool
		if kind == "incident" {
			doc := incAfter[key]
			if doc == nil {
				if _, first := e.Event.(incident.IncidentReported); !first {
					continue // an event of an incident the overview never saw reported
				}
				doc = &Incident{ID: id}
				incAfter[key] = doc
			}
			if ok = applyIncident(doc, e.Event); ok {
				doc.UpdatedAt, domain = e.Meta.OccurredAt.UTC(), doc.Domain
			}
		} else {
			doc := reqAfter[key]
			if doc == nil {
				if _, first := e.Event.(reinforcement.ReinforcementRequested); !first {
					continue // an event of a request the overview never saw made
				}
				doc = &Reinforcement{ID: id}
				reqAfter[key] = doc
			}
			if ok = applyRequest(doc, e.Event); ok {
				doc.UpdatedAt, domain = e.Meta.OccurredAt.UTC(), doc.Domain
			}
		}
		if ok {
			changed[key] = true
			m.Notify(projections.Notice{Domain: domain, StreamID: e.StreamID, Type: e.Type, At: e.Meta.OccurredAt, Position: e.Position})
		}
	}
	counts := map[string]map[string]int64{} // dep → commune → change
	for _, key := range order {
		if !changed[key] {
			continue
		}
		var doc any
		if cur := incAfter[key]; cur != nil {
			doc = cur
			indexIncident(ctx, m, incBefore[key], cur, counts)
		} else {
			cur := reqAfter[key]
			doc = cur
			indexRequest(ctx, m, reqBefore[key], cur)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		m.W.Set(ctx, key, b, 0)
	}
	return writeCounts(ctx, m, counts)
}

// applyIncident evolves a summary as the domain's Incident.Apply does, and reports
// whether the overview changed.
func applyIncident(doc *Incident, ev events.Event) bool {
	status, moved := incident.StatusAfter(incident.Status(doc.Status), doc.Qualified, ev)
	doc.Status = string(status)
	switch ev := ev.(type) {
	case incident.IncidentReported:
		*doc = Incident{ID: doc.ID, Domain: ev.Domain, Kind: string(ev.Kind), Title: ev.Title, Severity: string(ev.Severity),
			Status: doc.Status, ReportedAt: ev.At.UTC()}
	case incident.IncidentQualified:
		doc.Kind, doc.Severity, doc.Qualified = string(ev.Kind), string(ev.Severity), true
	case incident.IncidentEscalated:
		doc.Escalated = true
	case incident.IncidentStabilized, incident.IncidentClosed, incident.IncidentReopened:
		return moved
	default:
		return false
	}
	return true
}

// applyRequest evolves a request as the domain's Request.Apply does (the status is
// the contract's StatusAfter), and reports whether the overview changed.
func applyRequest(doc *Reinforcement, ev events.Event) bool {
	status, _ := reinforcement.StatusAfter(reinforcement.Status(doc.Status), doc.Quantity, ev)
	switch ev := ev.(type) {
	case reinforcement.ReinforcementRequested:
		*doc = Reinforcement{ID: doc.ID, Domain: ev.Domain, IncidentID: ev.IncidentID, Kind: string(ev.Kind), Quantity: ev.Quantity,
			Reason: ev.Reason, RequestedAt: ev.At.UTC()}
	case reinforcement.ReinforcementAccepted:
		doc.Accepted, doc.Note = ev.Quantity, ev.Note
	case reinforcement.ReinforcementRefused:
		doc.Refusal = ev.Reason
	case reinforcement.ReinforcementDispatched, reinforcement.ReinforcementArrived, reinforcement.ReinforcementReleased:
	default:
		return false
	}
	doc.Status = string(status)
	return true
}

// incidentScore orders the overview: severity first (Extreme highest), then time.
func incidentScore(doc *Incident) float64 {
	return float64(incident.Severity(doc.Severity).Rank())*band + float64(doc.ReportedAt.UnixMilli())
}

// band separates the ranks in a score: a time in ms stays far below it until 2286.
const band = 1e13

// indexIncident moves an incident in the zsets and counts from what it was (old, nil
// for a new incident) to what it is.
func indexIncident(ctx context.Context, m *projections.Model, old, cur *Incident, counts map[string]map[string]int64) {
	count := func(doc *Incident, by int64) {
		dep := departement(doc.Domain)
		if counts[dep] == nil {
			counts[dep] = map[string]int64{}
		}
		counts[dep][doc.Domain] += by
	}
	if old != nil {
		dep := departement(old.Domain)
		if old.active() {
			m.W.ZRem(ctx, m.Key("active", dep), old.ID)
			count(old, -1)
		}
		if old.active() && old.Escalated {
			m.W.ZRem(ctx, m.Key("escalated", dep), old.ID)
		}
	}
	if cur.active() {
		dep, z := departement(cur.Domain), redis.Z{Score: incidentScore(cur), Member: cur.ID}
		m.W.ZAdd(ctx, m.Key("active", dep), z)
		count(cur, 1)
		if cur.Escalated {
			m.W.ZAdd(ctx, m.Key("escalated", dep), z)
		}
	}
}

// writeCounts applies the changes to the communes' counts, deleting a count that
// falls to zero: the model is then the same whatever the batches were.
func writeCounts(ctx context.Context, m *projections.Model, counts map[string]map[string]int64) error {
	for dep, communes := range counts {
		k := m.Key("communes", dep)
		cur, err := m.R.HGetAll(ctx, k).Result()
		if err != nil {
			return err
		}
		for c, d := range communes {
			if d == 0 {
				continue
			}
			n, _ := strconv.ParseInt(cur[c], 10, 64)
			if n+d <= 0 {
				m.W.HDel(ctx, k, c)
			} else {
				m.W.HSet(ctx, k, c, n+d)
			}
		}
	}
	return nil
}

// statusRanks orders the requests of the overview: what awaits the prefecture first,
// what is over last.
var statusRanks = map[string]int{
	string(reinforcement.StatusRequested):         0,
	string(reinforcement.StatusAccepted):          1,
	string(reinforcement.StatusPartiallyAccepted): 2,
	string(reinforcement.StatusDispatched):        3,
	string(reinforcement.StatusArrived):           4,
	string(reinforcement.StatusReleased):          5,
	string(reinforcement.StatusRefused):           6,
}

// otherRank is where a status this program does not know would go: last.
const otherRank = 7

func statusRank(status string) int {
	if r, ok := statusRanks[status]; ok {
		return r
	}
	return otherRank
}

func requestScore(doc *Reinforcement) float64 {
	return float64(statusRank(doc.Status))*band + float64(doc.RequestedAt.UnixMilli())
}

// indexRequest moves a request in its département's zset.
func indexRequest(ctx context.Context, m *projections.Model, old, cur *Reinforcement) {
	if old != nil && departement(old.Domain) != departement(cur.Domain) {
		m.W.ZRem(ctx, m.Key("reinforcements", departement(old.Domain)), old.ID)
	}
	// ZADD moves the member to its new score.
	m.W.ZAdd(ctx, m.Key("reinforcements", departement(cur.Domain)), redis.Z{Score: requestScore(cur), Member: cur.ID})
}

// ErrNotFound: no such incident or request in the overview.
var ErrNotFound = errors.New("prefecture: not found")
