// Package resourceboard is the crisis cell's resource board: per commune (and per
// département, for the prefecture) the resources by kind and status in name order,
// the resources engaged on each incident, and the shelters' capacity and occupancy.
//
// Keys (under the projection's versioned prefix):
//
//	resource:<id>                          JSON document of the resource
//	all:<domain>                           zset of the domain's resources
//	kind:<domain>:<kind>                   zset of its resources of a kind
//	status:<domain>:<status>               zset of its resources in a status
//	kindstatus:<domain>:<kind>:<status>    zset of its resources of a kind in a status
//	engaged:<incidentId>                   zset of the resources engaged on an incident
//	shelters:<domain>                      hash shelters, open, capacity, occupancy → total
//
// Every zset holds its members at score 0, so Redis orders them by member, and the
// member is "<folded name>\x00<name>\x00<id>" (names are printable: no NUL): listing
// by rank is in name order (case and French accents folded, then exact name, then id)
// and costs O(log n + page). Every resource is indexed under its commune and its
// département; engaged:<incidentId> is global, incident ids being.
//
// Shelter totals: shelters counts every registered shelter, open those available or
// engaged, capacity is the capacity of the open ones (what can still be offered) and
// occupancy the people in all of them. A total that falls to zero is deleted, never
// kept at 0, so a rebuild matches the live model key by key.
package resourceboard

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
	"vigie/events/resource"
	"vigie/events/territory"
	"vigie/projections"
)

// Name of the read model.
const Name = "resources"

