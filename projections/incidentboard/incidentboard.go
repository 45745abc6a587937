// Package incidentboard is the crisis cell's incident board: per commune (and per
// département, for the prefecture) the active incidents ordered by severity then time,
// counts by kind, severity and status, and each incident's detail with its main
// courante and engaged resources.
//
// Keys (under the projection's versioned prefix):
//
//	incident:<id>             JSON document of the incident (no log)
//	log:<id>                  list of main-courante entries, oldest first
//	board:<domain>            zset of active incidents; score orders severity, then time
//	status:<domain>:<status>  zset of incidents in a status, same score
//	counts:<domain>           hash kind:<k>, severity:<s>, status:<st>, active → count
//
// Every incident is indexed under its commune and its département.
package incidentboard

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
	"vigie/events/resource"
	"vigie/projections"
)

// Name of the read model.
const Name = "incidents"

// Incident is the board's view of one incident.
type Incident struct {
	ID                   string           `json:"id"`
	Domain               string           `json:"domain"`
	Kind                 string           `json:"kind"`
	Title                string           `json:"title"`
	Description          string           `json:"description,omitempty"`
	Severity             string           `json:"severity,omitempty"`
	Status               string           `json:"status"`
	Qualified            bool             `json:"qualified"`
	DirectedByPrefecture bool             `json:"directedByPrefecture"`
	ReportedAt           time.Time        `json:"reportedAt"`
	UpdatedAt            time.Time        `json:"updatedAt"`
	Location             *incident.Point  `json:"location,omitempty"`
	Zone                 []incident.Point `json:"zone,omitempty"`
	Resources            []string         `json:"resources"`
	LogLength            int              `json:"logLength"`
}

// Entry is one entry of the main courante.
type Entry struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Author   string    `json:"author"`
	Text     string    `json:"text"`
	Corrects string    `json:"corrects,omitempty"`
}

// Projection builds the board.
type Projection struct{ reg *events.Registry }

// New returns the projection.
func New() (*Projection, error) {
	reg, err := projections.Registry(incident.Register, resource.Register)
	if err != nil {
		return nil, err
	}
	return &Projection{reg: reg}, nil
}

func (*Projection) Name() string { return Name }
func (*Projection) StreamPrefixes() []string {
	return []string{events.Prefix(events.CategoryIncident), events.Prefix(events.CategoryResource)}
}
func (p *Projection) Registry() *events.Registry { return p.reg }

// incidentOf says which incident an event concerns ("" for none).
func incidentOf(e projections.Event) string {
	switch ev := e.Event.(type) {
	case resource.ResourceEngaged:
		return ev.IncidentID
	case resource.ResourceReleased:
		return ev.IncidentID
	}
	if id, ok := strings.CutPrefix(e.StreamID, events.CategoryIncident+"-"); ok {
		return id
	}
	return ""
}

// Apply projects a batch: it reads the documents the batch touches, applies the
// events to them in memory, then writes each document and its indexes once.
func (p *Projection) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	ids := map[string]bool{}
	var order []string
	for _, e := range batch {
		if id := incidentOf(e); id != "" && !ids[id] {
			ids[id] = true
			order = append(order, id)
		}
	}
	if len(order) == 0 {
		return nil
	}
	keys := make([]string, len(order))
	for i, id := range order {
		keys[i] = m.Key("incident", id)
	}
	vals, err := m.R.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	before := map[string]*Incident{}
	after := map[string]*Incident{}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var old, cur Incident
		if err := json.Unmarshal([]byte(s), &old); err != nil {
			return fmt.Errorf("incidentboard: document %s: %w", order[i], err)
		}
		_ = json.Unmarshal([]byte(s), &cur)
		before[order[i]], after[order[i]] = &old, &cur
	}
	entries := map[string][]Entry{}
	for _, e := range batch {
		id := incidentOf(e)
		if id == "" {
			continue
		}
		doc := after[id]
		if doc == nil {
			r, ok := e.Event.(incident.IncidentReported)
			if !ok {
				continue // an engagement on an incident this board never saw: nothing to show
			}
			doc = &Incident{ID: r.IncidentID, Domain: r.Domain, ReportedAt: r.At, Resources: []string{}}
			after[id] = doc
		}
		entry, changed := apply(doc, e)
		if entry != nil {
			entries[id] = append(entries[id], *entry)
		}
		if changed {
			doc.UpdatedAt = e.Meta.OccurredAt
			m.Notify(projections.Notice{Domain: doc.Domain, StreamID: e.StreamID, Type: e.Type, At: e.Meta.OccurredAt, Position: e.Position})
		}
	}
	deltas := counters{}
	for _, id := range order {
		doc := after[id]
		if doc == nil {
			continue
		}
		doc.LogLength += len(entries[id])
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		m.W.Set(ctx, m.Key("incident", id), b, 0)
		for _, en := range entries[id] {
			eb, _ := json.Marshal(en)
			m.W.RPush(ctx, m.Key("log", id), eb)
		}
		index(ctx, m, before[id], doc, deltas)
	}
	return deltas.write(ctx, m)
}