// Resource is the board's view of one resource.
type Resource struct {
	ID         string    `json:"id"`
	Domain     string    `json:"domain"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	IncidentID string    `json:"incidentId,omitempty"` // set while engaged
	Capacity   int       `json:"capacity"`             // shelters; 0 for other kinds
	Occupancy  int       `json:"occupancy"`            // shelters; 0 for other kinds
	UpdatedAt  time.Time `json:"updatedAt"`            // occurredAt of the last change
}

// Shelter reports whether the resource is a shelter (the only kind with a capacity).
func (r Resource) Shelter() bool { return r.Kind == string(resource.KindShelter) }

// open: a shelter available or engaged offers its capacity (resource.Status.Open).
func (r Resource) open() bool { return resource.Status(r.Status).Open() }

// Projection builds the board.
type Projection struct{ reg *events.Registry }

// New returns the projection.
func New() (*Projection, error) {
	reg, err := projections.Registry(resource.Register)
	if err != nil {
		return nil, err
	}
	return &Projection{reg: reg}, nil
}

func (*Projection) Name() string { return Name }
func (*Projection) StreamPrefixes() []string {
	return []string{events.Prefix(events.CategoryResource)}
}
func (p *Projection) Registry() *events.Registry { return p.reg }

// resourceOf is the id of the resource whose stream the event is in ("" for none).
func resourceOf(e projections.Event) string {
	id, ok := strings.CutPrefix(e.StreamID, events.CategoryResource+"-")
	if !ok {
		return ""
	}
	return id
}

// check refuses an event the board could not index; the runtime parks it.
func check(e projections.Event) error {
	if r, ok := e.Event.(resource.ResourceRegistered); ok {
		if !territory.IsCommune(r.Domain) {
			return fmt.Errorf("resourceboard: %s: %q is not a commune's domain", e.StreamID, r.Domain)
		}
		if r.Kind == "" || r.Name == "" {
			return fmt.Errorf("resourceboard: %s: registration without kind or name", e.StreamID)
		}
	}
	if ev, ok := e.Event.(resource.ResourceEngaged); ok && ev.IncidentID == "" {
		return fmt.Errorf("resourceboard: %s: engagement without an incident", e.StreamID)
	}
	return nil
}

// Apply projects a batch: it reads the documents the batch touches, applies the
// events to them in memory, then writes each document and its indexes once.
func (p *Projection) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	ids := map[string]bool{}
	var order []string
	for _, e := range batch {
		if err := check(e); err != nil {
			return err
		}
		if id := resourceOf(e); id != "" && !ids[id] {
			ids[id] = true
			order = append(order, id)
		}
	}
	if len(order) == 0 {
		return nil
	}
	keys := make([]string, len(order))
	for i, id := range order {
		keys[i] = m.Key("resource", id)
	}
	vals, err := m.R.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	before := map[string]*Resource{}
	after := map[string]*Resource{}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var old Resource
		if err := json.Unmarshal([]byte(s), &old); err != nil {
			return fmt.Errorf("resourceboard: document %s: %w", order[i], err)
		}
		cur := old
		before[order[i]], after[order[i]] = &old, &cur
	}
	changed := map[string]bool{}
	for _, e := range batch {
		id := resourceOf(e)
		if id == "" {
			continue
		}
		doc := after[id]
		if doc == nil {
			if _, ok := e.Event.(resource.ResourceRegistered); !ok {
				continue // an event of a resource this board never saw registered: nothing to show
			}
			doc = &Resource{ID: id}
			after[id] = doc
		}
		if apply(doc, e.Event) {
			doc.UpdatedAt = e.Meta.OccurredAt.UTC()
			changed[id] = true
			m.Notify(projections.Notice{Domain: doc.Domain, StreamID: e.StreamID, Type: e.Type, At: e.Meta.OccurredAt, Position: e.Position})
		}
	}
	deltas := totals{}
	for _, id := range order {
		if !changed[id] {
			continue
		}
		doc := after[id]
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		m.W.Set(ctx, m.Key("resource", id), b, 0)
		index(ctx, m, before[id], doc, deltas)
	}
	return deltas.write(ctx, m)
}

// apply evolves a document with one event, as the domain's Resource.Apply does (the
// status and the incident engaged on are the contract's StatusAfter), and reports
// whether the board changed.
func apply(doc *Resource, ev events.Event) bool {
	status, incidentID, moved := resource.StatusAfter(resource.Status(doc.Status), doc.IncidentID, ev)
	switch ev := ev.(type) {
	case resource.ResourceRegistered:
		*doc = Resource{ID: doc.ID, Domain: ev.Domain, Kind: string(ev.Kind), Name: ev.Name, Capacity: ev.Capacity}
	case resource.ResourceEngaged, resource.ResourceReleased, resource.ResourceStatusChanged:
		if !moved {
			return false
		}
	case resource.ShelterOccupancyChanged:
		if doc.Occupancy == ev.Occupancy {
			return false
		}
		doc.Occupancy = ev.Occupancy
	default:
		return false
	}
	doc.Status, doc.IncidentID = string(status), incidentID
	return true
}

// member is a resource's member in the zsets: see the package doc.
func member(doc *Resource) string {
	return fold(doc.Name) + "\x00" + doc.Name + "\x00" + doc.ID
}

// idOf is the resource id a zset member ends with.
func idOf(member string) string {
	return member[strings.LastIndexByte(member, 0)+1:]
}

// zsets are the listing keys a resource is in.
func zsets(m *projections.Model, doc *Resource) []string {
	var out []string
	for _, scope := range projections.Scopes(doc.Domain) {
		out = append(out,
			m.Key("all", scope),
			m.Key("kind", scope, doc.Kind),
			m.Key("status", scope, doc.Status),
			m.Key("kindstatus", scope, doc.Kind, doc.Status))
	}
	if doc.IncidentID != "" {
		out = append(out, m.Key("engaged", doc.IncidentID))
	}
	return out
}

// index moves a resource in the zsets and totals from what it was (old, nil for a new
// resource) to what it is, touching only the keys that differ.
func index(ctx context.Context, m *projections.Model, old, cur *Resource, deltas totals) {
	newMember := member(cur)
	now := map[string]bool{}
	for _, k := range zsets(m, cur) {
		now[k] = true
	}
	if old != nil {
		oldMember := member(old)
		for _, k := range zsets(m, old) {
			if !now[k] || oldMember != newMember {
				m.W.ZRem(ctx, k, oldMember)
			} else {
				delete(now, k) // already there, as it is
			}
		}
	}
	for _, k := range zsets(m, cur) {
		if now[k] {
			m.W.ZAdd(ctx, k, redis.Z{Score: 0, Member: newMember})
		}
	}
	if old != nil && old.Shelter() {
		for _, scope := range projections.Scopes(old.Domain) {
			deltas.add(scope, old, -1)
		}
	}
	if cur.Shelter() {
		for _, scope := range projections.Scopes(cur.Domain) {
			deltas.add(scope, cur, 1)
		}
	}
}

// totals are the changes of the shelter totals in a batch, by scope then field.
type totals map[string]map[string]int64

func (t totals) add(scope string, doc *Resource, by int64) {
	if t[scope] == nil {
		t[scope] = map[string]int64{}
	}
	f := t[scope]
	f["shelters"] += by
	f["occupancy"] += by * int64(doc.Occupancy)
	if doc.open() {
		f["open"] += by
		f["capacity"] += by * int64(doc.Capacity)
	}
}

// write applies the changes to the stored totals, deleting a total that falls to zero.
func (t totals) write(ctx context.Context, m *projections.Model) error {
	for scope, fields := range t {
		k := m.Key("shelters", scope)
		cur, err := m.R.HGetAll(ctx, k).Result()
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

// fold is the sort key of a name: lower case, French accents and ligatures folded,
// so "École" sorts with "ecole" and not after "Zénith".
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'à', 'â', 'ä', 'á', 'ã', 'å':
			b.WriteByte('a')
		case 'ç':
			b.WriteByte('c')
		case 'é', 'è', 'ê', 'ë':
			b.WriteByte('e')
		case 'î', 'ï', 'í', 'ì':
			b.WriteByte('i')
		case 'ô', 'ö', 'ó', 'ò', 'õ':
			b.WriteByte('o')
		case 'ù', 'û', 'ü', 'ú':
			b.WriteByte('u')
		case 'ÿ':
			b.WriteByte('y')
		case 'ñ':
			b.WriteByte('n')
		case 'œ':
			b.WriteString("oe")
		case 'æ':
			b.WriteString("ae")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ErrNotFound: no such resource on the board.
var ErrNotFound = errors.New("resourceboard: no such resource")