// counters are the changes of the count hashes in a batch, by scope then field.
type counters map[string]map[string]int64

func (c counters) add(scope string, doc *Incident, by int64) {
	if c[scope] == nil {
		c[scope] = map[string]int64{}
	}
	f := c[scope]
	f["active"] += by
	f["kind:"+doc.Kind] += by
	f["status:"+doc.Status] += by
	if doc.Severity != "" {
		f["severity:"+doc.Severity] += by
	}
}

// write applies the changes to the stored counts. A count that falls to zero is
// deleted rather than kept at 0, so the model is the same whatever the batches were —
// a rebuild must match the live model key by key.
func (c counters) write(ctx context.Context, m *projections.Model) error {
	// One round trip for every scope's counts: the batch loop waits on each one.
	reads := m.R.Pipeline()
	stored := make(map[string]*redis.MapStringStringCmd, len(c))
	for scope := range c {
		stored[scope] = reads.HGetAll(ctx, m.Key("counts", scope))
	}
	if _, err := reads.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for scope, fields := range c {
		k := m.Key("counts", scope)
		cur, err := stored[scope].Result()
		if err != nil {
			return err
		}
		for f, d := range fields {
			if d == 0 {
				continue
			}
			n, _ := strconv.ParseInt(cur[f], 10, 64)
			if n+d == 0 {
				m.W.HDel(ctx, k, f)
			} else {
				m.W.HSet(ctx, k, f, n+d)
			}
		}
	}
	return nil
}

// apply evolves a document with one event; it reports a main-courante entry to append
// and whether the board changed.
func apply(doc *Incident, e projections.Event) (*Entry, bool) {
	status, moved := incident.StatusAfter(incident.Status(doc.Status), doc.Qualified, e.Event)
	doc.Status = string(status)
	switch ev := e.Event.(type) {
	case incident.IncidentReported:
		doc.Kind, doc.Title, doc.Description = string(ev.Kind), ev.Title, ev.Description
		doc.Severity, doc.Location = string(ev.Severity), ev.Location
	case incident.IncidentQualified:
		doc.Kind, doc.Severity, doc.Qualified = string(ev.Kind), string(ev.Severity), true
		doc.Location, doc.Zone = ev.Location, ev.Zone
	case incident.LogEntryAdded:
		return &Entry{ID: ev.EntryID, At: ev.At, Author: ev.Author, Text: ev.Text, Corrects: ev.Corrects}, true
	case incident.IncidentEscalated:
		doc.DirectedByPrefecture = true
	case incident.IncidentStabilized, incident.IncidentClosed, incident.IncidentReopened:
		return nil, moved
	case resource.ResourceEngaged:
		id := strings.TrimPrefix(e.StreamID, events.CategoryResource+"-")
		for _, r := range doc.Resources {
			if r == id {
				return nil, false
			}
		}
		doc.Resources = append(doc.Resources, id)
	case resource.ResourceReleased:
		id := strings.TrimPrefix(e.StreamID, events.CategoryResource+"-")
		kept := doc.Resources[:0]
		for _, r := range doc.Resources {
			if r != id {
				kept = append(kept, r)
			}
		}
		doc.Resources = kept
	default:
		return nil, false
	}
	return nil, true
}

// score orders the board: severity first (Extreme highest), then the most recent.
func score(doc *Incident) float64 {
	return float64(incident.Severity(doc.Severity).Rank())*1e13 + float64(doc.ReportedAt.UnixMilli())
}

func active(doc *Incident) bool { return doc != nil && doc.Status != string(incident.StatusClosed) }

// index moves an incident's entries in the zsets and counters from what they were
// (old, nil for a new incident) to what they are.
func index(ctx context.Context, m *projections.Model, old, cur *Incident, deltas counters) {
	for _, scope := range projections.Scopes(cur.Domain) {
		if old != nil {
			m.W.ZRem(ctx, m.Key("status", scope, old.Status), old.ID)
			if active(old) {
				m.W.ZRem(ctx, m.Key("board", scope), old.ID)
				deltas.add(scope, old, -1)
			}
		}
		s := score(cur)
		m.W.ZAdd(ctx, m.Key("status", scope, cur.Status), redis.Z{Score: s, Member: cur.ID})
		if active(cur) {
			m.W.ZAdd(ctx, m.Key("board", scope), redis.Z{Score: s, Member: cur.ID})
			deltas.add(scope, cur, 1)
		}
	}
}

// ErrNotFound: no such incident on the board.
var ErrNotFound = errors.New("incidentboard: no such incident")
